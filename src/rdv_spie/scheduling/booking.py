"""Booking, cancelling, moving and settling appointments: one service for the API and the pages.

Guarantees: the slot is checked with the same ``search`` functions that list slots; a write
takes per-agent locks (PostgreSQL) or the database write lock (SQLite) and re-reads under it;
the database itself refuses overlapping appointments of one agent (exclusion constraint or
trigger), and that refusal becomes a Conflict, never a crash.
"""

from __future__ import annotations

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid, NotFound
from rdv_spie.invitations.models import Invitation
from rdv_spie.people import followup
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling import departures, notices, ownership, search, taking
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.models import (
    Appointment,
    AppointmentStatus,
    AttendeeRole,
)

SLOT_TAKEN = taking.SLOT_TAKEN


@dataclass(frozen=True, slots=True)
class NewPerson:
    """A person the API booking creates from a name and contacts (CSV and JSON intake live in
    people/intake.py)."""

    first_name: str
    last_name: str
    phone: str | None = None
    email: str | None = None


@dataclass(frozen=True, slots=True)
class Booked:
    """The appointment, and whether this call created it (False: a repeated submission)."""

    appointment: Appointment
    created: bool


def submission_hash(scope: str, key: str) -> str:
    """The stored form of a client submission key, scoped to who submitted it."""
    return hashlib.sha256(f"{scope}\x00{key}".encode()).hexdigest()


async def book_appointment(
    *,
    uow: UnitOfWork,
    actor: Actor | None,
    appointment_type_id: uuid.UUID,
    place_id: uuid.UUID,
    starts_at: datetime,
    person_id: uuid.UUID | None = None,
    new_person: NewPerson | None = None,
    journey_id: uuid.UUID | None = None,
    referent_id: uuid.UUID | None = None,
    organisation_id: uuid.UUID | None = None,
    among: frozenset[uuid.UUID] | None = None,
    submission_key: str | None = None,
    submission_scope: str | None = None,
    grid_minutes: int = 15,
    cache: SlotCache | None = None,
) -> Booked:
    """Book a slot; the referent (and animator) are picked among the free ones, in the hours
    opened for the structures ``among`` — for an agent's booking by default those that follow
    the journey, or without a journey the agent's own: nobody gives away another structure's
    time.

    The appointment is held for one acting organisation: the one the booking agent chose
    (``organisation_id``, one of theirs), else the journey's cohort's structure if the agent
    belongs to it, else the structure of the referent's opening hours if the agent belongs to
    it, else the agent's first structure on the territory. Booked by the person or a system
    (no agent): the cohort's structure, else that of the opening hours. ``cache``: the
    process's slot cache, whose kept opening hours spare the rule query (search.KeptRules)."""
    key_hash = None
    if submission_key is not None:
        scope = submission_scope or (f"agent:{actor.agent_id}" if actor else "anonymous")
        key_hash = submission_hash(scope, submission_key)
        await uow.lock(f"submission:{key_hash}")
        existing = await uow.session.scalar(
            select(Appointment).where(Appointment.submission_key == key_hash)
        )
        if existing is not None:
            same = (
                existing.appointment_type_id == appointment_type_id
                and existing.place_id == place_id
                and existing.starts_at == starts_at
            )
            if not same:
                raise Conflict(
                    "this submission key was already used for a different booking",
                    field="Idempotency-Key",
                    code="submission_key_reused",
                )
            return Booked(existing, created=False)

    appointment_type, territory, kept = await search.load_type_keeping(
        uow, appointment_type_id, cache
    )
    mine: list[uuid.UUID] = []
    if actor is not None:
        actor.require_territory(territory.id, what="appointment_type")
        mine = ownership.staff_structures(actor, territory.id)
        if organisation_id is not None and organisation_id not in mine:
            raise NotFound("organisation not found", field="organisation_id")
    journey = None
    cohort_organisation_id = None
    if journey_id is not None:
        if actor is not None:  # an agent books only for journeys their organisations follow
            followed = await followup.visible_journey(uow, actor, journey_id)
            if among is None:
                among = await followup.following_organisations(uow, followed)
            ownership.require_following(organisation_id, among)
        journey = await uow.session.get(Journey, journey_id)
        if journey is None or journey.territory_id != territory.id:
            raise NotFound("journey not found", field="journey_id")
        await _refuse_second_booking(uow, journey_id)
        if person_id is not None and person_id != journey.person_id:
            raise Invalid("the journey belongs to another person", field="journey_id")
        person_id, new_person = journey.person_id, None
        cohort_organisation_id = await uow.session.scalar(
            select(Cohort.organisation_id).where(Cohort.id == journey.cohort_id)
        )
    elif (
        person_id is not None
        and actor is not None
        # Only people the agent's structures follow (a journey or an appointment of theirs).
        and not await followup.person_followed(uow, actor, person_id)
    ):
        raise NotFound("person not found", field="person_id")
    if actor is not None and among is None and journey_id is None:
        # Without a journey, an agent gives only the hours of the structures they work for.
        among = frozenset(mine)
    person = await _person(uow, territory.id, person_id, new_person)

    taken = await taking.take_slot(
        uow=uow,
        loaded=(appointment_type, territory),
        place_id=place_id,
        starts_at=starts_at,
        referent_id=referent_id,
        grid_minutes=grid_minutes,
        among=among,
        kept=kept,
    )
    slot, chosen = taken.slot, taken.chosen
    if actor is not None:
        acting = ownership.acting(mine, organisation_id, cohort_organisation_id, taken.opened_for)
    else:
        acting = cohort_organisation_id or taken.opened_for
    buffer = timedelta(minutes=appointment_type.buffer_after_minutes)
    appointment = Appointment(
        territory_id=territory.id,
        acting_organisation_id=acting,
        appointment_type_id=appointment_type_id,
        place_id=place_id,
        person_id=person.id if person else None,
        journey_id=journey_id,
        starts_at=slot.starts_at,
        ends_at=slot.ends_at,
        busy_until=slot.ends_at + buffer,
        status=AppointmentStatus.BOOKED,
        sequence=0,
        created_by_agent_id=actor.agent_id if actor else None,
        submission_key=key_hash,
    )
    appointment.attendees = taking.attendees(slot, chosen, slot.ends_at + buffer)
    uow.session.add(appointment)
    await _flush_or_conflict(uow)
    if journey is not None:
        journey.waiting_for_slots_since = None
        await _keep_links(uow, journey.id, appointment.ends_at)
    await notices.appointment_booked(uow, appointment)
    return Booked(appointment, created=True)


async def move_appointment(
    *,
    uow: UnitOfWork,
    actor: Actor | None,
    appointment_id: uuid.UUID,
    starts_at: datetime,
    place_id: uuid.UUID | None = None,
    grid_minutes: int = 15,
    cache: SlotCache | None = None,
) -> Appointment:
    """Move a booked appointment to another slot, keeping its id (its calendar UID)."""
    appointment = await _lock_appointment(uow, actor, appointment_id)
    now = uow.clock.now()
    if appointment.status != AppointmentStatus.BOOKED:
        raise Invalid(
            f"a {appointment.status} appointment cannot be moved",
            field="status",
            code="not_movable",
        )
    if appointment.starts_at <= now:
        raise Invalid(
            "an appointment that has started cannot be moved",
            field="starts_at",
            code="already_started",
        )
    target_place = place_id or appointment.place_id
    current_referent = next(
        (a.agent_id for a in appointment.attendees if a.role == AttendeeRole.REFERENT), None
    )
    appointment_type, territory, kept = await search.load_type_keeping(
        uow, appointment.appointment_type_id, cache
    )
    taken = await taking.take_slot(
        uow=uow,
        loaded=(appointment_type, territory),
        kept=kept,
        place_id=target_place,
        starts_at=starts_at,
        referent_id=None,
        grid_minutes=grid_minutes,
        ignore_appointment_id=appointment.id,
        prefer=current_referent,
        # An agent moves it within the hours of the structure that holds it.
        among=None if actor is None else frozenset({appointment.acting_organisation_id}),
    )
    slot, chosen = taken.slot, taken.chosen
    busy_until = slot.ends_at + timedelta(minutes=appointment_type.buffer_after_minutes)
    was = departures.before(appointment)
    appointment.attendees.clear()
    await uow.session.flush()
    appointment.attendees.extend(taking.attendees(slot, chosen, busy_until))
    appointment.place_id = target_place
    appointment.starts_at = slot.starts_at
    appointment.ends_at = slot.ends_at
    appointment.busy_until = busy_until
    appointment.sequence += 1
    await _flush_or_conflict(uow)
    await departures.record(uow, appointment, was)
    if appointment.journey_id is not None:
        await _keep_links(uow, appointment.journey_id, appointment.ends_at)
    await notices.appointment_moved(uow, appointment)
    return appointment


async def cancel_appointment(
    *, uow: UnitOfWork, actor: Actor | None, appointment_id: uuid.UUID, by_service: bool
) -> Appointment:
    """Cancel (by the person) or revoke (by the service) a booked appointment."""
    status = AppointmentStatus.REVOKED if by_service else AppointmentStatus.CANCELLED
    return await set_status(uow=uow, actor=actor, appointment_id=appointment_id, status=status)


_AFTER_START = frozenset({AppointmentStatus.SEEN, AppointmentStatus.NOSHOW})
_FINAL = frozenset({AppointmentStatus.CANCELLED, AppointmentStatus.REVOKED})


async def set_status(
    *, uow: UnitOfWork, actor: Actor | None, appointment_id: uuid.UUID, status: AppointmentStatus
) -> Appointment:
    """Change an appointment's status, freeing or re-holding its agents' time."""
    appointment = await _lock_appointment(uow, actor, appointment_id)
    if appointment.status == status:
        return appointment
    if appointment.status in _FINAL:
        raise Invalid(
            f"the appointment is already {appointment.status}", field="status", code="already_final"
        )
    now = uow.clock.now()
    if status in _AFTER_START and appointment.starts_at > now:
        raise Invalid(
            f"an appointment cannot be marked {status} before it starts",
            field="status",
            code="not_started",
        )
    if status in _FINAL and appointment.starts_at <= now:
        raise Invalid(
            "an appointment that has started cannot be cancelled; mark it excused or noshow",
            field="status",
            code="already_started",
        )
    await uow.lock(*(f"agent:{a.agent_id}" for a in appointment.attendees))
    appointment.status = status
    appointment.sequence += 1
    for attendee in appointment.attendees:
        attendee.active = status.holds_time
    await _flush_or_conflict(uow)
    if status in _FINAL:
        await notices.appointment_cancelled(uow, appointment)
    return appointment


async def _refuse_second_booking(uow: UnitOfWork, journey_id: uuid.UUID) -> None:
    """A journey holds one booked appointment at a time (the next one is booked once it has
    taken place): whoever books second — the person online, a referent, the API — is told."""
    await uow.lock(f"journey:{journey_id}")
    booked = await uow.session.scalar(
        select(Appointment.id)
        .where(Appointment.journey_id == journey_id, Appointment.status == AppointmentStatus.BOOKED)
        .limit(1)
    )
    if booked is not None:
        raise Conflict(
            "the journey already has a booked appointment: move it instead",
            field="journey_id",
            code="already_booked",
        )


async def _keep_links(uow: UnitOfWork, journey_id: uuid.UUID, until: datetime) -> None:
    """Every unrevoked link of the journey works at least until ``until``: the confirmation
    and reminder messages carry it for moving or cancelling, whoever booked."""
    await uow.session.execute(
        update(Invitation)
        .where(
            Invitation.journey_id == journey_id,
            Invitation.revoked_at.is_(None),
            Invitation.expires_at < until,
        )
        .values(expires_at=until, updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )


async def _lock_appointment(
    uow: UnitOfWork, actor: Actor | None, appointment_id: uuid.UUID
) -> Appointment:
    """Serialise writers of one appointment, then read it fresh: a move and a cancellation of
    the same appointment never interleave."""
    await uow.lock(f"appointment:{appointment_id}")
    return await get_appointment(uow=uow, actor=actor, appointment_id=appointment_id, fresh=True)


async def get_appointment(
    *, uow: UnitOfWork, actor: Actor | None, appointment_id: uuid.UUID, fresh: bool = False
) -> Appointment:
    """An appointment the actor may see, or NotFound."""
    appointment = await uow.session.get(Appointment, appointment_id, populate_existing=fresh)
    if appointment is None or (actor is not None and not ownership.can_see(actor, appointment)):
        raise NotFound("appointment not found", field="appointment_id")
    return appointment


async def _person(
    uow: UnitOfWork,
    territory_id: uuid.UUID,
    person_id: uuid.UUID | None,
    new_person: NewPerson | None,
) -> Person | None:
    if person_id is not None:
        person = await uow.session.get(Person, person_id)
        # An erased person (privacy/retention.py) is gone: the same 404 as an unknown one.
        if person is None or person.territory_id != territory_id or person.purged_at:
            raise NotFound("person not found", field="person_id")
        return person
    if new_person is not None:
        person = Person(
            territory_id=territory_id,
            first_name=new_person.first_name,
            last_name=new_person.last_name,
            phone=new_person.phone,
            email=new_person.email,
        )
        uow.session.add(person)
        return person
    return None


async def _flush_or_conflict(uow: UnitOfWork) -> None:
    try:
        await uow.session.flush()
    except IntegrityError as exc:
        text = str(exc.orig)
        if "no_overlap" in text or "agent_busy" in text:
            raise Conflict(
                "this slot has just been booked by someone else", field="starts_at", code=SLOT_TAKEN
            ) from exc
        raise
