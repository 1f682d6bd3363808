"""Set up a territory for a real deployment: the territory, a first organisation and its admin.
Idempotent (found by slug, name and e-mail), so it can be re-run safely."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TypeVar

from sqlalchemy import func, select

from rdv_spie import localtime
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid
from rdv_spie.territories.models import HolidayZone, Organisation, OrganisationKind, Territory


@dataclass(frozen=True, slots=True)
class Bootstrapped:
    territory_id: uuid.UUID
    organisation_id: uuid.UUID
    admin_id: uuid.UUID


E = TypeVar("E", HolidayZone, OrganisationKind)


def _choice(enum: type[E], value: str, field: str) -> E:
    try:
        return enum(value)
    except ValueError:
        allowed = ", ".join(e.value for e in enum)
        raise Invalid(f"{value!r} is not one of: {allowed}", field=field) from None


async def bootstrap(
    *,
    uow: UnitOfWork,
    slug: str,
    name: str,
    timezone: str,
    holiday_zone: str,
    organisation: str,
    kind: str,
    admin_email: str,
    admin_first_name: str,
    admin_last_name: str,
) -> Bootstrapped:
    """Create what is missing; a territory found by slug must have the same time zone."""
    localtime.zone(timezone)
    zone = _choice(HolidayZone, holiday_zone, "holiday_zone")
    org_kind = _choice(OrganisationKind, kind, "kind")
    email = admin_email.strip().lower()
    if "@" not in email:
        raise Invalid("not an e-mail address", field="admin_email")
    territory = await uow.session.scalar(select(Territory).where(Territory.slug == slug))
    if territory is None:
        territory = Territory(slug=slug, name=name, timezone=timezone, holiday_zone=zone)
        uow.session.add(territory)
        await uow.session.flush()
    elif territory.timezone != timezone:
        raise Invalid(
            f"territory {slug!r} exists with time zone {territory.timezone}", field="timezone"
        )
    org = await uow.session.scalar(
        select(Organisation).where(
            Organisation.territory_id == territory.id, Organisation.name == organisation
        )
    )
    if org is None:
        org = Organisation(territory_id=territory.id, name=organisation, kind=org_kind)
        uow.session.add(org)
        await uow.session.flush()
    agent = await uow.session.scalar(select(Agent).where(func.lower(Agent.email) == email))
    if agent is None:
        agent = Agent(email=email, first_name=admin_first_name, last_name=admin_last_name)
        uow.session.add(agent)
        await uow.session.flush()
    membership = await uow.session.scalar(
        select(Membership).where(
            Membership.agent_id == agent.id, Membership.organisation_id == org.id
        )
    )
    if membership is None:
        uow.session.add(Membership(agent_id=agent.id, organisation_id=org.id, role=Role.ADMIN))
    elif membership.role != Role.ADMIN:
        membership.role = Role.ADMIN
    await uow.session.flush()
    return Bootstrapped(territory.id, org.id, agent.id)
