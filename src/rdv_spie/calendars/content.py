"""What each kind of feed shows, read from the database and stripped for its audience.

An agent feed carries the agent's appointments with the person as initials only (computed by
the database, so names never reach this process for a feed); a territory feed carries the
territory's appointments and CTO sessions with no personal data at all; a CTO series feed (for
partners) carries its sessions as "CTO <name> — N situations", the place or video link and a
link to the authenticated agenda: a count, never a person or a situation.

Reads only; never writes, never sees a token.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Select, func, literal, select

from rdv_spie.agents.models import Agent, Membership
from rdv_spie.calendars.feed import FeedEvent, Status
from rdv_spie.calendars.models import FeedKind
from rdv_spie.calendars.service import ActiveFeed
from rdv_spie.committees.messages import session_url
from rdv_spie.committees.models import (
    WAITING,
    CtoMember,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.ical.event import appointment_uid, session_uid
from rdv_spie.people.models import Person
from rdv_spie.scheduling.models import (
    Appointment,
    AppointmentAgent,
    AppointmentDeparture,
    AppointmentStatus,
    AppointmentType,
)
from rdv_spie.scheduling.paths import AGENDA
from rdv_spie.territories.models import Organisation, Place, PlaceKind, Territory
from rdv_spie.territories.places import line_of

DEFAULT_TZID = "Europe/Paris"

_DEPARTED = "departed"  # in an agent's feed: moved to another agent (AppointmentDeparture)
_STATUS: dict[str, tuple[Status, str]] = {
    AppointmentStatus.BOOKED: ("CONFIRMED", "réservé"),
    AppointmentStatus.SEEN: ("CONFIRMED", "honoré"),
    AppointmentStatus.NOSHOW: ("CONFIRMED", "absence non excusée"),
    AppointmentStatus.EXCUSED: ("CANCELLED", "excusé"),
    AppointmentStatus.CANCELLED: ("CANCELLED", "annulé par la personne"),
    AppointmentStatus.REVOKED: ("CANCELLED", "annulé par le service"),
    _DEPARTED: ("CANCELLED", "déplacé vers un autre agent"),
}
_REMOTE = {PlaceKind.PHONE: "par téléphone", PlaceKind.VIDEO: "en visio"}


@dataclass(frozen=True, slots=True)
class Window:
    """The events a feed carries start in [starts_at, ends_at); whole UTC days, so the body
    only moves with the date, never with the minute."""

    starts_at: datetime
    ends_at: datetime


@dataclass(frozen=True, slots=True)
class Subject:
    """Who or what a feed is about: its calendar's name and zone."""

    name: str
    tzid: str
    changed_at: datetime


def window(now: datetime, *, past_days: int, future_days: int) -> Window:
    """From ``past_days`` before today (UTC) to ``future_days`` after."""
    today = datetime.combine(now.astimezone(UTC).date(), time(0), UTC)
    return Window(today - timedelta(days=past_days), today + timedelta(days=future_days))


async def subject(uow: UnitOfWork, feed: ActiveFeed) -> Subject | None:
    """The feed's subject, or None when it no longer exists."""
    if feed.kind == FeedKind.AGENT:
        zone = (
            select(Territory.timezone)
            .join(Organisation, Organisation.territory_id == Territory.id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.agent_id == Agent.id)
            .order_by(Territory.slug)
            .limit(1)
            .scalar_subquery()
        )
        row = (
            await uow.session.execute(
                select(Agent.first_name, Agent.last_name, Agent.updated_at, zone).where(
                    Agent.id == feed.subject_id, Agent.active.is_(True)
                )
            )
        ).one_or_none()
        if row is None:
            return None
        first, last, changed_at, tzid = row
        return Subject(f"Rendez-vous — {first} {last}", tzid or DEFAULT_TZID, changed_at)
    if feed.kind in (FeedKind.CTO_SERIES, FeedKind.CTO_MEMBER):
        row = (
            await uow.session.execute(
                select(CtoSeries.name, Territory.timezone, CtoSeries.updated_at)
                .join(Territory, Territory.id == CtoSeries.territory_id)
                .where(CtoSeries.id == _series_of(feed))
            )
        ).one_or_none()
        if row is None:
            return None
        name, tzid, changed_at = row
        return Subject(f"CTO {name}", tzid, changed_at)
    if feed.kind == FeedKind.TERRITORY:
        row = (
            await uow.session.execute(
                select(Territory.name, Territory.timezone, Territory.updated_at).where(
                    Territory.id == feed.subject_id
                )
            )
        ).one_or_none()
        if row is None:
            return None
        name, tzid, changed_at = row
        return Subject(f"Rendez-vous SPIE — {name}", tzid, changed_at)
    return None


def _series_of(feed: ActiveFeed) -> Any:
    """The series a committee feed shows: its subject, or the series of the membership."""
    if feed.kind == FeedKind.CTO_MEMBER:
        return select(CtoMember.series_id).where(CtoMember.id == feed.subject_id).scalar_subquery()
    return feed.subject_id


def _scope(statement: Select[Any], feed: ActiveFeed, w: Window) -> Select[Any]:
    """The appointments of a feed: the agent attends them, or they are on the territory."""
    statement = statement.where(
        Appointment.starts_at >= w.starts_at, Appointment.starts_at < w.ends_at
    )
    if feed.kind == FeedKind.AGENT:
        # appointment_agent.starts_at is the appointment's (a move replaces the rows): it lets
        # the (agent_id, starts_at) index find them.
        return statement.join(
            AppointmentAgent,
            (AppointmentAgent.appointment_id == Appointment.id)
            & (AppointmentAgent.agent_id == feed.subject_id)
            & (AppointmentAgent.starts_at >= w.starts_at)
            & (AppointmentAgent.starts_at < w.ends_at),
        )
    return statement.where(Appointment.territory_id == feed.subject_id)


async def events(
    uow: UnitOfWork, feed: ActiveFeed, w: Window, *, public_url: str
) -> list[FeedEvent]:
    """The feed's events, in start order, stripped for its audience."""
    if feed.kind in (FeedKind.CTO_SERIES, FeedKind.CTO_MEMBER):
        return await _cto_events(uow, CtoSession.series_id == _series_of(feed), w, public_url)
    with_person = feed.kind == FeedKind.AGENT
    rows = list(await uow.session.execute(_scope(_appointments(with_person), feed, w)))
    if with_person:
        rows += await uow.session.execute(_departures(feed, w))
    base = public_url.rstrip("/")
    found = [_event(row, base, with_person) for row in rows]
    if feed.kind == FeedKind.AGENT:
        found.sort(key=lambda e: (e.starts_at, e.uid))
    if feed.kind == FeedKind.TERRITORY:
        cto = await _cto_events(uow, CtoSession.territory_id == feed.subject_id, w, public_url)
        found = sorted([*found, *cto], key=lambda e: (e.starts_at, e.uid))
    return found


def _appointments(with_person: bool, times: tuple[Any, ...] | None = None) -> Select[Any]:
    """The columns of an appointment's event (``_event``), in start order; ``times`` replaces
    its start, end, status and change instant (a departure's)."""
    first = times or (
        Appointment.starts_at,
        Appointment.ends_at,
        Appointment.status,
        Appointment.updated_at,
    )
    columns: list[Any] = [
        Appointment.id,
        first[0],
        first[1],
        first[2],
        Appointment.sequence,
        first[3],
        AppointmentType.name,
        Place.name,
        Place.kind,
        Place.address,
        Place.postcode,
        Place.city,
        Territory.timezone,
    ]
    statement = (
        select(*columns)
        .select_from(Appointment)
        .join(AppointmentType, AppointmentType.id == Appointment.appointment_type_id)
        .join(Place, Place.id == Appointment.place_id)
        .join(Territory, Territory.id == Appointment.territory_id)
        .order_by(Appointment.starts_at, Appointment.id)
    )
    if with_person:
        # Only the first letter of each name leaves the database.
        statement = statement.outerjoin(Person, Person.id == Appointment.person_id).add_columns(
            func.substr(Person.first_name, 1, 1), func.substr(Person.last_name, 1, 1)
        )
    return statement


def _departures(feed: ActiveFeed, w: Window) -> Select[Any]:
    """An agent's appointments moved to someone else: cancelled at the time they had."""
    d = AppointmentDeparture
    times = (d.starts_at, d.ends_at, literal(_DEPARTED), d.departed_at)
    return (
        _appointments(True, times)
        .join(d, d.appointment_id == Appointment.id)
        .where(d.agent_id == feed.subject_id, d.starts_at >= w.starts_at, d.starts_at < w.ends_at)
    )


_COUNTED = (*WAITING, RequestStatus.ON_AGENDA, RequestStatus.DECIDED)


async def _cto_events(
    uow: UnitOfWork, which: ColumnElement[bool], w: Window, public_url: str
) -> list[FeedEvent]:
    """CTO sessions as partners may see them: a count of situations, never one of them."""
    count = (
        select(func.count(CtoRequest.id))
        .where(CtoRequest.session_id == CtoSession.id, CtoRequest.status.in_(_COUNTED))
        .correlate(CtoSession)
        .scalar_subquery()
    )
    # The title's count changes with the requests, not the session row: DTSTAMP and
    # LAST-MODIFIED follow the latest of both, and SEQUENCE adds the session's
    # agenda_revision (bumped whenever that count changes) to its moves and cancellation.
    touched = (
        select(func.max(CtoRequest.updated_at))
        .where(CtoRequest.session_id == CtoSession.id)
        .correlate(CtoSession)
        .scalar_subquery()
    )
    rows = await uow.session.execute(
        select(
            CtoSession.id,
            CtoSession.starts_at,
            CtoSession.ends_at,
            CtoSession.status,
            CtoSession.sequence + CtoSession.agenda_revision,
            CtoSession.updated_at,
            CtoSeries.name,
            CtoSeries.video_url,
            Place.name,
            Place.address,
            Place.postcode,
            Place.city,
            Territory.timezone,
            count,
            touched,
        )
        .join(CtoSeries, CtoSeries.id == CtoSession.series_id)
        .join(Territory, Territory.id == CtoSession.territory_id)
        .outerjoin(Place, Place.id == CtoSeries.place_id)
        .where(which, CtoSession.starts_at >= w.starts_at, CtoSession.starts_at < w.ends_at)
        .order_by(CtoSession.starts_at, CtoSession.id)
    )
    found = []
    for row in rows:
        (id_, starts_at, ends_at, status, sequence, changed_at, name, video) = row[:8]
        place_name, address, postcode, city, tzid, n, requests_changed_at = row[8:]
        if requests_changed_at is not None:
            changed_at = max(changed_at, requests_changed_at)
        cancelled = status == SessionStatus.CANCELLED
        summary = f"CTO {name} — {n} situation{'s' if n > 1 else ''}"
        if cancelled:
            summary = f"Annulé — CTO {name}"
        where = line_of(place_name, address, postcode, city)
        url = session_url(public_url, id_)
        lines = [f"Comité technique opérationnel — {name}"]
        if video:
            lines.append(f"Visio : {video}")
        lines.append(f"La séance sur le portail des partenaires : {url}")
        found.append(
            FeedEvent(
                uid=session_uid(id_),
                sequence=sequence,
                starts_at=starts_at,
                ends_at=ends_at,
                changed_at=changed_at,
                tzid=tzid,
                summary=summary,
                status="CANCELLED" if cancelled else "CONFIRMED",
                location=where or (f"En visio ({video})" if video else None),
                description="\n".join(lines),
                url=url,
            )
        )
    return found


def _event(row: Sequence[Any], base: str, with_person: bool) -> FeedEvent:
    (id_, starts_at, ends_at, status, sequence, changed_at, type_name) = row[:7]
    place_name, place_kind, address, postcode, city, tzid = row[7:13]
    ical_status, label = _STATUS.get(status, ("CONFIRMED", str(status)))
    summary = type_name
    if with_person:
        initials = " ".join(f"{c.upper()}." for c in row[13:15] if c)
        if initials:
            summary = f"{type_name} — {initials}"
    if ical_status == "CANCELLED":
        summary = f"Annulé — {summary}"
    location = _REMOTE.get(place_kind) or line_of(place_name, address, postcode, city) or ""
    if place_kind in _REMOTE:
        location = f"{place_name} ({location})"
    # The appointment in the back office's agenda, its week (the team's, for the territory).
    local = starts_at.astimezone(ZoneInfo(tzid)).date()
    monday = local - timedelta(days=local.weekday())
    team = "" if with_person else "&equipe=1"
    url = f"{base}{AGENDA}?semaine={monday.isoformat()}{team}#rdv-{id_}"
    return FeedEvent(
        uid=appointment_uid(id_),
        sequence=sequence,
        starts_at=starts_at,
        ends_at=ends_at,
        changed_at=changed_at,
        tzid=tzid,
        summary=summary,
        status=ical_status,
        location=location,
        description=f"{type_name}\nStatut : {label}\n{url}",
        url=url,
    )
