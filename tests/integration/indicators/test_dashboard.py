"""The indicators dashboard in the back office, on both engines: each figure on a scenario
counted by hand (journeys and appointments written with known dates, Paris time), all the
territory's cohorts or one, the default period, the month-by-month chart and its table carrying
the same numbers, the CSV the same as the page, a wrong date as the page again (422), an empty
period said in a sentence, and who may open it (the team; a referent 403; a cohort of another
territory 404)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import httpx
import pytest
from tests.integration.web_office.office_support import body, login, set_password
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

URL = "/agent/indicateurs"
CSV_URL = "/agent/indicateurs.csv"
SEEN, NOSHOW = AppointmentStatus.SEEN, AppointmentStatus.NOSHOW
PERIOD = {"du": "2026-10-01", "au": "2026-11-30"}


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass
class J:
    """A journey to write: entry, first invitation, waiting, closing, appointments (UTC)."""

    entered_on: str
    invited_at: str | None = None
    waiting_since: str | None = None
    closed_at: str | None = None
    appointments: list[tuple[AppointmentStatus, str]] = field(default_factory=list)


# Cohort "Jeunes 18-30 ans" (deadlines: entry + 30 days). Paris is UTC+1 or +2 (October).
JEUNES = [
    # j1: invited the next day (fast); seen after 15 days, within the delay (4 November).
    J("2026-10-05", "2026-10-06T08:00", appointments=[(SEEN, "2026-10-20T08:00")]),
    # j2: invited after 7 days (slow); a no-show, then seen after 41 days: late.
    J(
        "2026-10-20",
        "2026-10-27T08:00",
        appointments=[(NOSHOW, "2026-11-05T09:00"), (SEEN, "2026-11-30T09:00")],
    ),
    # j3: invited the next day, seen after 8 days, then closed (found work).
    J(
        "2026-11-02",
        "2026-11-03T08:00",
        closed_at="2026-11-12T10:00",
        appointments=[(SEEN, "2026-11-10T09:00")],
    ),
    # j4: never invited, waiting for slots, still open: deadline 10 December, still running.
    J("2026-11-10", waiting_since="2026-11-10T09:00"),
    # j5: entered in September (outside the period), waiting for slots now: counts as waiting.
    J("2026-09-15", waiting_since="2026-09-15T09:00"),
]
# Over 1 October – 30 November (j1 to j4): 4 entered; invited in 3 days j1, j3 = 2 of 4;
# held in the delay j1, j3 = 2 of 4; days 15, 41, 8 → median 15; 1 no-show for 3 seen → 1 of 4;
# waiting now j4 and j5 = 2; closed j3 = 1. October: 2 entered, 1 in the delay (50 %), none
# running; November: 2 entered, 1 in the delay, j4 running.
EXPECTED_JEUNES = {
    "entered": "4 personnes",
    "invited_within_3_days": "50 %",
    "first_appointment_within_delay": "50 %",
    "median_days": "15 jours",
    "noshow_rate": "25 %",
    "waiting_for_slots": "2 personnes",
    "closed": "1 parcours",
}
# Cohort "Familles": one journey in November, invited the same day, seen after 3 days.
FAMILLES = [J("2026-11-25", "2026-11-25T10:00", appointments=[(SEEN, "2026-11-28T09:00")])]
# Both cohorts over 1 January – 1 December 2026 (the default: the last 12 months), j5 too:
# 6 entered; fast: j1, j3, f1 = 3 of 6; in the delay j1, j3, f1 = 3 of 6; days 15, 41, 8, 3
# → median (8 + 15) / 2 = 11.5; 1 no-show for 4 seen = 1 of 5; waiting 2; closed 1.
EXPECTED_ALL = {
    "entered": "6 personnes",
    "invited_within_3_days": "50 %",
    "first_appointment_within_delay": "50 %",
    "median_days": "11,5 jours",
    "noshow_rate": "20 %",
    "waiting_for_slots": "2 personnes",
    "closed": "1 parcours",
}


@dataclass
class World:
    s: sc.Scenario
    other: sc.Scenario
    jeunes: uuid.UUID
    familles: uuid.UUID
    foreign: uuid.UUID  # the other territory's cohort


async def _cohort(
    db: Database, clock: FrozenClock, s: sc.Scenario, name: str, journeys: list[J]
) -> uuid.UUID:
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
                appointment_by_on=entered + timedelta(days=30),
                invited_at=utc(spec.invited_at) if spec.invited_at else None,
                waiting_for_slots_since=utc(spec.waiting_since) if spec.waiting_since else None,
                closed_at=utc(spec.closed_at) if spec.closed_at else None,
                closed_reason="found_work" if spec.closed_at else None,
            )
            session.add(journey)
            await session.flush()
            for status, starts in spec.appointments:
                at = utc(starts)
                session.add(
                    Appointment(
                        territory_id=s.territory_id,
                        acting_organisation_id=s.organisation_id,
                        appointment_type_id=s.single_type_id,
                        place_id=s.place_ids[0],
                        person_id=person.id,
                        journey_id=journey.id,
                        starts_at=at,
                        ends_at=at + timedelta(minutes=45),
                        busy_until=at + timedelta(hours=1),
                        status=status,
                    )
                )
        await session.flush()
        return cohort.id


@pytest.fixture
async def world(db: Database, clock: FrozenClock) -> World:
    s = await sc.build(db, clock, slug="laon")
    other = await sc.build(db, clock, slug="autre")
    jeunes = await _cohort(db, clock, s, "Jeunes 18-30 ans", JEUNES)
    familles = await _cohort(db, clock, s, "Familles", FAMILLES)
    # Another territory: the same journeys; the figures would change if they leaked.
    foreign = await _cohort(db, clock, other, "Jeunes 18-30 ans", JEUNES)
    for agent in (s.admin_id, s.animator_id, s.referent_ids[0], other.admin_id):
        await set_password(db, clock, agent)
    return World(s, other, jeunes, familles, foreign)


async def _as(client: httpx.AsyncClient, email: str) -> None:
    r = await login(client, email)
    assert r.status_code == 303, r.text


def _figures(page: str) -> dict[str, str]:
    """Each card's value, by key."""
    found = re.findall(
        r'<li class="card" id="chiffre-([a-z_0-9]+)">\s*<h3>[^<]*</h3>\s*'
        r'<p class="figure-value">([^<]*)</p>',
        page,
    )
    return {key: value.strip() for key, value in found}


def _svg(page: str) -> str:
    found = re.search(r"<svg .*?</svg>", page, re.S)
    assert found, "no chart on the page"
    return found.group(0)


def _bars(page: str) -> list[tuple[str, str, str, str]]:
    """The chart's bars: (month, percent, part, entered) from each bar's title."""
    return re.findall(
        r'<rect class="bar"[^>]*><title>([^<:]+) : ([0-9,]+) % dans le délai '
        r"\((\d+) sur (\d+)\)</title>",
        _svg(page),
    )


def _table(page: str) -> list[list[str]]:
    """The monthly table's rows, cell by cell (the row's heading first)."""
    table = re.search(r'<table class="months stack">.*?</table>', page, re.S)
    assert table, "no table of months"
    rows = []
    for tr in re.findall(r"<tr><th scope=\"row\">.*?</tr>", table.group(0), re.S):
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr, re.S)
        rows.append([re.sub(r"<[^>]+>", "", c).strip() for c in cells])
    return rows


async def test_figures_of_one_cohort_match_the_counts_by_hand(
    client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "animator@laon.test")
    r = await client.get(URL, params={"cohorte": str(world.jeunes), **PERIOD})
    assert r.status_code == 200, r.text
    page = body(r)
    assert _figures(page) == EXPECTED_JEUNES
    # Each share says what it is made of, and each figure has its definition.
    assert "2 sur 4 personnes entrées" in page
    assert "1 absence sur 4 rendez-vous" in page
    assert "Sur 3 personnes reçues" in page
    assert page.count('<p class="hint">') >= 7
    assert "Personnes entrées du jeudi 1er octobre 2026 au lundi 30 novembre 2026" in page
    assert "cohorte « Jeunes 18-30 ans »" in page
    assert f'<option value="{world.jeunes}" selected>' in page
    assert "Familles" in page and str(world.foreign) not in page
    # Month by month: October 1 of 2, November 1 of 2 with j4's deadline still running.
    assert _table(page) == [
        ["octobre 2026", "2", "1", "50 %", "0"],
        ["novembre 2026", "2", "1", "50 %", "1"],
    ]


async def test_every_cohort_over_the_last_twelve_months_by_default(
    client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "admin@laon.test")
    r = await client.get(URL)
    assert r.status_code == 200, r.text
    page = body(r)
    # The suite's today is 1 December 2026 (Paris): from 1 January to 1 December.
    assert 'name="du" value="2026-01-01"' in page and 'name="au" value="2026-12-01"' in page
    assert _figures(page) == EXPECTED_ALL
    rows = _table(page)
    assert [row[0] for row in rows] == [
        f"{m} 2026"
        for m in (
            "janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
            "septembre", "octobre", "novembre", "décembre",
        )
    ]  # fmt: skip
    # September: j5 entered (waiting, never seen): 0 of 1. November: j3, j4, f1: 2 of 3.
    assert rows[8] == ["septembre 2026", "1", "0", "0 %", "0"]
    assert rows[10] == ["novembre 2026", "3", "2", "66,7 %", "1"]
    assert rows[0][1:] == ["0", "0", "aucune entrée", "0"]
    # An empty cohort choice is every cohort, as without one.
    again = await client.get(URL, params={"cohorte": "", "du": "2026-01-01", "au": "2026-12-01"})
    assert _figures(body(again)) == EXPECTED_ALL


async def test_the_chart_and_its_table_carry_the_same_numbers(
    client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "animator@laon.test")
    r = await client.get(URL, params={"du": "2026-08-01", "au": "2026-11-30"})
    page = body(r)
    svg = _svg(page)
    assert 'role="img"' in svg and 'aria-labelledby="graphique-titre"' in svg
    assert 'viewBox="0 0 640 320"' in svg and 'width="100%"' in svg
    assert '<figcaption id="graphique-titre">' in page
    assert '<caption id="tableau-titre">' in page and '<th scope="col">' in page
    bars = _bars(page)
    table = _table(page)
    # One bar per month with entries (September, October, November), a flat mark for August.
    assert [b[0] for b in bars] == ["septembre 2026", "octobre 2026", "novembre 2026"]
    assert "août 2026 : aucune personne entrée" in svg
    by_month = {row[0]: row for row in table}
    for month, share, part, entered in bars:
        row = by_month[month]
        assert (row[1], row[2], row[3]) == (entered, part, f"{share} %")
    assert [(b[1], b[2], b[3]) for b in bars] == [
        ("0", "0", "1"),
        ("50", "1", "2"),
        ("66,7", "2", "3"),
    ]
    # The bars' heights follow the shares: 0 % is a thin mark; 2 of 3 against 1 of 2.
    heights = [float(h) for h in re.findall(r'<rect class="bar"[^>]*height="([0-9.]+)"', svg)]
    assert heights[0] == 2.0 and heights[2] > heights[1] > heights[0]
    assert abs(heights[2] / heights[1] - (2 / 3) / 0.5) < 0.01
    # Month labels in French under the bars, the year under the first one.
    assert ">août</text>" in svg and ">nov.</text>" in svg and ">2026</text>" in svg


async def test_the_csv_has_the_numbers_of_the_page(client: httpx.AsyncClient, world: World) -> None:
    await _as(client, "animator@laon.test")
    params = {"cohorte": str(world.jeunes), **PERIOD}
    page = body(await client.get(URL, params=params))
    assert f"/agent/indicateurs.csv?cohorte={world.jeunes}&du=2026-10-01&au=2026-11-30" in page
    r = await client.get(CSV_URL, params=params)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/csv")
    assert r.headers["content-disposition"] == (
        'attachment; filename="indicateurs-laon-jeunes-18-30-ans-2026-10-01-au-2026-11-30.csv"'
    )
    raw = r.content
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads the accents
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == ["Territoire", "Territoire laon"]
    assert rows[1] == ["Cohorte", "Jeunes 18-30 ans"]
    assert rows[2] == ["Personnes entrées du", "01/10/2026"]
    assert rows[3] == ["au", "30/11/2026"]
    assert rows[5] == ["Indicateur", "Valeur", "Unité", "Nombre", "Sur"]
    summary = {row[0]: row[1:] for row in rows[6:13]}
    assert summary == {
        "Personnes entrées": ["4", "personnes", "", ""],
        "Invitées dans les 3 jours": ["50", "%", "2", "4"],
        "Premier rendez-vous tenu dans le délai": ["50", "%", "2", "4"],
        "Délai médian jusqu'au premier rendez-vous": ["15", "jours", "3", ""],
        "Taux d'absence aux rendez-vous": ["25", "%", "1", "4"],
        "En attente de créneaux aujourd'hui": ["2", "personnes", "", ""],
        "Parcours clôturés": ["1", "parcours", "", ""],
    }
    # Value for value, the page's cards.
    figures = _figures(page)
    for label, key in (
        ("Personnes entrées", "entered"),
        ("Invitées dans les 3 jours", "invited_within_3_days"),
        ("Délai médian jusqu'au premier rendez-vous", "median_days"),
        ("Taux d'absence aux rendez-vous", "noshow_rate"),
        ("En attente de créneaux aujourd'hui", "waiting_for_slots"),
    ):
        assert figures[key].split(" ")[0] == summary[label][0]
    assert rows[14][0] == "Mois d'entrée"
    months = rows[15:]
    assert months == [["oct. 2026", "2", "1", "50", "0"], ["nov. 2026", "2", "1", "50", "1"]]
    table = _table(page)
    assert [m[1:] for m in months] == [[t[1], t[2], t[3].removesuffix(" %"), t[4]] for t in table]


async def test_the_csv_of_every_cohort_names_no_cohort(
    client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "admin@laon.test")
    r = await client.get(CSV_URL, params={"cohorte": "", **PERIOD})
    assert r.status_code == 200, r.text
    assert r.headers["content-disposition"] == (
        'attachment; filename="indicateurs-laon-toutes-cohortes-2026-10-01-au-2026-11-30.csv"'
    )
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[1] == ["Cohorte", "Toutes les cohortes"]
    assert rows[6] == ["Personnes entrées", "5", "personnes", "", ""]


@pytest.mark.parametrize(
    ("params", "field_name", "message"),
    [
        ({"du": "2026-13-01", "au": "2026-11-30"}, "du", "Indiquez une date valide."),
        ({"du": "2026-11-01", "au": "30/11/2026"}, "au", "Indiquez une date valide."),
        (
            {"du": "2026-11-30", "au": "2026-11-01"},
            "au",
            "La date de fin doit être le même jour ou après la date de début.",
        ),
        (
            {"du": "2000-01-01", "au": "2026-11-30"},
            "du",
            "Choisissez une période de 10 ans au plus.",
        ),
    ],
)
@pytest.mark.parametrize("url", [URL, CSV_URL])
async def test_a_wrong_date_is_the_page_again_with_its_message(
    url: str,
    params: dict[str, str],
    field_name: str,
    message: str,
    client: httpx.AsyncClient,
    world: World,
) -> None:
    await _as(client, "animator@laon.test")
    r = await client.get(url, params=params)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("text/html")
    page = body(r)
    assert "<title>Erreur : Indicateurs" in page
    assert message in page
    assert f'id="{field_name}" name="{field_name}" value="{params[field_name]}"' in page
    assert f'aria-invalid="true" aria-describedby="erreur-{field_name}"' in page
    assert f'href="#{field_name}"' in page  # the summary links to the field
    assert "<svg" not in page and "chiffre-entered" not in page


async def test_an_empty_period_is_a_sentence_not_a_broken_chart(
    client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "animator@laon.test")
    r = await client.get(URL, params={"du": "2030-01-01", "au": "2030-06-30"})
    assert r.status_code == 200, r.text
    page = body(r)
    assert "Aucune personne n'est entrée pendant cette période" in page
    assert "<svg" not in page and '<table class="months stack">' not in page
    assert _figures(page)["entered"] == "0 personne"
    assert _figures(page)["invited_within_3_days"] == "Pas de données"
    # Waiting for slots is today's count, whatever the period.
    assert _figures(page)["waiting_for_slots"] == "2 personnes"


async def test_only_the_territory_team_sees_it(client: httpx.AsyncClient, world: World) -> None:
    await _as(client, "referent0@laon.test")
    for url in (URL, CSV_URL):
        r = await client.get(url, params=PERIOD)
        assert r.status_code == 403, r.text
        assert "Jeunes" not in r.text


@pytest.mark.parametrize("url", [URL, CSV_URL])
async def test_a_cohort_not_seen_is_not_found(
    url: str, client: httpx.AsyncClient, world: World
) -> None:
    await _as(client, "admin@autre.test")
    for cohort in (str(world.jeunes), str(uuid.uuid4()), "pas-un-identifiant"):
        r = await client.get(url, params={"cohorte": cohort, **PERIOD})
        assert r.status_code == 404, (cohort, r.text)
        assert "Jeunes" not in r.text
    # Their own cohort: their own figures only (same journeys, without cohort Familles).
    r = await client.get(url, params={"cohorte": str(world.foreign), **PERIOD})
    assert r.status_code == 200, r.text


async def test_without_login_the_form_to_log_in(client: httpx.AsyncClient, world: World) -> None:
    for url in (URL, CSV_URL):
        r = await client.get(url, params=PERIOD)
        assert r.status_code in (302, 303), r.text
        assert r.headers["location"].startswith("/agent/connexion")
