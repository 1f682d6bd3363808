"""Migration 0009 gives rows written before it an owner: an appointment its journey's cohort's
structure (else the booker's, the referent's, the place's), a rule its agent's structure; and on
SQLite the copy of the tables keeps every attending agent (a cascade would have deleted them)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection
from tests.integration.db.test_migrations import fresh_url  # noqa: F401 (fixture)

from rdv_spie.db import migrate
from rdv_spie.db.base import UTCDateTime
from rdv_spie.db.engine import create_engine
from rdv_spie.settings import Settings

NOW = datetime(2026, 11, 30, 9, tzinfo=UTC)
_KEYS = "t cd ft place type camille karim cohort person j a1 a2 r1 r2"
_TYPES: dict[str, Any] = {
    "created_at": UTCDateTime(),
    "updated_at": UTCDateTime(),
    "starts_at": UTCDateTime(),
    "ends_at": UTCDateTime(),
    "busy_until": UTCDateTime(),
    "start_time": sa.Time(),
    "end_time": sa.Time(),
    "send_window_start": sa.Time(),
    "send_window_end": sa.Time(),
    "reminder_days": sa.JSON(),
    "valid_from": sa.Date(),
    "entered_on": sa.Date(),
    "invite_by_on": sa.Date(),
    "appointment_by_on": sa.Date(),
}


def _type(name: str, value: object) -> Any:
    if isinstance(value, uuid.UUID):
        return sa.Uuid()
    return _TYPES.get(name, sa.Boolean() if isinstance(value, bool) else None)


async def _insert(conn: AsyncConnection, table_name: str, /, **values: object) -> None:
    # Every table but appointment_agent carries the two timestamps.
    stamp = {} if table_name == "appointment_agent" else {"created_at": NOW, "updated_at": NOW}
    stamped = {**values, **stamp}
    table = sa.table(table_name, *(sa.column(k, _type(k, v)) for k, v in stamped.items()))
    await conn.execute(sa.insert(table).values(**stamped))


def test_rows_written_before_0009_get_an_owner(fresh_url: str) -> None:  # noqa: F811
    settings = Settings(database_url=fresh_url)
    migrate.upgrade(settings, "0008")
    ids = {k: uuid.uuid4() for k in _KEYS.split()}

    async def seed() -> None:
        engine = create_engine(settings)
        async with engine.begin() as conn:
            await _insert(
                conn,
                "territory",
                id=ids["t"],
                slug="aisne",
                name="Aisne",
                timezone="Europe/Paris",
                holiday_zone="metropole",
            )
            for org, name in (("cd", "Département"), ("ft", "France Travail")):
                await _insert(
                    conn,
                    "organisation",
                    id=ids[org],
                    territory_id=ids["t"],
                    name=name,
                    kind="departement",
                )
            await _insert(
                conn,
                "place",
                id=ids["place"],
                organisation_id=ids["cd"],
                name="MDS Laon",
                kind="address",
                active=True,
            )
            await _insert(
                conn,
                "appointment_type",
                id=ids["type"],
                territory_id=ids["t"],
                name="Premier rendez-vous",
                duration_minutes=45,
                buffer_after_minutes=0,
                min_notice_minutes=0,
                horizon_days=60,
                attendance="single",
                active=True,
                online_cancel=True,
                cancel_cutoff_minutes=240,
                move_cutoff_minutes=2880,
            )
            for agent, org in (("camille", "cd"), ("karim", "ft")):
                await _insert(
                    conn,
                    "agent",
                    id=ids[agent],
                    email=f"{agent}@x.test",
                    first_name=agent,
                    last_name="X",
                    active=True,
                )
                await _insert(
                    conn,
                    "membership",
                    id=uuid.uuid4(),
                    agent_id=ids[agent],
                    organisation_id=ids[org],
                    role="referent",
                )
                rule = ids["r1" if agent == "camille" else "r2"]
                await _insert(
                    conn,
                    "availability_rule",
                    id=rule,
                    agent_id=ids[agent],
                    place_id=ids["place"],
                    weekdays=31,
                    start_time=time(9),
                    end_time=time(12),
                    valid_from=date(2026, 1, 1),
                )
            await _insert(
                conn,
                "cohort",
                id=ids["cohort"],
                territory_id=ids["t"],
                name="Jeunes",
                entry_delay_days=30,
                organisation_id=ids["cd"],
                invite_within_days=3,
                invitation_valid_days=10,
                reminder_days=[3, 7],
                deadline_alert_days=7,
                send_window_start=time(9),
                send_window_end=time(19),
                send_weekdays=63,
                active=True,
            )
            await _insert(
                conn,
                "person",
                id=ids["person"],
                territory_id=ids["t"],
                first_name="Zoé",
                last_name="Y",
                sms_consent=False,
                email_consent=False,
                prefers_call=False,
            )
            await _insert(
                conn,
                "journey",
                id=ids["j"],
                territory_id=ids["t"],
                person_id=ids["person"],
                cohort_id=ids["cohort"],
                entered_on=date(2026, 11, 1),
                invite_by_on=date(2026, 11, 4),
                appointment_by_on=date(2026, 12, 1),
                identity_failures=0,
            )
            # a1: for the Département's journey, received by Karim of France Travail;
            # a2: no journey, booked by nobody, received by Karim.
            for appointment, journey in (("a1", ids["j"]), ("a2", None)):
                start = datetime(2026, 12, 2 if appointment == "a1" else 3, 9, tzinfo=UTC)
                end = start.replace(minute=45)
                await _insert(
                    conn,
                    "appointment",
                    id=ids[appointment],
                    territory_id=ids["t"],
                    appointment_type_id=ids["type"],
                    place_id=ids["place"],
                    journey_id=journey,
                    starts_at=start,
                    ends_at=end,
                    busy_until=end,
                    status="booked",
                    sequence=0,
                )
                await _insert(
                    conn,
                    "appointment_agent",
                    appointment_id=ids[appointment],
                    agent_id=ids["karim"],
                    role="referent",
                    starts_at=start,
                    busy_until=end,
                    active=True,
                )
        await engine.dispose()

    asyncio.run(seed())
    migrate.upgrade(settings)

    async def read() -> tuple[dict[Any, Any], dict[Any, Any], int]:
        engine = create_engine(settings)
        async with engine.connect() as conn:
            appointment = sa.table(
                "appointment",
                sa.column("id", sa.Uuid()),
                sa.column("acting_organisation_id", sa.Uuid()),
            )
            rule = sa.table(
                "availability_rule",
                sa.column("id", sa.Uuid()),
                sa.column("organisation_id", sa.Uuid()),
            )
            owners = dict((await conn.execute(sa.select(appointment))).all())
            rules = dict((await conn.execute(sa.select(rule))).all())
            attending = await conn.scalar(sa.text("SELECT count(*) FROM appointment_agent"))
        await engine.dispose()
        return owners, rules, int(attending or 0)

    owners, rules, attending = asyncio.run(read())
    assert owners == {ids["a1"]: ids["cd"], ids["a2"]: ids["ft"]}
    assert rules == {ids["r1"]: ids["cd"], ids["r2"]: ids["ft"]}
    assert attending == 2
