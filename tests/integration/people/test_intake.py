"""Intake through the API and the CLI: matching updates instead of duplicating, conflicting
external ids block the row, encodings, a broken file writes nothing, the JSON batch, rights."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from tests.support import intake
from tests.support import scenario as sc
from tests.support.spreadsheets import xlsx

from rdv_spie import cli
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey, Person

HEADER = "Nom;Prénom;Téléphone;Courriel;N° CAF\r\n"


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def _post(
    client: httpx.AsyncClient, s: sc.Scenario, cohort: uuid.UUID, body: bytes, **headers: str
) -> httpx.Response:
    return await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=body,
        headers={**s.auth(), "Content-Type": "text/csv", **headers},
    )


async def _people(db: Database, clock: FrozenClock) -> list[Person]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(await uow.session.scalars(select(Person).order_by(Person.last_name)))


async def test_matching_updates_and_conflicts_block(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    first = HEADER + (
        "Martin;Léa;06 12 34 56 78;lea@exemple.fr;1234567\r\n"
        "Durand;Hugo;06 22 33 44 55;;\r\n"
        "Petit;Inès;;ines@exemple.fr;\r\n"
    )
    r = await _post(client, s, cohort, first.encode())
    assert r.json()["created"] == 3 and r.json()["journeys_opened"] == 3

    second = HEADER + (
        # by CAF number: a new phone is an update
        "Martin;Léa;06 99 88 77 66;;1234567\r\n"
        # by phone + first name (accents and case ignored): gains an e-mail
        "DURAND;hugo;06 22 33 44 55;hugo@exemple.fr;\r\n"
        # by e-mail + first name, but the file says another CAF number than the matched one's
        "Martin;Léa;;lea@exemple.fr;7654321\r\n"
        # the same e-mail with another first name is somebody else
        "Petit;Noé;;ines@exemple.fr;\r\n"
    )
    r = await _post(client, s, cohort, second.encode())
    report = r.json()
    assert (report["created"], report["updated"], report["rejected_rows"]) == (1, 2, 1)
    assert report["rejected"][0]["line"] == 4
    assert report["rejected"][0]["code"] == "conflicting_external_id"
    assert report["journeys_opened"] == 1  # only Noé; the others already have one open

    people = {(p.last_name, p.first_name): p for p in await _people(db, clock)}
    assert len(people) == 4
    assert people[("Martin", "Léa")].phone == "+33699887766"
    assert people[("Martin", "Léa")].caf_number == "1234567"
    assert people[("Durand", "Hugo")].email == "hugo@exemple.fr"


async def test_a_person_listed_twice_in_one_file_is_created_once(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    """The second line matches the person the first one created in the same batch (by CAF
    number, then by phone), and brings what the first lacked."""
    cohort = await intake.create_cohort(client, s)
    body = HEADER + (
        "Martin;Léa;06 12 34 56 78;;1234567\r\n"
        "Martin;Léa;;lea@exemple.fr;1234567\r\n"
        "Durand;Hugo;06 22 33 44 55;;\r\n"
        "Durand;Hugo;06 22 33 44 55;hugo@exemple.fr;\r\n"
    )
    r = await _post(client, s, cohort, body.encode())
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["updated"], report["journeys_opened"]) == (2, 2, 2)
    people = {p.first_name: p for p in await _people(db, clock)}
    assert len(people) == 2
    assert (people["Léa"].phone, people["Léa"].email) == ("+33612345678", "lea@exemple.fr")
    assert people["Hugo"].email == "hugo@exemple.fr"


async def test_windows_1252_and_commas(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    body = "Nom,Prénom,Courriel\r\nLefèvre,Françoise,francoise@exemple.fr\r\n".encode("cp1252")
    r = await _post(client, s, cohort, body)
    assert r.status_code == 200 and r.json()["created"] == 1
    [person] = await _people(db, clock)
    assert (person.last_name, person.first_name) == ("Lefèvre", "Françoise")


async def test_a_spreadsheet_imports_like_a_csv_file_and_twice_changes_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    body = xlsx(
        [
            ["Nom", "Prénom", "Téléphone", "Courriel"],
            ["Lefèvre", "Françoise", 612345678, None],
            ["Sans", "Contact", None, None],
        ]
    )
    sheet = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    r = await _post(client, s, cohort, body, **{"Content-Type": sheet})
    assert r.status_code == 200, r.text
    assert (r.json()["created"], r.json()["rejected_rows"]) == (1, 1)
    assert (r.json()["rejected"][0]["line"], r.json()["rejected"][0]["code"]) == (3, "no_contact")
    [person] = await _people(db, clock)
    assert (person.last_name, person.phone) == ("Lefèvre", "+33612345678")
    again = await _post(client, s, cohort, body, **{"Content-Type": sheet})
    assert (again.json()["created"], again.json()["updated"]) == (0, 0), again.text
    broken = await _post(client, s, cohort, b"PK\x03\x04 broken", **{"Content-Type": sheet})
    assert broken.status_code == 422 and broken.json()["code"] == "not_a_table", broken.text


async def test_a_broken_file_writes_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    good = "".join(f"Nom{i};Prénom{i};;p{i}@exemple.fr;\r\n" for i in range(2500))
    body = HEADER + good + 'Faux;"sans fin;;;\r\n' + good.replace("Nom", "Autre")
    r = await _post(client, s, cohort, body.encode())
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "malformed_csv" and "line 2502" in r.json()["detail"]
    assert await _people(db, clock) == []

    r = await _post(client, s, cohort, b"Prenom;Courriel\r\nLea;lea@exemple.fr\r\n")
    assert r.status_code == 422 and r.json()["code"] == "missing_columns", r.text


async def test_json_batch(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    people: list[dict[str, Any]] = [
        {"first_name": "Léa", "last_name": "Martin", "phone": "0612345678"},
        {"first_name": "Hugo", "last_name": "Durand", "phone": "12", "email": "h@exemple.fr"},
        {
            "first_name": "Inès",
            "last_name": "Petit\nRoux",
            "email": "ines@exemple.fr",
            "birth_date": "1990-02-01",
            "france_travail_id": "FT-1",
        },
    ]
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/people", headers=s.auth(), json={"people": people}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert report["journeys_opened"] == 2 and report["rejected_rows"] == 1
    [error] = report["rejected"]
    assert (error["line"], error["field"], error["code"]) == (2, "phone", "invalid_phone")
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/people", headers=s.auth(), json={"people": people[2:]}
    )
    assert r.json()["unchanged"] == 1 and r.json()["journeys_opened"] == 0


async def test_only_managers_of_the_territory_import(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    other = await sc.build(db, clock, slug="other")
    body = (HEADER + "Martin;Léa;;lea@exemple.fr;\r\n").encode()
    referent = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=body,
        headers={**s.auth(s.referent_ids[0]), "Content-Type": "text/csv"},
    )
    assert referent.status_code == 403
    stranger = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=body,
        headers={**other.auth(), "Content-Type": "text/csv"},
    )
    assert stranger.status_code == 404
    assert await _people(db, clock) == []


async def test_cli_import(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    s: sc.Scenario,
    database_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    cohort = await intake.create_cohort(client, s)
    path = tmp_path / "people.csv"
    path.write_bytes(intake.csv_bytes(intake.people(9), bad_every=9))
    monkeypatch.setenv("RDV_DATABASE_URL", database_url)
    code = await asyncio.to_thread(cli.main, ["import", str(path), "--cohort", str(cohort)])
    out, err = capsys.readouterr()
    assert code == 1  # some rows were rejected
    assert "10 rows: 9 created" in out and "line 11, column 4 (Téléphone)" in out
    assert "rows read" in err  # the progress line
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Journey)) == 9
    code = await asyncio.to_thread(cli.main, ["import", str(path), "--cohort", "nope"])
    assert code == 2
