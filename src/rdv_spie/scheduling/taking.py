"""Taking one slot for a booking or a move: checked with the same engine that lists slots,
then under the agents' locks.

What guarantees that no agent is ever booked twice is the database (an exclusion constraint on
PostgreSQL, triggers under SQLite's write lock); this module makes the common case cheap and
the answer right. One look (rules, absences, appointments) finds the slot and the free agents.
On PostgreSQL, the advisory locks of the first few of them (``CANDIDATES`` of each role, in
the order they would be chosen) are then taken in one statement and only their appointments
and absences are read again, since another booking may have committed in between: the referent
chosen is one still free, so a taken slot with a free colleague is not refused.
On SQLite, the write transaction holds the database's write lock from its start, so the first
look already sees every commit and nothing is read twice.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from rdv_spie import localtime
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.scheduling import queries, search
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.models import AppointmentAgent, AppointmentType, AttendeeRole
from rdv_spie.territories.models import Territory

_TINY = timedelta(microseconds=1)
SLOT_TAKEN = "slot_taken"
# Agents of each role locked and checked again for one booking, in the order they would be
# chosen. Locking every free one made, in a territory of 500 referents, every booking of nearby
# hours wait on the same hundred locks; locking too few makes people who book one slot at the
# same moment get "just taken" while colleagues are free (with 3, the bench's 200 bookings at
# once on 10 slots got 27 appointments where there was room for 57).
CANDIDATES = 8


@dataclass(frozen=True, slots=True)
class Taken:
    """The slot, the agents chosen for it (a referent and, for a tripartite type, an
    animator), and the structure whose opening hours of the referent hold it."""

    slot: engine.Slot
    chosen: tuple[uuid.UUID, uuid.UUID | None]
    opened_for: uuid.UUID


async def take_slot(
    *,
    uow: UnitOfWork,
    loaded: tuple[AppointmentType, Territory],
    place_id: uuid.UUID,
    starts_at: datetime,
    referent_id: uuid.UUID | None,
    grid_minutes: int,
    ignore_appointment_id: uuid.UUID | None = None,
    prefer: uuid.UUID | None = None,
    among: frozenset[uuid.UUID] | None = None,
    kept: search.KeptRules | None = None,
) -> Taken:
    """The slot at (starts_at, place) and the agents chosen for it, checked under the agents'
    locks (``kept``: where the opening hours read under this transaction's counters may be
    found, see search.load_type_keeping)."""
    localtime.check_instant("starts_at", starts_at)
    now = uow.clock.now()
    if starts_at <= now:
        raise Invalid("starts_at is in the past", field="starts_at", code="in_the_past")
    window_end = starts_at + _TINY

    def first_slot(context: search.SearchContext) -> engine.Slot | None:
        found = search.compute(context, now=now, window_start=starts_at, window_end=window_end)
        return found[0] if found else None

    context = await search.load_context(
        uow=uow,
        type_id=loaded[0].id,
        loaded=loaded,
        window_start=starts_at,
        window_end=window_end,
        place_ids=frozenset({place_id}),
        ignore_appointment_id=ignore_appointment_id,
        grid_minutes=grid_minutes,
        organisation_ids=among,
        covering=starts_at,
        kept=kept,
    )
    first = first_slot(context)
    if first is None:
        if not context.calendars:
            # Only the rules of an active place of the territory make slots (queries.rules):
            # with none at that place, say whether the place itself is unknown.
            await _require_place(uow, place_id, loaded[1].id)
        elif first_slot(context.without_appointments()) is not None:
            raise Conflict("this slot is already booked", field="starts_at", code=SLOT_TAKEN)
        raise Invalid(
            "no availability at that time and place for this appointment type (outside "
            "opening hours, an absence, a holiday, too soon, beyond the booking horizon or "
            "off the time grid)",
            field="starts_at",
            code="outside_availability",
        )
    _choose(first, referent_id=referent_id, prefer=prefer)  # the referent asked for is free
    locked = frozenset(
        {
            *_candidates(first.referent_ids, referent_id=referent_id, prefer=prefer),
            *first.animator_ids[:CANDIDATES],
        }
    )
    await uow.lock(*(f"agent:{a}" for a in locked))
    slot: engine.Slot | None = first
    if uow.is_postgres:
        # Again, under the locks, for the locked agents only: another booking may just have
        # committed. No insert below ever waits on someone else's uncommitted row.
        busy = await search.load_busy(
            uow=uow,
            agent_ids=locked,
            start=starts_at,
            end=window_end + context.spec.duration + context.spec.buffer_after,
            ignore_appointment_id=ignore_appointment_id,
        )
        calendars = tuple(
            replace(c, busy=tuple(busy.get(c.agent_id, ())))
            for c in context.calendars
            if c.agent_id in locked
        )
        slot = first_slot(replace(context, calendars=calendars))
    if slot is None or not slot.referent_ids or (first.animator_ids and not slot.animator_ids):
        raise Conflict(
            "this slot has just been booked by someone else", field="starts_at", code=SLOT_TAKEN
        )
    chosen = _choose(slot, referent_id=referent_id, prefer=prefer)
    return Taken(slot, chosen, _opened_for(context, slot, chosen[0]))


def _opened_for(context: search.SearchContext, slot: engine.Slot, referent: uuid.UUID) -> uuid.UUID:
    """The structure of the referent's opening hours that hold the slot (the first by id
    when two structures open the same hours), from the rules already loaded: they are those
    of the type, the territory and the structures the booking may take time from."""
    local = slot.starts_at.astimezone(context.tz)
    day, wall = local.date(), local.time()
    owners = [
        rule.organisation_id
        for calendar in context.calendars
        if calendar.agent_id == referent
        for rule in calendar.rules
        if rule.organisation_id is not None
        and rule.place_id == slot.place_id
        and local.weekday() in rule.weekdays
        and rule.valid_from <= day
        and (rule.valid_until is None or rule.valid_until >= day)
        and rule.start_time <= wall < rule.end_time
    ]
    if not owners:  # the engine found these hours a moment ago
        raise Conflict("this slot has just been closed", field="starts_at", code=SLOT_TAKEN)
    return min(owners)


async def _require_place(uow: UnitOfWork, place_id: uuid.UUID, territory_id: uuid.UUID) -> None:
    values = {"place_id": place_id, "territory_id": territory_id}
    if (await uow.session.execute(queries.place_on_territory(), values)).first() is None:
        raise NotFound("place not found on this territory", field="place_id")


def _candidates(
    free: tuple[uuid.UUID, ...], *, referent_id: uuid.UUID | None, prefer: uuid.UUID | None
) -> list[uuid.UUID]:
    """The referents a booking may get, in the order ``_choose`` takes them, first few."""
    if referent_id is not None:
        return [referent_id] if referent_id in free else []
    return sorted(free, key=lambda r: r != prefer)[:CANDIDATES]


def _choose(
    slot: engine.Slot, *, referent_id: uuid.UUID | None, prefer: uuid.UUID | None
) -> tuple[uuid.UUID, uuid.UUID | None]:
    """A referent (the requested one, else the preferred one, else the first free) and, for a
    tripartite slot, an animator who is someone else."""
    tripartite = bool(slot.animator_ids)
    if referent_id is not None:
        candidates = [referent_id] if referent_id in slot.referent_ids else []
    else:
        candidates = sorted(slot.referent_ids, key=lambda r: r != prefer)
    for referent in candidates:
        animator = next((a for a in slot.animator_ids if a != referent), None)
        if not tripartite or animator is not None:
            return referent, animator
    raise Conflict("this referent is not free at that time", field="referent_id", code=SLOT_TAKEN)


def attendees(
    slot: engine.Slot, chosen: tuple[uuid.UUID, uuid.UUID | None], busy_until: datetime
) -> list[AppointmentAgent]:
    """The attendance rows of the chosen agents."""
    referent, animator = chosen
    roles = [(referent, AttendeeRole.REFERENT)]
    if animator is not None:
        roles.append((animator, AttendeeRole.ANIMATOR))
    return [
        AppointmentAgent(
            agent_id=agent, role=role, starts_at=slot.starts_at, busy_until=busy_until, active=True
        )
        for agent, role in roles
    ]
