"""Shared fixtures: every database test runs on SQLite and on the throwaway PostgreSQL that
``make test`` starts (tests/tools/services.py); the schema comes from the migrations."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db import migrate
from rdv_spie.db.engine import create_engine
from rdv_spie.db.uow import Database
from rdv_spie.models import Base
from rdv_spie.settings import Settings

# Tuesday 1 December 2026, 08:00 UTC (09:00 in Paris): the suite's "now".
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


def postgres_url() -> str:
    """The throwaway PostgreSQL of ``make test``; fails loudly when it is missing."""
    url = os.environ.get("RDV_TEST_POSTGRES_URL")
    if not url:
        pytest.fail(
            "RDV_TEST_POSTGRES_URL is not set: run the suite with `make test`, which "
            "starts a throwaway PostgreSQL (tests/tools/services.py)"
        )
    return url


async def reset_postgres(url: str) -> None:
    """Empty the public schema so the migrations start from nothing."""
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database of each engine."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('sqlite') / 'rdv.sqlite3'}"
    else:
        url = postgres_url()
        asyncio.run(reset_postgres(url))
    migrate.upgrade(Settings(database_url=url))
    return url


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, allowed_hosts=["testserver.local", "127.0.0.1"])


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(create_engine(settings))
    yield db
    await db.dispose()


@pytest.fixture
async def db(database: Database) -> AsyncIterator[Database]:
    """The database, emptied after the test (race tests need real commits)."""
    yield database
    tables = [t for t in Base.metadata.sorted_tables if t.name != "calendar_version"]
    async with database.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            await conn.execute(text(f"TRUNCATE {', '.join(t.name for t in tables)} CASCADE"))
        else:
            for table in reversed(tables):
                await conn.execute(table.delete())


@pytest.fixture
def clock() -> FrozenClock:
    return FrozenClock(T0)


@pytest.fixture
def app(settings: Settings, db: Database, clock: FrozenClock) -> Litestar:
    return create_app(settings, Overrides(clock=clock, database=db))


@pytest.fixture
async def client(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client calling the app in the test's own event loop (Litestar's
    AsyncTestClient runs the app in a portal thread, where asyncpg connections of the
    test's pool cannot be used). The database comes through Overrides, so no lifespan."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as c:
        yield c
