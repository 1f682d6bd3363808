"""The database itself refuses two overlapping active appointments of one agent (exclusion
constraint on PostgreSQL, triggers on SQLite), even when the Python checks are bypassed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.exc import IntegrityError
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import Appointment, AppointmentAgent, AttendeeRole

AT = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)


def appointment(s: sc.Scenario, start: datetime, *, active: bool = True) -> Appointment:
    end = start + timedelta(minutes=45)
    a = Appointment(
        territory_id=s.territory_id,
        acting_organisation_id=s.organisation_id,
        appointment_type_id=s.single_type_id,
        place_id=s.place_ids[0],
        starts_at=start,
        ends_at=end,
        busy_until=end + timedelta(minutes=15),
        status="booked" if active else "cancelled",
    )
    a.attendees = [
        AppointmentAgent(
            agent_id=s.referent_ids[0],
            role=AttendeeRole.REFERENT,
            starts_at=start,
            busy_until=end + timedelta(minutes=15),
            active=active,
        )
    ]
    return a


async def insert(db: Database, clock: FrozenClock, *rows: Appointment) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add_all(rows)


async def test_overlap_refused_adjacent_allowed(db: Database, clock: FrozenClock) -> None:
    s = await sc.build(db, clock)
    await insert(db, clock, appointment(s, AT))
    with pytest.raises(IntegrityError):
        await insert(db, clock, appointment(s, AT + timedelta(minutes=59)))  # inside the buffer
    await insert(db, clock, appointment(s, AT + timedelta(minutes=60)))  # right after: fine
    await insert(db, clock, appointment(s, AT, active=False))  # cancelled rows never clash


async def test_reactivating_into_a_clash_is_refused(db: Database, clock: FrozenClock) -> None:
    s = await sc.build(db, clock)
    cancelled = appointment(s, AT, active=False)
    await insert(db, clock, cancelled, appointment(s, AT + timedelta(minutes=30)))

    async def reactivate() -> None:
        async with db.unit_of_work(clock=clock) as uow:
            row = await uow.session.get(AppointmentAgent, (cancelled.id, s.referent_ids[0]))
            assert row is not None
            row.active = True

    with pytest.raises(IntegrityError):
        await reactivate()
