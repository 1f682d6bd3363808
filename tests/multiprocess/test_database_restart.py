"""PostgreSQL restarted under a running web process (issue 18 item 2): while the database is
down, the API answers 503 with Retry-After (a problem+json that says so, nothing saved) and a
back-office page the French error page with the same status; once it is back, the same
process answers again, without a restart.

A PostgreSQL of its own (tests/tools/services.py's), stopped and started again on the same
port; bounded: 30 s to come back."""

from __future__ import annotations

import asyncio
import os
import shlex
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from tests.support import scenario as sc
from tests.support.server import serve
from tests.tools.services import HOST, Postgres, Signals

from rdv_spie.clock import SystemClock
from rdv_spie.db import migrate
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings


@pytest.fixture
def postgres() -> Iterator[Postgres]:
    workdir = Path(tempfile.mkdtemp(prefix="rdv-restart-", dir="/tmp"))
    if os.geteuid() == 0:
        shutil.chown(workdir, "postgres", "postgres")
    server = Postgres(workdir, Signals())
    try:
        server.start()
        yield server
    finally:
        server.stop()
        shutil.rmtree(workdir, ignore_errors=True)


def _pg_ctl(server: Postgres, *args: str) -> None:
    result = server._run([str(server.bindir / "pg_ctl"), "-D", str(server.datadir), *args])
    assert result.returncode == 0, result.stdout + result.stderr


def _start_again(server: Postgres) -> None:
    """The same cluster on the same port, as after a crash or an upgrade's restart."""
    options = f"-c listen_addresses={HOST} -p {server.port} -k {shlex.quote(str(server.workdir))}"
    _pg_ctl(server, "-o", options, "-w", "-t", "60", "-l", str(server.logfile), "start")


def test_the_web_answers_503_while_the_database_is_down_then_recovers(
    postgres: Postgres,
) -> None:
    url = postgres.url
    migrate.upgrade(Settings(database_url=url))

    async def seed() -> sc.Scenario:
        db = Database(create_engine(Settings(database_url=url)))
        s = await sc.build(db, SystemClock(), slug="restart")
        await db.dispose()
        return s

    s = asyncio.run(seed())
    with (
        serve(url, extra_env={"RDV_SECRET_KEY": "x" * 64}) as web,
        httpx.Client(base_url=web.url, timeout=10) as client,
    ):
        api = "/api/v1/territories"
        assert client.get(api, headers=s.auth()).status_code == 200

        _pg_ctl(postgres, "-m", "fast", "-w", "-t", "30", "stop")
        down = client.get(api, headers=s.auth())
        assert down.status_code == 503, down.text
        assert down.headers["retry-after"] == "5"
        assert down.headers["content-type"].startswith("application/problem+json")
        assert down.json()["code"] == "database_unavailable"
        ready = client.get("/readyz")
        assert ready.status_code == 503
        # A person opening their invitation link: the French page, status 503.
        page = client.get("/i/" + "x" * 43, headers={"Accept": "text/html"})
        assert page.status_code == 503
        assert "Service momentanément indisponible" in page.text
        refused = client.post(
            "/api/v1/organisations",
            headers=s.auth(),
            json={"territory_id": str(s.territory_id), "name": "X", "kind": "other"},
        )
        assert refused.status_code == 503

        _start_again(postgres)
        deadline = time.monotonic() + 30
        while True:
            back = client.get(api, headers=s.auth())
            if back.status_code == 200 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        assert back.status_code == 200, back.text
        assert client.get("/readyz").status_code == 200
