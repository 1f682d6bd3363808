"""The same people sent as a file and then as a JSON batch, through the API: the batch finds
every good person exactly as the file left them (nothing created, nothing updated) and refuses
the same bad values with the same codes, fields and details."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import httpx
import pytest
from sqlalchemy import select
from tests.support import intake
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey, Person

# JSON field -> the file's header for it.
HEADERS = {
    "last_name": "Nom",
    "first_name": "Prénom",
    "birth_date": "Date de naissance",
    "phone": "Téléphone",
    "email": "Courriel",
    "caf_number": "N° CAF",
    "france_travail_id": "Identifiant France Travail",
    "departement_id": "Identifiant département",
    "postcode": "Code postal",
    "entry_date": "Date d'entrée",
    "sms_consent": "Consentement SMS",
    "email_consent": "Consentement e-mail",
    "prefers_call": "Préfère être appelé",
}
GOOD: list[dict[str, Any]] = [
    {
        "last_name": "Le  Gall",
        "first_name": "Léa",
        "birth_date": "1990-04-02",
        "phone": "06 12 34 56 78",
        "email": "Lea.Martin@Exemple.FR",
        "caf_number": "1234567",
        "postcode": "2000",
        "sms_consent": False,
        "prefers_call": True,
    },
    {
        "last_name": "Durand",
        "first_name": "Hugo",
        "phone": "+262 692 12 34 56",
        "email": "hugo@exemple.fr",
        "entry_date": "2026-11-20",
        "email_consent": False,
    },
    {
        "last_name": "Petit",
        "first_name": "Inès",
        "email": "ines@exemple.fr",
        "france_travail_id": "FT-1",
        "departement_id": "D-9",
        "postcode": "97400",
    },
]
# A bad value the API's schema lets through, and the row's refusal for it.
BAD: list[tuple[dict[str, Any], str, str | None]] = [
    ({"last_name": "Roux", "first_name": "Zoé", "phone": "12"}, "invalid_phone", "phone"),
    ({"last_name": "Blanc", "first_name": "Noah", "email": "noah@"}, "invalid_email", "email"),
    (
        {"last_name": "Faure", "first_name": "Lou", "email": "lou@exemple.fr", "postcode": "ABCDE"},
        "invalid_postcode",
        "postcode",
    ),
    (
        {
            "last_name": "Morel",
            "first_name": "Eva",
            "email": "eva@exemple.fr",
            "birth_date": "2020-01-01",
        },
        "implausible_birth_date",
        "birth_date",
    ),
    (
        {
            "last_name": "Garnier",
            "first_name": "Tom",
            "email": "tom@exemple.fr",
            "entry_date": "2020-01-01",
        },
        "implausible_date",
        "entry_date",
    ),
    ({"last_name": "Lambert", "first_name": "Jade", "postcode": "75001"}, "no_contact", None),
]
FILE_FIELDS = {"birth_on": "birth_date", "entered_on": "entry_date"}


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


def _file(people: list[dict[str, Any]]) -> bytes:
    def cell(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, bool):
            return "oui" if value else "non"
        if isinstance(value, str) and value[:4].isdigit() and value[4:5] == "-":
            return date.fromisoformat(value).strftime("%d/%m/%Y")  # as a spreadsheet writes it
        return str(value)

    lines = [";".join(HEADERS.values())]
    lines += [";".join(cell(p.get(name)) for name in HEADERS) for p in people]
    return ("\r\n".join(lines) + "\r\n").encode()


async def _people(db: Database, clock: FrozenClock) -> list[tuple[Any, ...]]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = await uow.session.scalars(select(Person))
        rows = [tuple(getattr(p, c.key) for c in Person.__table__.columns) for p in found]
        return sorted(rows, key=str)


async def _journeys(
    db: Database, clock: FrozenClock, cohort: uuid.UUID
) -> dict[uuid.UUID, tuple[Any, ...]]:
    """Each person's journey of the cohort: its dates and its referent."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        found = await uow.session.scalars(select(Journey).where(Journey.cohort_id == cohort))
        return {
            j.person_id: (j.entered_on, j.invite_by_on, j.appointment_by_on, j.referent_id)
            for j in found
        }


async def test_a_file_and_a_json_batch_of_the_same_people_agree(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    by_file = await intake.create_cohort(client, s)
    by_json = await intake.create_cohort(client, s, name="Les mêmes, par l'API")
    people = GOOD + [person for person, _, _ in BAD]

    r = await client.post(
        f"/api/v1/cohorts/{by_file}/imports",
        content=_file(people),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    from_file = r.json()
    assert (from_file["created"], from_file["rejected_rows"]) == (len(GOOD), len(BAD))
    stored = await _people(db, clock)
    assert len(stored) == len(GOOD)

    r = await client.post(
        f"/api/v1/cohorts/{by_json}/people", headers=s.auth(), json={"people": people}
    )
    assert r.status_code == 200, r.text
    from_json = r.json()
    # Every good person is found exactly as the file left them, and enters the second cohort
    # on the same day.
    assert (from_json["created"], from_json["updated"]) == (0, 0)
    assert (from_json["unchanged"], from_json["journeys_opened"]) == (len(GOOD), len(GOOD))
    assert await _people(db, clock) == stored
    assert await _journeys(db, clock, by_json) == await _journeys(db, clock, by_file)

    # The same refusals: a file's line is the position + 1 (its header), and it names the
    # field as the rows do (birth_on), where the API names it as its JSON (birth_date).
    def refusal(error: dict[str, Any], offset: int, names: dict[str, str]) -> tuple[Any, ...]:
        field = names.get(error["field"], error["field"])
        return error["line"] - offset, field, error["code"], error["detail"]

    expected = [(len(GOOD) + i + 1, field, code) for i, (_, code, field) in enumerate(BAD)]
    assert [refusal(e, 1, FILE_FIELDS)[:3] for e in from_file["rejected"]] == expected
    assert [refusal(e, 0, {}) for e in from_json["rejected"]] == [
        refusal(e, 1, FILE_FIELDS) for e in from_file["rejected"]
    ]
    assert [e["header"] for e in from_json["rejected"]] == [field for _, _, field in BAD]
