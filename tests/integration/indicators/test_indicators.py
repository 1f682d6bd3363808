"""Entry-delay indicators on both engines, JSON and CSV: each figure against a count made by
hand over journeys and appointments written directly, the period's bounds, local dates (Paris),
another territory's agent, and a reversed period."""

from __future__ import annotations

import csv
import io
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

URL = "/api/v1/indicators/"
CSV_URL = "/api/v1/indicators/csv"
PERIOD = {"from": "2026-11-01", "to": "2026-11-30"}
COLUMNS = [
    "territory_id",
    "territory",
    "cohort_id",
    "cohort",
    "entered",
    "invited_within_3_days",
    "first_appointment_within_delay",
    "median_days_to_first_appointment",
    "noshow_rate",
    "waiting_for_slots",
]


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class J:
    """One journey to write: its dates and its appointments (status, start in UTC)."""

    entered_on: str
    invited_at: str | None = None
    deadline: str | None = None  # appointment_by_on, entry + 30 days by default
    waiting_since: str | None = None
    closed_at: str | None = None
    appointments: list[tuple[AppointmentStatus, str]] = field(default_factory=list)


SEEN, NOSHOW, BOOKED = AppointmentStatus.SEEN, AppointmentStatus.NOSHOW, AppointmentStatus.BOOKED
CANCELLED = AppointmentStatus.CANCELLED

# Cohort A. Paris is UTC+1 in November and December.
COHORT_A = [
    # j1: invited the next day, seen after 9 days; a later booked follow-up is not a first.
    J(
        "2026-11-01",
        invited_at="2026-11-02T10:00",
        appointments=[(SEEN, "2026-11-10T09:00"), (BOOKED, "2026-12-10T09:00")],
    ),
    # j2: invited at 23:30 UTC on 4 November = 00:30 on 5 November in Paris: 4 days, not 3.
    # A no-show, then seen on day 19.
    J(
        "2026-11-01",
        invited_at="2026-11-04T23:30",
        appointments=[(NOSHOW, "2026-11-12T09:00"), (SEEN, "2026-11-20T09:00")],
    ),
    # j3: invited on day 3 exactly; seen at 23:30 UTC on its deadline day, which is already the
    # next day in Paris: after the deadline (31 days).
    J(
        "2026-11-05",
        invited_at="2026-11-08T08:00",
        deadline="2026-12-05",
        appointments=[(SEEN, "2026-12-05T23:30")],
    ),
    # j9: seen on its deadline day (30 days): within the delay. Cancelled ones are ignored.
    J(
        "2026-11-05",
        invited_at="2026-11-06T08:00",
        deadline="2026-12-05",
        appointments=[(CANCELLED, "2026-11-20T09:00"), (SEEN, "2026-12-05T09:00")],
    ),
    # j4: not invited, waiting for slots.
    J("2026-11-10", waiting_since="2026-11-10T09:00"),
    # j5: waiting for slots but closed: not counted as waiting. Last day of the period.
    J("2026-11-30", waiting_since="2026-11-30T09:00", closed_at="2026-11-30T15:00"),
    # j6: invited (waiting flag left over: invited wins), a no-show, then booked again.
    J(
        "2026-11-20",
        invited_at="2026-11-21T09:00",
        waiting_since="2026-11-20T09:00",
        appointments=[(NOSHOW, "2026-11-25T09:00"), (BOOKED, "2026-12-03T09:00")],
    ),
    # Outside the period on both sides: they must change nothing.
    J(
        "2026-10-31",
        invited_at="2026-11-01T08:00",
        appointments=[(SEEN, "2026-11-05T09:00"), (NOSHOW, "2026-11-03T09:00")],
    ),
    J("2026-12-01", waiting_since="2026-12-01T08:00"),
]
# Counted by hand over the seven journeys entered from 1 to 30 November:
#   invited within 3 days: j1 (1 day), j3 (3), j9 (1), j6 (1) = 4 of 7
#   first held appointment by the deadline: j1, j2, j9 = 3 of 7 (j3 is one local day late)
#   days to it: j1 9, j2 19, j9 30, j3 31 → median (19 + 30) / 2 = 24.5
#   seen j1, j2, j3, j9 = 4 and no-shows j2, j6 = 2 → 2 / 6
#   waiting for slots: j4 only
EXPECTED_A = {
    "entered": 7,
    "invited_within_3_days": round(4 / 7, 4),
    "first_appointment_within_delay": round(3 / 7, 4),
    "median_days_to_first_appointment": 24.5,
    "noshow_rate": round(2 / 6, 4),
    "waiting_for_slots": 1,
}
# Cohort B: one journey only, entered before the period.
COHORT_B = [J("2026-10-15", invited_at="2026-10-16T08:00", appointments=[(SEEN, "2026-11-02")])]
EXPECTED_B = {
    "entered": 0,
    "invited_within_3_days": None,
    "first_appointment_within_delay": None,
    "median_days_to_first_appointment": None,
    "noshow_rate": None,
    "waiting_for_slots": 0,
}


async def _cohort(
    db: Database, clock: FrozenClock, s: sc.Scenario, name: str, journeys: list[J]
) -> uuid.UUID:
    """A cohort and its journeys, people and appointments, written directly."""
    async with db.unit_of_work(clock=clock) as uow:
        session = uow.session
        cohort = Cohort(
            territory_id=s.territory_id,
            name=name,
            appointment_type_id=s.single_type_id,
            organisation_id=s.organisation_id,
        )
        session.add(cohort)
        await session.flush()
        for i, spec in enumerate(journeys):
            person = Person(territory_id=s.territory_id, first_name=f"P{i}", last_name=name)
            session.add(person)
            await session.flush()
            entered = date.fromisoformat(spec.entered_on)
            journey = Journey(
                territory_id=s.territory_id,
                person_id=person.id,
                cohort_id=cohort.id,
                entered_on=entered,
                invite_by_on=entered + timedelta(days=3),
                appointment_by_on=(
                    date.fromisoformat(spec.deadline)
                    if spec.deadline
                    else entered + timedelta(days=30)
                ),
                invited_at=utc(spec.invited_at) if spec.invited_at else None,
                waiting_for_slots_since=utc(spec.waiting_since) if spec.waiting_since else None,
                closed_at=utc(spec.closed_at) if spec.closed_at else None,
                closed_reason="moved" if spec.closed_at else None,
            )
            session.add(journey)
            await session.flush()
            for status, starts in spec.appointments:
                starts_at = utc(starts)
                session.add(
                    Appointment(
                        territory_id=s.territory_id,
                        acting_organisation_id=s.organisation_id,
                        appointment_type_id=s.single_type_id,
                        place_id=s.place_ids[0],
                        person_id=person.id,
                        journey_id=journey.id,
                        starts_at=starts_at,
                        ends_at=starts_at + timedelta(minutes=45),
                        busy_until=starts_at + timedelta(hours=1),
                        status=status,
                    )
                )
        await session.flush()
        return cohort.id


def _figures(line: dict[str, Any]) -> dict[str, Any]:
    return {k: line[k] for k in EXPECTED_A}


@pytest.fixture
async def setup(
    db: Database, clock: FrozenClock
) -> tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID]:
    s = await sc.build(db, clock)
    other = await sc.build(db, clock, slug="other")
    a = await _cohort(db, clock, s, "Cohorte A", COHORT_A)
    b = await _cohort(db, clock, s, "Cohorte B", COHORT_B)
    # The other territory's cohort: same journeys, so figures would double if they leaked.
    o = await _cohort(db, clock, other, "Cohorte A", COHORT_A[:3])
    return s, other, a, b, o


async def test_figures_match_the_counts_by_hand(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, a, b, _ = setup
    r = await client.get(URL, params=PERIOD, headers=s.auth())
    assert r.status_code == 200, r.text
    lines = r.json()
    assert [(x["cohort_id"], x["cohort"]) for x in lines] == [
        (str(a), "Cohorte A"),
        (str(b), "Cohorte B"),
    ]
    assert {x["territory_id"] for x in lines} == {str(s.territory_id)}
    assert {x["territory"] for x in lines} == {"Territoire test"}
    assert _figures(lines[0]) == EXPECTED_A
    assert _figures(lines[1]) == EXPECTED_B


async def test_a_referent_sees_the_same_figures(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, _, _, _ = setup
    r = await client.get(URL, params=PERIOD, headers=s.auth(s.referent_ids[0]))
    assert r.status_code == 200, r.text
    assert [_figures(x) for x in r.json()] == [EXPECTED_A, EXPECTED_B]


@pytest.mark.parametrize(
    ("period", "entered"),
    [
        ({"from": "2026-11-01", "to": "2026-11-01"}, 2),  # j1, j2
        ({"from": "2026-11-02", "to": "2026-11-29"}, 4),  # j3, j9, j4, j6
        ({"from": "2026-10-31", "to": "2026-11-30"}, 8),  # + the one of 31 October
        ({"from": "2026-10-01", "to": "2026-12-31"}, 9),  # + the one of 1 December
        ({"from": "2027-01-01", "to": "2027-12-31"}, 0),
    ],
)
async def test_only_journeys_entered_in_the_period_count(
    period: dict[str, str],
    entered: int,
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, _, _, _ = setup
    r = await client.get(URL, params=period, headers=s.auth())
    assert r.status_code == 200, r.text
    assert r.json()[0]["entered"] == entered


async def test_first_and_last_day_alone(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, _, _, _ = setup
    day = {"from": "2026-11-01", "to": "2026-11-01"}
    first = await client.get(URL, params=day, headers=s.auth())
    # j1 and j2 only: j1 invited in 1 day, j2 in 4 (local); both seen in the delay (9, 19 days);
    # one no-show for two seen.
    assert _figures(first.json()[0]) == {
        "entered": 2,
        "invited_within_3_days": 0.5,
        "first_appointment_within_delay": 1.0,
        "median_days_to_first_appointment": 14.0,
        "noshow_rate": round(1 / 3, 4),
        "waiting_for_slots": 0,
    }
    day = {"from": "2026-11-30", "to": "2026-11-30"}
    last = await client.get(URL, params=day, headers=s.auth())
    # j5 alone: closed, never invited, no appointment.
    assert _figures(last.json()[0]) == {
        "entered": 1,
        "invited_within_3_days": 0.0,
        "first_appointment_within_delay": 0.0,
        "median_days_to_first_appointment": None,
        "noshow_rate": None,
        "waiting_for_slots": 0,
    }


async def test_another_territory_sees_only_its_own(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, other, _, _, o = setup
    r = await client.get(URL, params=PERIOD, headers=other.auth())
    assert r.status_code == 200, r.text
    lines = r.json()
    assert [(x["cohort_id"], x["territory_id"]) for x in lines] == [
        (str(o), str(other.territory_id))
    ]
    # j1, j2, j3 of cohort A: 2 of 3 invited in 3 days, 2 of 3 seen in the delay, days 9, 19,
    # 31, one no-show for three seen.
    assert _figures(lines[0]) == {
        "entered": 3,
        "invited_within_3_days": round(2 / 3, 4),
        "first_appointment_within_delay": round(2 / 3, 4),
        "median_days_to_first_appointment": 19.0,
        "noshow_rate": 0.25,
        "waiting_for_slots": 0,
    }
    csv_text = (await client.get(CSV_URL, params=PERIOD, headers=other.auth())).text
    assert str(s.territory_id) not in csv_text and "Cohorte B" not in csv_text

    # Asking for the first territory by id: it does not exist as far as they know.
    for url in (URL, CSV_URL):
        r = await client.get(
            url, params={**PERIOD, "territory_id": str(s.territory_id)}, headers=other.auth()
        )
        assert r.status_code == 404, r.text
        assert r.json()["field"] == "territory_id"
    # Their own territory by id works.
    r = await client.get(
        URL, params={**PERIOD, "territory_id": str(other.territory_id)}, headers=other.auth()
    )
    assert r.status_code == 200 and len(r.json()) == 1


async def test_without_credentials_nothing(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    for url in (URL, CSV_URL):
        r = await client.get(url, params=PERIOD)
        assert r.status_code == 401, r.text
        assert "Cohorte" not in r.text


@pytest.mark.parametrize("url", [URL, CSV_URL])
async def test_to_before_from_is_refused_naming_the_field(
    url: str,
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, _, _, _ = setup
    r = await client.get(url, params={"from": "2026-11-30", "to": "2026-11-01"}, headers=s.auth())
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["field"] == "to"
    # A single day (to == from) is a valid period.
    same = {"from": "2026-11-30", "to": "2026-11-30"}
    assert (await client.get(url, params=same, headers=s.auth())).status_code == 200


@pytest.mark.parametrize(
    ("params", "field_name"),
    [
        pytest.param({"from": "2026-13-01", "to": "2026-11-30"}, "from"),
        pytest.param({"from": "2026-11-01", "to": "30/11/2026"}, "to"),
        pytest.param({"to": "2026-11-30"}, "from"),
        ({**PERIOD, "territory_id": "not-a-uuid"}, "territory_id"),
    ],
)
async def test_bad_parameters_are_named(
    params: dict[str, str],
    field_name: str,
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, _, _, _ = setup
    r = await client.get(URL, params=params, headers=s.auth())
    assert r.status_code == 400, r.text
    assert r.json()["field"] == field_name


def _cell(value: Any) -> str:
    return "" if value is None else str(value)


async def test_csv_has_a_header_and_one_line_per_cohort_with_the_same_numbers(
    client: httpx.AsyncClient,
    setup: tuple[sc.Scenario, sc.Scenario, uuid.UUID, uuid.UUID, uuid.UUID],
) -> None:
    s, _, a, b, _ = setup
    r = await client.get(CSV_URL, params=PERIOD, headers=s.auth())
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert "charset=utf-8" in r.headers["content-type"]
    assert r.headers["content-disposition"] == (
        'attachment; filename="indicateurs-2026-11-01-2026-11-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(r.text), delimiter=";"))
    assert rows[0] == COLUMNS
    assert [row[2] for row in rows[1:]] == [str(a), str(b)]
    assert all(len(row) == len(COLUMNS) for row in rows)
    line_a = dict(zip(COLUMNS, rows[1], strict=True))
    assert line_a["territory"] == "Territoire test" and line_a["cohort"] == "Cohorte A"
    assert line_a["entered"] == "7" and line_a["waiting_for_slots"] == "1"
    assert float(line_a["invited_within_3_days"]) == EXPECTED_A["invited_within_3_days"]
    assert (
        float(line_a["first_appointment_within_delay"])
        == (EXPECTED_A["first_appointment_within_delay"])
    )
    assert float(line_a["median_days_to_first_appointment"]) == 24.5
    assert float(line_a["noshow_rate"]) == EXPECTED_A["noshow_rate"]
    line_b = dict(zip(COLUMNS, rows[2], strict=True))
    assert line_b["entered"] == "0" and line_b["waiting_for_slots"] == "0"
    for name in ("invited_within_3_days", "noshow_rate", "median_days_to_first_appointment"):
        assert line_b[name] == ""  # no share of nothing

    # Cell for cell the same as the JSON.
    lines = (await client.get(URL, params=PERIOD, headers=s.auth())).json()
    assert rows[1:] == [[_cell(line[c]) for c in COLUMNS] for line in lines]
