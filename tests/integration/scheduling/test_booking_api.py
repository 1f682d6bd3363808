"""Booking through the JSON API, on both engines: slots, book, idempotency, errors that name
the field, cancel, move, status, scoping."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import update
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.territories.models import Place

Client = httpx.AsyncClient
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)  # Wednesday 2 December, 09:00 in Paris


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def slots(
    client: Client, s: sc.Scenario, day: datetime, type_id: Any = None, **params: str
) -> list[dict[str, Any]]:
    r = await client.get(
        "/api/v1/slots",
        headers=s.auth(),
        params={
            "appointment_type_id": str(type_id or s.single_type_id),
            "from": day.isoformat(),
            "to": (day + timedelta(days=1)).isoformat(),
            **params,
        },
    )
    assert r.status_code == 200, r.text
    return r.json()  # type: ignore[no-any-return]


async def book(
    client: Client,
    s: sc.Scenario,
    at: datetime,
    *,
    type_id: Any = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> Any:
    return await client.post(
        "/api/v1/appointments",
        headers={**s.auth(), **(headers or {})},
        json={
            "appointment_type_id": str(type_id or s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": at.isoformat(),
            **extra,
        },
    )


async def absence(client: Client, headers: dict[str, str], agent: Any, until: str = "10:00") -> Any:
    """Mark an agent absent on Wednesday 2 December from 09:00 to ``until`` (Paris)."""
    return await client.post(
        "/api/v1/absences",
        headers=headers,
        json={
            "agent_id": str(agent),
            "starts_at": "2026-12-02T09:00:00+01:00",
            "ends_at": f"2026-12-02T{until}:00+01:00",
        },
    )


async def test_slots_one_per_start_and_place(client: Client, s: sc.Scenario) -> None:
    found = await slots(client, s, WED_0900)
    # 09:00–12:00, 45 min on a 15-min grid: 09:00 … 11:15, one slot per start for 2 referents.
    assert [x["local_start"][11:16] for x in found] == [
        "09:00",
        "09:15",
        "09:30",
        "09:45",
        "10:00",
        "10:15",
        "10:30",
        "10:45",
        "11:00",
        "11:15",
    ]
    assert {x["free_referents"] for x in found} == {2}
    assert found[0]["starts_at"] == "2026-12-02T08:00:00Z"


async def test_book_picks_free_referents_then_409(client: Client, s: sc.Scenario) -> None:
    first = await book(client, s, WED_0900)
    second = await book(client, s, WED_0900)
    third = await book(client, s, WED_0900)
    assert (first.status_code, second.status_code, third.status_code) == (201, 201, 409)
    referents = {first.json()["agents"][0]["agent_id"], second.json()["agents"][0]["agent_id"]}
    assert referents == {str(r) for r in s.referent_ids}
    problem = third.json()
    assert third.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "slot_taken" and problem["field"] == "starts_at"
    # The buffer (15 min) keeps 09:45 busy too, but 10:00 is free again.
    starts = [x["local_start"][11:16] for x in await slots(client, s, WED_0900)]
    assert starts[0] == "10:00"


async def test_idempotency_key_returns_the_first_booking(client: Client, s: sc.Scenario) -> None:
    key = {"Idempotency-Key": "form-123"}
    first = await book(client, s, WED_0900, headers=key)
    again = await book(client, s, WED_0900, headers=key)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    other = await book(client, s, WED_0900 + timedelta(hours=1), headers=key)
    assert other.status_code == 409 and other.json()["code"] == "submission_key_reused"
    assert len(await slots(client, s, WED_0900)) == 10  # still one referent free everywhere


@pytest.mark.parametrize(
    ("starts_at", "status", "field", "code"),
    [
        ("2026-11-30T08:00:00+00:00", 422, "starts_at", "in_the_past"),
        ("2026-12-02T09:05:00+01:00", 422, "starts_at", "outside_availability"),
        ("2026-12-02T13:00:00+01:00", 422, "starts_at", "outside_availability"),
        ("2026-12-25T09:00:00+01:00", 422, "starts_at", "outside_availability"),  # Christmas
        ("2026-12-01T09:30:00+01:00", 422, "starts_at", "outside_availability"),  # notice: 1 h
        ("2026-12-02T09:00:00", 422, "starts_at", "invalid"),  # no offset
    ],
)
async def test_bad_starts_at_names_the_field(
    client: Client, s: sc.Scenario, starts_at: str, status: int, field: str, code: str
) -> None:
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": starts_at,
        },
    )
    assert r.status_code == status, r.text
    assert (r.json()["field"], r.json()["code"]) == (field, code)


async def test_unparseable_date_and_unknown_ids(client: Client, s: sc.Scenario) -> None:
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "mercredi 9h",
        },
    )
    assert r.status_code == 400 and "starts_at" in r.json()["detail"]
    r = await book(client, s, WED_0900, type_id="00000000-0000-0000-0000-000000000001")
    assert r.status_code == 404 and r.json()["field"] == "appointment_type_id"
    r = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": "00000000-0000-0000-0000-000000000002",
            "starts_at": WED_0900.isoformat(),
        },
    )
    assert r.status_code == 404 and r.json()["field"] == "place_id"
    r = await client.get(
        "/api/v1/slots",
        headers=s.auth(),
        params={"appointment_type_id": str(s.single_type_id), "from": "2026-12-02", "to": "demain"},
    )
    assert r.status_code == 400 and r.json()["field"] in {"to", "from"}, r.text


async def test_missing_or_bad_key_is_401(client: Client, s: sc.Scenario) -> None:
    assert (await client.get("/api/v1/territories")).status_code == 401
    r = await client.get("/api/v1/territories", headers={"Authorization": "Bearer rdv_nope"})
    assert r.status_code == 401 and r.json()["code"] == "unauthorized"


async def test_cancel_frees_the_slot(client: Client, s: sc.Scenario) -> None:
    ids = [(await book(client, s, WED_0900)).json()["id"] for _ in range(2)]
    assert (await slots(client, s, WED_0900))[0]["local_start"][11:16] == "10:00"
    r = await client.post(f"/api/v1/appointments/{ids[0]}/cancel", headers=s.auth())
    assert r.status_code == 200 and r.json()["status"] == "revoked"
    assert r.json()["sequence"] == 1
    assert (await slots(client, s, WED_0900))[0]["free_referents"] == 1
    again = await client.post(
        f"/api/v1/appointments/{ids[0]}/status", headers=s.auth(), json={"status": "seen"}
    )
    assert again.status_code == 422 and again.json()["code"] == "already_final"


async def test_move_keeps_the_id_and_frees_the_old_slot(client: Client, s: sc.Scenario) -> None:
    booked = (await book(client, s, WED_0900)).json()
    later = WED_0900 + timedelta(hours=2)
    r = await client.post(
        f"/api/v1/appointments/{booked['id']}/move",
        headers=s.auth(),
        json={"starts_at": later.isoformat()},
    )
    assert r.status_code == 200, r.text
    moved = r.json()
    assert moved["id"] == booked["id"] and moved["sequence"] == 1
    assert moved["starts_at"] == "2026-12-02T10:00:00Z"
    assert moved["agents"] == booked["agents"]  # the same referent when free
    assert (await slots(client, s, WED_0900))[0]["free_referents"] == 2
    r = await client.post(
        f"/api/v1/appointments/{booked['id']}/move",
        headers=s.auth(),
        json={"starts_at": "2026-12-02T12:30:00+01:00"},
    )
    assert r.status_code == 422 and r.json()["field"] == "starts_at"
    assert (await client.get(f"/api/v1/appointments/{booked['id']}", headers=s.auth())).json()[
        "starts_at"
    ] == "2026-12-02T10:00:00Z"


async def test_status_after_start_only(client: Client, s: sc.Scenario, clock: FrozenClock) -> None:
    booked = (await book(client, s, WED_0900)).json()
    url = f"/api/v1/appointments/{booked['id']}/status"
    r = await client.post(url, headers=s.auth(), json={"status": "seen"})
    assert r.status_code == 422 and r.json()["code"] == "not_started"
    clock.set(WED_0900 + timedelta(minutes=50))
    r = await client.post(url, headers=s.auth(), json={"status": "noshow"})
    assert r.status_code == 200 and r.json()["status"] == "noshow"
    r = await client.post(url, headers=s.auth(), json={"status": "bogus"})
    assert r.status_code == 400


async def test_absence_and_rules_shape_the_slots(client: Client, s: sc.Scenario) -> None:
    for referent in s.referent_ids:
        r = await absence(client, s.auth(), referent, until="10:30")
        assert r.status_code == 201, r.text
    assert (await slots(client, s, WED_0900))[0]["local_start"][11:16] == "10:30"
    rule = {
        "agent_id": str(s.referent_ids[0]),
        "place_id": str(s.place_ids[0]),
        "weekdays": [2],
        "start_time": "11:00:00",
        "end_time": "13:00:00",
        "valid_from": "2026-12-01",
        "appointment_type_ids": [str(s.single_type_id)],
    }
    r = await client.post("/api/v1/availability-rules", headers=s.auth(), json=rule)
    assert r.status_code == 422 and r.json()["code"] == "overlapping_rule"
    assert r.json()["field"] == "start_time"
    r = await client.post(
        "/api/v1/availability-rules",
        headers=s.auth(),
        json={**rule, "start_time": "14:00:00", "end_time": "13:00:00"},
    )
    assert r.status_code == 422 and r.json()["field"] == "end_time"
    r = await client.post(
        "/api/v1/availability-rules",
        headers=s.auth(),
        json={**rule, "start_time": "14:00:00", "end_time": "16:00:00"},
    )
    assert r.status_code == 201, r.text
    afternoon = [x for x in await slots(client, s, WED_0900) if x["local_start"][11:13] >= "14"]
    assert [x["local_start"][11:16] for x in afternoon][:2] == ["14:00", "14:15"]
    assert afternoon[-1]["local_start"][11:16] == "15:15"


async def test_tripartite_needs_the_animator(client: Client, s: sc.Scenario) -> None:
    found = await slots(client, s, WED_0900, type_id=s.tripartite_type_id)
    assert found and found[-1]["local_start"][11:16] == "10:30"  # 90 min inside 09–12
    first = await book(client, s, WED_0900, type_id=s.tripartite_type_id)
    assert first.status_code == 201, first.text
    assert sorted(a["role"] for a in first.json()["agents"]) == ["animator", "referent"]
    # A referent is still free, but the only animator is not.
    second = await book(client, s, WED_0900, type_id=s.tripartite_type_id)
    assert second.status_code == 409
    # Once the animator is away too, no appointment frees the slot: outside the hours.
    assert (await absence(client, s.auth(), s.animator_id)).status_code == 201
    third = await book(client, s, WED_0900, type_id=s.tripartite_type_id)
    assert third.status_code == 422 and third.json()["code"] == "outside_availability"


async def test_a_move_onto_a_taken_slot_is_a_409_onto_an_absence_a_422(
    client: Client, s: sc.Scenario
) -> None:
    """The moved appointment does not count against itself; the others do."""
    later = WED_0900 + timedelta(hours=2)
    for _ in s.referent_ids:  # every referent taken at 10:00 UTC
        assert (await book(client, s, later)).status_code == 201
    moving = (await book(client, s, WED_0900)).json()

    async def move_to(at: datetime) -> Any:
        return await client.post(
            f"/api/v1/appointments/{moving['id']}/move",
            headers=s.auth(),
            json={"starts_at": at.isoformat()},
        )

    r = await move_to(later)
    assert r.status_code == 409 and r.json()["code"] == "slot_taken", r.text
    r = await move_to(WED_0900 + timedelta(minutes=15))  # overlaps only itself: free
    assert r.status_code == 200, r.text
    for referent in s.referent_ids:
        assert (await absence(client, s.auth(), referent, until="11:30")).status_code == 201
    r = await move_to(later)
    assert r.status_code == 422 and r.json()["code"] == "outside_availability", r.text


async def test_agents_see_only_their_organisations(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    other = await sc.build(db, clock, slug="other")
    booked = (await book(client, s, WED_0900)).json()
    r = await client.get(f"/api/v1/appointments/{booked['id']}", headers=other.auth())
    assert r.status_code == 404
    r = await client.post(f"/api/v1/appointments/{booked['id']}/cancel", headers=other.auth())
    assert r.status_code == 404
    r = await absence(client, other.auth(), s.referent_ids[0])
    assert r.status_code == 404 and r.json()["field"] == "agent_id"
    r = await client.get(f"/api/v1/territories/{s.territory_id}", headers=other.auth())
    assert r.status_code == 404
    listed = (await client.get("/api/v1/agents", headers=other.auth())).json()
    assert {a["id"] for a in listed}.isdisjoint({str(x) for x in s.referent_ids})
    # A referent may not change a colleague's availability; the admin may.
    r = await absence(client, s.auth(s.referent_ids[1]), s.referent_ids[0])
    assert r.status_code == 403


async def test_openapi_schema_lists_the_api(client: Client) -> None:
    r = await client.get("/api/v1/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for path in (
        "/api/v1/slots",
        "/api/v1/appointments",
        "/api/v1/availability-rules",
        "/api/v1/absences",
        "/api/v1/places",
        "/api/v1/appointment-types",
    ):
        assert path in paths


async def test_absence_time_is_outside_availability_not_taken(
    client: Client, s: sc.Scenario
) -> None:
    for referent in s.referent_ids:
        assert (await absence(client, s.auth(), referent)).status_code == 201
    r = await book(client, s, WED_0900)
    assert r.status_code == 422 and r.json()["code"] == "outside_availability"


async def test_taken_by_one_absent_the_other_is_a_409_absent_both_a_422(
    client: Client, s: sc.Scenario
) -> None:
    """A slot that one referent's appointment takes and the other's absence blocks was
    bookable: 409. Once the booked referent is away too, no appointment frees it: 422."""
    first = await book(client, s, WED_0900)
    assert first.status_code == 201
    booked = first.json()["agents"][0]["agent_id"]
    other = next(r for r in s.referent_ids if str(r) != booked)
    assert (await absence(client, s.auth(), other)).status_code == 201
    r = await book(client, s, WED_0900)
    assert r.status_code == 409 and r.json()["code"] == "slot_taken", r.text
    assert (await absence(client, s.auth(), booked)).status_code == 201
    r = await book(client, s, WED_0900)
    assert r.status_code == 422 and r.json()["code"] == "outside_availability", r.text


async def test_replacing_a_colleagues_rule_needs_the_right_to(
    client: Client, s: sc.Scenario
) -> None:
    rules = (
        await client.get(
            "/api/v1/availability-rules",
            headers=s.auth(),
            params={"agent_id": str(s.referent_ids[0])},
        )
    ).json()
    body = {
        k: rules[0][k]
        for k in (
            "place_id",
            "weekdays",
            "start_time",
            "end_time",
            "valid_from",
            "appointment_type_ids",
        )
    }
    url = f"/api/v1/availability-rules/{rules[0]['id']}"
    # A fellow referent neither reads nor changes it: the same 404 as an unknown rule.
    r = await client.put(url, headers=s.auth(s.referent_ids[1]), json=body)
    assert r.status_code == 404
    r = await client.put(url, headers=s.auth(), json={**body, "end_time": "11:00:00"})
    assert r.status_code == 200, r.text
    assert r.json()["agent_id"] == str(s.referent_ids[0])  # the admin edits, C keeps the rule


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/api/v1/appointments",
            {"person": {"first_name": "x" * 101, "last_name": "Y"}},
            "person.first_name",
        ),
        ("/api/v1/availability-rules", {"start_time": "09:00:00+01:00"}, "start_time"),
        ("/api/v1/appointments", {"starts_at": "9999-12-31T00:00:00+00:00"}, "starts_at"),
    ],
)
async def test_bad_input_is_a_4xx_naming_the_field(
    client: Client, s: sc.Scenario, path: str, body: dict[str, Any], field: str
) -> None:
    base: dict[str, Any] = (
        {
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WED_0900.isoformat(),
        }
        if path.endswith("appointments")
        else {
            "place_id": str(s.place_ids[0]),
            "weekdays": [5],
            "start_time": "09:00:00",
            "end_time": "12:00:00",
            "valid_from": "2026-12-01",
            "appointment_type_ids": [str(s.single_type_id)],
        }
    )
    r = await client.post(path, headers=s.auth(), json={**base, **body})
    assert r.status_code in (400, 422), r.text
    assert field in (r.json().get("field") or "") + r.json()["detail"]


async def test_listing_follows_the_clock_and_every_write(
    client: Client, s: sc.Scenario, clock: FrozenClock
) -> None:
    """Slots are cached per calendar version but always filtered by the clock, and any write
    (here a rule created through the API) shows up in the next search."""
    tuesday = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # now: 09:00 Paris, notice 1 h
    assert (await slots(client, s, tuesday))[0]["local_start"][11:16] == "10:00"
    clock.advance(timedelta(minutes=20))
    assert (await slots(client, s, tuesday))[0]["local_start"][11:16] == "10:30"
    assert not [x for x in await slots(client, s, tuesday) if x["local_start"][11:13] == "15"]
    r = await client.post(
        "/api/v1/availability-rules",
        headers=s.auth(),
        json={
            "agent_id": str(s.referent_ids[0]),
            "place_id": str(s.place_ids[0]),
            "weekdays": [1],
            "start_time": "15:00:00",
            "end_time": "16:00:00",
            "valid_from": "2026-12-01",
            "appointment_type_ids": [str(s.single_type_id)],
        },
    )
    assert r.status_code == 201
    afternoon = [x for x in await slots(client, s, tuesday) if x["local_start"][11:13] == "15"]
    assert [x["local_start"][11:16] for x in afternoon] == ["15:00", "15:15"]


async def test_a_place_of_another_territory_or_closed_is_a_404_on_the_place(
    client: Client, s: sc.Scenario, db: Database, clock: FrozenClock
) -> None:
    """The place is checked by the rules that hold the slot (scheduling/queries.rules), and
    read on its own only to say why no slot was found."""
    other = await sc.build(db, clock, slug="other")
    r = await book(client, s, WED_0900, place_id=str(other.place_ids[0]))
    assert r.status_code == 404 and r.json()["field"] == "place_id", r.text
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Place).where(Place.id == s.place_ids[0]).values(active=False)
        )
    r = await book(client, s, WED_0900)
    assert r.status_code == 404 and r.json()["field"] == "place_id", r.text
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Place).where(Place.id == s.place_ids[0]).values(active=True)
        )
    assert (await book(client, s, WED_0900)).status_code == 201
