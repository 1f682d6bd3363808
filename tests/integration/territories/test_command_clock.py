"""Every command opens the database through ``db.uow.open_database`` and tells time with the
settings' clock (``RDV_CLOCK_OFFSET_DAYS`` shifts it, as in the web process and the worker)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from rdv_spie import cli
from rdv_spie.agents.models import Agent, ApiKey
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database, open_database
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Territory

OFFSET_DAYS = 3


async def test_the_commands_take_the_clock_of_the_settings(
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("RDV_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RDV_CLOCK_OFFSET_DAYS", str(OFFSET_DAYS))
    email = "admin@cli.test"

    def run(*argv: str) -> int:
        return cli.main(list(argv))

    before = datetime.now(UTC)
    boot = [
        "bootstrap",
        "--slug=cli",
        "--name=Territoire CLI",
        "--organisation=Département CLI",
        f"--admin-email={email}",
        "--admin-first-name=Ada",
        "--admin-last-name=Test",
    ]
    assert await asyncio.to_thread(run, *boot) == 0
    assert await asyncio.to_thread(run, "create-api-key", f"--email={email}") == 0
    after = datetime.now(UTC)
    capsys.readouterr()  # the key is printed: keep it out of the report

    shifted = timedelta(days=OFFSET_DAYS)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        territory = await uow.session.scalar(select(Territory).where(Territory.slug == "cli"))
        key = await uow.session.scalar(
            select(ApiKey).join(Agent, Agent.id == ApiKey.agent_id).where(Agent.email == email)
        )
    assert territory is not None and key is not None
    for stamped in (territory.created_at, key.created_at):
        assert before + shifted <= stamped <= after + shifted


async def test_open_database_shifts_its_clock(settings: Settings) -> None:
    shifted = settings.model_copy(update={"clock_offset_days": 1.5})
    async with open_database(shifted) as (db, clock):
        gap = clock.now() - datetime.now(UTC)
        async with db.unit_of_work(clock=clock, write=False) as uow:
            assert await uow.session.scalar(select(1)) == 1
    assert timedelta(days=1.5) - timedelta(seconds=5) < gap <= timedelta(days=1.5)
