"""A territory with a CTO series: the scenario's Département (referents, animator, admin), a
France Travail agency of partners (members; two accepted the charter), a mission locale with
its own referent, people with consent, and loopback SMTP and Twilio servers."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from litestar import Litestar
from tests.support import scenario as sc
from tests.support.cto import Cto, agent
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.agents.models import Role
from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Organisation, OrganisationKind
from rdv_spie.worker.context import JobContext, build_context

PUBLIC_URL = "http://testserver.local"
FIRST_THURSDAY = date(2026, 12, 10)  # sessions: 10 and 24 December, 7 January… 08:30 Paris


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_servers(smtp: SmtpServer, twilio: TwilioServer) -> None:
    smtp.start()
    smtp.reset()
    twilio.reset()


@pytest.fixture
def flow_settings(
    database_url: str, smtp: SmtpServer, twilio: TwilioServer, tmp_path: Path
) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        debug=True,
        secret_key="test-secret-key-" + "x" * 32,
        outbox_dir=tmp_path / "outbox",
        **smtp.settings(),
        **twilio.settings(),
    )


@pytest.fixture
async def jobs(
    flow_settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[JobContext]:
    context = build_context(flow_settings, clock, db=db)
    yield context
    db.on_due_notifications = None
    await context.aclose()


@pytest.fixture
def app(flow_settings: Settings, db: Database, clock: FrozenClock) -> Litestar:
    return create_app(flow_settings, Overrides(clock=clock, database=db))


@pytest.fixture
async def cto(client: httpx.AsyncClient, db: Database, clock: FrozenClock) -> Cto:
    s = await sc.build(db, clock, slug="laon")
    async with db.unit_of_work(clock=clock) as uow:
        partner_org = Organisation(
            territory_id=s.territory_id,
            name="France Travail Laon",
            kind=OrganisationKind.FRANCE_TRAVAIL,
        )
        other_org = Organisation(
            territory_id=s.territory_id,
            name="Mission locale Laon",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        uow.session.add_all([partner_org, other_org])
        await uow.session.flush()
        partners = [
            await agent(uow, s, partner_org.id, f"partenaire{i}", Role.PARTNER) for i in range(3)
        ]
        other = await agent(uow, s, other_org.id, "referentml", Role.REFERENT)
    c = Cto(s, client, db, clock, partner_org.id, partners, other_org.id, other)
    r = await client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "Laon",
            "starts_on": FIRST_THURSDAY.isoformat(),
            "place_id": str(s.place_ids[0]),
            "video_url": "https://visio.example.org/cto-laon",
        },
    )
    assert r.status_code == 201, r.text
    c.series_id = uuid.UUID(r.json()["id"])
    for i, partner in enumerate(partners):
        body: dict[str, Any] = {"agent_id": str(partner)}
        if i < 2:
            body["charter_accepted_on"] = "2026-11-20"
        r = await client.post(
            f"/api/v1/cto-series/{c.series_id}/members", headers=c.animator, json=body
        )
        assert r.status_code == 201, r.text
    return c
