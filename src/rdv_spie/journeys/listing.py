"""The territory team's list of journeys: filtered by cohort, status and referent, searched by
name, one page at a time, the most urgent deadline first.

Scoped as the API's journeys (``people.service.cohorts_seen``), people whose data was erased
left out. Filters and paging run in SQL, the status through ``people.counts.status_clause``
(the SQL twin of ``people.status.derive``, so a status filter pages in the database); the
name search compares letters without accents or case (``people.contact.letters``), in Python
over the filtered journeys' names only. The statuses shown are derived again in Python for
the page's rows. Closed journeys are listed only when the status filter asks for them.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, and_, func, select

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Agent
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.people import service as people
from rdv_spie.people.contact import letters
from rdv_spie.people.counts import status_clause
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.people.status import JourneyStatus

PER_PAGE = 50
NO_REFERENT = "aucun"  # the referent filter's value for journeys without one


@dataclass(frozen=True, slots=True)
class Filters:
    """What the list shows: a cohort (None: all), a status (None: every open one), a
    referent (an agent id, NO_REFERENT, or None: anyone), a name, a page (1-based)."""

    cohort_id: uuid.UUID | None = None
    status: JourneyStatus | None = None
    referent: uuid.UUID | str | None = None
    q: str = ""
    page: int = 1


@dataclass(frozen=True, slots=True)
class Line:
    """One journey of the list."""

    journey_id: uuid.UUID
    first_name: str
    last_name: str
    cohort: str
    status: JourneyStatus
    appointment_by_on: date
    days_left: int  # negative: late by that many days
    referent: str | None


@dataclass(frozen=True, slots=True)
class Listing:
    """One page of the list, and how many pages there are."""

    lines: list[Line]
    total: int
    page: int
    pages: int


async def _conditions(
    uow: UnitOfWork, actor: Actor, filters: Filters, now: datetime, today: date
) -> list[ColumnElement[bool]]:
    found = [
        Journey.territory_id.in_(actor.territory_ids),
        await people.cohorts_seen(uow, actor),
        Person.purged_at.is_(None),
    ]
    if filters.cohort_id is not None:
        found.append(Journey.cohort_id == filters.cohort_id)
    if filters.referent == NO_REFERENT:
        found.append(Journey.referent_id.is_(None))
    elif isinstance(filters.referent, uuid.UUID):
        found.append(Journey.referent_id == filters.referent)
    if filters.status is None:
        found.append(Journey.closed_at.is_(None))
    elif filters.status == JourneyStatus.CLOSED:
        found.append(Journey.closed_at.is_not(None))
    else:
        found.append(Journey.closed_at.is_(None))
        found.append(status_clause(now, today) == filters.status.value)
    return found


def _matches(words: list[str], first_name: str, last_name: str) -> bool:
    first, last = letters(first_name), letters(last_name)
    names = f"{first} {last} {first}{last} {last}{first}"  # "jeandupont", "dupontjean" too
    return all(word in names for word in words)


async def journeys(uow: UnitOfWork, actor: Actor, filters: Filters, zone: ZoneInfo) -> Listing:
    """One page of the journeys the actor sees (the people shown go to the read trail)."""
    now = uow.clock.now()
    today = now.astimezone(zone).date()
    where = await _conditions(uow, actor, filters, now, today)
    base = (
        select(Journey.id)
        .join(Person, Person.id == Journey.person_id)
        .join(Cohort, Cohort.id == Journey.cohort_id)
        .where(*where)
    )
    order = (Journey.appointment_by_on, Person.last_name, Person.first_name, Journey.id)
    words = [w for w in (letters(part) for part in filters.q.split()) if w]
    page = max(filters.page, 1)
    if words:
        named = await uow.session.execute(
            base.add_columns(Person.first_name, Person.last_name).order_by(*order)
        )
        matched = [i for i, first, last in named if _matches(words, first, last)]
        total = len(matched)
        pages = max(1, -(-total // PER_PAGE))
        page = min(page, pages)
        ids = matched[(page - 1) * PER_PAGE : page * PER_PAGE]
    else:
        counted = select(func.count()).select_from(base.subquery())
        total = int(await uow.session.scalar(counted) or 0)
        pages = max(1, -(-total // PER_PAGE))
        page = min(page, pages)
        ids = list(
            await uow.session.scalars(
                base.order_by(*order).offset((page - 1) * PER_PAGE).limit(PER_PAGE)
            )
        )
    rows = (
        await uow.session.execute(
            select(Journey, Person.first_name, Person.last_name, Cohort.name, Agent)
            .join(Person, Person.id == Journey.person_id)
            .join(Cohort, Cohort.id == Journey.cohort_id)
            .outerjoin(Agent, Agent.id == Journey.referent_id)
            .where(Journey.id.in_(ids))
            .order_by(*order)
        )
    ).all()
    derived = await people.statuses(uow, [row[0] for row in rows], zone)
    lines = [
        Line(
            journey_id=j.id,
            first_name=first,
            last_name=last,
            cohort=cohort,
            status=derived[j.id],
            appointment_by_on=j.appointment_by_on,
            days_left=(j.appointment_by_on - today).days,
            referent=f"{agent.first_name} {agent.last_name}" if agent else None,
        )
        for j, first, last, cohort, agent in rows
    ]
    await audit.record(uow, actor, (row[0].person_id for row in rows), audit.Read.JOURNEYS)
    return Listing(lines, total, page, pages)


async def referents(uow: UnitOfWork, actor: Actor) -> list[Agent]:
    """The referents of the open journeys the actor sees (the referent filter's choices)."""
    followed = (
        select(Journey.referent_id)
        .join(Cohort, Cohort.id == Journey.cohort_id)
        .where(
            Journey.territory_id.in_(actor.territory_ids),
            await people.cohorts_seen(uow, actor),
            Journey.closed_at.is_(None),
            Journey.referent_id.is_not(None),
        )
        .distinct()
    )
    return list(
        await uow.session.scalars(
            select(Agent)
            .where(and_(Agent.id.in_(followed)))
            .order_by(Agent.last_name, Agent.first_name, Agent.id)
        )
    )
