"""The world the authorization matrix acts on: two organisations on one territory (A and B,
each with a referent, an admin, an animator and a partner), a second territory with its admin,
A's people, journeys, appointments, availability, cohort and CTO series; API keys, back-office
sessions and a pre-session form cookie for every actor; and how each actor sends a request.

Everything a row acts on belongs to organisation A (or to A's territory). Objects a write may
spoil are made by the small factories at the end (``World.new_*``), one per cell."""

from __future__ import annotations

import html
import itertools
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from litestar import Litestar
from sqlalchemy import delete, func, select

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.agents.passwords import hash_password
from rdv_spie.calendars import service as feeds
from rdv_spie.calendars.models import FeedKind
from rdv_spie.clock import FrozenClock
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSession, RequestStatus
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.notifications import tokens
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Absence, AppointmentType, Attendance, AvailabilityRule
from rdv_spie.settings import Settings
from rdv_spie.territories.models import (
    HolidayZone,
    Organisation,
    OrganisationKind,
    Place,
    PlaceKind,
    Territory,
)
from rdv_spie.web import sessions
from rdv_spie.web.models import SessionKind

PASSWORD = "un mot de passe assez long"
PARIS = ZoneInfo("Europe/Paris")

# The columns: four roles of A, the same of B (same territory), another territory's admin,
# no credentials, and the holder of a link (a person's session, a feed token, a signature).
AGENT_ACTORS = (
    "ref_a",
    "admin_a",
    "anim_a",
    "partner_a",
    "ref_b",
    "admin_b",
    "anim_b",
    "partner_b",
    "admin_t2",
)
ANON = "anon"
HOLDER = "holder"
ACTORS = (*AGENT_ACTORS, ANON, HOLDER)
SHORT = {
    "ref_a": "rA",
    "admin_a": "aA",
    "anim_a": "nA",
    "partner_a": "pA",
    "ref_b": "rB",
    "admin_b": "aB",
    "anim_b": "nB",
    "partner_b": "pB",
    "admin_t2": "T2",
    "anon": "anon",
    "holder": "hold",
}
_ROLES = {"ref": Role.REFERENT, "admin": Role.ADMIN, "anim": Role.ANIMATOR, "partner": Role.PARTNER}
_SLOT = re.compile(r'href="(/rdv/(?:creneaux|deplacer)/confirmer\?[^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)">')
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass
class Call:
    """One request of a cell: where, with what body; ``cookies`` add to the actor's."""

    url: str
    params: dict[str, str] | None = None
    json: Any = None
    data: dict[str, Any] | None = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    cookies: dict[str, str] = field(default_factory=dict)
    person_cookie: str | None = None  # the holder's session on public pages


def _slots() -> Iterator[datetime]:
    """Free starts of A's referent, latest first (people booking online take the earliest):
    every hour 08:00-17:00 Paris from 28 January back to 2 December, holidays left out."""
    day = date(2027, 1, 28)
    while day >= date(2026, 12, 2):
        if day not in (date(2026, 12, 25), date(2027, 1, 1)):
            for hour in range(17, 7, -1):
                yield datetime.combine(day, time(hour), PARIS).astimezone(UTC)
        day -= timedelta(days=1)


@dataclass
class World:
    app: Litestar
    client: httpx.AsyncClient
    db: Database
    clock: FrozenClock
    settings: Settings
    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    agent_cookies: dict[str, str] = field(default_factory=dict)
    emails: dict[str, str] = field(default_factory=dict)
    pre_csrf: str = field(default_factory=sessions.new_pre_session_value)
    holder_cookie: str = ""
    _counter: Iterator[int] = field(default_factory=itertools.count)
    _free: Iterator[datetime] = field(default_factory=_slots)
    _pool: list[uuid.UUID] = field(default_factory=list)

    # ------------------------------------------------------------------ helpers

    def n(self) -> int:
        """A number never handed out before (unique names, markers, dates)."""
        return next(self._counter)

    def marker(self, what: str) -> str:
        return f"Authz{what}{self.n()}"

    def slot(self) -> datetime:
        """A start of A's referent nobody has booked through the factories."""
        return next(self._free)

    def agent(self, actor: str) -> uuid.UUID | None:
        return self.ids.get(actor) if actor in AGENT_ACTORS else None

    def own_org(self, actor: str) -> uuid.UUID:
        """The organisation an actor acts for (theirs)."""
        if actor.endswith("_a"):
            return self.ids["org_a"]
        if actor.endswith("_b"):
            return self.ids["org_b"]
        return self.ids["org_c"]

    def own_place(self, actor: str) -> uuid.UUID:
        if actor.endswith("_a"):
            return self.ids["place_a"]
        if actor.endswith("_b"):
            return self.ids["place_b"]
        return self.ids["place_c"]

    def own_type(self, actor: str) -> uuid.UUID:
        return self.ids["type_c"] if actor == "admin_t2" else self.ids["type"]

    async def scalar(self, statement: Any) -> Any:
        async with self.db.unit_of_work(clock=self.clock, write=False) as uow:
            return await uow.session.scalar(statement)

    async def get(self, model: Any, ident: uuid.UUID) -> Any:
        async with self.db.unit_of_work(clock=self.clock, write=False) as uow:
            return await uow.session.get(model, ident)

    # ------------------------------------------------------------------ sending

    async def send(self, kind: str, actor: str, method: str, call: Call) -> httpx.Response:
        """The request as ``actor`` sends it: an API key for the API, the back-office
        session cookie for pages, the holder's own link; every browser has the pre-session
        form cookie, and unsafe requests carry the form token bound to the right cookie."""
        headers = dict(call.headers)
        cookies = {sessions.CSRF_COOKIE: self.pre_csrf}
        agent = actor in AGENT_ACTORS
        if kind in ("api", "feed", "webhook") and agent:
            headers["Authorization"] = f"Bearer {self.keys[actor]}"
        if kind in ("office", "public", "feed", "webhook") and agent:
            cookies[sessions.AGENT_COOKIE] = self.agent_cookies[actor]
        if actor == HOLDER:
            if kind == "public":
                cookies[sessions.SESSION_COOKIE] = call.person_cookie or self.holder_cookie
            elif kind in ("api", "office"):
                cookies[sessions.SESSION_COOKIE] = self.holder_cookie
        cookies.update(call.cookies)
        cookies = {k: v for k, v in cookies.items() if v}
        if method in _UNSAFE:
            path = call.url.split("?", 1)[0]
            binding = cookies.get(sessions.cookie_for(path)) or cookies[sessions.CSRF_COOKIE]
            headers["x-csrf-token"] = sessions.csrf_token(self.app.state.secret_key, binding)
        headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in cookies.items())
        try:
            return await self.client.request(
                method,
                call.url,
                params=call.params,
                json=call.json,
                data=call.data,
                content=call.content,
                headers=headers,
            )
        finally:
            self.client.cookies.clear()

    async def api(self, actor: str, method: str, url: str, **kw: Any) -> httpx.Response:
        """An API call as an agent (the world's own setup)."""
        return await self.send("api", actor, method, Call(url, **kw))

    async def person_get(self, cookie: str, url: str) -> httpx.Response:
        return await self.send("public", HOLDER, "GET", Call(url, person_cookie=cookie))

    # ------------------------------------------------------------------ factories

    async def new_person(self, *, name: str | None = None) -> uuid.UUID:
        """A person of A's territory (phone, e-mail, both consents)."""
        i = self.n()
        async with self.db.unit_of_work(clock=self.clock) as uow:
            person = Person(
                territory_id=self.ids["territory"],
                first_name="Camille",
                last_name=name or f"Authzpersonne{i}",
                phone=f"+3361{i:07d}",
                email=f"authz{i}@exemple.fr",
                sms_consent=True,
                email_consent=True,
            )
            uow.session.add(person)
            await uow.session.flush()
            return person.id

    async def new_journey(
        self,
        *,
        name: str | None = None,
        due: date = date(2026, 12, 20),
        locked: bool = False,
        referent: str | None = "ref_a2",
    ) -> tuple[uuid.UUID, uuid.UUID]:
        """A person and their open journey in A's cohort (referent: A's second referent)."""
        person_id = await self.new_person(name=name)
        async with self.db.unit_of_work(clock=self.clock) as uow:
            journey = Journey(
                territory_id=self.ids["territory"],
                person_id=person_id,
                cohort_id=self.ids["cohort_a"],
                referent_id=self.ids[referent] if referent else None,
                entered_on=date(2026, 11, 25),
                invite_by_on=date(2026, 11, 28),
                appointment_by_on=due,
                identity_failures=5 if locked else 0,
                identity_locked_at=self.clock.now() if locked else None,
            )
            uow.session.add(journey)
            await uow.session.flush()
            return person_id, journey.id

    async def book(self, journey_id: uuid.UUID, starts_at: datetime | None = None) -> uuid.UUID:
        """An appointment of A (A's admin books the journey with A's second referent)."""
        r = await self.api(
            "admin_a",
            "POST",
            "/api/v1/appointments",
            json={
                "appointment_type_id": str(self.ids["type"]),
                "place_id": str(self.ids["place_a"]),
                "starts_at": (starts_at or self.slot()).isoformat(),
                "journey_id": str(journey_id),
                "referent_id": str(self.ids["ref_a2"]),
            },
        )
        assert r.status_code == 201, r.text
        assert r.json()["acting_organisation_id"] == str(self.ids["org_a"]), r.text
        return uuid.UUID(r.json()["id"])

    async def new_appointment(self) -> dict[str, Any]:
        person_id, journey_id = await self.new_journey()
        appointment_id = await self.book(journey_id)
        return {"id": appointment_id, "person": person_id, "journey": journey_id}

    async def new_rule(self) -> uuid.UUID:
        """A rule of A's second referent, alone in a week of its own (no overlap)."""
        start = date(2031, 1, 6) + timedelta(weeks=self.n())
        async with self.db.unit_of_work(clock=self.clock) as uow:
            single = await uow.session.get(AppointmentType, self.ids["type"])
            rule = AvailabilityRule(
                agent_id=self.ids["ref_a2"],
                place_id=self.ids["place_a"],
                organisation_id=self.ids["org_a"],
                weekdays=0b0011111,
                start_time=time(19),  # after the daily hours: overlaps no other rule
                end_time=time(21),
                valid_from=start,
                valid_until=start + timedelta(days=6),
                appointment_types=[single],
            )
            uow.session.add(rule)
            await uow.session.flush()
            return rule.id

    async def new_absence(self) -> uuid.UUID:
        start = datetime(2031, 1, 6, 8, tzinfo=UTC) + timedelta(days=self.n())
        async with self.db.unit_of_work(clock=self.clock) as uow:
            absence = Absence(
                agent_id=self.ids["ref_a2"],
                starts_at=start,
                ends_at=start + timedelta(hours=2),
                title="Formation",
            )
            uow.session.add(absence)
            await uow.session.flush()
            return absence.id

    async def new_cohort(self) -> uuid.UUID:
        async with self.db.unit_of_work(clock=self.clock) as uow:
            cohort = Cohort(
                territory_id=self.ids["territory"],
                name=self.marker("Cohorte"),
                appointment_type_id=self.ids["type"],
                organisation_id=self.ids["org_a"],
            )
            uow.session.add(cohort)
            await uow.session.flush()
            return cohort.id

    async def new_request(
        self,
        *,
        session: str = "session_open",
        status: RequestStatus = RequestStatus.SUBMITTED,
        submitted_at: datetime | None = None,
        name: str | None = None,
    ) -> uuid.UUID:
        """A situation request of A (submitted by A's referent) for a person of A."""
        person_id = await self.new_person(name=name)
        async with self.db.unit_of_work(clock=self.clock) as uow:
            request = CtoRequest(
                session_id=self.ids[session],
                territory_id=self.ids["territory"],
                referent_id=self.ids["ref_a"],
                organisation_id=self.ids["org_a"],
                person_id=person_id,
                thematics=["logement"],
                summary="Recherche un logement.",
                consent=True,
                submitted_at=submitted_at or self.clock.now(),
                status=status,
                agenda_number=1 if status == RequestStatus.ON_AGENDA else None,
            )
            uow.session.add(request)
            await uow.session.flush()
            return request.id

    def pooled_session(self) -> uuid.UUID:
        """A session of the spare series nobody has moved or cancelled."""
        return self._pool.pop(0)

    async def set_member(self, *, member: bool, charter: date | None = None) -> None:
        """The spare member (a partner of A) is, or is not, a member of the series."""
        async with self.db.unit_of_work(clock=self.clock) as uow:
            await uow.session.execute(
                delete(CtoMember).where(
                    CtoMember.series_id == self.ids["series"],
                    CtoMember.agent_id == self.ids["member_a"],
                )
            )
            if member:
                uow.session.add(
                    CtoMember(
                        series_id=self.ids["series"],
                        agent_id=self.ids["member_a"],
                        charter_accepted_on=charter,
                    )
                )

    async def issue_feed(self, kind: FeedKind, subject_id: uuid.UUID) -> str:
        async with self.db.unit_of_work(clock=self.clock) as uow:
            issued = await feeds.issue_feed(
                uow=uow,
                kind=kind,
                subject_id=subject_id,
                created_by=self.ids["admin_a"],
                valid_days=365,
            )
            return issued.token

    async def live_feeds(self, kind: FeedKind, subject_id: uuid.UUID | None) -> int:
        if subject_id is None:
            return 0
        from rdv_spie.calendars.models import CalendarFeed

        return int(
            await self.scalar(
                select(func.count())
                .select_from(CalendarFeed)
                .where(
                    CalendarFeed.kind == kind,
                    CalendarFeed.subject_id == subject_id,
                    CalendarFeed.revoked_at.is_(None),
                )
            )
        )

    async def new_notification(self) -> uuid.UUID:
        """An SMS to a person of A, accepted by Twilio and waiting for its delivery status."""
        async with self.db.unit_of_work(clock=self.clock) as uow:
            row = Notification(
                territory_id=self.ids["territory"],
                name="invitation",
                channel="sms",
                idempotency_key=self.marker("sms"),
                person_id=self.ids["person_booked"],
                params={},
                status=NotificationStatus.SENT,
                not_before=self.clock.now(),
            )
            uow.session.add(row)
            await uow.session.flush()
            return row.id

    # ------------------------------------------------------------------ the person's pages

    async def person_session(
        self, *, booked: bool = False, cancelled: bool = False, verified: bool = True
    ) -> dict[str, Any]:
        """A person of A invited by SMS, their browser session (verified: the identity check
        passed), their appointment if ``booked``."""
        name = self.marker("Dupre")
        person_id, journey_id = await self.new_journey(name=name, due=date(2026, 12, 18))
        appointment_id = None
        if booked:
            appointment_id = await self.book(journey_id)
            if cancelled:
                r = await self.api(
                    "admin_a",
                    "POST",
                    f"/api/v1/appointments/{appointment_id}/cancel",
                    json={"by": "person"},
                )
                assert r.status_code == 200, r.text
        async with self.db.unit_of_work(clock=self.clock) as uow:
            invitation = Invitation(
                id=uuid.uuid4(),
                journey_id=journey_id,
                channel=Channel.SMS,
                expires_at=self.clock.now() + timedelta(days=10),
            )
            token = tokens.derive(self.app.state.secret_key, invitation.id)
            invitation.token_hash = tokens.hash_token(token)
            uow.session.add(invitation)
            await uow.session.flush()
            cookie, _ = await sessions.open_session(
                uow,
                self.settings,
                kind=SessionKind.PERSON,
                journey_id=journey_id,
                invitation_id=invitation.id,
                verified=verified,
            )
        return {
            "person": person_id,
            "journey": journey_id,
            "appointment": appointment_id,
            "token": token,
            "cookie": cookie,
            "letters": name[:3].lower(),
        }

    async def first_slot_link(self, cookie: str, list_path: str) -> str:
        page = await self.person_get(cookie, list_path)
        assert page.status_code == 200, page.text
        found = _SLOT.findall(page.text)
        assert found, f"no slot offered on {list_path}"
        return html.unescape(found[0])

    async def hidden_fields(self, cookie: str, url: str) -> dict[str, str]:
        page = await self.person_get(cookie, url)
        assert page.status_code == 200, page.text
        return {name: html.unescape(value) for name, value in _HIDDEN.findall(page.text)}


# ---------------------------------------------------------------------- building


async def build(
    app: Litestar, client: httpx.AsyncClient, db: Database, clock: FrozenClock, settings: Settings
) -> World:
    """The world, built once per engine (writes get fresh targets from the factories)."""
    w = World(app, client, db, clock, settings)
    ids = w.ids
    password_hash = hash_password(PASSWORD)
    async with db.unit_of_work(clock=clock) as uow:
        s = uow.session
        laon = Territory(
            slug="authz-laon",
            name="Aisne — Laon",
            timezone="Europe/Paris",
            holiday_zone=HolidayZone.METROPOLE,
            phone="03 23 00 00 00",
        )
        other = Territory(
            slug="authz-autre",
            name="Autre territoire",
            timezone="Europe/Paris",
            holiday_zone=HolidayZone.METROPOLE,
        )
        s.add_all([laon, other])
        await s.flush()
        org_a = Organisation(
            territory_id=laon.id, name="Département A", kind=OrganisationKind.DEPARTEMENT
        )
        org_b = Organisation(
            territory_id=laon.id, name="Mission locale B", kind=OrganisationKind.MISSION_LOCALE
        )
        org_c = Organisation(
            territory_id=other.id, name="Département C", kind=OrganisationKind.DEPARTEMENT
        )
        s.add_all([org_a, org_b, org_c])
        await s.flush()
        places = {
            key: Place(
                organisation_id=org.id,
                name=f"Lieu {key}",
                kind=PlaceKind.ADDRESS,
                address="1 rue de l'Exemple",
                postcode="02000",
                city="Laon",
            )
            for key, org in (("place_a", org_a), ("place_b", org_b), ("place_c", org_c))
        }
        s.add_all(places.values())
        single = AppointmentType(
            territory_id=laon.id,
            name="Premier rendez-vous",
            duration_minutes=45,
            buffer_after_minutes=15,
            min_notice_minutes=60,
            horizon_days=60,
            attendance=Attendance.SINGLE,
        )
        type_c = AppointmentType(
            territory_id=other.id,
            name="Premier rendez-vous",
            duration_minutes=45,
            attendance=Attendance.SINGLE,
        )
        s.add_all([single, type_c])
        agents: dict[str, tuple[Agent, Organisation, Role]] = {}
        for key, org in (
            *((f"{r}_a", org_a) for r in _ROLES),
            *((f"{r}_b", org_b) for r in _ROLES),
            ("admin_t2", org_c),
            ("ref_a2", org_a),
            ("member_a", org_a),
        ):
            role = _ROLES[key.split("_")[0]] if key != "member_a" else Role.PARTNER
            if key == "ref_a2":
                role = Role.REFERENT
            agent = Agent(
                email=f"{key.replace('_', '-')}@authz.test",
                first_name=key.replace("_", "").title(),
                last_name="Authz",
                password_hash=password_hash,
            )
            s.add(agent)
            agents[key] = (agent, org, role)
        await s.flush()
        for agent, org, role in agents.values():
            s.add(Membership(agent_id=agent.id, organisation_id=org.id, role=role))
        s.add(
            AvailabilityRule(
                agent_id=agents["ref_a2"][0].id,
                place_id=places["place_a"].id,
                organisation_id=org_a.id,
                weekdays=0b1111111,
                start_time=time(8),
                end_time=time(18),
                valid_from=date(2026, 1, 1),
                appointment_types=[single],
            )
        )
        cohort = Cohort(
            territory_id=laon.id,
            name="Jeunes 18-30 ans",
            appointment_type_id=single.id,
            organisation_id=org_a.id,
            deadline_alert_days=7,
        )
        s.add(cohort)
        await s.flush()
        ids.update(
            territory=laon.id,
            other_territory=other.id,
            org_a=org_a.id,
            org_b=org_b.id,
            org_c=org_c.id,
            type=single.id,
            type_c=type_c.id,
            cohort_a=cohort.id,
            **{key: p.id for key, p in places.items()},
            **{key: a.id for key, (a, _, _) in agents.items()},
        )
        for key, (agent, _, _) in agents.items():
            w.emails[key] = agent.email
            w.keys[key] = (
                await api_keys.create_api_key(uow=uow, agent_id=agent.id, label="authz")
            ).secret
            w.agent_cookies[key], _ = await sessions.open_session(
                uow, settings, kind=SessionKind.AGENT, agent_id=agent.id
            )

    # A's people: one to follow (nothing booked, due in 4 days), one booked.
    ids["person_read"], ids["journey_read"] = await w.new_journey(
        name="Authzlefort", due=date(2026, 12, 5)
    )
    ids["person_booked"], ids["journey_booked"] = await w.new_journey(name="Authzmarchand")
    ids["appointment"] = await w.book(ids["journey_booked"], datetime(2026, 12, 3, 9, tzinfo=UTC))
    # A's admin reads it: a line in the person's read trail.
    r = await w.api("admin_a", "GET", f"/api/v1/appointments/{ids['appointment']}")
    assert r.status_code == 200, r.text
    ids["rule"] = await w.new_rule()
    ids["absence"] = await w.new_absence()
    w.holder_cookie = (await w.person_session())["cookie"]

    # CTO: A's series (A's partner swore the charter), a spare series whose sessions are moved
    # and cancelled, A's requests.
    for key, name in (("series", "CTO Laon"), ("spare_series", "CTO Chauny")):
        r = await w.api(
            "anim_a",
            "POST",
            "/api/v1/cto-series",
            json={
                "territory_id": str(ids["territory"]),
                "organisation_id": str(ids["org_a"]),
                "name": name,
                "starts_on": "2026-12-10",
                "place_id": str(ids["place_a"]),
            },
        )
        assert r.status_code == 201, r.text
        ids[key] = uuid.UUID(r.json()["id"])
    r = await w.api(
        "anim_a",
        "POST",
        f"/api/v1/cto-series/{ids['series']}/members",
        json={"agent_id": str(ids["partner_a"]), "charter_accepted_on": "2026-11-20"},
    )
    assert r.status_code == 201, r.text
    sessions_of = {}
    for key in ("series", "spare_series"):
        r = await w.api("anim_a", "GET", f"/api/v1/cto-series/{ids[key]}/sessions")
        assert r.status_code == 200 and len(r.json()) >= 10, r.text
        sessions_of[key] = [uuid.UUID(x["id"]) for x in r.json()]
    ids["session_open"], ids["session_frozen"], ids["session_held"] = sessions_of["series"][:3]
    w._pool = sessions_of["spare_series"]
    async with db.unit_of_work(clock=clock) as uow:
        held = await uow.session.get(CtoSession, ids["session_held"])
        assert held is not None
        held.starts_at = clock.now() - timedelta(days=5)
        held.ends_at = held.starts_at + timedelta(hours=2)
        frozen = await uow.session.get(CtoSession, ids["session_frozen"])
        assert frozen is not None
        frozen.frozen_at = clock.now()
    ids["request"] = await w.new_request(submitted_at=clock.now() - timedelta(days=4))
    ids["request_on_agenda"] = await w.new_request(
        session="session_frozen", status=RequestStatus.ON_AGENDA, name="Authzagenda"
    )
    return w
