"""Record and read the trail of who was shown which person's file.

Every function that hands a person's file to an agent (a page, the API, an e-mail written to
the outbox) calls ``record`` in the same transaction: the line commits with the answer or the
message, or neither happens. A person reading their own file through their invitation link is
not recorded, nor is an agent writing a file (a booking, an import).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import delete, insert, select

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.agents.models import Agent
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import NotFound
from rdv_spie.localtime import check_instant
from rdv_spie.people.models import Person

MAX_ROWS = 1000


class Read(StrEnum):
    """What the agent was shown: a screen, an API answer or an e-mail."""

    AGENDA = "agenda"  # back-office agenda (names of the week's people)
    PEOPLE_TO_FOLLOW = "people_to_follow"  # back-office list of people to follow
    JOURNEY_SEARCH = "journey_search"  # back-office booking: people found by name
    JOURNEY = "journey"  # back-office booking for one person
    JOURNEYS = "journeys"  # API: a cohort's journeys
    APPOINTMENT = "appointment"  # API: one appointment
    APPOINTMENTS = "appointments"  # API: appointments of a window
    CTO_REQUEST = "cto_request"  # API: one situation request (fiche), read or changed
    CTO_REQUESTS = "cto_requests"  # API: situation requests
    CTO_AGENDA = "cto_agenda"  # API: a frozen committee agenda with names
    EMAIL = "email"  # an e-mail to the agent naming the person (alerts, CTO follow-up)
    EXPORT = "export"  # everything held about the person (privacy/record.py), API or page
    ERASURE = "erasure"  # the person's data erased on request (privacy/erasure.py)


async def record(
    uow: UnitOfWork,
    actor: Actor | uuid.UUID,
    person_ids: Iterable[uuid.UUID | None],
    what: Read,
) -> None:
    """Note that an agent (an Actor, or an agent id for e-mails) was shown these people's
    files, each person once per call."""
    people = list(dict.fromkeys(p for p in person_ids if p is not None))
    if not people:
        return
    agent_id = actor.agent_id if isinstance(actor, Actor) else actor
    # An erased person's row shows nothing: no line.
    shown = set(
        await uow.session.scalars(
            select(Person.id).where(Person.id.in_(people), Person.purged_at.is_(None))
        )
    )
    at = uow.clock.now()
    rows = [
        {"id": uuid.uuid4(), "at": at, "agent_id": agent_id, "person_id": p, "what": what}
        for p in people
        if p in shown
    ]
    if rows:
        await uow.session.execute(insert(FileRead), rows)


@dataclass(frozen=True, slots=True)
class Entry:
    """One line of a person's trail."""

    at: datetime
    agent_id: uuid.UUID
    agent_name: str | None  # None once the agent's account is gone
    what: str


async def reads_of(
    uow: UnitOfWork, actor: Actor, person_id: uuid.UUID, *, before: datetime | None = None
) -> list[Entry]:
    """Who was shown this person's file, newest first, at most MAX_ROWS lines before
    ``before``: for the admins and animators of the person's territory (also once the
    person's data is erased: the purge keeps the row). Anyone else: 404 if the person is
    outside their territories, 403 if they manage no organisation there."""
    territory_id = await uow.session.scalar(
        select(Person.territory_id).where(Person.id == person_id)
    )
    if territory_id is None:
        raise NotFound("person not found", field="person_id")
    await require_territory_manager(
        uow,
        actor,
        territory_id,
        what="person",
        detail="only an admin or animator of the person's territory reads this trail",
    )
    query = (
        select(FileRead.at, FileRead.agent_id, Agent.first_name, Agent.last_name, FileRead.what)
        .outerjoin(Agent, Agent.id == FileRead.agent_id)
        .where(FileRead.person_id == person_id)
    )
    if before is not None:
        check_instant("before", before)
        query = query.where(FileRead.at < before)
    rows = await uow.session.execute(
        query.order_by(FileRead.at.desc(), FileRead.id).limit(MAX_ROWS)
    )
    return [
        Entry(at, agent, f"{first} {last}" if first is not None else None, what)
        for at, agent, first, last, what in rows
    ]


async def purge(db: Database, clock: Clock, *, keep_days: int) -> int:
    """Delete the rows older than the retention period (daily)."""
    async with db.unit_of_work(clock=clock) as uow:
        done = await uow.session.execute(
            delete(FileRead).where(FileRead.at < clock.now() - timedelta(days=keep_days))
        )
    return int(getattr(done, "rowcount", 0) or 0)
