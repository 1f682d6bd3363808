"""CTO series, their members and their sessions: create and edit a series, generate sessions
ahead from its rule, move or cancel one session (members are told, SEQUENCE + 1)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.agents.models import Agent, Membership
from rdv_spie.calendars.models import CalendarFeed, FeedKind
from rdv_spie.committees import access, charter, recurrence
from rdv_spie.committees.models import CtoMember, CtoSeries, CtoSession, SessionStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.territories.models import Organisation, Place, Territory

HORIZON_DAYS = 183  # sessions exist about six months ahead
_TIMING = (
    "deadline_days_before",
    "deadline_time",
    "freeze_days_before",
    "dispatch_days_before",
    "dispatch_time",
)


def timing(series: CtoSeries) -> recurrence.Timing:
    """The series' timing settings."""
    return recurrence.Timing(
        start_time=series.start_time,
        duration_minutes=series.duration_minutes,
        deadline_days_before=series.deadline_days_before,
        deadline_time=series.deadline_time,
        freeze_days_before=series.freeze_days_before,
        dispatch_days_before=series.dispatch_days_before,
        dispatch_time=series.dispatch_time,
    )


async def zone_of(uow: UnitOfWork, territory_id: uuid.UUID) -> ZoneInfo:
    """The territory's time zone."""
    territory = await uow.session.get(Territory, territory_id)
    assert territory is not None
    return ZoneInfo(territory.timezone)


async def _check(uow: UnitOfWork, series: CtoSeries) -> None:
    series.rrule = recurrence.check_rule(series.rrule)
    org = await uow.session.get(Organisation, series.organisation_id)
    if org is None or org.territory_id != series.territory_id:
        raise NotFound("organisation not found", field="organisation_id")
    if series.place_id is not None:
        place = await uow.session.get(Place, series.place_id)
        place_org = await uow.session.get(Organisation, place.organisation_id) if place else None
        if place_org is None or place_org.territory_id != series.territory_id:
            raise NotFound("place not found", field="place_id")
    if series.place_id is None and not series.video_url:
        raise Invalid("a CTO needs a place, a video link, or both", field="place_id")
    if series.dispatch_days_before > series.freeze_days_before:
        raise Invalid("the agenda is sent after it freezes", field="dispatch_days_before")


async def create_series(*, uow: UnitOfWork, actor: Actor, values: dict[str, Any]) -> CtoSeries:
    """A new series on a territory the actor runs; its sessions are generated at once."""
    await require_territory_manager(uow, actor, values["territory_id"])
    if values.get("organisation_id") is None:
        values["organisation_id"] = await access.requesting_organisation(
            uow, actor, values["territory_id"], None
        )
    taken = await uow.session.scalar(
        select(CtoSeries.id).where(
            CtoSeries.territory_id == values["territory_id"], CtoSeries.name == values["name"]
        )
    )
    if taken is not None:
        raise Invalid("a CTO series of that name exists on the territory", field="name")
    series = CtoSeries(**values)
    await _check(uow, series)
    uow.session.add(series)
    await uow.session.flush()
    await generate_sessions(uow=uow, series=series)
    return series


async def update_series(
    *, uow: UnitOfWork, actor: Actor, series_id: uuid.UUID, values: dict[str, Any]
) -> CtoSeries:
    """Change a series; deadlines, freeze and dispatch of sessions not yet frozen follow.
    A new rule or start time applies to sessions generated from now on (move the others)."""
    series = await access.series_for(uow, actor, series_id)
    await require_territory_manager(uow, actor, series.territory_id)
    if values.get("name", series.name) != series.name:
        taken = await uow.session.scalar(
            select(CtoSeries.id).where(
                CtoSeries.territory_id == series.territory_id, CtoSeries.name == values["name"]
            )
        )
        if taken is not None:
            raise Invalid("a CTO series of that name exists on the territory", field="name")
    with uow.session.no_autoflush:  # the rules are checked before the row's constraints
        for key, value in values.items():
            setattr(series, key, value)
        await _check(uow, series)
    zone = await zone_of(uow, series.territory_id)
    if any(k in values for k in _TIMING):
        pending = await uow.session.scalars(
            select(CtoSession).where(
                CtoSession.series_id == series.id,
                CtoSession.frozen_at.is_(None),
                CtoSession.status != SessionStatus.CANCELLED,
            )
        )
        for s in pending:
            apply_cycle(s, recurrence.cycle(s.starts_at, timing(series), zone))
    await uow.session.flush()
    if series.active:
        await generate_sessions(uow=uow, series=series)
    return series


def apply_cycle(session: CtoSession, c: recurrence.Cycle) -> None:
    session.starts_at, session.ends_at = c.starts_at, c.ends_at
    session.deadline_at, session.freeze_at, session.dispatch_at = (
        c.deadline_at,
        c.freeze_at,
        c.dispatch_at,
    )


async def generate_sessions(
    *, uow: UnitOfWork, series: CtoSeries, horizon_days: int = HORIZON_DAYS
) -> int:
    """Create the sessions of the rule's dates from today to the horizon that do not exist yet
    (one per rule date, moved or cancelled ones included): running it twice adds nothing."""
    if not series.active:
        return 0
    zone = await zone_of(uow, series.territory_id)
    today = uow.clock.now().astimezone(zone).date()
    wanted = recurrence.dates(
        series.rrule,
        starts_on=series.starts_on,
        first=today,
        last=today + timedelta(days=horizon_days),
    )
    if not wanted:
        return 0
    await uow.lock(f"cto_series:{series.id}")
    existing = set(
        await uow.session.scalars(
            select(CtoSession.occurs_on).where(
                CtoSession.series_id == series.id, CtoSession.occurs_on >= wanted[0]
            )
        )
    )
    now = uow.clock.now()
    added = 0
    for day in wanted:
        if day in existing:
            continue
        c = recurrence.cycle(
            recurrence.local_instant(day, series.start_time, zone), timing(series), zone
        )
        if c.starts_at <= now:
            continue
        s = CtoSession(series_id=series.id, territory_id=series.territory_id, occurs_on=day)
        apply_cycle(s, c)
        uow.session.add(s)
        added += 1
    if added:
        await uow.session.flush()
    return added


async def list_sessions(
    *, uow: UnitOfWork, actor: Actor, series_id: uuid.UUID, since: datetime | None
) -> list[CtoSession]:
    """Sessions of a series from ``since`` (default: now), in order."""
    series = await access.series_for(uow, actor, series_id)
    since = since or uow.clock.now()
    return list(
        await uow.session.scalars(
            select(CtoSession)
            .where(CtoSession.series_id == series.id, CtoSession.ends_at > since)
            .order_by(CtoSession.starts_at)
        )
    )


async def add_member(
    *,
    uow: UnitOfWork,
    actor: Actor,
    series_id: uuid.UUID,
    agent_id: uuid.UUID,
    charter_accepted_on: date | None,
) -> CtoMember:
    """Add an agent of the territory (a partner, usually) to a series."""
    series = await access.series_for(uow, actor, series_id)
    await require_territory_manager(uow, actor, series.territory_id)
    on_territory = await uow.session.scalar(
        select(Agent.id)
        .join(Membership, Membership.agent_id == Agent.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Agent.id == agent_id, Organisation.territory_id == series.territory_id)
        .limit(1)
    )
    if on_territory is None:
        raise NotFound("agent not found", field="agent_id")
    member = await uow.session.scalar(
        select(CtoMember).where(CtoMember.series_id == series.id, CtoMember.agent_id == agent_id)
    )
    if member is None:
        member = CtoMember(series_id=series.id, agent_id=agent_id)
        uow.session.add(member)
    if charter_accepted_on is not None:  # the team records the current charter, signed
        charter.accept(member, uow.clock.now())
        member.charter_accepted_on = charter_accepted_on
    await uow.session.flush()
    return member


async def list_members(*, uow: UnitOfWork, actor: Actor, series_id: uuid.UUID) -> list[CtoMember]:
    """Members of a series."""
    series = await access.series_for(uow, actor, series_id)
    return list(
        await uow.session.scalars(
            select(CtoMember).where(CtoMember.series_id == series.id).order_by(CtoMember.created_at)
        )
    )


async def remove_member(
    *, uow: UnitOfWork, actor: Actor, series_id: uuid.UUID, agent_id: uuid.UUID
) -> None:
    """Take an agent off a series: they stop receiving agendas, and their own calendar link
    stops working at once."""
    series = await access.series_for(uow, actor, series_id)
    await require_territory_manager(uow, actor, series.territory_id)
    member = await uow.session.scalar(
        select(CtoMember).where(CtoMember.series_id == series.id, CtoMember.agent_id == agent_id)
    )
    if member is None:
        raise NotFound("member not found", field="agent_id")
    await uow.session.execute(
        update(CalendarFeed)
        .where(
            CalendarFeed.kind == FeedKind.CTO_MEMBER,
            CalendarFeed.subject_id == member.id,
            CalendarFeed.revoked_at.is_(None),
        )
        .values(revoked_at=uow.clock.now(), updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    await uow.session.delete(member)
