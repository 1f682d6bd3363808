"""Appointment types, availability rules and absences: validated writes, scoped reads."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Any

from sqlalchemy import or_, select

from rdv_spie.agents.guards import (
    Actor,
    managed_agent_ids,
    require_can_manage_agent,
    require_territory_manager,
)
from rdv_spie.agents.models import Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.localtime import check_instant
from rdv_spie.scheduling.models import Absence, AppointmentType, AvailabilityRule
from rdv_spie.territories.models import Organisation, Place

# ---------------------------------------------------------------- appointment types

_TYPES_MANAGERS = "only an admin or an animator of the territory can change appointment types"


async def list_types(
    *, uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID | None = None
) -> Sequence[AppointmentType]:
    """Appointment types of the actor's territories."""
    territories = actor.territory_ids if territory_id is None else {territory_id}
    if territory_id is not None:
        actor.require_territory(territory_id)
    rows = await uow.session.scalars(
        select(AppointmentType)
        .where(AppointmentType.territory_id.in_(territories))
        .order_by(AppointmentType.name)
    )
    return rows.all()


async def get_type(*, uow: UnitOfWork, actor: Actor, type_id: uuid.UUID) -> AppointmentType:
    """One appointment type of the actor's territories."""
    found = await uow.session.get(AppointmentType, type_id)
    if found is None or found.territory_id not in actor.territory_ids:
        raise NotFound("appointment type not found", field="appointment_type_id")
    return found


async def _places_on(
    uow: UnitOfWork,
    territory_id: uuid.UUID,
    place_ids: Sequence[uuid.UUID],
    field: str = "place_ids",
) -> list[Place]:
    if not place_ids:
        return []
    places = (
        await uow.session.scalars(
            select(Place)
            .join(Organisation, Organisation.id == Place.organisation_id)
            .where(Place.id.in_(place_ids), Organisation.territory_id == territory_id)
        )
    ).all()
    missing = set(place_ids) - {p.id for p in places}
    if missing:
        raise NotFound(
            f"unknown place(s) on this territory: {sorted(map(str, missing))}", field=field
        )
    return list(places)


_TYPE_LIMITS = {
    "duration_minutes": (5, 8 * 60),
    "buffer_after_minutes": (0, 4 * 60),
    "min_notice_minutes": (0, 30 * 24 * 60),
    "horizon_days": (1, 366),
    "cancel_cutoff_minutes": (0, 30 * 24 * 60),
    "move_cutoff_minutes": (0, 30 * 24 * 60),
}


def _check_type_fields(fields: dict[str, Any]) -> None:
    for name, (low, high) in _TYPE_LIMITS.items():
        value = fields.get(name)
        if value is not None and not low <= value <= high:
            raise Invalid(f"{name} must be between {low} and {high}", field=name)
    if "name" in fields and not (fields["name"] or "").strip():
        raise Invalid("the name cannot be empty", field="name")
    if "what_to_bring" in fields:  # blank means nothing to bring
        fields["what_to_bring"] = (fields["what_to_bring"] or "").strip() or None


async def create_type(
    *,
    uow: UnitOfWork,
    actor: Actor,
    territory_id: uuid.UUID,
    place_ids: Sequence[uuid.UUID] = (),
    **fields: Any,
) -> AppointmentType:
    """Add an appointment type to a territory."""
    await require_territory_manager(uow, actor, territory_id, detail=_TYPES_MANAGERS)
    _check_type_fields(fields)
    created = AppointmentType(territory_id=territory_id, **fields)
    created.allowed_places = await _places_on(uow, territory_id, place_ids)
    uow.session.add(created)
    await uow.session.flush()
    return created


async def update_type(
    *,
    uow: UnitOfWork,
    actor: Actor,
    type_id: uuid.UUID,
    place_ids: Sequence[uuid.UUID] | None = None,
    **changes: Any,
) -> AppointmentType:
    """Change an appointment type (existing appointments keep their times)."""
    found = await get_type(uow=uow, actor=actor, type_id=type_id)
    await require_territory_manager(uow, actor, found.territory_id, detail=_TYPES_MANAGERS)
    _check_type_fields(changes)
    for name, value in changes.items():
        setattr(found, name, value)
    if place_ids is not None:
        found.allowed_places = await _places_on(uow, found.territory_id, place_ids)
    await uow.session.flush()
    return found


# ---------------------------------------------------------------- availability rules


def weekday_mask(weekdays: Sequence[int]) -> int:
    """Bit mask of date.weekday() numbers, or Invalid naming the field."""
    if not weekdays:
        raise Invalid("choose at least one weekday (0 = Monday … 6 = Sunday)", field="weekdays")
    bad = [d for d in weekdays if not 0 <= d <= 6]
    if bad:
        raise Invalid(f"weekdays go from 0 (Monday) to 6 (Sunday), got {bad}", field="weekdays")
    mask = 0
    for day in weekdays:
        mask |= 1 << day
    return mask


async def list_rules(
    *, uow: UnitOfWork, actor: Actor, agent_id: uuid.UUID | None = None
) -> Sequence[AvailabilityRule]:
    """The actor's rules and those of the agents they manage (or of one of them)."""
    agents = await managed_agent_ids(uow, actor)
    if agent_id is not None:
        if agent_id not in agents:
            raise NotFound("agent not found", field="agent_id")
        agents = frozenset({agent_id})
    rows = await uow.session.scalars(
        select(AvailabilityRule)
        .where(AvailabilityRule.agent_id.in_(agents))
        .order_by(
            AvailabilityRule.agent_id, AvailabilityRule.valid_from, AvailabilityRule.start_time
        )
    )
    return rows.all()


async def get_rule(*, uow: UnitOfWork, actor: Actor, rule_id: uuid.UUID) -> AvailabilityRule:
    """One of the actor's rules or of an agent they manage."""
    rule = await uow.session.get(AvailabilityRule, rule_id)
    if rule is None or rule.agent_id not in await managed_agent_ids(uow, actor):
        raise NotFound("availability rule not found", field="availability_rule_id")
    return rule


async def save_rule(
    *,
    uow: UnitOfWork,
    actor: Actor,
    rule: AvailabilityRule | None,
    agent_id: uuid.UUID,
    place_id: uuid.UUID,
    weekdays: Sequence[int],
    start_time: time,
    end_time: time,
    valid_from: date,
    valid_until: date | None,
    appointment_type_ids: Sequence[uuid.UUID],
    organisation_id: uuid.UUID | None = None,
) -> AvailabilityRule:
    """Create (rule=None) or replace a rule after checking every field."""
    if rule is not None and rule.agent_id != agent_id:
        await require_can_manage_agent(uow, actor, rule.agent_id)
    await require_can_manage_agent(uow, actor, agent_id)
    for name, value in (("start_time", start_time), ("end_time", end_time)):
        if value.tzinfo is not None:
            raise Invalid(
                "give the territory's local time without an offset, e.g. 09:00:00", field=name
            )
    if end_time <= start_time:
        raise Invalid(
            "end_time must be after start_time (a rule cannot cross midnight)", field="end_time"
        )
    if valid_until is not None and valid_until < valid_from:
        raise Invalid("valid_until must be on or after valid_from", field="valid_until")
    mask = weekday_mask(weekdays)
    place_row = (
        await uow.session.execute(
            select(Organisation.territory_id, Place.organisation_id)
            .join(Place, Place.organisation_id == Organisation.id)
            .where(Place.id == place_id)
        )
    ).first()
    structures = await _structures_of(uow, agent_id, place_row[0] if place_row else None)
    if place_row is None or not structures:
        raise NotFound("place not found on the agent's territory", field="place_id")
    place_territory = place_row[0]
    owner = _rule_owner(
        actor,
        agent_id,
        structures,
        place_row[1],
        organisation_id or (rule.organisation_id if rule is not None else None),
    )
    if not appointment_type_ids:
        raise Invalid("choose at least one appointment type", field="appointment_type_ids")
    types = (
        await uow.session.scalars(
            select(AppointmentType).where(
                AppointmentType.id.in_(appointment_type_ids),
                AppointmentType.territory_id == place_territory,
            )
        )
    ).all()
    missing = set(appointment_type_ids) - {t.id for t in types}
    if missing:
        raise NotFound(
            f"unknown appointment type(s) on this territory: {sorted(map(str, missing))}",
            field="appointment_type_ids",
        )
    await uow.lock(f"agent:{agent_id}")
    await _refuse_overlap(
        uow,
        rule.id if rule else None,
        agent_id,
        mask,
        start_time,
        end_time,
        valid_from,
        valid_until,
    )
    if rule is None:
        rule = AvailabilityRule(agent_id=agent_id)
        uow.session.add(rule)
    rule.agent_id = agent_id
    rule.place_id = place_id
    rule.organisation_id = owner
    rule.weekdays = mask
    rule.start_time = start_time
    rule.end_time = end_time
    rule.valid_from = valid_from
    rule.valid_until = valid_until
    rule.appointment_types = list(types)
    await uow.session.flush()
    return rule


async def _structures_of(
    uow: UnitOfWork, agent_id: uuid.UUID, territory_id: uuid.UUID | None
) -> list[uuid.UUID]:
    """The organisations of the territory where the agent receives people (not as a partner),
    by name."""
    if territory_id is None:
        return []
    return list(
        await uow.session.scalars(
            select(Membership.organisation_id)
            .join(Organisation, Organisation.id == Membership.organisation_id)
            .where(
                Membership.agent_id == agent_id,
                Organisation.territory_id == territory_id,
                Membership.role != Role.PARTNER,
            )
            .order_by(Organisation.name)
        )
    )


def _rule_owner(
    actor: Actor,
    agent_id: uuid.UUID,
    structures: list[uuid.UUID],
    place_organisation_id: uuid.UUID,
    chosen: uuid.UUID | None,
) -> uuid.UUID:
    """The structure a rule opens hours for: the one chosen (one of the agent's, and of the
    actor's: where they work for their own hours — in the back office, the one they act for
    —, where they manage for another agent's), else the agent's only one, else the place's
    if the agent belongs to it, else the first of the actor's."""
    allowed = (
        [s for s in structures if s in actor.staff_organisation_ids]
        if actor.agent_id == agent_id
        else [s for s in structures if s in actor.managed_organisation_ids]
    )
    if chosen is not None:
        if chosen not in allowed:
            raise NotFound("organisation not found for this agent", field="organisation_id")
        return chosen
    if place_organisation_id in allowed:
        return place_organisation_id
    if not allowed:
        raise NotFound("organisation not found for this agent", field="organisation_id")
    return allowed[0]


async def _refuse_overlap(
    uow: UnitOfWork,
    rule_id: uuid.UUID | None,
    agent_id: uuid.UUID,
    mask: int,
    start_time: time,
    end_time: time,
    valid_from: date,
    valid_until: date | None,
) -> None:
    query = select(AvailabilityRule).where(
        AvailabilityRule.agent_id == agent_id,
        AvailabilityRule.start_time < end_time,
        AvailabilityRule.end_time > start_time,
        or_(AvailabilityRule.valid_until.is_(None), AvailabilityRule.valid_until >= valid_from),
    )
    if valid_until is not None:
        query = query.where(AvailabilityRule.valid_from <= valid_until)
    if rule_id is not None:
        query = query.where(AvailabilityRule.id != rule_id)
    for other in (await uow.session.scalars(query)).all():
        if other.weekdays & mask:
            raise Invalid(
                f"this rule overlaps the agent's rule {other.id} "
                f"({other.start_time:%H:%M}–{other.end_time:%H:%M} on shared weekdays)",
                field="start_time",
                code="overlapping_rule",
            )


async def delete_rule(*, uow: UnitOfWork, actor: Actor, rule_id: uuid.UUID) -> None:
    """Remove a rule (booked appointments stay booked)."""
    rule = await get_rule(uow=uow, actor=actor, rule_id=rule_id)
    await require_can_manage_agent(uow, actor, rule.agent_id)
    await uow.lock(f"agent:{rule.agent_id}")
    await uow.session.delete(rule)
    await uow.session.flush()


# ---------------------------------------------------------------- absences


async def list_absences(
    *,
    uow: UnitOfWork,
    actor: Actor,
    agent_id: uuid.UUID | None = None,
    start: datetime | None = None,
    end: datetime | None = None,
) -> Sequence[Absence]:
    """The actor's absences and those of the agents they manage (an absence's title may be
    personal), optionally of one agent and overlapping a range."""
    agents = await managed_agent_ids(uow, actor)
    if agent_id is not None:
        if agent_id not in agents:
            raise NotFound("agent not found", field="agent_id")
        agents = frozenset({agent_id})
    query = select(Absence).where(Absence.agent_id.in_(agents)).order_by(Absence.starts_at)
    if start is not None:
        query = query.where(Absence.ends_at > start)
    if end is not None:
        query = query.where(Absence.starts_at < end)
    return (await uow.session.scalars(query)).all()


async def create_absence(
    *,
    uow: UnitOfWork,
    actor: Actor,
    agent_id: uuid.UUID,
    starts_at: datetime,
    ends_at: datetime,
    title: str | None = None,
) -> Absence:
    """Mark an agent unavailable; existing appointments are kept (the agent moves them)."""
    await require_can_manage_agent(uow, actor, agent_id)
    check_instant("starts_at", starts_at)
    check_instant("ends_at", ends_at)
    if ends_at <= starts_at:
        raise Invalid("ends_at must be after starts_at", field="ends_at")
    await uow.lock(f"agent:{agent_id}")
    absence = Absence(agent_id=agent_id, starts_at=starts_at, ends_at=ends_at, title=title)
    uow.session.add(absence)
    await uow.session.flush()
    return absence


async def delete_absence(*, uow: UnitOfWork, actor: Actor, absence_id: uuid.UUID) -> None:
    """Remove an absence."""
    absence = await uow.session.get(Absence, absence_id)
    if absence is None or absence.agent_id not in await managed_agent_ids(uow, actor):
        raise NotFound("absence not found", field="absence_id")
    await require_can_manage_agent(uow, actor, absence.agent_id)
    await uow.session.delete(absence)
    await uow.session.flush()
