"""Liveness and readiness probes."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from sqlalchemy import text


@get("/healthz", include_in_schema=False)
async def healthz() -> dict[str, str]:
    """The process answers."""
    return {"status": "ok"}


@get("/readyz", include_in_schema=False)
async def readyz(state: State) -> dict[str, str]:
    """The database answers."""
    async with state.db.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ok"}
