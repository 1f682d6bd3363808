"""The retention purge on both engines: people inactive for the retention period are erased
in place, in batches, once; anyone with activity since the cut-off is kept; the indicators
are the same before and after; an erased person shows no name on the agenda."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.indicators.test_indicators import COHORT_A, PERIOD, _cohort
from tests.integration.web_office.office_support import add_journey
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey, Person
from rdv_spie.privacy import retention
from rdv_spie.scheduling import agenda
from rdv_spie.scheduling.models import Appointment, AppointmentAgent, AttendeeRole
from rdv_spie.settings import Settings
from rdv_spie.web.models import SessionKind, WebSession
from rdv_spie.worker import jobs
from rdv_spie.worker.settings import worker_settings

PARIS = ZoneInfo("Europe/Paris")
LATER = datetime(2029, 1, 1, 9, 0, tzinfo=UTC)  # the cut-off at 730 days: 2027-01-01 09:00


async def _appointment(
    db: Database, clock: FrozenClock, s: sc.Scenario, journey_id: uuid.UUID, starts_at: datetime
) -> None:
    """A past appointment of a journey, attended by the first referent, written directly."""
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        ends_at = starts_at + timedelta(minutes=45)
        appointment = Appointment(
            territory_id=s.territory_id,
            acting_organisation_id=s.organisation_id,
            appointment_type_id=s.single_type_id,
            place_id=s.place_ids[0],
            person_id=journey.person_id,
            journey_id=journey.id,
            starts_at=starts_at,
            ends_at=ends_at,
            busy_until=ends_at,
            status="seen",
        )
        appointment.attendees.append(
            AppointmentAgent(
                agent_id=s.referent_ids[0],
                role=AttendeeRole.REFERENT,
                starts_at=starts_at,
                busy_until=ends_at,
            )
        )
        uow.session.add(appointment)


async def _people(db: Database, clock: FrozenClock) -> dict[str, Person]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.scalars(select(Person))
        return {p.last_name if p.purged_at is None else str(p.id): p for p in rows}


async def test_the_purge_erases_inactive_people_and_keeps_the_indicators(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    s = await sc.build(db, clock, slug="laon")
    cohort = await _cohort(db, clock, s, "Ancienne", COHORT_A)
    old = await add_journey(
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=cohort,
        last_name="Ancienne",
        appointment_by_on=date(2026, 12, 20),
    )
    await _appointment(db, clock, s, old, datetime(2026, 12, 8, 9, tzinfo=UTC))
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(
            WebSession(
                token_hash="a" * 64,
                kind=SessionKind.PERSON,
                journey_id=old,
                last_seen_at=clock.now(),
                expires_at=clock.now() + timedelta(hours=2),
            )
        )
    # Seen again in June 2027, after the cut-off: kept.
    kept_by_appointment = await add_journey(
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=cohort,
        last_name="Revue",
        appointment_by_on=date(2026, 12, 20),
    )
    await _appointment(db, clock, s, kept_by_appointment, datetime(2027, 6, 1, 8, tzinfo=UTC))
    clock.set(LATER)
    await add_journey(  # entered in December 2028: kept
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=cohort,
        last_name="Recente",
        appointment_by_on=date(2029, 1, 19),
    )
    before = await client.get("/api/v1/indicators/", headers=s.auth(), params=PERIOD)
    assert before.status_code == 200 and before.json()[0]["entered"] > 0

    monkeypatch.setattr(retention, "BATCH", 3)  # several transactions in one run
    ctx = {"jobs": SimpleNamespace(db=db, clock=clock, settings=settings)}
    assert settings.personal_data_retention_days == 730
    erased = len(COHORT_A) + 1
    assert await jobs.purge_personal_data(ctx) == erased
    assert await jobs.purge_personal_data(ctx) == 0  # once

    people = await _people(db, clock)
    assert {"Revue", "Recente"} <= set(people)
    gone = [p for p in people.values() if p.purged_at is not None]
    assert len(gone) == erased and len(people) == erased + 2
    for p in gone:
        assert (p.first_name, p.last_name, p.email, p.phone, p.postcode) == (
            "",
            "",
            None,
            None,
            None,
        )
        assert not (p.sms_consent or p.email_consent) and p.purged_at == LATER
    assert people["Revue"].email == "revue@exemple.fr"
    after = await client.get("/api/v1/indicators/", headers=s.auth(), params=PERIOD)
    assert after.json() == before.json()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(WebSession)) == 0
        assert await uow.session.scalar(select(func.count()).select_from(Journey)) == erased + 2
    # The agenda of that week: the appointment, without a name.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        days = await agenda.week(
            uow,
            viewer_id=s.referent_ids[0],
            agent_ids=[s.referent_ids[0]],
            organisation_ids=[],
            monday=date(2026, 12, 7),
            zone=ZoneInfo("Europe/Paris"),
        )
    (row,) = [r for rows in days.values() for r in rows]
    assert row.person_erased and row.person_name is None and row.person_id is None
    with_redis = settings.model_copy(update={"redis_url": "redis://127.0.0.1:9/0"})
    crons = {c.coroutine.__name__ for c in worker_settings(with_redis)["cron_jobs"]}
    assert "purge_personal_data" in crons
