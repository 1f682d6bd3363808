"""The committee cycle run by the cron jobs: generate sessions ahead, freeze at D-3, send the
agenda at D-2. Each session is handled in its own transaction under its lock, and each step is
idempotent (a frozen session is never frozen again, a dispatched one never sent again), so
running a job twice, or on two workers at once, changes nothing.

Freezing is the only place that puts requests on an agenda: submissions take the same lock
and refuse a frozen session, so a frozen agenda never holds more than the capacity, and
every request not on it is carried to the next session with its referent told.
"""

from __future__ import annotations

import uuid

import structlog
from sqlalchemy import select

from rdv_spie.clock import Clock
from rdv_spie.committees import freeze, notices
from rdv_spie.committees import series as series_service
from rdv_spie.committees.models import (
    WAITING,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
)
from rdv_spie.db.uow import Database, UnitOfWork

_log = structlog.get_logger(__name__)


async def next_session(uow: UnitOfWork, series: CtoSeries, after: CtoSession) -> CtoSession | None:
    """The series' next session still open to its agenda (not cancelled, not frozen)."""
    found: CtoSession | None = await uow.session.scalar(
        select(CtoSession)
        .where(
            CtoSession.series_id == series.id,
            CtoSession.id != after.id,
            CtoSession.starts_at > after.starts_at,
            CtoSession.status != SessionStatus.CANCELLED,
            CtoSession.frozen_at.is_(None),
        )
        .order_by(CtoSession.starts_at)
        .limit(1)
    )
    return found


async def _carry(
    uow: UnitOfWork, series: CtoSeries, session: CtoSession, requests: list[CtoRequest]
) -> None:
    if not requests:
        return
    target = await next_session(uow, series, session)
    if target is None:
        await series_service.generate_sessions(uow=uow, series=series)
        target = await next_session(uow, series, session)
    if target is not None:
        await uow.lock(f"cto_session:{target.id}")
    for request in requests:
        request.status = RequestStatus.CARRIED_OVER
        request.agenda_number = None
        request.carried_over_count += 1
        if target is not None:  # none scheduled: it stays listed here, carried over
            request.session_id = target.id
        await notices.carried_over(uow, request, session, target)
    await uow.session.flush()


async def carry_all(uow: UnitOfWork, series: CtoSeries, session: CtoSession) -> None:
    """A cancelled session: every request still on it goes to the next one."""
    requests = list(
        await uow.session.scalars(
            select(CtoRequest)
            .where(
                CtoRequest.session_id == session.id,
                CtoRequest.status.in_([*WAITING, RequestStatus.ON_AGENDA]),
            )
            .order_by(CtoRequest.submitted_at, CtoRequest.id)
        )
    )
    await _carry(uow, series, session, requests)


async def freeze_session(uow: UnitOfWork, session_id: uuid.UUID) -> bool:
    """Freeze one due session under its lock; False when there was nothing to do."""
    await uow.lock(f"cto_session:{session_id}")
    session = await uow.session.get(CtoSession, session_id, populate_existing=True)
    now = uow.clock.now()
    if (
        session is None
        or session.frozen_at is not None
        or session.status == SessionStatus.CANCELLED
        or session.freeze_at > now
    ):
        return False
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    waiting = list(
        await uow.session.scalars(
            select(CtoRequest).where(
                CtoRequest.session_id == session.id, CtoRequest.status.in_(WAITING)
            )
        )
    )
    by_id = {r.id: r for r in waiting}
    on_agenda, rest = freeze.split(
        (freeze.Candidate(r.id, r.urgent, r.submitted_at) for r in waiting), series.capacity
    )
    for number, request_id in enumerate(on_agenda, start=1):
        by_id[request_id].status = RequestStatus.ON_AGENDA
        by_id[request_id].agenda_number = number
    session.frozen_at = now
    await uow.session.flush()
    await _carry(uow, series, session, [by_id[i] for i in rest])
    _log.info(
        "cto_session_frozen", session_id=str(session.id), agenda=len(on_agenda), carried=len(rest)
    )
    return True


async def dispatch_session(uow: UnitOfWork, session_id: uuid.UUID) -> bool:
    """Send a frozen session's agenda to its sworn members; False when nothing to do."""
    await uow.lock(f"cto_session:{session_id}")
    session = await uow.session.get(CtoSession, session_id, populate_existing=True)
    now = uow.clock.now()
    if (
        session is None
        or session.frozen_at is None
        or session.dispatched_at is not None
        or session.status == SessionStatus.CANCELLED
        or session.dispatch_at > now
    ):
        return False
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    # A session already over gets no agenda (the worker was down): marked, not sent.
    sent = await notices.agenda(uow, series, session) if session.ends_at > now else 0
    session.dispatched_at = now
    await uow.session.flush()
    _log.info("cto_agenda_dispatched", session_id=str(session.id), messages=sent)
    return True


async def _due(db: Database, clock: Clock, *, dispatch: bool) -> list[uuid.UUID]:
    now = clock.now()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        statement = select(CtoSession.id).where(CtoSession.status != SessionStatus.CANCELLED)
        if dispatch:
            statement = statement.where(
                CtoSession.frozen_at.is_not(None),
                CtoSession.dispatched_at.is_(None),
                CtoSession.dispatch_at <= now,
            )
        else:
            statement = statement.where(CtoSession.frozen_at.is_(None), CtoSession.freeze_at <= now)
        return list(await uow.session.scalars(statement.order_by(CtoSession.starts_at)))


async def freeze_due(db: Database, clock: Clock) -> int:
    """Freeze every session whose freeze time has come; how many were frozen."""
    done = 0
    for session_id in await _due(db, clock, dispatch=False):
        async with db.unit_of_work(clock=clock) as uow:
            done += await freeze_session(uow, session_id)
    return done


async def dispatch_due(db: Database, clock: Clock) -> int:
    """Send every agenda whose time has come; how many sessions were sent."""
    done = 0
    for session_id in await _due(db, clock, dispatch=True):
        async with db.unit_of_work(clock=clock) as uow:
            done += await dispatch_session(uow, session_id)
    return done


async def generate_all(db: Database, clock: Clock) -> int:
    """Generate sessions ahead for every active series; how many were added."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        ids = list(await uow.session.scalars(select(CtoSeries.id).where(CtoSeries.active)))
    added = 0
    for series_id in ids:
        async with db.unit_of_work(clock=clock) as uow:
            found = await uow.session.get(CtoSeries, series_id)
            if found is not None:
                added += await series_service.generate_sessions(uow=uow, series=found)
    return added
