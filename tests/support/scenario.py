"""Build a small territory through the ORM: places, referents with weekly rules, an animator,
a single and a tripartite appointment type, and an API key per agent."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, time

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.scheduling.models import AppointmentType, Attendance, AvailabilityRule
from rdv_spie.territories.models import (
    HolidayZone,
    Organisation,
    OrganisationKind,
    Place,
    PlaceKind,
    Territory,
)

WEEKDAYS = 0b0011111  # Monday to Friday


@dataclass
class Scenario:
    territory_id: uuid.UUID
    organisation_id: uuid.UUID
    place_ids: list[uuid.UUID]
    referent_ids: list[uuid.UUID]
    animator_id: uuid.UUID
    admin_id: uuid.UUID
    single_type_id: uuid.UUID
    tripartite_type_id: uuid.UUID
    keys: dict[uuid.UUID, str] = field(default_factory=dict)

    def auth(self, agent_id: uuid.UUID | None = None) -> dict[str, str]:
        """Headers authenticating as an agent (the admin by default)."""
        return {"Authorization": f"Bearer {self.keys[agent_id or self.admin_id]}"}


async def build(
    db: Database,
    clock: Clock,
    *,
    slug: str = "test",
    referents: int = 2,
    places: int = 1,
    timezone: str = "Europe/Paris",
    holiday_zone: HolidayZone = HolidayZone.METROPOLE,
    start: time = time(9),
    end: time = time(12),
    weekdays: int = WEEKDAYS,
    valid_from: date = date(2026, 1, 1),
) -> Scenario:
    """Referents open ``start``–``end`` local on ``weekdays`` at every place, for both types;
    the animator opens the same hours at the first place, for the tripartite type only.
    With several places, each referent's rule days are split between the places so no two
    rules of one agent overlap."""
    async with db.unit_of_work(clock=clock) as uow:
        s = uow.session
        territory = Territory(
            slug=slug,
            name=f"Territoire {slug}",
            timezone=timezone,
            holiday_zone=holiday_zone,
            phone="01 99 00 00 00",
        )
        s.add(territory)
        await s.flush()
        org = Organisation(
            territory_id=territory.id, name=f"Département {slug}", kind=OrganisationKind.DEPARTEMENT
        )
        s.add(org)
        await s.flush()
        place_rows = [
            Place(
                organisation_id=org.id,
                name=f"Lieu {i}",
                kind=PlaceKind.ADDRESS,
                address=f"{i} rue de l'Exemple",
                postcode="02000",
                city="Laon",
            )
            for i in range(places)
        ]
        s.add_all(place_rows)
        single = AppointmentType(
            territory_id=territory.id,
            name="Premier rendez-vous",
            duration_minutes=45,
            buffer_after_minutes=15,
            min_notice_minutes=60,
            horizon_days=60,
            attendance=Attendance.SINGLE,
        )
        tri = AppointmentType(
            territory_id=territory.id,
            name="Diagnostic 360",
            duration_minutes=90,
            buffer_after_minutes=0,
            min_notice_minutes=60,
            horizon_days=60,
            attendance=Attendance.TRIPARTITE,
        )
        s.add_all([single, tri])

        def agent(name: str, role: Role) -> Agent:
            a = Agent(email=f"{name}@{slug}.test", first_name=name.title(), last_name="Test")
            s.add(a)
            return a

        admin = agent("admin", Role.ADMIN)
        referent_rows = [agent(f"referent{i}", Role.REFERENT) for i in range(referents)]
        animator = agent("animator", Role.ANIMATOR)
        await s.flush()
        for a, role in [
            (admin, Role.ADMIN),
            (animator, Role.ANIMATOR),
            *((r, Role.REFERENT) for r in referent_rows),
        ]:
            s.add(Membership(agent_id=a.id, organisation_id=org.id, role=role))
        days = [d for d in range(7) if weekdays & (1 << d)]
        for r in referent_rows:
            for i, place in enumerate(place_rows):
                mask = sum(1 << d for j, d in enumerate(days) if j % len(place_rows) == i)
                if mask:
                    s.add(
                        AvailabilityRule(
                            agent_id=r.id,
                            place_id=place.id,
                            organisation_id=org.id,
                            weekdays=mask,
                            start_time=start,
                            end_time=end,
                            valid_from=valid_from,
                            appointment_types=[single, tri],
                        )
                    )
        s.add(
            AvailabilityRule(
                agent_id=animator.id,
                place_id=place_rows[0].id,
                organisation_id=org.id,
                weekdays=weekdays,
                start_time=start,
                end_time=end,
                valid_from=valid_from,
                appointment_types=[tri],
            )
        )
        await s.flush()
        scenario = Scenario(
            territory_id=territory.id,
            organisation_id=org.id,
            place_ids=[p.id for p in place_rows],
            referent_ids=[r.id for r in referent_rows],
            animator_id=animator.id,
            admin_id=admin.id,
            single_type_id=single.id,
            tripartite_type_id=tri.id,
        )
        for a in [admin, animator, *referent_rows]:
            scenario.keys[a.id] = (
                await api_keys.create_api_key(uow=uow, agent_id=a.id, label="test")
            ).secret
    return scenario


async def follow(uow: UnitOfWork, s: Scenario, person_id: uuid.UUID) -> uuid.UUID:
    """Give a person a journey in a new cohort of the scenario's organisation, so its agents
    follow them (an agent books by person id only the people their structures follow)."""
    cohort = Cohort(
        territory_id=s.territory_id,
        name=f"Cohorte {uuid.uuid4().hex[:8]}",
        organisation_id=s.organisation_id,
    )
    uow.session.add(cohort)
    await uow.session.flush()
    today = uow.clock.now().date()
    journey = Journey(
        territory_id=s.territory_id,
        person_id=person_id,
        cohort_id=cohort.id,
        entered_on=today,
        invite_by_on=today,
        appointment_by_on=today,
    )
    uow.session.add(journey)
    await uow.session.flush()
    return journey.id
