"""Situation requests (fiches de prescription): submit before the session's deadline, edit or
withdraw until then, acknowledge (the referent is told), list those not acknowledged within
72 h, record the decision after the session (the person is told what comes next).

A submission takes its session's lock and refuses a frozen session, so it can never slip onto
an agenda behind the freeze's back (the freeze is the only writer of agendas).
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.agents.guards import Actor, manages_territory, require_territory_manager
from rdv_spie.audit import service as audit
from rdv_spie.committees import access, notices
from rdv_spie.committees.cycle import next_session
from rdv_spie.committees.models import (
    WAITING,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
    Thematic,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.people import followup
from rdv_spie.people.models import Journey, Person
from rdv_spie.territories.models import Organisation, Territory

ACKNOWLEDGE_WITHIN = timedelta(hours=72)
MAX_LISTED = 1000


def _check_fields(values: dict[str, Any]) -> None:
    thematics = values.get("thematics")
    if thematics is not None:
        unknown = [t for t in thematics if t not in set(Thematic)]
        if unknown or not thematics:
            raise Invalid(
                "thematics: one or more of " + ", ".join(t.value for t in Thematic),
                field="thematics",
            )
        values["thematics"] = sorted(set(thematics), key=list(Thematic).index)
    if values.get("urgent") and not values.get("urgent_reason"):
        raise Invalid("an urgent request says why", field="urgent_reason")


async def _open_session(uow: UnitOfWork, session_id: uuid.UUID) -> CtoSession:
    """The session, re-read under its lock, when it still takes requests; else a 409 that
    names the next session open to them."""
    await uow.lock(f"cto_session:{session_id}")
    session = await uow.session.get(CtoSession, session_id, populate_existing=True)
    assert session is not None
    now = uow.clock.now()
    if (
        session.status != SessionStatus.CANCELLED
        and session.frozen_at is None
        and now < session.deadline_at
    ):
        return session
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    territory = await uow.session.get(Territory, session.territory_id)
    assert territory is not None
    zone = ZoneInfo(territory.timezone)
    after = await next_session(uow, series, session)
    while after is not None and after.deadline_at <= now:
        after = await next_session(uow, series, after)
    reason = (
        "the session is cancelled"
        if session.status == SessionStatus.CANCELLED
        else "requests for this session closed on "
        + session.deadline_at.astimezone(zone).strftime("%Y-%m-%d %H:%M")
    )
    if after is None:
        hint = "no later session is scheduled yet"
    else:
        hint = (
            f"the next session open to requests is {after.id}, on "
            f"{after.starts_at.astimezone(zone):%Y-%m-%d %H:%M} (requests until "
            f"{after.deadline_at.astimezone(zone):%Y-%m-%d %H:%M})"
        )
    raise Conflict(f"{reason}; {hint}", field="session_id", code="deadline_passed")


async def submit(*, uow: UnitOfWork, actor: Actor, values: dict[str, Any]) -> CtoRequest:
    """A referent's new request for a session, before its deadline."""
    session = await access.session_for(uow, actor, values["session_id"])
    organisation_id = await access.requesting_organisation(
        uow, actor, session.territory_id, values.pop("organisation_id", None)
    )
    if not values.get("consent"):
        raise Invalid("the person's consent is needed to present their situation", field="consent")
    _check_fields(values)
    manager = await manages_territory(uow, actor, session.territory_id)
    # A structure presents only the people it follows (the territory team anyone's): the
    # structure the request comes from, not any other the referent works for.
    asking = replace(actor, roles={organisation_id: actor.roles[organisation_id]})
    journey_id = values.get("journey_id")
    if journey_id is not None:
        journey = await uow.session.get(Journey, journey_id)
        if journey is None or journey.territory_id != session.territory_id:
            raise NotFound("journey not found", field="journey_id")
        if not manager:
            await followup.visible_journey(uow, asking, journey_id)
        values.setdefault("person_id", journey.person_id)
        if values["person_id"] is None:
            values["person_id"] = journey.person_id
        if journey.person_id != values["person_id"]:
            raise Invalid("the journey is not this person's", field="journey_id")
    if values.get("person_id") is None:
        raise Invalid("say whose situation it is (person_id or journey_id)", field="person_id")
    person = await uow.session.get(Person, values["person_id"])
    if person is None or person.territory_id != session.territory_id or person.purged_at:
        raise NotFound("person not found", field="person_id")
    if not manager and not await followup.person_followed(uow, asking, person.id):
        raise NotFound("person not found", field="person_id")
    session = await _open_session(uow, session.id)
    request = CtoRequest(
        **values,
        territory_id=session.territory_id,
        referent_id=actor.agent_id,
        organisation_id=organisation_id,
        submitted_at=uow.clock.now(),
        status=RequestStatus.SUBMITTED,
        carried_over_count=0,
    )
    uow.session.add(request)
    await uow.session.flush()
    return request


async def _editable(uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> CtoRequest:
    request = await access.request_for(uow, actor, request_id)
    if request.organisation_id not in actor.staff_organisation_ids:
        raise NotFound("situation request not found", field="request_id")
    if request.status not in WAITING:
        raise Conflict(
            f"the request is {request.status}: it can no longer change", code="request_closed"
        )
    await _open_session(uow, request.session_id)
    return request


async def edit(
    *, uow: UnitOfWork, actor: Actor, request_id: uuid.UUID, values: dict[str, Any]
) -> CtoRequest:
    """Change a request before its session's deadline (its structure only)."""
    request = await _editable(uow, actor, request_id)
    merged = {"urgent": request.urgent, "urgent_reason": request.urgent_reason, **values}
    _check_fields(merged)
    for key in values:
        setattr(request, key, merged[key])
    if not request.urgent:
        request.urgent_reason = None
    await uow.session.flush()
    return request


async def withdraw(*, uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> CtoRequest:
    """Withdraw a request before its session's deadline (its structure only)."""
    request = await _editable(uow, actor, request_id)
    request.status = RequestStatus.WITHDRAWN
    await uow.session.flush()
    return request


async def acknowledge(*, uow: UnitOfWork, actor: Actor, request_id: uuid.UUID) -> CtoRequest:
    """The SPIE team has read the request; the referent is e-mailed (once)."""
    request = await access.request_for(uow, actor, request_id)
    await require_territory_manager(uow, actor, request.territory_id)
    if request.acknowledged_at is None and request.status != RequestStatus.WITHDRAWN:
        request.acknowledged_at = uow.clock.now()
        request.acknowledged_by_id = actor.agent_id
        if request.status == RequestStatus.SUBMITTED:
            request.status = RequestStatus.ACKNOWLEDGED
        await uow.session.flush()
        await notices.acknowledged(uow, request)
    return request


async def overdue(*, uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> list[CtoRequest]:
    """Requests still not acknowledged 72 h after they were submitted, oldest first."""
    await require_territory_manager(uow, actor, territory_id)
    limit = uow.clock.now() - ACKNOWLEDGE_WITHIN
    found = list(
        await uow.session.scalars(
            select(CtoRequest)
            .where(
                CtoRequest.territory_id == territory_id,
                CtoRequest.acknowledged_at.is_(None),
                CtoRequest.status != RequestStatus.WITHDRAWN,
                CtoRequest.submitted_at <= limit,
            )
            .order_by(CtoRequest.submitted_at, CtoRequest.id)
            .limit(MAX_LISTED)
        )
    )
    await audit.record(uow, actor, (r.person_id for r in found), audit.Read.CTO_REQUESTS)
    return found


async def decide(
    *,
    uow: UnitOfWork,
    actor: Actor,
    request_id: uuid.UUID,
    decision: str,
    next_steps: str | None,
) -> CtoRequest:
    """Record the committee's decision once the session has started; the person is told the
    next steps on the channels they accepted."""
    request = await access.request_for(uow, actor, request_id)
    await require_territory_manager(uow, actor, request.territory_id)
    session = await uow.session.get(CtoSession, request.session_id)
    assert session is not None
    if request.status not in (RequestStatus.ON_AGENDA, RequestStatus.DECIDED):
        raise Conflict("only a request on a frozen agenda gets a decision", code="not_on_agenda")
    if uow.clock.now() < session.starts_at:
        raise Conflict("the session has not taken place yet", code="session_not_held")
    first = request.status != RequestStatus.DECIDED
    request.decision = decision
    request.next_steps = next_steps
    request.decided_at = uow.clock.now()
    request.decided_by_id = actor.agent_id
    request.status = RequestStatus.DECIDED
    await uow.session.flush()
    if first:
        await notices.decision(uow, request)
    return request


async def list_requests(
    *,
    uow: UnitOfWork,
    actor: Actor,
    session_id: uuid.UUID | None,
    status: RequestStatus | None,
) -> list[CtoRequest]:
    """Requests the actor may read: their structures', or all of the territories they run."""
    statement = select(CtoRequest).where(CtoRequest.territory_id.in_(actor.territory_ids))
    if session_id is not None:
        session = await access.session_for(uow, actor, session_id)
        statement = statement.where(CtoRequest.session_id == session.id)
    if status is not None:
        statement = statement.where(CtoRequest.status == status)
    managed = [t for t in actor.territory_ids if await manages_territory(uow, actor, t)]
    statement = statement.where(
        CtoRequest.organisation_id.in_(actor.staff_organisation_ids)
        | CtoRequest.territory_id.in_(managed)
    )
    found = list(
        await uow.session.scalars(
            statement.order_by(CtoRequest.submitted_at, CtoRequest.id).limit(MAX_LISTED)
        )
    )
    await audit.record(uow, actor, (r.person_id for r in found), audit.Read.CTO_REQUESTS)
    return found


async def agenda(
    *, uow: UnitOfWork, actor: Actor, session_id: uuid.UUID
) -> list[tuple[CtoRequest, Person, str]]:
    """The full fiches of a session's agenda, with the person and the requesting structure's
    name: for its members who accepted the charter and the managers."""
    session = await access.session_for(uow, actor, session_id)
    if not (
        await access.is_sworn_member(uow, actor, session.series_id)
        or await manages_territory(uow, actor, session.territory_id)
    ):
        raise NotFound("CTO session not found", field="session_id")
    rows = await uow.session.execute(
        select(CtoRequest, Person, Organisation.name)
        .join(Person, Person.id == CtoRequest.person_id)
        .join(Organisation, Organisation.id == CtoRequest.organisation_id)
        .where(
            CtoRequest.session_id == session.id,
            CtoRequest.status.in_([RequestStatus.ON_AGENDA, RequestStatus.DECIDED]),
        )
        .order_by(CtoRequest.agenda_number)
    )
    found = [(r, p, name) for r, p, name in rows]
    await audit.record(uow, actor, (p.id for _, p, _ in found), audit.Read.CTO_AGENDA)
    return found
