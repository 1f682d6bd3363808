"""The application served over real HTTP by uvicorn, inside the test's own event loop.

Running in the test's loop (not a thread, not a process) lets the test and the app share one
``FrozenClock`` and one ``Database`` (an asyncpg pool only works in the loop it was made in).
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import time
from collections.abc import AsyncIterator
from typing import Literal

import uvicorn
from litestar import Litestar

HOST = "127.0.0.1"
START_TIMEOUT = 10.0
STOP_TIMEOUT = 10.0


@contextlib.asynccontextmanager
async def serve(app: Litestar, *, lifespan: Literal["on", "off"] = "on") -> AsyncIterator[str]:
    """Serve ``app`` on a free loopback port; yields its base URL; always stops the server."""
    # The socket is bound here and handed to uvicorn, so no other process can take the port
    # between choosing it and listening on it.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((HOST, 0))
    port: int = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host=HOST,
        port=port,
        lifespan=lifespan,
        log_level="warning",
        log_config=None,  # leave the process's logging alone (pytest captures it)
        access_log=False,
        http="h11",
        ws="none",
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve(sockets=[sock]), name=f"uvicorn:{port}")
    try:
        deadline = time.monotonic() + START_TIMEOUT
        while not server.started:
            if task.done():
                task.result()  # raises what stopped it, if anything did
                raise RuntimeError("the live server stopped during start-up (see its log)")
            if time.monotonic() > deadline:
                raise RuntimeError(f"the live server did not start in {START_TIMEOUT} s")
            await asyncio.sleep(0.01)
        yield f"http://{HOST}:{port}"
    finally:
        server.should_exit = True
        try:
            await asyncio.wait_for(task, STOP_TIMEOUT)
        finally:
            sock.close()
