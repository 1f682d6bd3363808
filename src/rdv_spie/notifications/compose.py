"""Turn an outbox row into a message: who receives it, whether it is still relevant, and the
context its template reads. Reads only; never sends, never writes.

Builds what every message shares (territory, structure, the person or the agent, the
appointment, the person's link) and asks the message's kind (``registry.py``, declared by its
room) for the rest.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, TypeVar
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from sqlalchemy import Row, Select, bindparam, exists, inspect, select
from sqlalchemy.orm import aliased, raiseload
from sqlalchemy.orm.util import identity_key

from rdv_spie.agents.models import Agent
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.ical.event import CalendarEvent, appointment_event
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications import tokens
from rdv_spie.notifications.models import Notification
from rdv_spie.notifications.registry import Extra, MessageKind, Recipient
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import (
    Appointment,
    AppointmentAgent,
    AppointmentStatus,
    AppointmentType,
    AttendeeRole,
)
from rdv_spie.territories.models import Organisation, Place, Territory
from rdv_spie.territories.places import one_line, place_context
from rdv_spie.web import paths

_T = TypeVar("_T")
# Messages never need a type's allowed places (a selectin load per message otherwise).
_NO_PLACES = [raiseload(AppointmentType.allowed_places)]
_LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NOSHOW)


@dataclass(frozen=True, slots=True)
class Skip:
    """The message must not leave: ``cancelled`` (no longer relevant) or ``failed``
    (no address, no consent)."""

    status: str
    code: str


@dataclass(frozen=True, slots=True)
class Composed:
    """Everything needed to render and address one message."""

    name: str
    channel: str
    address: str  # E.164 phone or e-mail address: never logged
    territory: Territory
    organisation: Organisation | None
    context: dict[str, Any]
    event: CalendarEvent | None = None


def _appointment_event(
    appointment: Appointment | None, type_: AppointmentType | None, place: Place | None
) -> CalendarEvent | None:
    if appointment is None:
        return None
    return appointment_event(
        appointment, summary=type_.name if type_ else "Rendez-vous", location=one_line(place)
    )


async def _get(uow: UnitOfWork, model: type[_T], ident: uuid.UUID | None) -> _T | None:
    """``session.get``, answered from the identity map without a trip through the greenlet
    when ``preload`` already holds the object, unexpired (six lookups an SMS, a quarter of
    composing it)."""
    if ident is not None:
        found = uow.session.identity_map.get(identity_key(model, ident))
        if found is not None and not inspect(found).expired_attributes:
            return found
    return await uow.session.get(model, ident)


async def compose(
    uow: UnitOfWork,
    n: Notification,
    kind: MessageKind,
    *,
    public_url: str,
    secret_key: bytes,
    loaded: Row[Any] | None = None,
) -> Composed | Skip:
    """The message of row ``n``, or why it must not leave. ``loaded``: its row from
    ``preload`` when the caller loaded a batch (and keeps the rows alive)."""
    if loaded is None:
        # The identity map holds its objects weakly: keep the loaded row alive meanwhile.
        loaded = (await preload(uow, [n.id])).get(n.id)
    booked = bool(loaded is not None and loaded.booked)
    territory = await _get(uow, Territory, n.territory_id)
    assert territory is not None
    now = uow.clock.now()
    zone = ZoneInfo(territory.timezone)
    journey = await _get(uow, Journey, n.journey_id) if n.journey_id else None
    cohort = await _get(uow, Cohort, journey.cohort_id) if journey else None
    organisation = (
        await _get(uow, Organisation, cohort.organisation_id)
        if cohort and cohort.organisation_id
        else None
    )
    context: dict[str, Any] = {
        "territory": {"name": territory.name, "slug": territory.slug, "phone": territory.phone},
        "public_url": public_url,
    }

    appointment = await _get(uow, Appointment, n.appointment_id) if n.appointment_id else None
    place = type_ = None
    if appointment is not None:
        place = await _get(uow, Place, appointment.place_id)
        type_ = await uow.session.get(
            AppointmentType, appointment.appointment_type_id, options=_NO_PLACES
        )
        if organisation is None and place is not None:
            organisation = await _get(uow, Organisation, place.organisation_id)
        skip = _appointment_skip(kind, n, appointment, now)
        if skip is not None:
            return skip
        context["appointment"] = await _appointment_context(uow, appointment, place, type_, zone)
    if organisation is None:
        organisation = await uow.session.scalar(
            select(Organisation).where(Organisation.territory_id == territory.id).limit(1)
        )
    context["organisation"] = {
        "name": organisation.name if organisation else territory.name,
        "phone": organisation.phone if organisation else None,
        "email": organisation.email if organisation else None,
    }

    if n.person_id is not None:
        person = await _get(uow, Person, n.person_id)
        assert person is not None
        address, consent = (
            (person.phone, person.sms_consent)
            if n.channel == "sms"
            else (person.email, person.email_consent)
        )
        if not address:
            return Skip("failed", "no_address")
        if not consent:
            return Skip("cancelled", "no_consent")
        context["person"] = {"first_name": person.first_name, "last_name": person.last_name}
        if n.invitation_id is not None:  # an invitation or its reminder
            skip = await _invitation_skip(uow, n, journey, booked, now)
            if skip is not None:
                return skip
        if journey is not None and cohort is not None:
            context["book_by"] = journey.appointment_by_on
            if cohort.appointment_type_id:
                cohort_type = await uow.session.get(
                    AppointmentType, cohort.appointment_type_id, options=_NO_PLACES
                )
                context["type_name"] = cohort_type.name if cohort_type else ""
                context["mandatory"] = bool(cohort_type and cohort_type.mandatory)
        if type_ is not None:
            context["type_name"] = type_.name
            context["mandatory"] = type_.mandatory
        context.setdefault("type_name", "Premier rendez-vous")
        context.setdefault("mandatory", False)
        extra = await _extra(uow, kind, n, public_url, secret_key)
        if isinstance(extra, str):
            return Skip("cancelled", extra)
        context.update(extra.context)
        context["link"] = await _link(uow, n, journey, public_url, secret_key)
        if kind.links is not None:  # may build on the person's link
            context.update(kind.links(n, context, public_url))
        organisation = extra.organisation or organisation
        context["reminder_number"] = int(n.params.get("reminder_number", 1))
        event = extra.event or _appointment_event(appointment, type_, place)
        return Composed(n.name, n.channel, address, territory, organisation, context, event)

    agent = await _get(uow, Agent, n.agent_id)
    assert agent is not None
    if not agent.active:
        return Skip("cancelled", "agent_inactive")
    context["agent"] = {"first_name": agent.first_name, "last_name": agent.last_name}
    context["back_office_url"] = public_url.rstrip("/") + paths.OFFICE
    extra = await _extra(uow, kind, n, public_url, secret_key)
    if isinstance(extra, str):
        return Skip("cancelled", extra)
    context.update(extra.context)
    if kind.links is not None:  # the back-office pages it links to
        context.update(kind.links(n, context, public_url))
    return Composed(
        n.name,
        "email",
        agent.email,
        territory,
        extra.organisation or organisation,
        context,
        extra.event,
    )


async def _extra(
    uow: UnitOfWork, kind: MessageKind, n: Notification, public_url: str, secret_key: bytes
) -> Extra | str:
    """The kind's own part of the context (nothing for kinds that need only the shared one)."""
    if kind.recipient is not (Recipient.AGENT if n.agent_id is not None else Recipient.PERSON):
        raise ValueError(f"message {kind.name!r} is for a {kind.recipient}")
    if kind.build_keyed is not None:
        return await kind.build_keyed(uow, n, public_url, secret_key)
    return Extra({}) if kind.build is None else await kind.build(uow, n, public_url)


def _appointment_skip(
    kind: MessageKind, n: Notification, appointment: Appointment, now: datetime
) -> Skip | None:
    if not kind.follows_appointment:
        return None
    if n.params.get("sequence") != appointment.sequence:
        return Skip("cancelled", "appointment_changed")
    if appointment.status != AppointmentStatus.BOOKED:
        return Skip("cancelled", "appointment_not_booked")
    if appointment.starts_at <= now:
        return Skip("cancelled", "appointment_past")
    return None


async def preload(uow: UnitOfWork, ids: list[uuid.UUID]) -> dict[uuid.UUID, Row[Any]]:
    """Load, in one query, the rows these messages read (territory, journey, cohort and its
    structure and type, person, invitation, appointment, place and type) into the session, so
    the ``session.get`` calls of ``compose`` are served from its identity map; by message id,
    each with ``booked``: the journey already has an appointment booked, held or missed.
    Keep the result while composing: the identity map holds its objects weakly."""
    result = await uow.session.execute(_preload_statement(), {"ids": ids})
    return {row.id: row for row in result}


@cache
def _preload_statement() -> Select[*tuple[Any, ...]]:
    """Built once: building it (aliases, joins) costs more than running it."""
    cohort_type, appointment_type, booking = (
        aliased(AppointmentType),
        aliased(AppointmentType),
        aliased(Appointment),
    )
    booked = (
        exists()
        .where(booking.journey_id == Journey.id, booking.status.in_(_LIVE))
        .correlate(Journey)
        .label("booked")
    )
    return (
        select(
            Notification.id,
            Territory,
            Journey,
            Cohort,
            Organisation,
            cohort_type,
            Person,
            Invitation,
            Appointment,
            Place,
            appointment_type,
            booked,
        )
        .select_from(Notification)
        .join(Territory, Territory.id == Notification.territory_id)
        .outerjoin(Journey, Journey.id == Notification.journey_id)
        .outerjoin(Cohort, Cohort.id == Journey.cohort_id)
        .outerjoin(Organisation, Organisation.id == Cohort.organisation_id)
        .outerjoin(cohort_type, cohort_type.id == Cohort.appointment_type_id)
        .outerjoin(Person, Person.id == Notification.person_id)
        .outerjoin(Invitation, Invitation.id == Notification.invitation_id)
        .outerjoin(Appointment, Appointment.id == Notification.appointment_id)
        .outerjoin(Place, Place.id == Appointment.place_id)
        .outerjoin(appointment_type, appointment_type.id == Appointment.appointment_type_id)
        .where(Notification.id.in_(bindparam("ids", expanding=True)))
        .options(
            raiseload(cohort_type.allowed_places),
            raiseload(appointment_type.allowed_places),
            raiseload(Appointment.attendees),
        )
    )


async def _invitation_skip(
    uow: UnitOfWork, n: Notification, journey: Journey | None, booked: bool, now: datetime
) -> Skip | None:
    """Invitations and reminders stop as soon as something is booked, or the link expired."""
    if journey is None or journey.closed_at is not None:
        return Skip("cancelled", "journey_closed")
    if booked:
        return Skip("cancelled", "already_booked")
    invitation = await _get(uow, Invitation, n.invitation_id) if n.invitation_id else None
    if invitation is None or invitation.revoked_at is not None or invitation.expires_at <= now:
        return Skip("cancelled", "invitation_expired")
    return None


async def _link(
    uow: UnitOfWork, n: Notification, journey: Journey | None, public_url: str, secret_key: bytes
) -> str:
    """The person's link: their invitation on this channel (or any channel) when they have one."""
    invitation_id: uuid.UUID | None = n.invitation_id
    if invitation_id is None and journey is not None:
        rows = (
            await uow.session.execute(
                select(Invitation.id, Invitation.channel).where(Invitation.journey_id == journey.id)
            )
        ).all()
        by_channel: dict[str, uuid.UUID] = {str(channel): id_ for id_, channel in rows}
        invitation_id = by_channel.get(n.channel) or next(iter(by_channel.values()), None)
    base = public_url.rstrip("/")
    if invitation_id is None:
        return base + "/"
    return f"{base}/i/{tokens.derive(secret_key, invitation_id)}"


async def whom(
    uow: UnitOfWork, appointment: Appointment, type_: AppointmentType | None
) -> dict[str, str | None] | None:
    """Whom the person will meet: the referent's first name and the structure the appointment
    is held for, or ``None`` when its type keeps them unnamed (whoever is free receives).
    Shown by the confirmation page, e-mails and SMS (where it may be left out for length)."""
    if type_ is not None and not type_.show_agent_name:
        return None
    first_name = await uow.session.scalar(
        select(Agent.first_name)
        .join(AppointmentAgent, AppointmentAgent.agent_id == Agent.id)
        .where(
            AppointmentAgent.appointment_id == appointment.id,
            AppointmentAgent.role == AttendeeRole.REFERENT,
        )
        .limit(1)
    )
    structure = await _get(uow, Organisation, appointment.acting_organisation_id)
    if not first_name and structure is None:
        return None
    return {"first_name": first_name or None, "structure": structure.name if structure else None}


async def _appointment_context(
    uow: UnitOfWork,
    appointment: Appointment,
    place: Place | None,
    type_: AppointmentType | None,
    zone: ZoneInfo,
) -> dict[str, Any]:
    return {
        "starts_at": appointment.starts_at.astimezone(zone),
        "ends_at": appointment.ends_at.astimezone(zone),
        "duration_minutes": int(
            (appointment.ends_at - appointment.starts_at).total_seconds() // 60
        ),
        "type_name": type_.name if type_ else "",
        "place": place_context(place),
        "whom": await whom(uow, appointment, type_),
    }


def message_id(notification_id: uuid.UUID, public_url: str) -> str:
    """A Message-ID stable across retries of one notification."""
    host = urlsplit(public_url).hostname or "localhost"
    return f"<{notification_id}@{host}>"
