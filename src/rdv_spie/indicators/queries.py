"""The entry-delay indicators, per territory and cohort over a period of entry dates.

Computed from journeys, invitations' first sending and appointments; the same figures feed the
API, its CSV export and the back office's dashboard (one line per cohort for the API; the
cohorts of one territory together, and month by month, for the dashboard). A journey counts in
the period of its entry date; days are counted in the territory's time zone. What the actor
does not see (cohorts of another structure, unless they run the territory) never counts.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.people import service as people
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.territories.models import Territory

INVITED_WITHIN_DAYS = 3


@dataclass(frozen=True, slots=True)
class CohortFigures:
    """One line of the indicators."""

    territory_id: uuid.UUID
    territory: str
    cohort_id: uuid.UUID
    cohort: str
    entered: int
    invited_within_3_days: float | None  # share of entered
    first_appointment_within_delay: float | None  # held (seen) by the deadline, share of entered
    median_days_to_first_appointment: float | None  # entry → first held appointment
    noshow_rate: float | None  # no-shows / (seen + no-shows)
    waiting_for_slots: int  # open journeys not invited because no slot exists in the delay


@dataclass(frozen=True, slots=True)
class Facts:
    """What one journey entered in the period counts for."""

    entered_on: date
    appointment_by_on: date
    invited_fast: bool  # first invitation within INVITED_WITHIN_DAYS local days of entry
    first_held_days: int | None  # local days from entry to the first appointment held
    held_within: bool  # that first appointment held on or before the deadline
    seen: int
    noshow: int
    waiting: bool  # open, not invited, waiting for slots
    closed: bool


@dataclass(frozen=True, slots=True)
class Ratio:
    """``part`` of ``whole``: the counts behind a share."""

    part: int
    whole: int

    @property
    def share(self) -> float | None:
        """part / whole (4 decimals), None when there is no whole."""
        return _share(self.part, self.whole)


@dataclass(frozen=True, slots=True)
class MonthFigures:
    """Delay compliance of the people who entered in one month."""

    month: date  # its first day
    entered: int
    within_delay: Ratio  # first appointment held by the deadline, of entered
    running: int  # no first appointment held yet, deadline not passed, journey open


@dataclass(frozen=True, slots=True)
class Dashboard:
    """The figures of a territory's cohorts (or one of them) over a period of entry dates."""

    entered_from: date
    entered_to: date
    entered: int
    invited_within_3_days: Ratio
    first_appointment_within_delay: Ratio
    median_days_to_first_appointment: float | None
    first_appointments_held: int  # how many journeys the median is taken over
    noshow_rate: Ratio  # no-shows of (seen + no-shows)
    waiting_for_slots_now: int  # open journeys waiting for slots today, whatever their entry
    closed: int  # journeys entered in the period and closed since
    months: list[MonthFigures]


async def compute(
    *,
    uow: UnitOfWork,
    actor: Actor,
    entered_from: date,
    entered_to: date,
    territory_id: uuid.UUID | None = None,
) -> list[CohortFigures]:
    """Figures of every cohort the actor sees (its structure's staff, the territory team), for
    journeys entered in [from, to]."""
    if entered_to < entered_from:
        raise Invalid("'to' is before 'from'", field="to")
    territories = set(actor.territory_ids)
    if territory_id is not None:
        actor.require_territory(territory_id)
        territories = {territory_id}
    rows = (
        await uow.session.execute(
            select(Cohort, Territory)
            .join(Territory, Territory.id == Cohort.territory_id)
            .where(Cohort.territory_id.in_(territories), await people.cohorts_seen(uow, actor))
            .order_by(Territory.name, Cohort.name)
        )
    ).all()
    figures = []
    for cohort, territory in rows:
        zone = ZoneInfo(territory.timezone)
        facts = await journey_facts(uow, [cohort.id], zone, entered_from, entered_to)
        figures.append(_cohort_line(cohort, territory, facts))
    return figures


def _cohort_line(cohort: Cohort, territory: Territory, facts: list[Facts]) -> CohortFigures:
    entered = len(facts)
    delays = [f.first_held_days for f in facts if f.first_held_days is not None]
    seen = sum(f.seen for f in facts)
    noshow = sum(f.noshow for f in facts)
    return CohortFigures(
        territory_id=territory.id,
        territory=territory.name,
        cohort_id=cohort.id,
        cohort=cohort.name,
        entered=entered,
        invited_within_3_days=_share(sum(f.invited_fast for f in facts), entered),
        first_appointment_within_delay=_share(sum(f.held_within for f in facts), entered),
        median_days_to_first_appointment=float(statistics.median(delays)) if delays else None,
        noshow_rate=_share(noshow, seen + noshow),
        waiting_for_slots=sum(f.waiting for f in facts),
    )


async def territory_cohorts(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> list[Cohort]:
    """The cohorts of a territory the actor sees, by name."""
    actor.require_territory(territory_id)
    return list(
        await uow.session.scalars(
            select(Cohort)
            .where(Cohort.territory_id == territory_id, await people.cohorts_seen(uow, actor))
            .order_by(Cohort.name, Cohort.id)
        )
    )


async def dashboard(
    *,
    uow: UnitOfWork,
    actor: Actor,
    territory_id: uuid.UUID,
    cohort_id: uuid.UUID | None,
    entered_from: date,
    entered_to: date,
    today: date,
) -> Dashboard:
    """The territory's figures over the cohorts the actor sees there (or one of them: the same
    NotFound for an unknown cohort, another territory's and one they do not see), for journeys
    entered in [from, to]; ``today`` (the territory's date) dates what is waiting now and
    which deadlines are still running."""
    if entered_to < entered_from:
        raise Invalid("'to' is before 'from'", field="to")
    actor.require_territory(territory_id)
    territory = await uow.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("territory not found", field="territory_id")
    if cohort_id is None:
        cohort_ids = [c.id for c in await territory_cohorts(uow, actor, territory_id)]
    else:
        cohort = await people.get_cohort(uow=uow, actor=actor, cohort_id=cohort_id)
        if cohort.territory_id != territory_id:
            raise NotFound("cohort not found", field="cohort_id")
        cohort_ids = [cohort.id]
    zone = ZoneInfo(territory.timezone)
    facts = await journey_facts(uow, cohort_ids, zone, entered_from, entered_to)
    waiting = 0
    if cohort_ids:
        waiting = int(
            await uow.session.scalar(
                select(func.count())
                .select_from(Journey)
                .where(
                    Journey.cohort_id.in_(cohort_ids),
                    Journey.invited_at.is_(None),
                    Journey.waiting_for_slots_since.is_not(None),
                    Journey.closed_at.is_(None),
                )
            )
            or 0
        )
    entered = len(facts)
    delays = [f.first_held_days for f in facts if f.first_held_days is not None]
    seen = sum(f.seen for f in facts)
    noshow = sum(f.noshow for f in facts)
    return Dashboard(
        entered_from=entered_from,
        entered_to=entered_to,
        entered=entered,
        invited_within_3_days=Ratio(sum(f.invited_fast for f in facts), entered),
        first_appointment_within_delay=Ratio(sum(f.held_within for f in facts), entered),
        median_days_to_first_appointment=float(statistics.median(delays)) if delays else None,
        first_appointments_held=len(delays),
        noshow_rate=Ratio(noshow, seen + noshow),
        waiting_for_slots_now=waiting,
        closed=sum(f.closed for f in facts),
        months=by_month(facts, entered_from, entered_to, today),
    )


def by_month(facts: Iterable[Facts], start: date, end: date, today: date) -> list[MonthFigures]:
    """Every month from ``start``'s to ``end``'s (months without entries included), with the
    share of people entered that month whose first appointment was held by the deadline."""
    grouped: dict[date, list[Facts]] = defaultdict(list)
    for f in facts:
        grouped[f.entered_on.replace(day=1)].append(f)
    months = []
    month, last = start.replace(day=1), end.replace(day=1)
    while True:
        rows = grouped.get(month, [])
        months.append(
            MonthFigures(
                month=month,
                entered=len(rows),
                within_delay=Ratio(sum(f.held_within for f in rows), len(rows)),
                running=sum(
                    1
                    for f in rows
                    if f.first_held_days is None and not f.closed and f.appointment_by_on >= today
                ),
            )
        )
        if month >= last:  # before stepping on: December 9999 has no next month
            return months
        month = date(month.year + month.month // 12, month.month % 12 + 1, 1)


async def journey_facts(
    uow: UnitOfWork, cohort_ids: list[uuid.UUID], zone: ZoneInfo, start: date, end: date
) -> list[Facts]:
    """What each journey of these cohorts entered in [start, end] counts for."""
    if not cohort_ids:
        return []
    journeys = list(
        await uow.session.scalars(
            select(Journey).where(
                Journey.cohort_id.in_(cohort_ids),
                Journey.entered_on >= start,
                Journey.entered_on <= end,
            )
        )
    )
    ids = [j.id for j in journeys]
    appointments: dict[uuid.UUID, list[tuple[str, datetime]]] = defaultdict(list)
    for chunk in (ids[i : i + 1000] for i in range(0, len(ids), 1000)):
        for journey_id, status, starts_at in await uow.session.execute(
            select(Appointment.journey_id, Appointment.status, Appointment.starts_at).where(
                Appointment.journey_id.in_(chunk)
            )
        ):
            if journey_id is not None:
                appointments[journey_id].append((str(status), starts_at))
    facts = []
    for j in journeys:
        invited_fast = False
        if j.invited_at is not None:
            invited_day = j.invited_at.astimezone(zone).date()
            invited_fast = (invited_day - j.entered_on).days <= INVITED_WITHIN_DAYS
        held = sorted(at for status, at in appointments[j.id] if status == AppointmentStatus.SEEN)
        first_day = held[0].astimezone(zone).date() if held else None
        facts.append(
            Facts(
                entered_on=j.entered_on,
                appointment_by_on=j.appointment_by_on,
                invited_fast=invited_fast,
                first_held_days=(first_day - j.entered_on).days if first_day else None,
                held_within=first_day is not None and first_day <= j.appointment_by_on,
                seen=len(held),
                noshow=sum(1 for s, _ in appointments[j.id] if s == AppointmentStatus.NOSHOW),
                waiting=(
                    j.invited_at is None
                    and j.waiting_for_slots_since is not None
                    and j.closed_at is None
                ),
                closed=j.closed_at is not None,
            )
        )
    return facts


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
