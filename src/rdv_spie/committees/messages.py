"""The committee's messages: each kind (``KINDS``, gathered in ``rdv_spie/messages.py``) and
the template context it reads when it is composed.

Partners' messages (moved, cancelled, agenda) carry the session and, for the agenda, each
situation as its number, thematics and requesting structure: never a person's name, contact,
summary or history (the fiches are for sworn members, on the partners' portal). They link to
the session's page on the portal (``session_url``; a cancelled one to the portal's home), a
request's messages to its referent to their fiche's page (``fiche_url``): pages, never the
API. A session's e-mail carries the session as an .ics event (its UID is
``ical.event.session_uid``, as in the feeds).
"""

from __future__ import annotations

import uuid
from typing import Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.committees import paths
from rdv_spie.committees.models import (
    THEMATIC_LABELS,
    CtoRequest,
    CtoSeries,
    CtoSession,
    RequestStatus,
    SessionStatus,
)
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.ical.event import CalendarEvent, session_uid
from rdv_spie.notifications.links import page_url
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Extra, MessageKind, Recipient
from rdv_spie.people.models import Person
from rdv_spie.territories.models import Organisation, Place, Territory
from rdv_spie.territories.places import one_line, place_context

SESSION_MOVED = "cto_session_moved"
SESSION_CANCELLED = "cto_session_cancelled"
AGENDA = "cto_agenda"
ACKNOWLEDGED = "cto_request_acknowledged"
CARRIED_OVER = "cto_request_carried_over"
DECISION = "cto_decision"


def session_url(public_url: str, session_id: uuid.UUID) -> str:
    """A session's page on the partners' portal (its agenda once frozen, for sworn members),
    named by the members' e-mails and the calendar feeds' events."""
    return page_url(public_url, paths.PORTAL_SESSION, session_id=session_id)


async def for_agent(uow: UnitOfWork, n: Notification, public_url: str) -> Extra | str:
    """The context of a message to an agent, or the code of why it must not leave."""
    if n.name in (ACKNOWLEDGED, CARRIED_OVER):
        return await _for_referent(uow, n, public_url)
    session = await uow.session.get(CtoSession, uuid.UUID(n.params["session_id"]))
    if session is None:
        return "session_deleted"
    if n.name == SESSION_MOVED and int(n.params.get("sequence", -1)) != session.sequence:
        return "session_changed"  # a later move or the cancellation says it better
    if n.name == AGENDA and session.status == SessionStatus.CANCELLED:
        return "session_cancelled"
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    zone = await _zone(uow, session.territory_id)
    context = await _session_context(uow, series, session, zone, public_url)
    context["session_url"] = (
        page_url(public_url, paths.PORTAL)
        if session.status == SessionStatus.CANCELLED
        else session_url(public_url, session.id)
    )
    if n.name == AGENDA:
        context["situations"] = await _agenda_lines(uow, session)
    place = await uow.session.get(Place, series.place_id) if series.place_id else None
    return Extra(
        context=context,
        organisation=await uow.session.get(Organisation, series.organisation_id),
        event=CalendarEvent(
            uid=session_uid(session.id),
            sequence=session.sequence + session.agenda_revision,  # as in the feeds
            starts_at=session.starts_at,
            ends_at=session.ends_at,
            changed_at=session.updated_at,
            summary=f"CTO {series.name}",
            location=one_line(place) if place else f"En visio : {series.video_url or ''}",
            filename="cto.ics",
        ),
    )


async def _zone(uow: UnitOfWork, territory_id: uuid.UUID) -> ZoneInfo:
    territory = await uow.session.get(Territory, territory_id)
    assert territory is not None
    return ZoneInfo(territory.timezone)


async def _session_context(
    uow: UnitOfWork, series: CtoSeries, session: CtoSession, zone: ZoneInfo, public_url: str
) -> dict[str, Any]:
    place = await uow.session.get(Place, series.place_id) if series.place_id else None
    return {
        "cto": {
            "name": series.name,
            "starts_at": session.starts_at.astimezone(zone),
            "ends_at": session.ends_at.astimezone(zone),
            "duration_minutes": int((session.ends_at - session.starts_at).total_seconds() // 60),
            "deadline_at": session.deadline_at.astimezone(zone),
            "place": None if place is None else place_context(place),
            "video_url": series.video_url,
            "capacity": series.capacity,
            "sequence": session.sequence,
            "change_reason": session.change_reason,
        },
    }


async def _agenda_lines(uow: UnitOfWork, session: CtoSession) -> list[dict[str, Any]]:
    rows = await uow.session.execute(
        select(CtoRequest.agenda_number, CtoRequest.thematics, CtoRequest.urgent, Organisation.name)
        .join(Organisation, Organisation.id == CtoRequest.organisation_id)
        .where(
            CtoRequest.session_id == session.id,
            CtoRequest.status.in_([RequestStatus.ON_AGENDA, RequestStatus.DECIDED]),
        )
        .order_by(CtoRequest.agenda_number)
    )
    return [
        {
            "number": number,
            "thematics": [THEMATIC_LABELS.get(t, t) for t in thematics],
            "urgent": urgent,
            "structure": structure,
        }
        for number, thematics, urgent, structure in rows
    ]


async def _for_referent(uow: UnitOfWork, n: Notification, public_url: str) -> Extra | str:
    request = await uow.session.get(CtoRequest, uuid.UUID(n.params["request_id"]))
    if request is None:
        return "request_deleted"
    if n.name == CARRIED_OVER and request.status == RequestStatus.WITHDRAWN:
        return "request_withdrawn"
    person = await uow.session.get(Person, request.person_id)
    zone = await _zone(uow, request.territory_id)
    sessions: dict[str, Any] = {}
    for key in ("from_session_id", "to_session_id"):
        raw = n.params.get(key)
        found = await uow.session.get(CtoSession, uuid.UUID(raw)) if raw else None
        sessions[key.removesuffix("_session_id")] = (
            None
            if found is None
            else {
                "starts_at": found.starts_at.astimezone(zone),
                "deadline_at": found.deadline_at.astimezone(zone),
            }
        )
    current = await uow.session.get(CtoSession, request.session_id)
    series = await uow.session.get(CtoSeries, current.series_id) if current else None
    return Extra(
        context={
            "request": {
                "person_name": f"{person.first_name} {person.last_name}" if person else "",
                "submitted_at": request.submitted_at.astimezone(zone),
            },
            "cto": {
                "name": series.name if series else "",
                "starts_at": current.starts_at.astimezone(zone) if current else None,
            },
            "sessions": sessions,
            "reason": n.params.get("reason", "full"),
            "fiche_url": page_url(public_url, paths.FICHE, request_id=request.id),
        },
        organisation=await uow.session.get(Organisation, series.organisation_id)
        if series
        else None,
    )


async def for_person(uow: UnitOfWork, n: Notification, public_url: str) -> Extra | str:
    """The decision message to a person: the structure that asked, and the next steps."""
    request = await uow.session.get(CtoRequest, uuid.UUID(n.params["request_id"]))
    if request is None or request.status != RequestStatus.DECIDED:
        return "request_not_decided"
    organisation = await uow.session.get(Organisation, request.organisation_id)
    return Extra(
        context={
            "next_steps": request.next_steps,
            "organisation": {
                "name": organisation.name if organisation else "",
                "phone": organisation.phone if organisation else None,
                "email": organisation.email if organisation else None,
            },
        },
        organisation=organisation,
    )


def _to_agents(name: str, ics: Literal["REQUEST", "CANCEL"] | None = None) -> MessageKind:
    return MessageKind(name, Recipient.AGENT, ("email",), ics=ics, build=for_agent)


KINDS = (
    _to_agents(SESSION_MOVED, "REQUEST"),
    _to_agents(SESSION_CANCELLED, "CANCEL"),
    _to_agents(AGENDA, "REQUEST"),
    _to_agents(ACKNOWLEDGED),
    _to_agents(CARRIED_OVER),
    MessageKind(DECISION, Recipient.PERSON, ("sms", "email"), build=for_person),
)
