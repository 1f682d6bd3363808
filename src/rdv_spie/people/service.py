"""Cohorts and journeys: create and configure cohorts, list journeys with their derived status,
turn a JSON batch into the same rows as a CSV file.

A cohort is seen by the staff of its structure (admins, animators, referents; never partners)
and by the team of its territory (admins and animators of any structure there), who alone
create, change and fill cohorts; a cohort of no structure is the territory team's only.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import replace
from datetime import date
from types import MappingProxyType
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, or_, select

from rdv_spie.agents.guards import Actor, require_territory_manager, territory_team
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.invitations.models import Invitation
from rdv_spie.people import status as journey_status
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.people.rows import FIELDS, PersonRow, RowChecker, RowError
from rdv_spie.scheduling.models import Appointment, AppointmentType
from rdv_spie.territories.models import Organisation, Territory

MAX_LISTED = 1000


async def _check_links(uow: UnitOfWork, cohort: Cohort) -> None:
    if cohort.appointment_type_id is not None:
        type_ = await uow.session.get(AppointmentType, cohort.appointment_type_id)
        if type_ is None or type_.territory_id != cohort.territory_id:
            raise NotFound("appointment type not found", field="appointment_type_id")
    if cohort.organisation_id is not None:
        org = await uow.session.get(Organisation, cohort.organisation_id)
        if org is None or org.territory_id != cohort.territory_id:
            raise NotFound("organisation not found", field="organisation_id")
    if cohort.send_window_end <= cohort.send_window_start:
        raise Invalid("the sending window must end after it starts", field="send_window_end")


async def _name_free(
    uow: UnitOfWork, territory_id: uuid.UUID, name: str, *, but: uuid.UUID | None = None
) -> None:
    """The name is not taken on the territory; held until commit, so two simultaneous
    creations of one name get a clean 422 each but one (not the unique constraint's 500)."""
    await uow.lock(f"cohort_name:{territory_id}")
    taken = await uow.session.scalar(
        select(Cohort.id).where(
            Cohort.territory_id == territory_id, Cohort.name == name, Cohort.id != but
        )
    )
    if taken is not None:
        raise Invalid("a cohort of that name exists on the territory", field="name")


async def create_cohort(*, uow: UnitOfWork, actor: Actor, values: dict[str, Any]) -> Cohort:
    """A new cohort on a territory the actor runs."""
    await require_territory_manager(uow, actor, values["territory_id"])
    await _name_free(uow, values["territory_id"], values["name"])
    cohort = Cohort(**values)
    await _check_links(uow, cohort)
    uow.session.add(cohort)
    await uow.session.flush()
    return cohort


async def get_cohort(*, uow: UnitOfWork, actor: Actor, cohort_id: uuid.UUID) -> Cohort:
    """One cohort the actor sees: its structure's staff (never its partners) and the team of
    its territory; anyone else gets the same NotFound as for an unknown id."""
    cohort = await uow.session.get(Cohort, cohort_id)
    if cohort is None or not (
        cohort.organisation_id in actor.staff_organisation_ids
        or cohort.territory_id in await territory_team(uow, actor)
    ):
        raise NotFound("cohort not found", field="cohort_id")
    return cohort


async def update_cohort(
    *, uow: UnitOfWork, actor: Actor, cohort_id: uuid.UUID, values: dict[str, Any]
) -> Cohort:
    """Change a cohort; journeys already open keep the deadlines they were promised."""
    cohort = await get_cohort(uow=uow, actor=actor, cohort_id=cohort_id)
    await require_territory_manager(uow, actor, cohort.territory_id)
    if "name" in values:
        await _name_free(uow, cohort.territory_id, values["name"], but=cohort.id)
    with uow.session.no_autoflush:  # the rules are checked before the row's constraints
        for name, value in values.items():
            setattr(cohort, name, value)
        await _check_links(uow, cohort)
    await uow.session.flush()
    return cohort


async def cohorts_seen(uow: UnitOfWork, actor: Actor) -> ColumnElement[bool]:
    """Which cohorts the actor sees (see ``get_cohort``), as a clause on Cohort."""
    return or_(
        Cohort.organisation_id.in_(actor.staff_organisation_ids),
        Cohort.territory_id.in_(await territory_team(uow, actor)),
    )


async def list_cohorts(*, uow: UnitOfWork, actor: Actor) -> list[Cohort]:
    """The cohorts the actor sees."""
    return list(
        await uow.session.scalars(
            select(Cohort).where(await cohorts_seen(uow, actor)).order_by(Cohort.name)
        )
    )


async def list_journeys(
    *, uow: UnitOfWork, actor: Actor, cohort_id: uuid.UUID, status: str | None = None
) -> list[tuple[Journey, journey_status.JourneyStatus]]:
    """Journeys of a cohort with their derived status (at most MAX_LISTED)."""
    cohort = await get_cohort(uow=uow, actor=actor, cohort_id=cohort_id)
    territory = await uow.session.get(Territory, cohort.territory_id)
    assert territory is not None
    journeys = list(
        await uow.session.scalars(
            select(Journey)
            .where(Journey.cohort_id == cohort.id)
            .order_by(Journey.appointment_by_on, Journey.id)
            .limit(MAX_LISTED)
        )
    )
    derived = await statuses(uow, journeys, ZoneInfo(territory.timezone))
    pairs = [(j, derived[j.id]) for j in journeys]
    if status is not None:
        pairs = [(j, s) for j, s in pairs if s == status]
    await audit.record(uow, actor, (j.person_id for j, _ in pairs), audit.Read.JOURNEYS)
    return pairs


async def statuses(
    uow: UnitOfWork, journeys: list[Journey], zone: ZoneInfo
) -> dict[uuid.UUID, journey_status.JourneyStatus]:
    """The derived status of each journey, from its invitations and appointments."""
    ids = [j.id for j in journeys]
    expiries: dict[uuid.UUID, list[Any]] = defaultdict(list)
    facts: dict[uuid.UUID, list[journey_status.AppointmentFact]] = defaultdict(list)
    if ids:
        for journey_id, expires_at in await uow.session.execute(
            select(Invitation.journey_id, Invitation.expires_at).where(
                Invitation.journey_id.in_(ids)
            )
        ):
            expiries[journey_id].append(expires_at)
        for appointment_journey_id, status, starts_at in await uow.session.execute(
            select(Appointment.journey_id, Appointment.status, Appointment.starts_at).where(
                Appointment.journey_id.in_(ids)
            )
        ):
            if appointment_journey_id is not None:
                facts[appointment_journey_id].append(
                    journey_status.AppointmentFact(str(status), starts_at)
                )
    now = uow.clock.now()
    today = now.astimezone(zone).date()
    return {
        j.id: journey_status.derive(
            journey_status.JourneyFacts(
                appointment_by_on=j.appointment_by_on,
                closed=j.closed_at is not None,
                invitation_expiries=tuple(expiries[j.id]),
                appointments=tuple(facts[j.id]),
            ),
            now=now,
            today=today,
        )
        for j in journeys
    }


def rows_from_json(
    people: list[dict[str, Any]], *, region: str, today: date
) -> list[PersonRow | RowError]:
    """Validate a JSON batch with the rules of a file's rows; an error's ``line`` is the
    person's position in the batch (1-based), its ``header`` and ``field`` the JSON field."""
    header = [_JSON_NAMES.get(name, name) for name in FIELDS]
    checker = RowChecker(
        {name: index for index, name in enumerate(FIELDS)}, header, region=region, today=today
    )
    columns = MappingProxyType({name: (None, header[i]) for i, name in enumerate(FIELDS)})
    result: list[PersonRow | RowError] = []
    for line, person in enumerate(people, start=1):
        values = {_FIELD_NAMES.get(k, k): v for k, v in person.items()}
        cells = [_cell(values.get(name)) for name in FIELDS]
        if not "".join(cells).strip():
            continue  # as an empty line of a file
        checked = checker.check(line, cells)
        if isinstance(checked, PersonRow):
            result.append(replace(checked, columns=columns))
            continue
        for error in checked:
            name = _JSON_NAMES.get(error.field or "", error.field)
            result.append(replace(error, column=None, header=name, field=name))
    return result


# The API's names of two fields, and back.
_JSON_NAMES = {"birth_on": "birth_date", "entered_on": "entry_date"}
_FIELD_NAMES = {v: k for k, v in _JSON_NAMES.items()}


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    return str(value)
