"""The retention purge: personal data of people inactive for the retention period is erased.

A person is inactive when nothing about them moved since the cut-off: their row, a journey
(entered, due or changed), an appointment (its end) or a committee request (changed). Their
row is then emptied in place (names, birth date, contacts, external ids, postcode; consents
off) and marked ``purged_at``; the free texts of their committee requests are emptied; their
messages still waiting are cancelled; their journeys' browser sessions are deleted. Journeys,
invitations, appointments and outbox rows keep ids, dates and statuses, so they stay, and the
indicators computed from them are the same after the purge. The audit trail keeps its lines
(ids only) for its own period. Without a relay, the message files of ``outbox_dir`` older than
the retention period are deleted too.

Run daily (arq cron, or the in-process runner), territory by territory, in batches of BATCH
people per transaction under the territory's intake lock: an import never matches a person
being erased, and a crash leaves whole batches done for the next run to go on from. The
erasing UPDATE checks inactivity again, so activity written after the batch was chosen keeps
the person.
"""

from __future__ import annotations

import os
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import structlog
from sqlalchemy import (
    ColumnElement,
    and_,
    case,
    delete,
    exists,
    literal,
    null,
    or_,
    select,
    update,
)
from sqlalchemy.orm import InstrumentedAttribute

from rdv_spie.clock import Clock
from rdv_spie.committees.models import CtoRequest
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.people.models import Journey, Person
from rdv_spie.scheduling.models import Appointment
from rdv_spie.territories.models import Territory
from rdv_spie.web.models import WebSession

BATCH = 500
MAX_BATCHES = 200  # per territory and run: 100,000 people; the next day's run goes on

_log = structlog.get_logger(__name__)


def inactive_since(cutoff_at: datetime) -> ColumnElement[bool]:
    """People not erased yet with nothing that moved on or after the cut-off."""
    cutoff_on: date = cutoff_at.date()
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


async def candidates(
    uow: UnitOfWork, territory_id: uuid.UUID, cutoff_at: datetime
) -> list[uuid.UUID]:
    """Up to BATCH people of a territory to erase."""
    return list(
        await uow.session.scalars(
            select(Person.id)
            .where(Person.territory_id == territory_id, inactive_since(cutoff_at))
            .order_by(Person.id)
            .limit(BATCH)
        )
    )


async def erase(uow: UnitOfWork, ids: list[uuid.UUID], cutoff_at: datetime) -> list[uuid.UUID]:
    """Erase those of ``ids`` still inactive (checked again in the UPDATE); the erased ids."""
    return await erase_where(uow, ids, inactive_since(cutoff_at))


async def erase_where(
    uow: UnitOfWork, ids: list[uuid.UUID], condition: ColumnElement[bool]
) -> list[uuid.UUID]:
    """Erase those of ``ids`` that meet ``condition`` (checked in the UPDATE): the one erasure,
    for the purge and for a request (privacy/erasure.py). The erased ids."""
    now = uow.clock.now()
    erased = list(
        await uow.session.scalars(
            update(Person)
            .where(Person.id.in_(ids), condition)
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
            .returning(Person.id)
            .execution_options(synchronize_session=False)
        )
    )
    if not erased:
        return erased
    await uow.session.execute(
        update(CtoRequest)
        .where(CtoRequest.person_id.in_(erased))
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
    journeys = select(Journey.id).where(Journey.person_id.in_(erased))
    # Messages still waiting to the person, or to an agent about them, would go out with an
    # empty name (or, for the person, fail and alert their referent): they are cancelled.
    await uow.session.execute(
        update(Notification)
        .where(
            or_(Notification.person_id.in_(erased), Notification.journey_id.in_(journeys)),
            Notification.status == NotificationStatus.PENDING,
        )
        .values(status=NotificationStatus.CANCELLED, error_code="person_erased", settled_at=now)
        .execution_options(synchronize_session=False)
    )
    await uow.session.execute(
        delete(WebSession)
        .where(WebSession.journey_id.in_(journeys))
        .execution_options(synchronize_session=False)
    )
    return erased


async def purge(
    db: Database, clock: Clock, *, keep_days: int, outbox_dir: Path | None = None
) -> int:
    """Erase the personal data of people inactive for ``keep_days``; how many were erased."""
    cutoff_at = clock.now() - timedelta(days=keep_days)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        territories = list(await uow.session.scalars(select(Territory.id).order_by(Territory.id)))
    total = 0
    for territory_id in territories:
        for _ in range(MAX_BATCHES):
            async with db.unit_of_work(clock=clock) as uow:
                await uow.lock(f"intake:{territory_id}")  # the lock imports take
                ids = await candidates(uow, territory_id, cutoff_at)
                erased = await erase(uow, ids, cutoff_at) if ids else []
            total += len(erased)
            if len(ids) < BATCH:
                break
    if outbox_dir is not None:
        _delete_old_files(outbox_dir, cutoff_at)
    return total


def _delete_old_files(folder: Path, cutoff_at: datetime) -> None:
    """The folder transport's messages (full names, contacts) older than the cut-off."""
    if not folder.is_dir():
        return
    deleted = 0
    for entry in os.scandir(folder):
        if entry.is_file() and entry.stat().st_mtime < cutoff_at.timestamp():
            Path(entry.path).unlink(missing_ok=True)
            deleted += 1
    if deleted:
        _log.info("outbox_files_deleted", files=deleted)
