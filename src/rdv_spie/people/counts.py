"""Journeys of cohorts counted by their derived status, in one grouped query: the rules of
``status.derive`` written as SQL, so a cohort of 100,000 people is counted without loading
them (tests compare both on the same journeys). Reads only; no permission check (callers
pass cohorts the actor sees)."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime

from sqlalchemy import ColumnElement, case, exists, func, select

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.invitations.models import Invitation
from rdv_spie.people.models import Journey
from rdv_spie.people.status import JourneyStatus
from rdv_spie.scheduling.models import Appointment, AppointmentStatus


def status_clause(now: datetime, today: date) -> ColumnElement[str]:
    """A journey's status as SQL, the same as ``status.derive`` at ``now`` (``today`` is the
    territory's date of ``now``), in its order: closed, the appointments, the deadline, the
    invitations (invited while one is still valid)."""

    def held(status: AppointmentStatus) -> ColumnElement[bool]:
        return exists().where(Appointment.journey_id == Journey.id, Appointment.status == status)

    invited = exists().where(Invitation.journey_id == Journey.id)
    live = exists().where(Invitation.journey_id == Journey.id, Invitation.expires_at > now)
    return case(
        (Journey.closed_at.is_not(None), JourneyStatus.CLOSED.value),
        (held(AppointmentStatus.SEEN), JourneyStatus.SEEN.value),
        (held(AppointmentStatus.BOOKED), JourneyStatus.BOOKED.value),
        (held(AppointmentStatus.NOSHOW), JourneyStatus.NOSHOW.value),
        (Journey.appointment_by_on < today, JourneyStatus.LATE.value),
        (live, JourneyStatus.INVITED.value),
        (invited, JourneyStatus.INVITATION_EXPIRED.value),
        else_=JourneyStatus.TO_INVITE.value,
    )


async def by_status(
    uow: UnitOfWork, cohort_ids: Iterable[uuid.UUID], *, now: datetime, today: date
) -> dict[uuid.UUID, Counter[JourneyStatus]]:
    """For each cohort, how many of its journeys are in each status at ``now`` (``today``
    is the territory's date of ``now``); a cohort without journeys has an empty Counter."""
    ids = list(cohort_ids)
    counts: dict[uuid.UUID, Counter[JourneyStatus]] = {i: Counter() for i in ids}
    if not ids:
        return counts
    # Grouped outside: PostgreSQL would not match a CASE with bound values in GROUP BY.
    rows = (
        select(Journey.cohort_id, status_clause(now, today).label("status"))
        .where(Journey.cohort_id.in_(ids))
        .subquery()
    )
    query = select(rows.c.cohort_id, rows.c.status, func.count()).group_by(
        rows.c.cohort_id, rows.c.status
    )
    for cohort_id, status, count in await uow.session.execute(query):
        counts[cohort_id][JourneyStatus(status)] = int(count)
    return counts
