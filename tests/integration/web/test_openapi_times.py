"""Times of day in the OpenAPI document: declared as what they are (a local wall time such as
"09:00:00", no offset, since the offset depends on the day) and never as a duration, and the
values served for a created cohort, availability rule and CTO series match the declaration."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

Client = httpx.AsyncClient
# RFC 3339 full-time, what JSON Schema's ``format: time`` demands (the offset is required).
FULL_TIME = re.compile(r"^\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")
TIME_OF_DAY_FIELDS = re.compile(r"(^send_window_(start|end)$|_time$)")


def _properties(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for component, schema in doc["components"]["schemas"].items():
        for name, prop in schema.get("properties", {}).items():
            yield component, name, prop


def _branches(prop: dict[str, Any]) -> list[dict[str, Any]]:
    """The property's schema, or each branch of a ``oneOf`` / ``anyOf``, with the keywords
    set on the union itself."""
    union = prop.get("oneOf") or prop.get("anyOf")
    if not union:
        return [prop]
    outer = {k: v for k, v in prop.items() if k not in ("oneOf", "anyOf")}
    return [{**outer, **branch} for branch in union]


def _valid(value: Any, prop: dict[str, Any]) -> bool:
    """``value`` matches one branch: its type, and for a string its pattern and format."""
    for branch in _branches(prop):
        if value is None:
            if branch.get("type") == "null":
                return True
            continue
        if branch.get("type") != "string" or not isinstance(value, str):
            continue
        if "pattern" in branch and not re.search(branch["pattern"], value):
            continue
        if branch.get("format") == "time" and not FULL_TIME.match(value):
            continue
        if branch.get("format") == "duration" and not value.startswith("P"):
            continue  # ISO 8601 durations: "PT9H", never "09:00:00"
        return True
    return False


async def _schema(client: Client) -> dict[str, Any]:
    r = await client.get("/api/v1/schema/openapi.json")
    assert r.status_code == 200
    doc: dict[str, Any] = r.json()
    return doc


async def test_no_time_of_day_is_declared_a_duration(client: Client) -> None:
    doc = await _schema(client)
    times = [(c, n, p) for c, n, p in _properties(doc) if TIME_OF_DAY_FIELDS.search(n)]
    named = {f"{c}.{n}" for c, n, _ in times}
    for expected in (
        "CohortIn.send_window_start",
        "CohortOut.send_window_end",
        "CohortPatch.send_window_start",
        "RuleIn.start_time",
        "RuleOut.end_time",
        "SeriesIn.deadline_time",
        "SeriesOut.dispatch_time",
        "SeriesPatch.start_time",
    ):
        assert expected in named
    for component, name, prop in times:
        strings = [b for b in _branches(prop) if b.get("type") == "string"]
        assert strings, f"{component}.{name}: {prop}"
        for branch in strings:
            assert branch.get("format") != "duration", f"{component}.{name}: {prop}"
            assert "pattern" in branch, f"{component}.{name}: {prop}"
            assert re.search(branch["pattern"], "09:00:00"), f"{component}.{name}: {prop}"
            assert not re.search(branch["pattern"], "PT9H"), f"{component}.{name}: {prop}"
    # Nothing in this API is a duration (lengths are whole minutes).
    assert '"duration"' not in str(doc).replace("'", '"')


async def test_served_times_match_their_declaration(
    client: Client, db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock)
    doc = await _schema(client)
    cohort = await intake.create_cohort(
        client, s, send_window_start="08:30:00", send_window_end="18:45:00"
    )
    served = {"CohortOut": (await client.get(f"/api/v1/cohorts/{cohort}", headers=s.auth()))}
    served["RuleOut"] = await client.post(
        "/api/v1/availability-rules",
        headers=s.auth(),
        json={
            "agent_id": str(s.referent_ids[0]),
            "place_id": str(s.place_ids[0]),
            "weekdays": [5],
            "start_time": "09:00:00",
            "end_time": "12:30:00",
            "valid_from": "2026-12-01",
            "appointment_type_ids": [str(s.single_type_id)],
        },
    )
    served["SeriesOut"] = await client.post(
        "/api/v1/cto-series",
        headers=s.auth(s.animator_id),
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "Laon",
            "starts_on": "2026-12-10",
            "place_id": str(s.place_ids[0]),
        },
    )
    checked = 0
    for component, response in served.items():
        assert response.status_code in (200, 201), response.text
        body = response.json()
        properties = doc["components"]["schemas"][component]["properties"]
        for name, prop in properties.items():
            if TIME_OF_DAY_FIELDS.search(name):
                assert _valid(body[name], prop), f"{component}.{name}={body[name]!r}: {prop}"
                checked += 1
    assert checked == 7  # 2 for the cohort, 2 for the rule, 3 for the series
    # A time with an offset is refused: a wall time's offset depends on the day.
    r = await client.patch(
        f"/api/v1/cohorts/{cohort}", headers=s.auth(), json={"send_window_start": "09:00:00+01:00"}
    )
    assert r.status_code == 400, r.text
