"""The schema comes from Alembic only: it goes up, down and up again on both engines, and the
models never drift from it."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect, text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.conftest import postgres_url

from rdv_spie.db import migrate
from rdv_spie.db.engine import create_engine
from rdv_spie.models import Base
from rdv_spie.settings import Settings


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name}"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: os.PathLike[str]) -> Iterator[str]:
    """An empty database of each engine, just for this test."""
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fresh.sqlite3"
        return
    main = postgres_url()
    admin = os.environ.get("RDV_TEST_POSTGRES_ADMIN_URL") or main.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(_create_database(admin, "rdv_migrations"))
    yield main.rsplit("/", 1)[0] + "/rdv_migrations"


def _tables(url: str) -> set[str]:
    async def read() -> set[str]:
        engine = create_engine(Settings(database_url=url))
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names - {"alembic_version"}

    return asyncio.run(read())


def _drift(url: str) -> list[object]:
    def compare(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))

    async def run() -> list[object]:
        engine = create_engine(Settings(database_url=url))
        async with engine.connect() as conn:
            diff = await conn.run_sync(compare)
        await engine.dispose()
        return diff

    return asyncio.run(run())


def test_upgrade_downgrade_upgrade_and_no_drift(fresh_url: str) -> None:
    settings = Settings(database_url=fresh_url)
    migrate.upgrade(settings)
    assert _tables(fresh_url) == set(Base.metadata.tables)
    migrate.downgrade(settings, "base")
    assert _tables(fresh_url) == set()
    migrate.upgrade(settings)
    assert _drift(fresh_url) == []


def test_drift_check_notices_a_model_change(fresh_url: str) -> None:
    """The drift check is not vacuous: a column only in the models shows up."""
    from sqlalchemy import Column, Integer

    migrate.upgrade(Settings(database_url=fresh_url))
    column = Column("only_in_models", Integer, nullable=True)
    table = Base.metadata.tables["territory"]
    table.append_column(column)
    try:
        diff = _drift(fresh_url)
    finally:
        table._columns.remove(column)
    assert any("only_in_models" in repr(d) for d in diff)
