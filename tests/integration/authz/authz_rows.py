"""How each row of the matrix is tried: the target it acts on (A's object), the request an
actor sends, and what proves a read (A's object in the answer) or a change (in the database).

A row's ``target`` is built once for reads; for writes it is built again after every cell that
changed it (``fresh="change"``), or for every cell (``fresh="always"``) when each actor acts on
their own things."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from tests.integration.authz.authz_world import AGENT_ACTORS, HOLDER, PASSWORD, Call, World
from twilio.request_validator import RequestValidator

from rdv_spie.agents.models import Agent, Membership
from rdv_spie.calendars.models import CalendarFeed, FeedKind
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSeries, CtoSession
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import (
    Absence,
    Appointment,
    AppointmentStatus,
    AppointmentType,
    AvailabilityRule,
)
from rdv_spie.territories.models import Organisation, Place
from rdv_spie.web.models import WebSession

T = Any  # a row's target: whatever its builder returns
Target = Callable[[World], Awaitable[T]]
MakeCall = Callable[[World, T, str], Call]
Read = Callable[[World, T, httpx.Response, str], bool]
Changed = Callable[[World, T, str], Awaitable[bool]]


@dataclass
class Row:
    method: str
    path: str
    kind: str  # api, office, public, feed, webhook
    call: MakeCall
    target: Target | None = None
    read: Read | None = None  # safe rows; None: an open page
    changed: Changed | None = None  # unsafe rows; None: an open page
    variant: str = ""
    fresh: str = "change"  # writes: "change" (after a cell changed it) or "always"
    refusals: frozenset[int] = frozenset({403, 404})  # statuses that refuse on this row

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}" + (f" [{self.variant}]" if self.variant else "")


def has(*keys: str) -> Read:
    """The answer names these objects of the world (ids, or words such as a person's name)."""

    def check(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return all(str(w.ids.get(k, k)) in r.text for k in keys)

    return check


def has_target(w: World, t: T, r: httpx.Response, a: str) -> bool:
    return str(t if not isinstance(t, dict) else t["id"]) in r.text


def any_2xx(w: World, t: T, r: httpx.Response, a: str) -> bool:
    return 200 <= r.status_code < 300


def redirect_to(prefix: str) -> Read:
    def check(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return r.status_code in (302, 303) and r.headers.get("location", "").startswith(prefix)

    return check


async def _count(w: World, statement: Any) -> int:
    return int(await w.scalar(statement) or 0)


def _status_is(status: AppointmentStatus) -> Changed:
    async def check(w: World, t: T, actor: str) -> bool:
        row = await w.get(Appointment, t["id"])
        return bool(row.status == status)

    return check


async def _journey_booked(w: World, t: T, actor: str) -> bool:
    journey = t["journey"] if isinstance(t, dict) else t
    return (
        await _count(
            w,
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.journey_id == journey, Appointment.status == "booked"),
        )
        > 0
    )


async def _person_booked(w: World, t: T, actor: str) -> bool:
    return (
        await _count(
            w,
            select(func.count())
            .select_from(Appointment)
            .where(Appointment.person_id == t["person"]),
        )
        > 0
    )


async def _new_person_booked(w: World, t: T, actor: str) -> bool:
    return (
        await _count(
            w,
            select(func.count())
            .select_from(Appointment)
            .join(Person, Person.id == Appointment.person_id)
            .where(Person.last_name == t["name"]),
        )
        > 0
    )


async def _gone(model: Any, w: World, ident: uuid.UUID) -> bool:
    return await w.get(model, ident) is None


def _person_named(w: World, name: str) -> Any:
    return select(func.count()).select_from(Person).where(Person.last_name == name)


def _booking(w: World, **extra: Any) -> dict[str, Any]:
    return {
        "appointment_type_id": str(w.ids["type"]),
        "place_id": str(w.ids["place_a"]),
        "starts_at": w.slot().isoformat(),
        **extra,
    }


async def _journey_target(w: World) -> dict[str, Any]:
    person, journey = await w.new_journey()
    return {"person": person, "journey": journey}


async def _named(w: World) -> dict[str, Any]:
    return {"name": w.marker("Nom")}


async def _feed_count(w: World, kind: FeedKind, subject: uuid.UUID | None) -> int:
    return await w.live_feeds(kind, subject)


def _series_member(w: World) -> Any:
    return select(CtoMember).where(
        CtoMember.series_id == w.ids["series"], CtoMember.agent_id == w.ids["member_a"]
    )


async def _member_target(w: World, *, member: bool) -> dict[str, Any]:
    await w.set_member(member=member)
    return {"date": date(2026, 11, 1) + timedelta(days=w.n() % 28)}


def _window(**extra: str) -> dict[str, str]:
    return {"from": "2026-11-30T00:00:00Z", "to": "2027-01-30T00:00:00Z", **extra}


# ------------------------------------------------------------------------------ API rows


def _api_rows() -> list[Row]:
    ids_get: list[Row] = []
    for path, url, key in (
        ("/api/v1/territories", "/api/v1/territories", "territory"),
        ("/api/v1/organisations", "/api/v1/organisations", "org_a"),
        ("/api/v1/places", "/api/v1/places", "place_a"),
        ("/api/v1/appointment-types", "/api/v1/appointment-types", "type"),
        ("/api/v1/agents", "/api/v1/agents", "ref_a2"),
        ("/api/v1/availability-rules", "/api/v1/availability-rules", "rule"),
        ("/api/v1/absences", "/api/v1/absences", "absence"),
        ("/api/v1/cohorts", "/api/v1/cohorts", "cohort_a"),
        ("/api/v1/cto-series", "/api/v1/cto-series", "series"),
        ("/api/v1/cto-requests", "/api/v1/cto-requests", "request"),
    ):
        ids_get.append(Row("GET", path, "api", lambda w, t, a, url=url: Call(url), read=has(key)))
    for path, template, key in (
        ("/api/v1/territories/{territory_id:uuid}", "/api/v1/territories/{}", "territory"),
        ("/api/v1/organisations/{organisation_id:uuid}", "/api/v1/organisations/{}", "org_a"),
        ("/api/v1/places/{place_id:uuid}", "/api/v1/places/{}", "place_a"),
        ("/api/v1/appointment-types/{type_id:uuid}", "/api/v1/appointment-types/{}", "type"),
        ("/api/v1/agents/{agent_id:uuid}", "/api/v1/agents/{}", "ref_a2"),
        ("/api/v1/availability-rules/{rule_id:uuid}", "/api/v1/availability-rules/{}", "rule"),
        (
            "/api/v1/appointments/{appointment_id:uuid}",
            "/api/v1/appointments/{}",
            "appointment",
        ),
        ("/api/v1/cohorts/{cohort_id:uuid}", "/api/v1/cohorts/{}", "cohort_a"),
        ("/api/v1/cto-series/{series_id:uuid}", "/api/v1/cto-series/{}", "series"),
        ("/api/v1/cto-sessions/{session_id:uuid}", "/api/v1/cto-sessions/{}", "session_open"),
        ("/api/v1/cto-requests/{request_id:uuid}", "/api/v1/cto-requests/{}", "request"),
    ):
        ids_get.append(
            Row(
                "GET",
                path,
                "api",
                lambda w, t, a, template=template, key=key: Call(template.format(w.ids[key])),
                read=has(key),
            )
        )
    ids_get += [
        Row(
            "GET",
            "/api/v1/slots",
            "api",
            lambda w, t, a: Call(
                "/api/v1/slots",
                params={
                    "appointment_type_id": str(w.ids["type"]),
                    "from": "2026-12-02T00:00:00Z",
                    "to": "2026-12-09T00:00:00Z",
                },
            ),
            read=has("place_a", "starts_at"),
        ),
        Row(
            "GET",
            "/api/v1/appointments",
            "api",
            lambda w, t, a: Call("/api/v1/appointments", params=_window()),
            read=has("appointment"),
        ),
        Row(
            "GET",
            "/api/v1/cohorts/{cohort_id:uuid}/journeys",
            "api",
            lambda w, t, a: Call(f"/api/v1/cohorts/{w.ids['cohort_a']}/journeys"),
            read=has("journey_read"),
        ),
        Row(
            "GET",
            "/api/v1/people/{person_id:uuid}/reads",
            "api",
            lambda w, t, a: Call(f"/api/v1/people/{w.ids['person_booked']}/reads"),
            read=has("admin_a"),
        ),
        Row(
            "GET",
            "/api/v1/indicators",
            "api",
            lambda w, t, a: Call(
                "/api/v1/indicators", params={"from": "2026-11-01", "to": "2026-12-31"}
            ),
            read=has("cohort_a"),
        ),
        Row(
            "GET",
            "/api/v1/indicators/csv",
            "api",
            lambda w, t, a: Call(
                "/api/v1/indicators/csv", params={"from": "2026-11-01", "to": "2026-12-31"}
            ),
            read=has("cohort_a"),
        ),
        Row(
            "GET",
            "/api/v1/cto-series/{series_id:uuid}/sessions",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-series/{w.ids['series']}/sessions"),
            read=has("session_open"),
        ),
        Row(
            "GET",
            "/api/v1/cto-series/{series_id:uuid}/members",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-series/{w.ids['series']}/members"),
            read=has("partner_a"),
        ),
        Row(
            "GET",
            "/api/v1/cto-sessions/{session_id:uuid}/agenda",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-sessions/{w.ids['session_frozen']}/agenda"),
            read=has("Authzagenda"),
        ),
        Row(
            "GET",
            "/api/v1/cto-requests/overdue",
            "api",
            lambda w, t, a: Call(
                "/api/v1/cto-requests/overdue", params={"territory_id": str(w.ids["territory"])}
            ),
            read=has("request"),
        ),
    ]
    return ids_get + _api_writes() + _feed_link_rows() + _cto_writes()


def _api_writes() -> list[Row]:
    async def place_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(Place.name == t["name"])) > 0

    async def org_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(Organisation.name == t["name"])) > 0

    async def type_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(AppointmentType.name == t["name"])) > 0

    async def cohort_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(Cohort.name == t["name"])) > 0

    async def agent_in_a(w: World, t: T, a: str) -> bool:
        return (
            await _count(
                w,
                select(func.count())
                .select_from(Membership)
                .join(Agent, Agent.id == Membership.agent_id)
                .where(Agent.email == t["email"], Membership.organisation_id == w.ids["org_a"]),
            )
            > 0
        )

    async def captured(w: World, t: T, a: str) -> bool:
        return (
            await _count(
                w,
                select(func.count())
                .select_from(Membership)
                .where(
                    Membership.agent_id == w.ids["ref_a2"],
                    Membership.organisation_id != w.ids["org_a"],
                ),
            )
            > 0
        )

    async def capture_target(w: World) -> None:
        from sqlalchemy import delete

        async with w.db.unit_of_work(clock=w.clock) as uow:
            await uow.session.execute(
                delete(Membership).where(
                    Membership.agent_id == w.ids["ref_a2"],
                    Membership.organisation_id != w.ids["org_a"],
                )
            )

    async def marked_place(w: World, t: T, a: str) -> bool:
        return bool((await w.get(Place, w.ids["place_a"])).city == t["name"])

    async def marked_type(w: World, t: T, a: str) -> bool:
        return bool((await w.get(AppointmentType, w.ids["type"])).what_to_bring == t["name"])

    async def marked_cohort(w: World, t: T, a: str) -> bool:
        return bool((await w.get(Cohort, t["id"])).name == t["name"])

    async def cohort_target(w: World) -> dict[str, Any]:
        return {"id": await w.new_cohort(), "name": w.marker("Cohorte")}

    async def rule_added(w: World, t: T, a: str) -> bool:
        return (
            await _count(
                w,
                select(func.count()).where(
                    AvailabilityRule.agent_id == w.ids["ref_a2"],
                    AvailabilityRule.valid_from == t["from"],
                ),
            )
            > 0
        )

    async def rule_target(w: World) -> dict[str, Any]:
        return {"from": date(2032, 1, 5) + timedelta(weeks=w.n())}

    def rule_body(w: World, start: date, agent: bool = True) -> dict[str, Any]:
        return {
            **({"agent_id": str(w.ids["ref_a2"])} if agent else {}),
            "place_id": str(w.ids["place_a"]),
            "weekdays": [0, 1],
            "start_time": "19:00:00",  # after A's referent's daily hours (08:00-18:00)
            "end_time": "20:00:00",
            "valid_from": start.isoformat(),
            "valid_until": (start + timedelta(days=6)).isoformat(),
            "appointment_type_ids": [str(w.ids["type"])],
        }

    async def rule_replaced(w: World, t: T, a: str) -> bool:
        rule = await w.get(AvailabilityRule, t)
        return bool(rule.end_time.hour == 20)

    async def absence_added(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(Absence.starts_at == t["starts_at"])) > 0

    async def absence_target(w: World) -> dict[str, Any]:
        return {"starts_at": datetime(2033, 1, 3, 8, tzinfo=UTC) + timedelta(days=w.n())}

    async def people_added(w: World, t: T, a: str) -> bool:
        return await _count(w, _person_named(w, t["name"])) > 0

    async def moved(w: World, t: T, a: str) -> bool:
        row = await w.get(Appointment, t["id"])
        return bool(row.starts_at == t["to"])

    async def move_target(w: World) -> dict[str, Any]:
        return {**await w.new_appointment(), "to": w.slot()}

    return [
        Row(
            "POST",
            "/api/v1/organisations",
            "api",
            lambda w, t, a: Call(
                "/api/v1/organisations",
                json={"territory_id": str(w.ids["territory"]), "name": t["name"], "kind": "caf"},
            ),
            target=_named,
            changed=org_named,
        ),
        Row(
            "POST",
            "/api/v1/places",
            "api",
            lambda w, t, a: Call(
                "/api/v1/places",
                json={
                    "organisation_id": str(w.ids["org_a"]),
                    "name": t["name"],
                    "kind": "address",
                    "address": "2 rue de l'Exemple",
                },
            ),
            target=_named,
            changed=place_named,
        ),
        Row(
            "PATCH",
            "/api/v1/places/{place_id:uuid}",
            "api",
            lambda w, t, a: Call(f"/api/v1/places/{w.ids['place_a']}", json={"city": t["name"]}),
            target=_named,
            changed=marked_place,
        ),
        Row(
            "POST",
            "/api/v1/appointment-types",
            "api",
            lambda w, t, a: Call(
                "/api/v1/appointment-types",
                json={"territory_id": str(w.ids["territory"]), "name": t["name"]},
            ),
            target=_named,
            changed=type_named,
        ),
        Row(
            "PATCH",
            "/api/v1/appointment-types/{type_id:uuid}",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/appointment-types/{w.ids['type']}", json={"what_to_bring": t["name"]}
            ),
            target=_named,
            changed=marked_type,
        ),
        Row(
            "POST",
            "/api/v1/agents",
            "api",
            lambda w, t, a: Call(
                "/api/v1/agents",
                json={
                    "organisation_id": str(w.ids["org_a"]),
                    "role": "referent",
                    "email": t["email"],
                    "first_name": "Nouvelle",
                    "last_name": "Recrue",
                },
            ),
            target=lambda w: _email(w),
            changed=agent_in_a,
            variant="new e-mail into A",
        ),
        Row(
            "POST",
            "/api/v1/agents",
            "api",
            lambda w, t, a: Call(
                "/api/v1/agents",
                json={
                    "organisation_id": str(w.own_org(a)),
                    "role": "referent",
                    "email": w.emails["ref_a2"],
                    "first_name": "Ref",
                    "last_name": "Authz",
                },
            ),
            target=capture_target,
            changed=captured,
            variant="A's referent's e-mail into own org",
            refusals=frozenset({403, 404, 409}),  # the policy's 409: a clear refusal
        ),
        Row(
            "POST",
            "/api/v1/availability-rules",
            "api",
            lambda w, t, a: Call("/api/v1/availability-rules", json=rule_body(w, t["from"])),
            target=rule_target,
            changed=rule_added,
        ),
        Row(
            "PUT",
            "/api/v1/availability-rules/{rule_id:uuid}",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/availability-rules/{t}",
                json=rule_body(w, date(2040, 1, 2) + timedelta(weeks=w.n()), agent=False),
            ),
            target=lambda w: w.new_rule(),
            changed=rule_replaced,
        ),
        Row(
            "DELETE",
            "/api/v1/availability-rules/{rule_id:uuid}",
            "api",
            lambda w, t, a: Call(f"/api/v1/availability-rules/{t}"),
            target=lambda w: w.new_rule(),
            changed=lambda w, t, a: _gone(AvailabilityRule, w, t),
        ),
        Row(
            "POST",
            "/api/v1/absences",
            "api",
            lambda w, t, a: Call(
                "/api/v1/absences",
                json={
                    "agent_id": str(w.ids["ref_a2"]),
                    "starts_at": t["starts_at"].isoformat(),
                    "ends_at": (t["starts_at"] + timedelta(hours=1)).isoformat(),
                },
            ),
            target=absence_target,
            changed=absence_added,
        ),
        Row(
            "DELETE",
            "/api/v1/absences/{absence_id:uuid}",
            "api",
            lambda w, t, a: Call(f"/api/v1/absences/{t}"),
            target=lambda w: w.new_absence(),
            changed=lambda w, t, a: _gone(Absence, w, t),
        ),
        Row(
            "POST",
            "/api/v1/appointments",
            "api",
            lambda w, t, a: Call(
                "/api/v1/appointments", json=_booking(w, journey_id=str(t["journey"]))
            ),
            target=_journey_target,
            changed=_journey_booked,
            variant="journey_id",
        ),
        Row(
            "POST",
            "/api/v1/appointments",
            "api",
            lambda w, t, a: Call(
                "/api/v1/appointments", json=_booking(w, person_id=str(t["person"]))
            ),
            target=_journey_target,
            changed=_person_booked,
            variant="person_id",
        ),
        Row(
            "POST",
            "/api/v1/appointments",
            "api",
            lambda w, t, a: Call(
                "/api/v1/appointments",
                json=_booking(w, person={"first_name": "Sacha", "last_name": t["name"]}),
            ),
            target=_named,
            changed=_new_person_booked,
            variant="new person in A's hours",
            # B has no hours there: A's referent's time is not B's to give (422
            # outside_availability, nothing written).
            refusals=frozenset({403, 404, 422}),
        ),
        Row(
            "POST",
            "/api/v1/appointments/{appointment_id:uuid}/cancel",
            "api",
            lambda w, t, a: Call(f"/api/v1/appointments/{t['id']}/cancel", json={"by": "service"}),
            target=lambda w: w.new_appointment(),
            changed=_status_is(AppointmentStatus.REVOKED),
        ),
        Row(
            "POST",
            "/api/v1/appointments/{appointment_id:uuid}/move",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/appointments/{t['id']}/move", json={"starts_at": t["to"].isoformat()}
            ),
            target=move_target,
            changed=moved,
        ),
        Row(
            "POST",
            "/api/v1/appointments/{appointment_id:uuid}/status",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/appointments/{t['id']}/status", json={"status": "excused"}
            ),
            target=lambda w: w.new_appointment(),
            changed=_status_is(AppointmentStatus.EXCUSED),
        ),
        Row(
            "POST",
            "/api/v1/cohorts",
            "api",
            lambda w, t, a: Call(
                "/api/v1/cohorts",
                json={
                    "territory_id": str(w.ids["territory"]),
                    "name": t["name"],
                    "appointment_type_id": str(w.ids["type"]),
                    "organisation_id": str(w.ids["org_a"]),
                },
            ),
            target=_named,
            changed=cohort_named,
        ),
        Row(
            "PATCH",
            "/api/v1/cohorts/{cohort_id:uuid}",
            "api",
            lambda w, t, a: Call(f"/api/v1/cohorts/{t['id']}", json={"name": t["name"]}),
            target=cohort_target,
            changed=marked_cohort,
        ),
        Row(
            "POST",
            "/api/v1/cohorts/{cohort_id:uuid}/people",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cohorts/{w.ids['cohort_a']}/people",
                json={
                    "people": [
                        {
                            "first_name": "Zoé",
                            "last_name": t["name"],
                            "email": f"{t['name'].lower()}@exemple.fr",
                        }
                    ]
                },
            ),
            target=_named,
            changed=people_added,
        ),
        Row(
            "POST",
            "/api/v1/cohorts/{cohort_id:uuid}/imports",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cohorts/{w.ids['cohort_a']}/imports",
                content=(
                    "Nom;Prénom;Date de naissance;Téléphone;Courriel;N° CAF;Date d'entrée\n"
                    f"{t['name']};Zoé;01/01/1990;;{t['name'].lower()}@exemple.fr;;\n"
                ).encode(),
                headers={"Content-Type": "text/csv"},
            ),
            target=_named,
            changed=people_added,
        ),
        Row(
            "POST",
            "/api/v1/journeys/{journey_id:uuid}/unlock",
            "api",
            lambda w, t, a: Call(f"/api/v1/journeys/{t}/unlock"),
            target=_locked_journey,
            changed=_unlocked,
        ),
        Row(
            "POST",
            "/api/v1/journeys/{journey_id:uuid}/close",
            "api",
            lambda w, t, a: Call(f"/api/v1/journeys/{t}/close", json={"reason": "refus"}),
            target=_open_journey,
            changed=_closed,
            refusals=frozenset({403, 404}),
        ),
    ]


async def _email(w: World) -> dict[str, str]:
    return {"email": f"{w.marker('recrue').lower()}@authz.test"}


async def _locked_journey(w: World) -> uuid.UUID:
    _, journey = await w.new_journey(locked=True)
    return journey


async def _unlocked(w: World, t: T, a: str) -> bool:
    return bool((await w.get(Journey, t)).identity_locked_at is None)


async def _open_journey(w: World) -> uuid.UUID:
    _, journey = await w.new_journey()
    return journey


async def _closed(w: World, t: T, a: str) -> bool:
    return bool((await w.get(Journey, t)).closed_at is not None)


async def _invited_again(w: World, t: T, a: str) -> bool:
    from rdv_spie.notifications.models import Notification

    return (
        await _count(
            w,
            select(func.count())
            .select_from(Notification)
            .where(Notification.journey_id == t, Notification.name == "invitation"),
        )
        > 0
    )


def _feed_link_rows() -> list[Row]:
    """Feed links: the territory's and the series' (A's territory), and one's own (``me``)."""
    rows: list[Row] = []
    for kind, prefix, key in (
        (FeedKind.TERRITORY, "/api/v1/calendar-feeds/territories/{territory_id:uuid}", "territory"),
        (FeedKind.CTO_SERIES, "/api/v1/calendar-feeds/cto-series/{series_id:uuid}", "series"),
        (FeedKind.AGENT, "/api/v1/calendar-feeds/me", None),
    ):

        def url(w: World, a: str, prefix: str = prefix, key: str | None = key) -> str:
            return prefix.split("{")[0] + str(w.ids[key]) if key else prefix

        def subject(w: World, a: str, key: str | None = key) -> uuid.UUID | None:
            return w.ids[key] if key else w.agent(a)

        async def nothing(w: World) -> None:
            return None

        async def created(
            w: World, t: T, a: str, kind: FeedKind = kind, subject: Any = subject
        ) -> bool:
            from rdv_spie.calendars.models import CalendarFeed

            if w.agent(a) is None:
                return False
            found = await w.scalar(
                select(func.count())
                .select_from(CalendarFeed)
                .where(
                    CalendarFeed.kind == kind,
                    CalendarFeed.subject_id == subject(w, a),
                    CalendarFeed.created_by_agent_id == w.agent(a),
                    CalendarFeed.revoked_at.is_(None),
                )
            )
            return bool(found)

        def live(kind: FeedKind = kind, key: str | None = key) -> Target:
            async def make(w: World) -> None:
                for subject_id in [w.ids[key]] if key else [w.ids[x] for x in AGENT_ACTORS]:
                    await w.issue_feed(kind, subject_id)

            return make

        async def revoked(
            w: World, t: T, a: str, kind: FeedKind = kind, subject: Any = subject
        ) -> bool:
            found = subject(w, a)
            return found is not None and await w.live_feeds(kind, found) == 0

        def read(w: World, t: T, r: httpx.Response, a: str, subject: Any = subject) -> bool:
            found = subject(w, a)
            return found is not None and str(found) in r.text

        rows += [
            Row("GET", prefix, "api", lambda w, t, a, url=url: Call(url(w, a)), read=read),
            Row(
                "POST",
                prefix,
                "api",
                lambda w, t, a, url=url: Call(url(w, a)),
                target=nothing,
                changed=created,
                fresh="always",
            ),
            Row(
                "DELETE",
                prefix,
                "api",
                lambda w, t, a, url=url: Call(url(w, a)),
                target=live(),
                changed=revoked,
                fresh="always",
            ),
        ]
    return rows


def _cto_writes() -> list[Row]:
    async def series_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(CtoSeries.name == t["name"])) > 0

    async def series_marked(w: World, t: T, a: str) -> bool:
        series = await w.get(CtoSeries, w.ids["series"])
        return bool(series.video_url == f"https://visio.example.org/{t['name']}")

    async def member_is(w: World, t: T, a: str) -> bool:
        return await w.scalar(_series_member(w)) is not None

    async def member_gone(w: World, t: T, a: str) -> bool:
        return await w.scalar(_series_member(w)) is None

    async def charter_dated(w: World, t: T, a: str) -> bool:
        member = await w.scalar(_series_member(w))
        return member is not None and member.charter_accepted_on == t["date"]

    async def pooled(w: World) -> uuid.UUID:
        return w.pooled_session()

    async def session_moved(w: World, t: T, a: str) -> bool:
        return bool((await w.get(CtoSession, t)).sequence > 0)

    async def session_cancelled(w: World, t: T, a: str) -> bool:
        return bool((await w.get(CtoSession, t)).status == "cancelled")

    async def submitted(w: World, t: T, a: str) -> bool:
        return (
            await _count(
                w,
                select(func.count())
                .select_from(CtoRequest)
                .where(CtoRequest.person_id == t["person"]),
            )
            > 0
        )

    async def request_target(w: World) -> uuid.UUID:
        return await w.new_request()

    async def request_field(w: World, t: T, a: str, field: str, value: Any) -> bool:
        row = await w.get(CtoRequest, t["id"] if isinstance(t, dict) else t)
        return bool(getattr(row, field) == value)

    async def summary_target(w: World) -> dict[str, Any]:
        return {"id": await w.new_request(), "name": w.marker("Resume")}

    async def decision_target(w: World) -> dict[str, Any]:
        from rdv_spie.committees.models import RequestStatus

        request = await w.new_request(session="session_held", status=RequestStatus.ON_AGENDA)
        return {"id": request, "name": w.marker("Decision")}

    async def person_target(w: World) -> dict[str, Any]:
        person, _ = await w.new_journey()  # followed by A
        return {"person": person}

    async def move_to(w: World, session: uuid.UUID) -> str:
        row = await w.get(CtoSession, session)
        return str((row.starts_at + timedelta(days=1)).isoformat())

    move_times: dict[uuid.UUID, str] = {}

    async def move_target(w: World) -> uuid.UUID:
        session = w.pooled_session()
        move_times[session] = await move_to(w, session)
        return session

    return [
        Row(
            "POST",
            "/api/v1/cto-series",
            "api",
            lambda w, t, a: Call(
                "/api/v1/cto-series",
                json={
                    "territory_id": str(w.ids["territory"]),
                    "organisation_id": str(w.ids["org_a"]),
                    "name": t["name"],
                    "starts_on": "2027-03-04",
                    "video_url": "https://visio.example.org/cto",
                },
            ),
            target=_named,
            changed=series_named,
        ),
        Row(
            "PATCH",
            "/api/v1/cto-series/{series_id:uuid}",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-series/{w.ids['series']}",
                json={"video_url": f"https://visio.example.org/{t['name']}"},
            ),
            target=_named,
            changed=series_marked,
        ),
        Row(
            "POST",
            "/api/v1/cto-series/{series_id:uuid}/members",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-series/{w.ids['series']}/members",
                json={"agent_id": str(w.ids["member_a"])},
            ),
            target=lambda w: _member_target(w, member=False),
            changed=member_is,
        ),
        Row(
            "POST",
            "/api/v1/cto-series/{series_id:uuid}/members/{agent_id:uuid}/charter",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-series/{w.ids['series']}/members/{w.ids['member_a']}/charter",
                json={"accepted_on": t["date"].isoformat()},
            ),
            target=lambda w: _member_target(w, member=True),
            changed=charter_dated,
        ),
        Row(
            "DELETE",
            "/api/v1/cto-series/{series_id:uuid}/members/{agent_id:uuid}",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-series/{w.ids['series']}/members/{w.ids['member_a']}"
            ),
            target=lambda w: _member_target(w, member=True),
            changed=member_gone,
        ),
        Row(
            "POST",
            "/api/v1/cto-sessions/{session_id:uuid}/move",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-sessions/{t}/move", json={"starts_at": move_times[t]}
            ),
            target=move_target,
            changed=session_moved,
        ),
        Row(
            "POST",
            "/api/v1/cto-sessions/{session_id:uuid}/cancel",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-sessions/{t}/cancel"),
            target=pooled,
            changed=session_cancelled,
        ),
        Row(
            "POST",
            "/api/v1/cto-requests",
            "api",
            lambda w, t, a: Call(
                "/api/v1/cto-requests",
                json={
                    "session_id": str(w.ids["session_open"]),
                    "person_id": str(t["person"]),
                    "thematics": ["mobilite"],
                    "summary": "Pas de permis.",
                    "consent": True,
                },
            ),
            target=person_target,
            changed=submitted,
        ),
        Row(
            "PATCH",
            "/api/v1/cto-requests/{request_id:uuid}",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-requests/{t['id']}", json={"summary": t["name"]}),
            target=summary_target,
            changed=lambda w, t, a: request_field(w, t, a, "summary", t["name"]),
        ),
        Row(
            "POST",
            "/api/v1/cto-requests/{request_id:uuid}/withdraw",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-requests/{t}/withdraw"),
            target=request_target,
            changed=lambda w, t, a: request_field(w, t, a, "status", "withdrawn"),
        ),
        Row(
            "POST",
            "/api/v1/cto-requests/{request_id:uuid}/acknowledge",
            "api",
            lambda w, t, a: Call(f"/api/v1/cto-requests/{t}/acknowledge"),
            target=request_target,
            changed=lambda w, t, a: request_field(w, t, a, "status", "acknowledged"),
        ),
        Row(
            "POST",
            "/api/v1/cto-requests/{request_id:uuid}/decision",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/cto-requests/{t['id']}/decision", json={"decision": t["name"]}
            ),
            target=decision_target,
            changed=lambda w, t, a: request_field(w, t, a, "decision", t["name"]),
        ),
    ]


def _cohort_form(w: World, name: str) -> dict[str, Any]:
    """A cohort's back-office form: A's type and organisation (another territory's agent is
    refused them), every setting filled."""
    return {
        "name": name,
        "appointment_type_id": str(w.ids["type"]),
        "organisation_id": str(w.ids["org_a"]),
        "entry_delay_days": "30",
        "invite_within_days": "3",
        "invitation_valid_days": "10",
        "reminder_days": "3, 7",
        "deadline_alert_days": "7",
        "send_window_start": "09:00",
        "send_window_end": "19:00",
        "send_weekdays": ["0", "1", "2", "3", "4"],
        "active": "1",
    }


async def _cohort_exists(w: World, name: str, cohort_id: uuid.UUID | None = None) -> bool:
    query = select(func.count()).select_from(Cohort).where(Cohort.name == name)
    if cohort_id is not None:
        query = query.where(Cohort.id == cohort_id)
    return await _count(w, query) > 0


async def _marked_cohort_target(w: World) -> dict[str, Any]:
    return {"id": await w.new_cohort(), "name": w.marker("Cohorte")}


# ------------------------------------------------------------------------------ back office


def _office_rows() -> list[Row]:
    async def own_count(w: World, model: Any, a: str) -> int:
        agent = w.agent(a)
        if agent is None:
            return 0
        return await _count(w, select(func.count()).where(model.agent_id == agent))

    async def counts(w: World) -> dict[str, int]:
        return {}

    def grew(model: Any) -> Changed:
        async def check(w: World, t: T, a: str) -> bool:
            return await own_count(w, model, a) > t.get(a, 0)

        return check

    def snapshot(model: Any) -> Target:
        async def make(w: World) -> dict[str, int]:
            return {a: await own_count(w, model, a) for a in AGENT_ACTORS}

        return make

    async def logout_target(w: World) -> dict[str, str]:
        from rdv_spie.web import sessions
        from rdv_spie.web.models import SessionKind

        cookies = {}
        async with w.db.unit_of_work(clock=w.clock) as uow:
            for a in AGENT_ACTORS:
                cookies[a], _ = await sessions.open_session(
                    uow, w.settings, kind=SessionKind.AGENT, agent_id=w.ids[a]
                )
        return cookies

    async def feed_created(w: World, t: T, a: str) -> bool:
        return await _feed_count(w, FeedKind.AGENT, w.agent(a)) > 0

    async def revoke_own_feeds(w: World) -> None:
        from sqlalchemy import update

        from rdv_spie.calendars.models import CalendarFeed

        async with w.db.unit_of_work(clock=w.clock) as uow:
            await uow.session.execute(
                update(CalendarFeed)
                .where(
                    CalendarFeed.kind == FeedKind.AGENT,
                    CalendarFeed.subject_id.in_([w.ids[a] for a in AGENT_ACTORS]),
                )
                .values(revoked_at=w.clock.now())
            )

    async def session_opened(w: World, t: T, a: str) -> bool:
        return True

    def rule_form(w: World, t: T, a: str) -> Call:
        start = date(2034, 1, 2) + timedelta(weeks=w.n())
        return Call(
            "/agent/disponibilites/plages",
            data={
                "place_id": str(w.own_place(a)),
                "weekdays": ["0", "2"],
                "start_time": "14:00",
                "end_time": "15:00",
                "valid_from": start.isoformat(),
                "valid_until": (start + timedelta(days=6)).isoformat(),
                "appointment_type_ids": [str(w.own_type(a))],
            },
        )

    def absence_form(w: World, t: T, a: str) -> Call:
        day = date(2035, 1, 1) + timedelta(days=w.n())
        return Call(
            "/agent/disponibilites/absences",
            data={
                "starts_at": f"{day.isoformat()}T09:00",
                "ends_at": f"{day.isoformat()}T10:00",
                "title": "Formation",
            },
        )

    def booking_form(w: World, t: T, a: str) -> Call:
        return Call(
            "/agent/prise-de-rdv",
            data={
                "parcours": str(t["journey"]),
                "motif": str(w.ids["type"]),
                "lieu": str(w.ids["place_a"]),
                "debut": w.slot().isoformat(),
                "cle": w.marker("cle"),
            },
        )

    async def acting_for_a(w: World, t: T, a: str) -> bool:
        from rdv_spie.web import sessions

        token = w.agent_cookies.get(a)
        if not token:
            return False
        acting = await w.scalar(
            select(WebSession.acting_organisation_id).where(
                WebSession.token_hash == sessions.hash_token(token)
            )
        )
        return bool(acting == t)

    async def a_organisation(w: World) -> uuid.UUID:
        return w.ids["org_a"]

    return [
        Row(
            "GET",
            "/agent",
            "office",
            lambda w, t, a: Call("/agent"),
            read=lambda w, t, r, a: r.status_code == 303,  # to the agent's first page
        ),
        Row(
            "GET",
            "/agent/structure",
            "office",
            lambda w, t, a: Call("/agent/structure"),
            read=any_2xx,
        ),
        Row(
            "POST",
            "/agent/structure",
            "office",
            lambda w, t, a: Call("/agent/structure", data={"organisation_id": str(t)}),
            target=a_organisation,
            changed=acting_for_a,
            fresh="always",
            refusals=frozenset({403, 404, 422}),
        ),
        # ---- the territory team's office (issue 15): cohorts and imports
        *_import_rows(),
        Row(
            "GET",
            "/agent/cohortes",
            "office",
            lambda w, t, a: Call("/agent/cohortes"),
            read=has("cohort_a"),
        ),
        Row(
            "GET",
            "/agent/cohortes/nouvelle",
            "office",
            lambda w, t, a: Call("/agent/cohortes/nouvelle"),
            read=has("type", "org_a"),  # A's territory's types and organisations offered
        ),
        Row(
            "POST",
            "/agent/cohortes/nouvelle",
            "office",
            lambda w, t, a: Call("/agent/cohortes/nouvelle", data=_cohort_form(w, t["name"])),
            target=_named,
            changed=lambda w, t, a: _cohort_exists(w, t["name"]),
            refusals=frozenset({403, 404, 422}),  # another territory: A's type is not listed
        ),
        Row(
            "GET",
            "/agent/cohortes/{cohort_id:uuid}",
            "office",
            lambda w, t, a: Call(f"/agent/cohortes/{w.ids['cohort_a']}"),
            read=has("cohort_a", "Jeunes 18-30 ans"),
        ),
        Row(
            "GET",
            "/agent/cohortes/{cohort_id:uuid}/modifier",
            "office",
            lambda w, t, a: Call(f"/agent/cohortes/{w.ids['cohort_a']}/modifier"),
            read=has("cohort_a", "Jeunes 18-30 ans"),
        ),
        Row(
            "POST",
            "/agent/cohortes/{cohort_id:uuid}/modifier",
            "office",
            lambda w, t, a: Call(
                f"/agent/cohortes/{t['id']}/modifier", data=_cohort_form(w, t["name"])
            ),
            target=lambda w: _marked_cohort_target(w),
            changed=lambda w, t, a: _cohort_exists(w, t["name"], t["id"]),
        ),
        # ---- journeys
        Row(
            "GET",
            "/agent/parcours",
            "office",
            lambda w, t, a: Call("/agent/parcours"),
            read=has("Authzlefort"),
        ),
        Row(
            "GET",
            "/agent/parcours/{journey_id:uuid}",
            "office",
            lambda w, t, a: Call(f"/agent/parcours/{w.ids['journey_read']}"),
            read=has("Authzlefort"),
        ),
        Row(
            "POST",
            "/agent/parcours/{journey_id:uuid}/relance",
            "office",
            lambda w, t, a: Call(f"/agent/parcours/{t}/relance"),
            target=_open_journey,
            changed=_invited_again,
        ),
        Row(
            "POST",
            "/agent/parcours/{journey_id:uuid}/cloture",
            "office",
            lambda w, t, a: Call(f"/agent/parcours/{t}/cloture", data={"raison": "refus"}),
            target=_open_journey,
            changed=_closed,
        ),
        # ---- indicators
        *(
            Row(
                "GET",
                path,
                "office",
                lambda w, t, a, path=path: Call(
                    path,
                    params={
                        "cohorte": str(w.ids["cohort_a"]),
                        "du": "2026-01-01",
                        "au": "2026-12-31",
                    },
                ),
                read=has("Jeunes 18-30 ans"),  # A's cohort named, on the page and in the file
            )
            for path in ("/agent/indicateurs", "/agent/indicateurs.csv")
        ),
        # ---- committees (issue 16): series
        *_series_page_rows(),
        # ---- committees (issue 16): desk
        *_desk_page_rows(),
        # ---- committees (issue 16): fiches
        *_fiche_page_rows(),
        # ---- committees (issue 16): the partners' portal
        *_portal_page_rows(),
        # ---- administration
        *_admin_config_rows(),
        *_admin_agent_rows(),
        # ---- personal data on request (issue 18)
        *_privacy_rows(),
        Row("GET", "/agent/connexion", "office", lambda w, t, a: Call("/agent/connexion")),
        Row(
            "POST",
            "/agent/connexion",
            "office",
            lambda w, t, a: Call(
                "/agent/connexion",
                data={"email": w.emails.get(a, ""), "password": PASSWORD},
                cookies={"rdv_agent": ""},  # a login replaces the browser's session: not ours
            ),
        ),
        Row(
            "POST",
            "/agent/deconnexion",
            "office",
            lambda w, t, a: Call(
                "/agent/deconnexion",
                cookies={"rdv_agent": t[a]} if a in AGENT_ACTORS else {},
            ),
            target=logout_target,
            fresh="always",
        ),
        Row(
            "GET",
            "/agent/disponibilites",
            "office",
            lambda w, t, a: Call("/agent/disponibilites"),
            read=any_2xx,
        ),
        Row(
            "POST",
            "/agent/disponibilites/plages",
            "office",
            rule_form,
            target=snapshot(AvailabilityRule),
            changed=grew(AvailabilityRule),
            fresh="always",
        ),
        Row(
            "POST",
            "/agent/disponibilites/plages/{rule_id:uuid}/suppression",
            "office",
            lambda w, t, a: Call(f"/agent/disponibilites/plages/{t}/suppression"),
            target=lambda w: w.new_rule(),
            changed=lambda w, t, a: _gone(AvailabilityRule, w, t),
        ),
        Row(
            "POST",
            "/agent/disponibilites/absences",
            "office",
            absence_form,
            target=snapshot(Absence),
            changed=grew(Absence),
            fresh="always",
        ),
        Row(
            "POST",
            "/agent/disponibilites/absences/{absence_id:uuid}/suppression",
            "office",
            lambda w, t, a: Call(f"/agent/disponibilites/absences/{t}/suppression"),
            target=lambda w: w.new_absence(),
            changed=lambda w, t, a: _gone(Absence, w, t),
        ),
        Row(
            "GET",
            "/agent/agenda",
            "office",
            lambda w, t, a: Call("/agent/agenda", params={"semaine": "2026-11-30", "equipe": "1"}),
            read=has("Authzmarchand"),
            variant="team week",
        ),
        Row(
            "POST",
            "/agent/rendez-vous/{appointment_id:uuid}/statut",
            "office",
            lambda w, t, a: Call(
                f"/agent/rendez-vous/{t['id']}/statut",
                data={"status": "excused", "semaine": "2026-11-30"},
            ),
            target=lambda w: w.new_appointment(),
            changed=_status_is(AppointmentStatus.EXCUSED),
        ),
        Row(
            "POST",
            "/agent/rendez-vous/{appointment_id:uuid}/annulation",
            "office",
            lambda w, t, a: Call(
                f"/agent/rendez-vous/{t['id']}/annulation", data={"semaine": "2026-11-30"}
            ),
            target=lambda w: w.new_appointment(),
            changed=_status_is(AppointmentStatus.REVOKED),
        ),
        Row(
            "GET",
            "/agent/prise-de-rdv",
            "office",
            lambda w, t, a: Call(
                "/agent/prise-de-rdv", params={"parcours": str(w.ids["journey_read"])}
            ),
            read=has("Authzlefort"),
            variant="A's journey",
        ),
        Row(
            "POST",
            "/agent/prise-de-rdv",
            "office",
            booking_form,
            target=_journey_target,
            changed=_journey_booked,
        ),
        Row(
            "GET",
            "/agent/personnes",
            "office",
            lambda w, t, a: Call("/agent/personnes"),
            read=has("Authzlefort"),
        ),
        Row(
            "POST",
            "/agent/parcours/{journey_id:uuid}/deblocage",
            "office",
            lambda w, t, a: Call(f"/agent/parcours/{t}/deblocage"),
            target=_locked_journey,
            changed=_unlocked,
        ),
        Row(
            "GET",
            "/agent/calendrier",
            "office",
            lambda w, t, a: Call("/agent/calendrier"),
            read=any_2xx,
        ),
        Row(
            "POST",
            "/agent/calendrier",
            "office",
            lambda w, t, a: Call("/agent/calendrier"),
            target=revoke_own_feeds,
            changed=feed_created,
            fresh="always",
        ),
    ]


# ---- committees (issue 16): series (committees/pages_series.py): the territory team only


def _series_form(w: World, name: str, *, video: str | None = None) -> dict[str, str]:
    """The series form as A's series has it (un jeudi sur deux à 8 h 30, at A's place)."""
    return {
        "name": name,
        "frequency": "fortnightly",
        "weekday": "TH",
        "nth": "1",
        "starts_on": "2027-03-04",
        "start_time": "08:30",
        "duration_minutes": "120",
        "capacity": "10",
        "deadline_days_before": "3",
        "deadline_time": "14:00",
        "freeze_days_before": "3",
        "dispatch_days_before": "2",
        "dispatch_time": "09:00",
        "place_id": str(w.ids["place_a"]),
        "video_url": video or "",
        "active": "true",
    }


def _series_page_rows() -> list[Row]:
    base = "/agent/comites/series"

    async def series_named(w: World, t: T, a: str) -> bool:
        return await _count(w, select(func.count()).where(CtoSeries.name == t["name"])) > 0

    async def series_marked(w: World, t: T, a: str) -> bool:
        series = await w.get(CtoSeries, w.ids["series"])
        return bool(series.video_url == f"https://visio.example.org/page-{t['name']}")

    async def member_is(w: World, t: T, a: str) -> bool:
        return await w.scalar(_series_member(w)) is not None

    async def member_gone(w: World, t: T, a: str) -> bool:
        return await w.scalar(_series_member(w)) is None

    return [
        Row("GET", base, "office", lambda w, t, a: Call(base), read=has("series", "CTO Laon")),
        Row(
            "GET",
            f"{base}/nouvelle",
            "office",
            lambda w, t, a: Call(f"{base}/nouvelle"),
            read=has("place_a"),  # A's territory's places offered
        ),
        Row(
            "POST",
            f"{base}/nouvelle",
            "office",
            lambda w, t, a: Call(f"{base}/nouvelle", data=_series_form(w, t["name"])),
            target=_named,
            changed=series_named,
            refusals=frozenset({403, 404, 422}),  # another territory: A's place is not listed
        ),
        Row(
            "GET",
            base + "/{series_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/{w.ids['series']}"),
            read=has("series", "CTO Laon"),
        ),
        Row(
            "POST",
            base + "/{series_id:uuid}",
            "office",
            lambda w, t, a: Call(
                f"{base}/{w.ids['series']}",
                data=_series_form(
                    w, "CTO Laon", video=f"https://visio.example.org/page-{t['name']}"
                ),
            ),
            target=_named,
            changed=series_marked,
        ),
        Row(
            "POST",
            base + "/{series_id:uuid}/membres",
            "office",
            lambda w, t, a: Call(
                f"{base}/{w.ids['series']}/membres", data={"agent_id": str(w.ids["member_a"])}
            ),
            target=lambda w: _member_target(w, member=False),
            changed=member_is,
        ),
        Row(
            "POST",
            base + "/{series_id:uuid}/membres/{agent_id:uuid}/retrait",
            "office",
            lambda w, t, a: Call(f"{base}/{w.ids['series']}/membres/{w.ids['member_a']}/retrait"),
            target=lambda w: _member_target(w, member=True),
            changed=member_gone,
        ),
    ]


# ---- committees (issue 16): desk (committees/pages_desk.py): the territory team only


def _desk_page_rows() -> list[Row]:
    base = "/agent/comites"

    async def new_request(w: World) -> uuid.UUID:
        return await w.new_request()

    async def decision_target(w: World) -> dict[str, Any]:
        from rdv_spie.committees.models import RequestStatus

        request = await w.new_request(session="session_held", status=RequestStatus.ON_AGENDA)
        return {"id": request, "name": w.marker("Decision")}

    async def request_field(w: World, t: T, a: str, field: str, value: Any) -> bool:
        row = await w.get(CtoRequest, t["id"] if isinstance(t, dict) else t)
        return bool(getattr(row, field) == value)

    async def pooled(w: World) -> dict[str, Any]:
        from zoneinfo import ZoneInfo

        from rdv_spie.territories.models import Territory

        # A session of its own (the API's rows use up the spare series' pool).
        model = await w.get(CtoSession, w.ids["session_open"])
        n = w.n()
        starts = model.starts_at + timedelta(days=400 + n)
        async with w.db.unit_of_work(clock=w.clock) as uow:
            row = CtoSession(
                series_id=model.series_id,
                territory_id=model.territory_id,
                occurs_on=starts.date(),
                starts_at=starts,
                ends_at=starts + timedelta(hours=2),
                deadline_at=starts - timedelta(days=3),
                freeze_at=starts - timedelta(days=3),
                dispatch_at=starts - timedelta(days=2),
            )
            uow.session.add(row)
            await uow.session.flush()
            session = row.id
        zone = ZoneInfo((await w.get(Territory, w.ids["territory"])).timezone)
        to = (starts + timedelta(days=1)).astimezone(zone)
        return {"id": session, "to": to.strftime("%Y-%m-%dT%H:%M")}

    async def session_moved(w: World, t: T, a: str) -> bool:
        return bool((await w.get(CtoSession, t["id"])).sequence > 0)

    async def session_cancelled(w: World, t: T, a: str) -> bool:
        return bool((await w.get(CtoSession, t["id"])).status == "cancelled")

    return [
        Row("GET", base, "office", lambda w, t, a: Call(base), read=has("session_open")),
        Row(
            "POST",
            base + "/demandes/{request_id:uuid}/accuse-reception",
            "office",
            lambda w, t, a: Call(f"{base}/demandes/{t}/accuse-reception"),
            target=new_request,
            changed=lambda w, t, a: request_field(w, t, a, "status", "acknowledged"),
        ),
        Row(
            "GET",
            base + "/seances/{session_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/seances/{w.ids['session_frozen']}"),
            read=has("Authzagenda"),  # the frozen agenda's fiche
        ),
        Row(
            "POST",
            base + "/seances/{session_id:uuid}/deplacement",
            "office",
            lambda w, t, a: Call(
                f"{base}/seances/{t['id']}/deplacement",
                data={"starts_at": t["to"], "reason": "Jour férié"},
            ),
            target=pooled,
            changed=session_moved,
        ),
        Row(
            "POST",
            base + "/seances/{session_id:uuid}/annulation",
            "office",
            lambda w, t, a: Call(
                f"{base}/seances/{t['id']}/annulation", data={"reason": "Salle indisponible"}
            ),
            target=pooled,
            changed=session_cancelled,
        ),
        Row(
            "POST",
            base + "/demandes/{request_id:uuid}/decision",
            "office",
            lambda w, t, a: Call(
                f"{base}/demandes/{t['id']}/decision",
                data={"decision": t["name"], "next_steps": "Un appel du référent"},
            ),
            target=decision_target,
            changed=lambda w, t, a: request_field(w, t, a, "decision", t["name"]),
        ),
    ]


# ---- committees (issue 16): the partners' portal (committees/pages_portal.py): every
# logged-in agent opens it and the charter; A's partner, a sworn member of A's series, alone
# reads its frozen agenda and fiches and accepts a new version of the charter.


def _portal_page_rows() -> list[Row]:
    from rdv_spie.committees import charter

    base = "/agent/partenaire"

    async def version(w: World, value: str) -> None:
        async with w.db.unit_of_work(clock=w.clock) as uow:
            await uow.session.execute(
                update(CtoMember)
                .where(CtoMember.agent_id == w.ids["partner_a"])
                .values(charter_version=value)
            )

    async def sworn(w: World) -> None:  # A's partner on the current charter
        await version(w, charter.CURRENT_VERSION)

    async def old_version(w: World) -> None:
        await version(w, "1")

    async def current_version(w: World, t: T, a: str) -> bool:
        count = await w.scalar(
            select(func.count())
            .select_from(CtoMember)
            .where(
                CtoMember.agent_id == w.ids["partner_a"],
                CtoMember.charter_version == charter.CURRENT_VERSION,
            )
        )
        return bool(count)

    async def member_link(w: World, t: T, a: str) -> bool:  # a link on the actor's membership
        membership = select(CtoMember.id).where(
            CtoMember.series_id == w.ids["series"], CtoMember.agent_id == w.ids[a]
        )
        count = await w.scalar(
            select(func.count())
            .select_from(CalendarFeed)
            .where(
                CalendarFeed.kind == FeedKind.CTO_MEMBER,
                CalendarFeed.subject_id.in_(membership),
                CalendarFeed.revoked_at.is_(None),
            )
        )
        return bool(count)

    return [
        Row("GET", base, "office", lambda w, t, a: Call(base), read=any_2xx),
        Row(
            "GET", base + "/charte", "office", lambda w, t, a: Call(base + "/charte"), read=any_2xx
        ),
        Row(
            "GET",
            base + "/seances/{session_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/seances/{w.ids['session_frozen']}"),
            target=sworn,
            read=lambda w, t, r, a: r.status_code == 200 and "Lire la fiche" in r.text,
        ),
        Row(
            "GET",
            base + "/fiches/{request_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/fiches/{w.ids['request_on_agenda']}"),
            target=sworn,
            read=has("Authzagenda"),
        ),
        Row(
            "GET",
            base + "/abonnement/{series_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/abonnement/{w.ids['series']}"),
            read=has("CTO Laon", "Créer mon lien"),
        ),
        Row(
            "POST",
            base + "/abonnement/{series_id:uuid}/nouveau-lien",
            "office",
            lambda w, t, a: Call(f"{base}/abonnement/{w.ids['series']}/nouveau-lien", data={}),
            changed=member_link,
            fresh="always",
        ),
        Row(
            "POST",
            base + "/charte",
            "office",
            lambda w, t, a: Call(base + "/charte", data={"accepte": "oui"}),
            target=old_version,
            changed=current_version,
            fresh="always",
        ),
    ]


# ---- committees (issue 16): fiches (committees/pages_fiches.py): the requesting structure's
# staff only (a fiche is a person's file); a new one for a journey the structure follows


def _fiche_page_rows() -> list[Row]:
    base = "/agent/fiches"

    async def named_request(w: World) -> dict[str, Any]:
        name = w.marker("Fiche")
        return {"id": await w.new_request(name=name), "name": name}

    async def named_journey(w: World) -> dict[str, Any]:
        name = w.marker("Fichenew")
        _, journey = await w.new_journey(name=name)
        return {"id": journey, "name": name}

    def fiche_form(w: World, summary: str) -> dict[str, Any]:
        return {
            "session_id": str(w.ids["session_open"]),
            "thematics": ["logement", "sante"],
            "summary": summary,
            "consent": "oui",
        }

    async def summary_is(w: World, t: T, a: str) -> bool:
        found = await w.scalar(select(func.count()).where(CtoRequest.summary == t["name"]))
        return bool(found)

    async def withdrawn(w: World, t: T, a: str) -> bool:
        return bool((await w.get(CtoRequest, t["id"])).status == "withdrawn")

    def read_name(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return r.status_code == 200 and t["name"] in r.text

    return [
        Row(
            "GET",
            base,
            "office",
            lambda w, t, a: Call(base),
            target=named_request,
            read=read_name,
        ),
        Row(
            "GET",
            base + "/nouvelle",
            "office",
            lambda w, t, a: Call(base + "/nouvelle", params={"parcours": str(t["id"])}),
            target=named_journey,
            read=read_name,
        ),
        Row(
            "POST",
            base + "/nouvelle",
            "office",
            lambda w, t, a: Call(
                base + "/nouvelle",
                params={"parcours": str(t["id"])},
                data=fiche_form(w, t["name"]),
            ),
            target=named_journey,
            changed=summary_is,
            fresh="always",
        ),
        Row(
            "GET",
            base + "/{request_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/{t['id']}"),
            target=named_request,
            read=read_name,
        ),
        Row(
            "POST",
            base + "/{request_id:uuid}",
            "office",
            lambda w, t, a: Call(
                f"{base}/{t['id']}", data={"thematics": ["sante"], "summary": t["name"] + "x"}
            ),
            target=named_request,
            changed=lambda w, t, a: summary_is(w, {"name": t["name"] + "x"}, a),
        ),
        Row(
            "POST",
            base + "/{request_id:uuid}/retrait",
            "office",
            lambda w, t, a: Call(f"{base}/{t['id']}/retrait"),
            target=named_request,
            changed=withdrawn,
        ),
    ]


# ---- administration: structures, places, types, feed link, read trail (H-f)


def _admin_config_rows() -> list[Row]:
    """The admins' configuration pages: organisations and types are the territory's (an
    admin of B changes them), places the organisation's, the feed link the territory's; a
    create form makes the thing in the actor's own organisation or territory."""
    admin = "/agent/administration"

    def own_territory(w: World, a: str) -> uuid.UUID:
        return w.ids["other_territory"] if a == "admin_t2" else w.ids["territory"]

    async def new_org(w: World) -> uuid.UUID:
        async with w.db.unit_of_work(clock=w.clock) as uow:
            org = Organisation(
                territory_id=w.ids["territory"], name=w.marker("Structure"), kind="association"
            )
            uow.session.add(org)
            await uow.session.flush()
            return org.id

    async def new_place(w: World) -> uuid.UUID:
        async with w.db.unit_of_work(clock=w.clock) as uow:
            place = Place(organisation_id=w.ids["org_a"], name=w.marker("Lieu"), kind="video")
            uow.session.add(place)
            await uow.session.flush()
            return place.id

    async def new_type(w: World) -> uuid.UUID:
        async with w.db.unit_of_work(clock=w.clock) as uow:
            kind = AppointmentType(
                territory_id=w.ids["territory"], name=w.marker("Motif"), duration_minutes=30
            )
            uow.session.add(kind)
            await uow.session.flush()
            return kind.id

    async def a_name(w: World) -> str:
        return w.marker("Nouveau")

    async def org_made(w: World, t: T, a: str) -> bool:
        found = select(func.count()).where(
            Organisation.name == t, Organisation.territory_id == own_territory(w, a)
        )
        return await _count(w, found) > 0

    async def place_made(w: World, t: T, a: str) -> bool:
        found = select(func.count()).where(Place.name == t, Place.organisation_id == w.own_org(a))
        return await _count(w, found) > 0

    async def type_made(w: World, t: T, a: str) -> bool:
        found = select(func.count()).where(
            AppointmentType.name == t, AppointmentType.territory_id == own_territory(w, a)
        )
        return await _count(w, found) > 0

    async def org_changed(w: World, t: T, a: str) -> bool:
        return bool((await w.get(Organisation, t)).kind == "caf")

    async def place_closed(w: World, t: T, a: str) -> bool:
        return not (await w.get(Place, t)).active

    async def type_changed(w: World, t: T, a: str) -> bool:
        return bool((await w.get(AppointmentType, t)).duration_minutes == 50)

    async def no_territory_feeds(w: World) -> None:
        from sqlalchemy import update

        from rdv_spie.calendars.models import CalendarFeed

        async with w.db.unit_of_work(clock=w.clock) as uow:
            await uow.session.execute(
                update(CalendarFeed)
                .where(
                    CalendarFeed.kind == FeedKind.TERRITORY,
                    CalendarFeed.subject_id.in_([w.ids["territory"], w.ids["other_territory"]]),
                )
                .values(revoked_at=w.clock.now())
            )

    async def feed_made(w: World, t: T, a: str) -> bool:
        return await w.live_feeds(FeedKind.TERRITORY, own_territory(w, a)) > 0

    def type_form(name: str, **extra: str) -> dict[str, str]:
        return {
            "name": name,
            "duration_minutes": "50",
            "buffer_after_minutes": "0",
            "min_notice_minutes": "60",
            "horizon_days": "60",
            "attendance": "single",
            "online_cancel": "true",
            "cancel_cutoff_minutes": "240",
            "move_cutoff_minutes": "2880",
            "show_agent_name": "true",
            "mandatory": "false",
            **extra,
        }

    def page(path: str, read: Read = any_2xx, **kw: Any) -> Row:
        return Row("GET", path, "office", lambda w, t, a: Call(path), read=read, **kw)

    return [
        page(admin),
        page(f"{admin}/structures", read=has("org_a", "Département A")),
        page(f"{admin}/structures/nouvelle"),
        Row(
            "POST",
            f"{admin}/structures/nouvelle",
            "office",
            lambda w, t, a: Call(f"{admin}/structures/nouvelle", data={"name": t, "kind": "caf"}),
            target=a_name,
            changed=org_made,
            fresh="always",
        ),
        Row(
            "GET",
            f"{admin}/structures/{{organisation_id:uuid}}",
            "office",
            lambda w, t, a: Call(f"{admin}/structures/{w.ids['org_a']}"),
            read=has("org_a", "Département A"),
        ),
        Row(
            "POST",
            f"{admin}/structures/{{organisation_id:uuid}}",
            "office",
            lambda w, t, a: Call(
                f"{admin}/structures/{t}", data={"name": w.marker("Structure"), "kind": "caf"}
            ),
            target=new_org,
            changed=org_changed,
        ),
        page(f"{admin}/lieux", read=has("place_a", "Lieu place_a")),
        page(f"{admin}/lieux/nouveau"),
        Row(
            "POST",
            f"{admin}/lieux/nouveau",
            "office",
            lambda w, t, a: Call(f"{admin}/lieux/nouveau", data={"name": t, "kind": "video"}),
            target=a_name,
            changed=place_made,
            fresh="always",
        ),
        Row(
            "GET",
            f"{admin}/lieux/{{place_id:uuid}}",
            "office",
            lambda w, t, a: Call(f"{admin}/lieux/{w.ids['place_a']}"),
            read=has("place_a", "Lieu place_a"),
        ),
        Row(
            "POST",
            f"{admin}/lieux/{{place_id:uuid}}",
            "office",
            lambda w, t, a: Call(
                f"{admin}/lieux/{t}",
                data={"name": w.marker("Lieu"), "kind": "video", "active": "false"},
            ),
            target=new_place,
            changed=place_closed,
        ),
        page(f"{admin}/motifs", read=has("type", "Premier rendez-vous")),
        page(f"{admin}/motifs/nouveau"),
        Row(
            "POST",
            f"{admin}/motifs/nouveau",
            "office",
            lambda w, t, a: Call(f"{admin}/motifs/nouveau", data=type_form(t)),
            target=a_name,
            changed=type_made,
            fresh="always",
        ),
        Row(
            "GET",
            f"{admin}/motifs/{{type_id:uuid}}",
            "office",
            lambda w, t, a: Call(f"{admin}/motifs/{w.ids['type']}"),
            read=has("type", "Premier rendez-vous"),
        ),
        Row(
            "POST",
            f"{admin}/motifs/{{type_id:uuid}}",
            "office",
            lambda w, t, a: Call(
                f"{admin}/motifs/{t}", data=type_form(w.marker("Motif"), active="true")
            ),
            target=new_type,
            changed=type_changed,
        ),
        page(f"{admin}/flux", read=has("Aisne — Laon")),
        Row(
            "POST",
            f"{admin}/flux",
            "office",
            lambda w, t, a: Call(f"{admin}/flux"),
            target=no_territory_feeds,
            changed=feed_made,
            fresh="always",
        ),
        Row(
            "GET",
            f"{admin}/consultations",
            "office",
            lambda w, t, a: Call(
                f"{admin}/consultations", params={"personne": str(w.ids["person_booked"])}
            ),
            read=has("Authzmarchand", "Admina Authz"),
            variant="A's person's trail",
        ),
        Row(
            "GET",
            f"{admin}/consultations",
            "office",
            lambda w, t, a: Call(f"{admin}/consultations", params={"q": "authzmarch"}),
            read=has("person_booked", "Authzmarchand"),
            variant="search by name",
        ),
    ]


# ---- personal data on request (issue 18, privacy/): the admins of the person's territory
# export and erase; an animator, a referent or a partner is refused, another territory 404.


def _privacy_rows() -> list[Row]:
    base = "/agent/administration/personnes"

    async def a_person(w: World) -> uuid.UUID:
        return await w.new_person(name="Authzeffacer")

    async def erased(w: World, t: T, a: str) -> bool:
        person = await w.get(Person, t)
        return person is not None and person.purged_at is not None

    return [
        Row(
            "GET",
            "/api/v1/people/{person_id:uuid}/export",
            "api",
            lambda w, t, a: Call(f"/api/v1/people/{w.ids['person_booked']}/export"),
            read=has("Authzmarchand"),
        ),
        Row(
            "POST",
            "/api/v1/people/{person_id:uuid}/erase",
            "api",
            lambda w, t, a: Call(
                f"/api/v1/people/{t}/erase", json={"reason": "Demande de la personne"}
            ),
            target=a_person,
            changed=erased,
            fresh="always",
        ),
        Row(
            "GET",
            base + "/{person_id:uuid}",
            "office",
            lambda w, t, a: Call(f"{base}/{w.ids['person_booked']}"),
            read=has("Authzmarchand"),
        ),
        Row(
            "POST",
            base + "/{person_id:uuid}/effacement",
            "office",
            lambda w, t, a: Call(
                f"{base}/{t}/effacement",
                data={"reason": "Demande de la personne", "confirm": "oui"},
            ),
            target=a_person,
            changed=erased,
            fresh="always",
        ),
    ]


# ---- administration: agents, their password links, API keys (H-e)


def _admin_agent_rows() -> list[Row]:
    """The organisation's agents and keys, for its admins only (another organisation's admin
    sees and changes their own); a create form acts in the actor's own organisation (an
    agent) or for the actor (a key). The password page is open: its link is the key."""
    from rdv_spie.administration import pages_password
    from rdv_spie.agents import api_keys, setup_links
    from rdv_spie.agents.models import ApiKey, SetupLink

    admin = "/agent/administration"

    async def new_agent(w: World) -> uuid.UUID:
        """A referent of A without a password."""
        async with w.db.unit_of_work(clock=w.clock) as uow:
            agent = Agent(
                email=f"{w.marker('agent').lower()}@authz.test",
                first_name="Nouvel",
                last_name="Agent",
            )
            uow.session.add(agent)
            await uow.session.flush()
            uow.session.add(
                Membership(agent_id=agent.id, organisation_id=w.ids["org_a"], role="referent")
            )
            return agent.id

    async def an_email(w: World) -> str:
        return f"{w.marker('nouveau').lower()}@authz.test"

    async def agent_made(w: World, t: T, a: str) -> bool:
        found = (
            select(func.count())
            .select_from(Membership)
            .join(Agent, Agent.id == Membership.agent_id)
            .where(Agent.email == t, Membership.organisation_id == w.own_org(a))
        )
        return await _count(w, found) > 0

    async def role_changed(w: World, t: T, a: str) -> bool:
        role = await w.scalar(
            select(Membership.role).where(
                Membership.agent_id == t, Membership.organisation_id == w.ids["org_a"]
            )
        )
        return bool(role == "animator")

    async def deactivated(w: World, t: T, a: str) -> bool:
        return not (await w.get(Agent, t)).active

    async def link_sent(w: World, t: T, a: str) -> bool:
        found = select(func.count()).select_from(SetupLink).where(SetupLink.agent_id == t)
        return await _count(w, found) > 0

    async def a_link(w: World) -> dict[str, Any]:
        agent_id = await new_agent(w)
        async with w.db.unit_of_work(clock=w.clock) as uow:
            issued = await setup_links.issue(
                uow, secret_key=w.app.state.secret_key, agent_id=agent_id, created_by=None
            )
        cookie = pages_password.cookie_value(w.app.state.secret_key, issued.id, w.clock.now())
        return {"token": issued.token, "cookie": cookie}

    async def own_keys(w: World) -> dict[str, int]:
        counts = {}
        for a in AGENT_ACTORS:
            found = select(func.count()).select_from(ApiKey).where(ApiKey.agent_id == w.ids[a])
            counts[a] = await _count(w, found)
        return counts

    async def key_made(w: World, t: T, a: str) -> bool:
        agent = w.agent(a)
        if agent is None:
            return False
        found = select(func.count()).select_from(ApiKey).where(ApiKey.agent_id == agent)
        return await _count(w, found) > t.get(a, 0)

    async def a_key(w: World) -> uuid.UUID:
        async with w.db.unit_of_work(clock=w.clock) as uow:
            issued = await api_keys.create_api_key(
                uow=uow, agent_id=w.ids["ref_a2"], label=w.marker("Cle")
            )
            return issued.id

    async def key_revoked(w: World, t: T, a: str) -> bool:
        return (await w.get(ApiKey, t)).revoked_at is not None

    def shows_key(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return w.keys["ref_a2"][:10] in r.text

    password = "une phrase de passe assez longue"
    return [
        Row(
            "GET",
            f"{admin}/agents",
            "office",
            lambda w, t, a: Call(f"{admin}/agents"),
            read=has("ref-a2@authz.test"),
        ),
        Row(
            "GET",
            f"{admin}/agents/nouveau",
            "office",
            lambda w, t, a: Call(f"{admin}/agents/nouveau"),
            read=any_2xx,
        ),
        Row(
            "POST",
            f"{admin}/agents/nouveau",
            "office",
            lambda w, t, a: Call(
                f"{admin}/agents/nouveau",
                data={"first_name": "Nouvel", "last_name": "Agent", "email": t, "role": "referent"},
            ),
            target=an_email,
            changed=agent_made,
            fresh="always",
            refusals=frozenset({403, 404, 422}),
        ),
        Row(
            "GET",
            f"{admin}/agents/{{agent_id:uuid}}",
            "office",
            lambda w, t, a: Call(f"{admin}/agents/{w.ids['ref_a2']}"),
            read=has("ref-a2@authz.test"),
        ),
        Row(
            "POST",
            f"{admin}/agents/{{agent_id:uuid}}",
            "office",
            lambda w, t, a: Call(f"{admin}/agents/{t}", data={"role": "animator"}),
            target=new_agent,
            changed=role_changed,
        ),
        Row(
            "POST",
            f"{admin}/agents/{{agent_id:uuid}}/desactivation",
            "office",
            lambda w, t, a: Call(f"{admin}/agents/{t}/desactivation", data={"actif": "0"}),
            target=new_agent,
            changed=deactivated,
        ),
        Row(
            "POST",
            f"{admin}/agents/{{agent_id:uuid}}/lien",
            "office",
            lambda w, t, a: Call(f"{admin}/agents/{t}/lien"),
            target=new_agent,
            changed=link_sent,
        ),
        Row(
            "GET",
            "/agent/mot-de-passe",
            "office",
            lambda w, t, a: Call("/agent/mot-de-passe", params={"jeton": t["token"]}),
            target=a_link,
        ),
        Row(
            "POST",
            "/agent/mot-de-passe",
            "office",
            lambda w, t, a: Call(
                "/agent/mot-de-passe",
                data={"password": password, "password_confirm": password},
                cookies={"rdv_setup": t["cookie"]},
            ),
            target=a_link,
            fresh="always",
        ),
        Row(
            "GET",
            f"{admin}/cles-api",
            "office",
            lambda w, t, a: Call(f"{admin}/cles-api"),
            read=shows_key,
        ),
        Row(
            "POST",
            f"{admin}/cles-api",
            "office",
            lambda w, t, a: Call(f"{admin}/cles-api", data={"label": "Flux"}),
            target=own_keys,
            changed=key_made,
            fresh="always",
        ),
        Row(
            "POST",
            f"{admin}/cles-api/{{key_id:uuid}}/revocation",
            "office",
            lambda w, t, a: Call(f"{admin}/cles-api/{t}/revocation"),
            target=a_key,
            changed=key_revoked,
        ),
    ]


# ------------------------------------------------------------------------------ public pages


def _public_rows() -> list[Row]:
    def person(**kw: Any) -> Target:
        async def make(w: World) -> dict[str, Any]:
            return await w.person_session(**kw)

        return make

    def page(url: str) -> MakeCall:
        return lambda w, t, a: Call(url, person_cookie=t["cookie"])

    async def with_confirm(w: World, *, booked: bool, list_path: str) -> dict[str, Any]:
        t = await w.person_session(booked=booked)
        t["confirm"] = await w.first_slot_link(t["cookie"], list_path)
        t["form"] = await w.hidden_fields(t["cookie"], t["confirm"])
        if booked:
            t["id"] = t["appointment"]
            t["was"] = (await w.get(Appointment, t["appointment"])).starts_at
        return t

    async def verified(w: World, t: T, a: str) -> bool:
        return bool(
            (
                await w.scalar(
                    select(WebSession.verified_at).where(
                        WebSession.journey_id == t["journey"], WebSession.verified_at.is_not(None)
                    )
                )
            )
            is not None
        )

    async def moved_online(w: World, t: T, a: str) -> bool:
        return bool((await w.get(Appointment, t["appointment"])).starts_at != t["was"])

    async def cancelled_online(w: World, t: T, a: str) -> bool:
        return bool((await w.get(Appointment, t["appointment"])).status == "cancelled")

    def is_page(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return r.status_code == 200

    return [
        Row("GET", "/", "public", lambda w, t, a: Call("/")),
        Row(
            "GET",
            "/i/{token:str}",
            "public",
            lambda w, t, a: Call(
                f"/i/{t['token'] if a == HOLDER else 'x' * 43}", person_cookie=t["cookie"]
            ),
            target=person(verified=False),
            read=redirect_to("/rdv"),
        ),
        Row(
            "GET",
            "/rdv",
            "public",
            page("/rdv"),
            target=person(),
            read=redirect_to("/rdv/creneaux"),
        ),
        Row(
            "POST",
            "/rdv/verification",
            "public",
            lambda w, t, a: Call(
                "/rdv/verification", data={"lettres": t["letters"]}, person_cookie=t["cookie"]
            ),
            target=person(verified=False),
            changed=verified,
        ),
        Row(
            "GET",
            "/rdv/creneaux",
            "public",
            page("/rdv/creneaux"),
            target=person(),
            read=lambda w, t, r, a: r.status_code == 200 and "/rdv/creneaux/confirmer" in r.text,
        ),
        Row(
            "GET",
            "/rdv/creneaux/confirmer",
            "public",
            lambda w, t, a: Call(t["confirm"], person_cookie=t["cookie"]),
            target=lambda w: with_confirm(w, booked=False, list_path="/rdv/creneaux"),
            read=is_page,
        ),
        Row(
            "POST",
            "/rdv/creneaux/confirmer",
            "public",
            lambda w, t, a: Call(
                "/rdv/creneaux/confirmer", data=t["form"], person_cookie=t["cookie"]
            ),
            target=lambda w: with_confirm(w, booked=False, list_path="/rdv/creneaux"),
            changed=_journey_booked,
        ),
        Row(
            "GET",
            "/rdv/deplacer",
            "public",
            page("/rdv/deplacer"),
            target=person(booked=True),
            read=lambda w, t, r, a: r.status_code == 200 and "/rdv/deplacer/confirmer" in r.text,
        ),
        Row(
            "GET",
            "/rdv/deplacer/confirmer",
            "public",
            lambda w, t, a: Call(t["confirm"], person_cookie=t["cookie"]),
            target=lambda w: with_confirm(w, booked=True, list_path="/rdv/deplacer"),
            read=is_page,
        ),
        Row(
            "POST",
            "/rdv/deplacer/confirmer",
            "public",
            lambda w, t, a: Call(
                "/rdv/deplacer/confirmer", data=t["form"], person_cookie=t["cookie"]
            ),
            target=lambda w: with_confirm(w, booked=True, list_path="/rdv/deplacer"),
            changed=moved_online,
        ),
        Row(
            "GET",
            "/rdv/confirmation",
            "public",
            page("/rdv/confirmation"),
            target=person(booked=True),
            read=is_page,
        ),
        Row(  # the person's file (issue 16): their own appointments, only through their link
            "GET",
            "/rdv/mon-dossier",
            "public",
            page("/rdv/mon-dossier"),
            target=person(booked=True),
            read=is_page,
        ),
        Row(
            "GET",
            "/rdv/rendez-vous.ics",
            "public",
            page("/rdv/rendez-vous.ics"),
            target=person(booked=True),
            read=lambda w, t, r, a: r.status_code == 200 and str(t["appointment"]) in r.text,
        ),
        Row(
            "GET",
            "/rdv/annuler",
            "public",
            page("/rdv/annuler"),
            target=person(booked=True),
            read=is_page,
        ),
        Row(
            "POST",
            "/rdv/annuler",
            "public",
            lambda w, t, a: Call("/rdv/annuler", data={}, person_cookie=t["cookie"]),
            target=person(booked=True),
            changed=cancelled_online,
        ),
        Row(
            "GET",
            "/rdv/annulation",
            "public",
            page("/rdv/annulation"),
            target=person(booked=True, cancelled=True),
            read=is_page,
        ),
    ]


# ------------------------------------------------------------------------------ feeds, webhook


def _feed_rows() -> list[Row]:
    rows = []
    for variant, kind, subject, uid in (
        ("A's referent's feed", FeedKind.AGENT, "ref_a2", "appointment"),
        ("territory feed", FeedKind.TERRITORY, "territory", "appointment"),
        ("CTO series feed", FeedKind.CTO_SERIES, "series", "session_open"),
    ):

        def issue(kind: FeedKind = kind, subject: str = subject) -> Target:
            async def make(w: World) -> str:
                return await w.issue_feed(kind, w.ids[subject])

            return make

        def read(w: World, t: T, r: httpx.Response, a: str, uid: str = uid) -> bool:
            return r.status_code == 200 and f"-{w.ids[uid]}@rdv-spie" in r.text

        rows.append(
            Row(
                "GET",
                "/feeds/{filename:str}",
                "feed",
                lambda w, t, a: Call(f"/feeds/{t if a == HOLDER else 'x' * 43}.ics"),
                target=issue(),
                read=read,
                variant=variant,
            )
        )
    return rows


def _webhook_rows() -> list[Row]:
    def call(w: World, t: T, a: str) -> Call:
        path = f"/webhooks/twilio/status?n={t}"
        form = {"MessageStatus": "delivered", "MessageSid": "SM" + "0" * 32}
        headers = {}
        if a == HOLDER:
            validator = RequestValidator(w.settings.twilio_auth_token or "")
            url = w.settings.public_url.rstrip("/") + path
            headers["X-Twilio-Signature"] = validator.compute_signature(url, form)
        return Call(path, data=form, headers=headers)

    async def delivered(w: World, t: T, a: str) -> bool:
        from rdv_spie.notifications.models import Notification

        return bool((await w.get(Notification, t)).status == "delivered")

    return [
        Row(
            "POST",
            "/webhooks/twilio/status",
            "webhook",
            call,
            target=lambda w: w.new_notification(),
            changed=delivered,
        )
    ]


def all_rows() -> list[Row]:
    return [*_api_rows(), *_office_rows(), *_public_rows(), *_feed_rows(), *_webhook_rows()]


# Personal data that must never be in a feed (README: partners' feeds carry none).
FEED_PERSONAL = ("Authzmarchand", "Authzlefort")


# ---- imports of people into A's cohort (people/pages_imports.py): the territory team only


def _import_rows() -> list[Row]:
    from rdv_spie.people.models import ImportRun, ImportState

    cohort = "/agent/cohortes/{cohort_id:uuid}"
    run = "/agent/imports/{import_id:uuid}"

    def upload(w: World, t: T, a: str) -> Call:
        boundary = "authz-import-boundary"
        content = f"Nom;Prénom;Courriel\r\n{t['name']};Zoé;{t['name'].lower()}@exemple.fr\r\n"
        payload = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="fichier";'
            f' filename="{t["name"]}.csv"\r\nContent-Type: text/csv\r\n\r\n{content}'
            f"\r\n--{boundary}--\r\n"
        ).encode()
        return Call(
            f"/agent/cohortes/{w.ids['cohort_a']}/imports/nouveau",
            content=payload,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )

    async def uploaded(w: World, t: T, a: str) -> bool:
        found = await w.scalar(
            select(func.count()).where(ImportRun.file_name == f"{t['name']}.csv")
        )
        return bool(found)

    async def previewed(w: World) -> uuid.UUID:
        content = b"Nom;Pr\xe9nom;Courriel\r\nAuthzimport;L\xe9a;lea@exemple.fr\r\n"
        async with w.db.unit_of_work(clock=w.clock) as uow:
            row = ImportRun(
                territory_id=w.ids["territory"],
                cohort_id=w.ids["cohort_a"],
                agent_id=w.ids["admin_a"],
                file_name=f"{w.marker('import')}.csv",
                file_kind="csv",
                file_size=len(content),
                content=content,
                state=ImportState.PREVIEWED,
                total_rows=2,
                created_count=1,
                rejected_count=1,
                rejected=[
                    {
                        "line": 4242,
                        "column": 2,
                        "header": "Prénom",
                        "field": "first_name",
                        "code": "missing_value",
                    }
                ],
            )
            uow.session.add(row)
            await uow.session.flush()
            return row.id

    async def remapped(w: World, t: T, a: str) -> bool:
        return bool((await w.get(ImportRun, t)).mapping)

    async def queued(w: World, t: T, a: str) -> bool:
        return bool((await w.get(ImportRun, t)).state == ImportState.QUEUED)

    def rejected_csv(w: World, t: T, r: httpx.Response, a: str) -> bool:
        return r.status_code == 200 and "4242;2;Prénom;" in r.content.decode("utf-8-sig")

    return [
        Row(
            "GET",
            f"{cohort}/imports/nouveau",
            "office",
            lambda w, t, a: Call(f"/agent/cohortes/{w.ids['cohort_a']}/imports/nouveau"),
            read=has("cohort_a"),
        ),
        Row(
            "POST",
            f"{cohort}/imports/nouveau",
            "office",
            upload,
            target=_named,
            changed=uploaded,
        ),
        Row(
            "GET",
            f"{cohort}/imports",
            "office",
            lambda w, t, a: Call(f"/agent/cohortes/{w.ids['cohort_a']}/imports"),
            read=has("cohort_a"),
        ),
        Row(
            "GET", run, "office", lambda w, t, a: Call(f"/agent/imports/{t}"), previewed, has_target
        ),
        Row(
            "POST",
            f"{run}/colonnes",
            "office",
            lambda w, t, a: Call(
                f"/agent/imports/{t}/colonnes",
                data={"colonne-0": "last_name", "colonne-1": "first_name", "colonne-2": "email"},
            ),
            target=previewed,
            changed=remapped,
        ),
        Row(
            "POST",
            f"{run}/lancement",
            "office",
            lambda w, t, a: Call(f"/agent/imports/{t}/lancement"),
            target=previewed,
            changed=queued,
        ),
        Row(
            "GET",
            f"{run}/lignes-refusees.csv",
            "office",
            lambda w, t, a: Call(f"/agent/imports/{t}/lignes-refusees.csv"),
            target=previewed,
            read=rejected_csv,
        ),
    ]
