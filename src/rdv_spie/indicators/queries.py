"""The entry-delay indicators, per territory and cohort over a period of entry dates.

Computed from journeys, invitations' first sending and appointments; the same figures feed the
API and the CSV export. A journey counts in the period of its entry date.
"""

from __future__ import annotations

import statistics
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid
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
        figures.append(await _cohort(uow, cohort, territory, entered_from, entered_to))
    return figures


async def _cohort(
    uow: UnitOfWork, cohort: Cohort, territory: Territory, start: date, end: date
) -> CohortFigures:
    zone = ZoneInfo(territory.timezone)
    journeys = list(
        await uow.session.scalars(
            select(Journey).where(
                Journey.cohort_id == cohort.id,
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
    entered = len(journeys)
    invited_fast = within = seen = noshow = 0
    delays: list[int] = []
    waiting = 0
    for j in journeys:
        if j.invited_at is not None:
            invited_day = j.invited_at.astimezone(zone).date()
            invited_fast += (invited_day - j.entered_on).days <= INVITED_WITHIN_DAYS
        elif j.waiting_for_slots_since is not None and j.closed_at is None:
            waiting += 1
        held = sorted(at for status, at in appointments[j.id] if status == AppointmentStatus.SEEN)
        seen += len(held)
        noshow += sum(1 for status, _ in appointments[j.id] if status == AppointmentStatus.NOSHOW)
        if held:
            first_day = held[0].astimezone(zone).date()
            delays.append((first_day - j.entered_on).days)
            within += first_day <= j.appointment_by_on
    return CohortFigures(
        territory_id=territory.id,
        territory=territory.name,
        cohort_id=cohort.id,
        cohort=cohort.name,
        entered=entered,
        invited_within_3_days=_share(invited_fast, entered),
        first_appointment_within_delay=_share(within, entered),
        median_days_to_first_appointment=float(statistics.median(delays)) if delays else None,
        noshow_rate=_share(noshow, seen + noshow),
        waiting_for_slots=waiting,
    )


def _share(part: int, whole: int) -> float | None:
    return round(part / whole, 4) if whole else None
