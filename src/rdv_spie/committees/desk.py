"""What the SPIE team's desk reads (committees/pages_desk.py): the queue of requests to
acknowledge on the 72 h clock, the sessions of the territory's series, one session's agenda.

Reads only, behind the API's guards (``require_territory_manager``); the fiches are read
through the API's own services (requests.list_requests, requests.agenda), which write the
audit trail, and the order before the freeze is freeze.split, the freeze's own rule.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.audit import service as audit
from rdv_spie.committees import access, freeze, requests
from rdv_spie.committees.models import (
    WAITING,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.people.models import Person
from rdv_spie.territories.models import Organisation

PAST_SESSIONS = 6  # past sessions listed per series, after the upcoming ones
UPCOMING_SESSIONS = 12
QUEUE_MAX = 500


@dataclass(frozen=True, slots=True)
class Waiting:
    """A request to acknowledge: hours left on the 72 h clock (negative: overdue by)."""

    request: CtoRequest
    person: Person
    organisation: str
    session: CtoSession
    overdue: bool  # the API's rule (requests.overdue): 72 h have passed
    hours: int  # left on the clock, or (overdue) how late, in whole hours


def _clock(left: timedelta) -> tuple[bool, int]:
    """(overdue, hours): 41 h 30 left is 41 h left, 4 h 10 late is 5 h late."""
    hours = int(left.total_seconds()) // 3600
    if left <= timedelta(0):
        return True, max(1, -hours)
    return False, hours


async def queue(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> list[Waiting]:
    """Requests submitted and not yet acknowledged, the most urgent on the clock first (the
    overdue ones, then the others by time left)."""
    await require_territory_manager(uow, actor, territory_id)
    now = uow.clock.now()
    rows = await uow.session.execute(
        select(CtoRequest, Person, Organisation.name, CtoSession)
        .join(Person, Person.id == CtoRequest.person_id)
        .join(Organisation, Organisation.id == CtoRequest.organisation_id)
        .join(CtoSession, CtoSession.id == CtoRequest.session_id)
        .where(
            CtoRequest.territory_id == territory_id,
            CtoRequest.acknowledged_at.is_(None),
            CtoRequest.status == RequestStatus.SUBMITTED,
        )
        .order_by(CtoRequest.submitted_at, CtoRequest.id)
        .limit(QUEUE_MAX)
    )
    found = [
        Waiting(r, p, name, s, *_clock(r.submitted_at + requests.ACKNOWLEDGE_WITHIN - now))
        for r, p, name, s in rows
    ]
    await audit.record(uow, actor, (w.person.id for w in found), audit.Read.CTO_REQUESTS)
    return found


@dataclass(frozen=True, slots=True)
class SessionLine:
    """A session in the desk's list: its count of situations (waiting before the freeze, on
    the agenda after it) and what state it is in."""

    session: CtoSession
    situations: int
    state: str  # scheduled, moved, frozen, dispatched, cancelled


def state_of(session: CtoSession) -> str:
    """The word the desk shows for a session's state."""
    if session.status == SessionStatus.CANCELLED:
        return "cancelled"
    if session.dispatched_at is not None:
        return "dispatched"
    if session.frozen_at is not None:
        return "frozen"
    return str(session.status)


@dataclass(slots=True)
class SeriesLines:
    series: CtoSeries
    upcoming: list[SessionLine] = field(default_factory=list)
    past: list[SessionLine] = field(default_factory=list)


Counts = dict[tuple[uuid.UUID, str], int]


async def _counts(uow: UnitOfWork, session_ids: list[uuid.UUID]) -> Counts:
    if not session_ids:
        return {}
    rows = await uow.session.execute(
        select(CtoRequest.session_id, CtoRequest.status, func.count())
        .where(CtoRequest.session_id.in_(session_ids))
        .group_by(CtoRequest.session_id, CtoRequest.status)
    )
    return {(sid, str(status)): int(n) for sid, status, n in rows}


def _situations(session: CtoSession, counts: Counts) -> int:
    kept = (
        (RequestStatus.ON_AGENDA, RequestStatus.DECIDED)
        if session.frozen_at is not None
        else WAITING
    )
    return sum(counts.get((session.id, str(s)), 0) for s in kept)


async def sessions(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> list[SeriesLines]:
    """Each series of the territory (by name) with its upcoming sessions, soonest first, then
    its last past ones, latest first."""
    await require_territory_manager(uow, actor, territory_id)
    now = uow.clock.now()
    out: list[SeriesLines] = []
    for series in await uow.session.scalars(
        select(CtoSeries).where(CtoSeries.territory_id == territory_id).order_by(CtoSeries.name)
    ):
        upcoming = list(
            await uow.session.scalars(
                select(CtoSession)
                .where(CtoSession.series_id == series.id, CtoSession.ends_at > now)
                .order_by(CtoSession.starts_at)
                .limit(UPCOMING_SESSIONS)
            )
        )
        past = list(
            await uow.session.scalars(
                select(CtoSession)
                .where(CtoSession.series_id == series.id, CtoSession.ends_at <= now)
                .order_by(CtoSession.starts_at.desc())
                .limit(PAST_SESSIONS)
            )
        )
        counts = await _counts(uow, [s.id for s in upcoming + past])
        out.append(
            SeriesLines(
                series,
                [SessionLine(s, _situations(s, counts), state_of(s)) for s in upcoming],
                [SessionLine(s, _situations(s, counts), state_of(s)) for s in past],
            )
        )
    return out


@dataclass(frozen=True, slots=True)
class Fiche:
    """A request as the desk's agenda shows it (the team reads the full fiche)."""

    request: CtoRequest
    person: Person
    organisation: str


@dataclass(slots=True)
class Agenda:
    """A session's agenda: before the freeze, the candidates in the freeze's order and the
    ones past the capacity (they will be carried over); after it, the frozen list and the
    requests carried over from it."""

    session: CtoSession
    series: CtoSeries
    state: str
    frozen: bool
    kept: list[Fiche]
    beyond: list[Fiche]  # before the freeze: past the capacity; after: carried over
    carried_to: CtoSession | None = None


async def _fiches(uow: UnitOfWork, found: list[CtoRequest]) -> dict[uuid.UUID, Fiche]:
    if not found:
        return {}
    rows = await uow.session.execute(
        select(CtoRequest.id, Person, Organisation.name)
        .join(Person, Person.id == CtoRequest.person_id)
        .join(Organisation, Organisation.id == CtoRequest.organisation_id)
        .where(CtoRequest.id.in_([r.id for r in found]))
    )
    by_id = {r.id: r for r in found}
    return {rid: Fiche(by_id[rid], person, name) for rid, person, name in rows}


async def agenda(uow: UnitOfWork, actor: Actor, session_id: uuid.UUID) -> Agenda:
    """One session of a territory the actor runs, with its agenda (the reads audited by the
    API's services); another territory's or an unknown id is the API's 404."""
    session = await access.session_for(uow, actor, session_id)
    await require_territory_manager(uow, actor, session.territory_id)
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    if session.frozen_at is None:
        found = await requests.list_requests(
            uow=uow, actor=actor, session_id=session.id, status=None
        )
        waiting = [r for r in found if r.status in WAITING]
        fiches = await _fiches(uow, waiting)
        kept, rest = freeze.split(
            (freeze.Candidate(r.id, r.urgent, r.submitted_at) for r in waiting), series.capacity
        )
        return Agenda(
            session,
            series,
            state_of(session),
            False,
            [fiches[i] for i in kept],
            [fiches[i] for i in rest],
        )
    on_agenda = [
        Fiche(r, p, name)
        for r, p, name in await requests.agenda(uow=uow, actor=actor, session_id=session.id)
    ]
    # Carried over at the freeze: now waiting in the series' next session, or still here
    # when no later session was scheduled.
    target: CtoSession | None = await uow.session.scalar(
        select(CtoSession)
        .where(
            CtoSession.series_id == series.id,
            CtoSession.id != session.id,
            CtoSession.starts_at > session.starts_at,
            CtoSession.status != SessionStatus.CANCELLED,
        )
        .order_by(CtoSession.starts_at)
        .limit(1)
    )
    places = [session.id] + ([target.id] if target is not None else [])
    carried = list(
        await uow.session.scalars(
            select(CtoRequest)
            .where(
                CtoRequest.session_id.in_(places),
                CtoRequest.status == RequestStatus.CARRIED_OVER,
                CtoRequest.submitted_at <= session.frozen_at,
            )
            .order_by(CtoRequest.urgent.desc(), CtoRequest.submitted_at, CtoRequest.id)
        )
    )
    fiches = await _fiches(uow, carried)
    await audit.record(uow, actor, (r.person_id for r in carried), audit.Read.CTO_REQUESTS)
    return Agenda(
        session,
        series,
        state_of(session),
        True,
        on_agenda,
        [fiches[r.id] for r in carried],
        target,
    )


def held(session: CtoSession, now: datetime) -> bool:
    """The session has started: its decisions can be recorded (requests.decide's rule)."""
    return now >= session.starts_at
