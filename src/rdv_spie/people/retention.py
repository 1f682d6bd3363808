"""The retention purge: personal data of people inactive for the retention period is erased.

A person is inactive when nothing about them moved since the cut-off: their row, a journey
(entered, deadline, closed), an appointment (its end) or a committee request. Their row is
then emptied in place (names, birth date, contacts, external ids, postcode; consents off)
and marked ``purged_at``; the free texts of their committee requests are emptied; their
journeys' browser sessions are deleted. Journeys, invitations, appointments and outbox rows
keep only ids, dates and statuses, so they stay, and the indicators computed from them are
the same after the purge. The audit trail keeps its lines (ids only) for its own period.

Run daily (arq cron, or the in-process runner), in batches of BATCH people per transaction:
a crash leaves whole batches done and the next run finishes the rest.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, delete, exists, literal, null, or_, select, update
from sqlalchemy.orm import InstrumentedAttribute

from rdv_spie.clock import Clock
from rdv_spie.committees.models import CtoRequest
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.people.models import Journey, Person
from rdv_spie.scheduling.cache import note_calendar_change
from rdv_spie.scheduling.models import Appointment
from rdv_spie.web.models import WebSession

BATCH = 500
MAX_BATCHES = 200  # 100,000 people a run; the next day's run goes on


def _inactive_since(cutoff_at: datetime, cutoff_on: date) -> ColumnElement[bool]:
    """People with nothing that moved on or after the cut-off."""
    return and_(
        Person.purged_at.is_(None),
        Person.updated_at < cutoff_at,
        ~exists().where(
            Journey.person_id == Person.id,
            or_(
                Journey.entered_on >= cutoff_on,
                Journey.appointment_by_on >= cutoff_on,
                Journey.updated_at >= cutoff_at,
            ),
        ),
        ~exists().where(Appointment.person_id == Person.id, Appointment.ends_at >= cutoff_at),
        ~exists().where(CtoRequest.person_id == Person.id, CtoRequest.updated_at >= cutoff_at),
    )


def _emptied(column: InstrumentedAttribute[str | None]) -> ColumnElement[str | None]:
    return case((column.is_(None), null()), else_=literal(""))


async def _purge_batch(uow: UnitOfWork, keep_days: int) -> int:
    now = uow.clock.now()
    cutoff_at = now - timedelta(days=keep_days)
    ids = list(
        await uow.session.scalars(
            select(Person.id)
            .where(_inactive_since(cutoff_at, cutoff_at.date()))
            .order_by(Person.id)
            .limit(BATCH)
        )
    )
    if not ids:
        return 0
    await uow.session.execute(
        update(Person)
        .where(Person.id.in_(ids), Person.purged_at.is_(None))
        .values(
            first_name="",
            last_name="",
            birth_on=None,
            phone=None,
            email=None,
            caf_number=None,
            france_travail_id=None,
            departement_id=None,
            postcode=None,
            sms_consent=False,
            email_consent=False,
            prefers_call=False,
            purged_at=now,
            updated_at=now,
        )
        .execution_options(synchronize_session=False)
    )
    await uow.session.execute(
        update(CtoRequest)
        .where(CtoRequest.person_id.in_(ids))
        .values(
            summary="",
            # Emptied rather than NULL: what was given stays given (urgent needs a reason).
            already_tried=_emptied(CtoRequest.already_tried),
            urgent_reason=_emptied(CtoRequest.urgent_reason),
            decision=_emptied(CtoRequest.decision),
            next_steps=_emptied(CtoRequest.next_steps),
        )
        .execution_options(synchronize_session=False)
    )
    journeys = select(Journey.id).where(Journey.person_id.in_(ids))
    await uow.session.execute(
        delete(WebSession)
        .where(WebSession.journey_id.in_(journeys))
        .execution_options(synchronize_session=False)
    )
    # Calendar feeds show initials: cached feeds must be rendered again.
    note_calendar_change(uow.session.sync_session)
    return len(ids)


async def purge(db: Database, clock: Clock, *, keep_days: int) -> int:
    """Erase the personal data of people inactive for ``keep_days``; how many were erased."""
    total = 0
    for _ in range(MAX_BATCHES):
        async with db.unit_of_work(clock=clock) as uow:
            done = await _purge_batch(uow, keep_days)
        total += done
        if done < BATCH:
            break
    return total
