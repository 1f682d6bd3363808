"""A CTO scenario on top of the scenario builder: partners, another structure, people."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import httpx
import icalendar
import vobject
from ical.calendar_stream import IcsCalendarStream
from tests.support import scenario as sc

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort, Journey, Person


@dataclass
class Cto:
    s: sc.Scenario
    client: httpx.AsyncClient
    db: Database
    clock: FrozenClock
    partner_org_id: uuid.UUID
    partner_ids: list[uuid.UUID]  # the first two accepted the charter
    other_org_id: uuid.UUID
    other_referent_id: uuid.UUID
    series_id: uuid.UUID = field(default_factory=lambda: uuid.UUID(int=0))
    people: list[uuid.UUID] = field(default_factory=list)

    def auth(self, agent_id: uuid.UUID | None = None) -> dict[str, str]:
        return self.s.auth(agent_id)

    @property
    def animator(self) -> dict[str, str]:
        return self.s.auth(self.s.animator_id)

    async def sessions(self) -> list[dict[str, Any]]:
        r = await self.client.get(
            f"/api/v1/cto-series/{self.series_id}/sessions", headers=self.animator
        )
        assert r.status_code == 200, r.text
        sessions: list[dict[str, Any]] = r.json()
        return sessions

    async def submit(
        self,
        session_id: str,
        person: uuid.UUID,
        *,
        referent: uuid.UUID | None = None,
        **extra: Any,
    ) -> httpx.Response:
        body = {
            "session_id": session_id,
            "person_id": str(person),
            "thematics": ["logement", "mobilite"],
            "summary": "Recherche un logement près d'une ligne de bus.",
            "already_tried": "Demande de logement social déposée.",
            "consent": True,
            **extra,
        }
        return await self.client.post(
            "/api/v1/cto-requests",
            headers=self.auth(referent or self.s.referent_ids[0]),
            json=body,
        )

    async def add_people(
        self, count: int, *, followed_by: uuid.UUID | None = None, **fields: Any
    ) -> list[uuid.UUID]:
        """People with a journey in a cohort of ``followed_by`` (the scenario's structure)."""
        async with self.db.unit_of_work(clock=self.clock) as uow:
            rows = []
            for i in range(count):
                values: dict[str, Any] = {
                    "territory_id": self.s.territory_id,
                    "first_name": f"Prénom{i}",
                    "last_name": f"Nom{i}",
                    "email": f"personne{i}@exemple.fr",
                    "phone": f"+336123456{i:02d}",
                    "email_consent": True,
                    "sms_consent": True,
                    **fields,
                }
                rows.append(Person(**values))
            uow.session.add_all(rows)
            await uow.session.flush()
            ids = [p.id for p in rows]
            # Each person is followed by the scenario's structure (a journey in its cohort):
            # a structure presents only the people it follows.
            cohort = Cohort(
                territory_id=self.s.territory_id,
                name=f"Cohorte {uuid.uuid4().hex[:8]}",
                organisation_id=followed_by or self.s.organisation_id,
            )
            uow.session.add(cohort)
            await uow.session.flush()
            today = self.clock.now().date()
            uow.session.add_all(
                Journey(
                    territory_id=self.s.territory_id,
                    person_id=person_id,
                    cohort_id=cohort.id,
                    entered_on=today,
                    invite_by_on=today,
                    appointment_by_on=today,
                )
                for person_id in ids
            )
        self.people.extend(ids)
        return ids


async def agent(uow: Any, s: sc.Scenario, org_id: uuid.UUID, name: str, role: Role) -> uuid.UUID:
    a = Agent(email=f"{name}@partenaire.test", first_name=name.title(), last_name="Partenaire")
    uow.session.add(a)
    await uow.session.flush()
    uow.session.add(Membership(agent_id=a.id, organisation_id=org_id, role=role))
    s.keys[a.id] = (await api_keys.create_api_key(uow=uow, agent_id=a.id, label="t")).secret
    return a.id


def calendar_of(message: EmailMessage) -> icalendar.Calendar:
    """The one text/calendar part of an e-mail, parsed."""
    parts = [p for p in message.walk() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1
    return icalendar.Calendar.from_ical(parts[0].get_payload(decode=True))


def parsed_instants(body: bytes) -> dict[str, list[tuple[str, datetime, datetime]]]:
    """Each event's UID, start and end in UTC, as three independent parsers read them."""
    text = body.decode()
    calendar = IcsCalendarStream.calendar_from_ics(text)
    return {
        "icalendar": sorted(
            (str(e["UID"]), e.start.astimezone(UTC), e.end.astimezone(UTC))
            for e in icalendar.Calendar.from_ical(body).walk("VEVENT")
        ),
        "ical": sorted(
            (e.uid, e.dtstart.astimezone(UTC), e.dtend.astimezone(UTC))  # type: ignore[union-attr]
            for e in calendar.events
        ),
        "vobject": sorted(
            (e.uid.value, e.dtstart.value.astimezone(UTC), e.dtend.value.astimezone(UTC))
            for e in getattr(vobject.readOne(text), "vevent_list", [])
        ),
    }
