"""The slot engine's reads, built once per shape and run with bound values.

A booking and a search on a cache miss run these on every request. Building a SQLAlchemy
statement (operators, coercions, its cache key) cost about a quarter of a booking's CPU in the
profile of issue 17; a statement built once keeps its cache key and its compiled form, so only
the values change. Sets of ids are one parameter: ``= ANY`` of an array on PostgreSQL, an
expanding ``IN`` on SQLite.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Integer,
    Select,
    String,
    Uuid,
    and_,
    any_,
    bindparam,
    exists,
    literal_column,
    or_,
    select,
    type_coerce,
)

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.models import (
    Absence,
    AppointmentAgent,
    AvailabilityRule,
    appointment_type_place,
    availability_rule_type,
)
from rdv_spie.territories.models import Organisation, Place

# The roles whose opening hours make slots, and the seat each takes in an appointment.
SLOT_ROLE = {
    Role.REFERENT: engine.AttendeeRole.REFERENT,
    Role.ADMIN: engine.AttendeeRole.REFERENT,
    Role.ANIMATOR: engine.AttendeeRole.ANIMATOR,
}


def among(column: Any, name: str, postgres: bool, *, one: bool = False) -> Any:
    """``column IN :name``, where the parameter ``name`` is a collection of ids (``one``: a
    single id, compared with ``=``).

    One id is worth its own statement on PostgreSQL: in a generic plan, ``= ANY($1)``
    counts on an array of 10, so the planner keeps making a custom plan for each execution
    of the rule query (measured with 100 territories loaded: in a booking the rule query
    took 1.8 ms planned each time, 0.5 ms with its generic plan)."""
    if one:
        return column == bindparam(name, type_=Uuid)
    if postgres:
        return column == any_(bindparam(name, type_=ARRAY(Uuid)))
    return column.in_(bindparam(name, expanding=True))


def count(ids: frozenset[Any] | None) -> int:
    """How a filter on ``ids`` is written: 0 none, 1 one id (``= :name``), 2 a set (empty
    or of several)."""
    if ids is None:
        return 0
    return 1 if len(ids) == 1 else 2


def bound(ids: frozenset[Any], written: int) -> Any:
    """The value of a filter written as ``count`` says: the id itself, or a list."""
    return next(iter(ids)) if written == 1 else list(ids)


def _raw(column: Any) -> Any:
    """A column read as it comes (no per-value type processing: see search.load_busy)."""
    return type_coerce(column, String)


@cache
def rules(postgres: bool, places: int, covering: bool = False) -> Select[*tuple[Any, ...]]:
    """Opening hours of a type on a territory valid over [first_day, last_day], at the places
    the type allows, with the agent's role in the structure they are opened for; optionally
    (``places``: see ``count``) only at ``place_ids``, and (``covering``: a booking's look) only
    those that hold one slot: on the weekday ``weekday_bit``, from ``from_time`` to
    ``to_time`` (the engine places a slot within one rule)."""
    type_places = appointment_type_place.c
    query = (
        select(
            AvailabilityRule.agent_id,
            AvailabilityRule.place_id,
            AvailabilityRule.weekdays,
            AvailabilityRule.start_time,
            AvailabilityRule.end_time,
            AvailabilityRule.valid_from,
            AvailabilityRule.valid_until,
            Membership.role,
            AvailabilityRule.organisation_id,
        )
        .join(
            availability_rule_type,
            availability_rule_type.c.availability_rule_id == AvailabilityRule.id,
        )
        .join(Agent, Agent.id == AvailabilityRule.agent_id)
        # The agent's role in the structure the hours are opened for.
        .join(
            Membership,
            and_(
                Membership.agent_id == Agent.id,
                Membership.organisation_id == AvailabilityRule.organisation_id,
            ),
        )
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(Place, Place.id == AvailabilityRule.place_id)
        .where(
            # The place is the territory's too, without a join: a rule is written only with a
            # place and types of its structure's territory (service.save_rule), and so a
            # booking's place is checked by its rules (taking._require_place says why not).
            availability_rule_type.c.appointment_type_id == bindparam("type_id"),
            Organisation.territory_id == bindparam("territory_id"),
            Membership.role.in_([r.value for r in SLOT_ROLE]),
            Agent.active,
            Place.active,
            AvailabilityRule.valid_from <= bindparam("last_day"),
            or_(
                AvailabilityRule.valid_until.is_(None),
                AvailabilityRule.valid_until >= bindparam("first_day"),
            ),
            # A type without places may be held at any place of the territory.
            or_(
                exists().where(
                    type_places.appointment_type_id == bindparam("type_id"),
                    type_places.place_id == AvailabilityRule.place_id,
                ),
                ~exists().where(type_places.appointment_type_id == bindparam("type_id")),
            ),
        )
    )
    if covering:
        query = query.where(
            AvailabilityRule.weekdays.op("&")(bindparam("weekday_bit", type_=Integer)) != 0,
            AvailabilityRule.start_time <= bindparam("from_time"),
            AvailabilityRule.end_time >= bindparam("to_time"),
        )
    if places:
        query = query.where(
            among(AvailabilityRule.place_id, "place_ids", postgres, one=places == 1)
        )
    # No filter on the structures the hours are opened for: the caller keeps those rows. With
    # one (a generic plan counts on 10 for an array), PostgreSQL planned this join worse, or
    # planned it again on each execution (100 territories loaded: 1.2 ms -> 2.3-2.5 ms).
    return query


@cache
def busy(postgres: bool, ignoring: bool) -> Any:
    """Active appointments with their buffer and absences of ``agent_ids`` overlapping
    [start, end), as (agent, start, end, is_absence) read raw; ``ignoring``: except the
    appointment ``ignore_id`` (the one being moved)."""
    taken = select(
        _raw(AppointmentAgent.agent_id),
        _raw(AppointmentAgent.starts_at),
        _raw(AppointmentAgent.busy_until),
        literal_column("0"),
    ).where(
        among(AppointmentAgent.agent_id, "agent_ids", postgres),
        AppointmentAgent.active,
        AppointmentAgent.starts_at < bindparam("end"),
        AppointmentAgent.busy_until > bindparam("start"),
        # A lower bound on starts_at lets the (agent_id, starts_at) index skip the past.
        AppointmentAgent.starts_at > bindparam("floor"),
    )
    if ignoring:
        taken = taken.where(AppointmentAgent.appointment_id != bindparam("ignore_id"))
    away = select(
        _raw(Absence.agent_id), _raw(Absence.starts_at), _raw(Absence.ends_at), literal_column("1")
    ).where(
        among(Absence.agent_id, "agent_ids", postgres),
        Absence.starts_at < bindparam("end"),
        Absence.ends_at > bindparam("start"),
    )
    return taken.union_all(away)


@cache
def place_on_territory() -> Select[Any]:
    """An active place of a structure of the territory."""
    return (
        select(Place.id)
        .join(Organisation, Organisation.id == Place.organisation_id)
        .where(
            Place.id == bindparam("place_id"),
            Organisation.territory_id == bindparam("territory_id"),
            Place.active,
        )
    )
