"""Intake never merges two people on a phone number or an e-mail alone: contacts match only
together with the same identity (names, and the birth date when both sides know it); an
external id that points at someone else is reported as ambiguous, never overwritten."""

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

from rdv_spie import cli
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Journey, Person

HEADER = "Nom;Prénom;Date de naissance;Téléphone;Courriel;N° CAF\r\n"


@pytest.fixture
async def s(db: Database, clock: FrozenClock) -> sc.Scenario:
    return await sc.build(db, clock)


async def _post(
    client: httpx.AsyncClient, s: sc.Scenario, cohort: uuid.UUID, body: str
) -> dict[str, Any]:
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=body.encode(),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200, r.text
    report: dict[str, Any] = r.json()
    return report


async def _people(db: Database, clock: FrozenClock) -> list[Person]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return list(
            await uow.session.scalars(
                select(Person).order_by(Person.last_name, Person.first_name, Person.birth_on)
            )
        )


async def _journeys(db: Database, clock: FrozenClock) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Journey)) or 0)


def _who(people: list[Person]) -> list[tuple[str, str, str | None, str | None, str | None]]:
    return [
        (
            p.last_name,
            p.first_name,
            p.birth_on.isoformat() if p.birth_on else None,
            p.phone,
            p.email,
        )
        for p in people
    ]


# A couple sharing one phone (same first name, another last name), a parent and a child of the
# same name sharing the phone and told apart by their birth dates, and one more person.
HOUSEHOLD = HEADER + (
    "Martin;Camille;14/02/1980;06 12 34 56 78;camille.martin@exemple.fr;\r\n"
    "Durand;Camille;03/09/1982;06 12 34 56 78;camille.durand@exemple.fr;\r\n"
    "Petit;Dominique;21/06/1970;06 23 45 67 89;;\r\n"
    "Petit;Dominique;05/01/2005;06 23 45 67 89;dominique.jr@exemple.fr;\r\n"
    "Roux;Inès;;06 34 56 78 90;ines@exemple.fr;\r\n"
)
EXPECTED = [
    ("Durand", "Camille", "1982-09-03", "+33612345678", "camille.durand@exemple.fr"),
    ("Martin", "Camille", "1980-02-14", "+33612345678", "camille.martin@exemple.fr"),
    ("Petit", "Dominique", "1970-06-21", "+33623456789", None),
    ("Petit", "Dominique", "2005-01-05", "+33623456789", "dominique.jr@exemple.fr"),
    ("Roux", "Inès", None, "+33634567890", "ines@exemple.fr"),
]


async def test_rows_of_one_file_sharing_a_phone_are_different_people(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    report = await _post(client, s, cohort, HOUSEHOLD)
    assert (report["created"], report["updated"], report["rejected_rows"]) == (5, 0, 0)
    assert report["journeys_opened"] == 5
    assert _who(await _people(db, clock)) == EXPECTED

    again = await _post(client, s, cohort, HOUSEHOLD)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 5)
    assert again["journeys_opened"] == 0 and again["rejected_rows"] == 0
    assert _who(await _people(db, clock)) == EXPECTED
    assert await _journeys(db, clock) == 5


async def test_a_later_file_never_overwrites_someone_else_on_the_same_phone(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    await _post(client, s, cohort, HOUSEHOLD)
    later = HEADER + (
        # Martin's phone and e-mail, but another person: a new one, Martin untouched.
        "Martin;Léo;;06 12 34 56 78;camille.martin@exemple.fr;\r\n"
        # Durand's phone with the same names and birth date: Durand, who gains a CAF number.
        "DURAND;camille;03/09/1982;06 12 34 56 78;;7654321\r\n"
        # Same names and phone, another birth date: another person.
        "Durand;Camille;03/09/1962;06 12 34 56 78;;\r\n"
        # Roux had no birth date: names and e-mail are enough, and the birth date is learnt.
        "Roux;Ines;02/03/1999;;ines@exemple.fr;\r\n"
    )
    report = await _post(client, s, cohort, later)
    assert (report["created"], report["updated"], report["rejected_rows"]) == (2, 2, 0)
    people = await _people(db, clock)
    assert len(people) == 7
    by_key = {(p.last_name, p.first_name, p.birth_on and p.birth_on.year): p for p in people}
    martin = by_key[("Martin", "Camille", 1980)]
    assert (martin.phone, martin.email) == ("+33612345678", "camille.martin@exemple.fr")
    leo = by_key[("Martin", "Léo", None)]
    assert (leo.phone, leo.email) == ("+33612345678", "camille.martin@exemple.fr")
    assert by_key[("Durand", "Camille", 1982)].caf_number == "7654321"
    assert by_key[("Durand", "Camille", 1962)].caf_number is None
    assert by_key[("Roux", "Inès", 1999)].email == "ines@exemple.fr"


async def test_several_possible_people_make_the_row_ambiguous(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    """Dominique Petit without a birth date could be the parent or the child."""
    cohort = await intake.create_cohort(client, s)
    await _post(client, s, cohort, HOUSEHOLD)
    report = await _post(client, s, cohort, HEADER + "Petit;Dominique;;06 23 45 67 89;;\r\n")
    assert (report["created"], report["updated"], report["rejected_rows"]) == (0, 0, 1)
    [error] = report["rejected"]
    assert (error["line"], error["column"], error["header"], error["field"]) == (
        2,
        4,
        "Téléphone",
        "phone",
    )
    assert error["code"] == "ambiguous_identity"
    assert "birth date" in error["detail"] and "Petit" not in error["detail"]
    assert len(await _people(db, clock)) == 5


async def test_an_external_id_of_someone_with_other_names_is_reported(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, s: sc.Scenario
) -> None:
    cohort = await intake.create_cohort(client, s)
    first = HEADER + (
        "Martin;Camille;14/02/1980;06 12 34 56 78;;1234567\r\n"
        "Petit;Dominique;21/06/1970;06 23 45 67 89;;7654321\r\n"
    )
    await _post(client, s, cohort, first)
    later = HEADER + (
        # Another name: not Martin, whatever the CAF number says.
        "Durand;Hugo;03/09/1982;06 99 88 77 66;hugo@exemple.fr;1234567\r\n"
        # Married: another last name, same first name and birth date: the same person.
        "Lemaire;Camille;14/02/1980;;camille@exemple.fr;1234567\r\n"
        # The same names, another birth date (a child on the household's number).
        "Petit;Dominique;05/01/2005;06 11 22 33 44;;7654321\r\n"
    )
    report = await _post(client, s, cohort, later)
    assert (report["created"], report["updated"], report["rejected_rows"]) == (0, 1, 2)
    errors = [
        (e["line"], e["column"], e["header"], e["field"], e["code"]) for e in report["rejected"]
    ]
    assert errors == [
        (2, 6, "N° CAF", "caf_number", "ambiguous_identity"),
        (4, 6, "N° CAF", "caf_number", "ambiguous_identity"),
    ]
    assert "another name" in report["rejected"][0]["detail"]
    assert "birth date" in report["rejected"][1]["detail"]
    people = {p.caf_number: p for p in await _people(db, clock)}
    assert len(people) == 2
    martin, petit = people["1234567"], people["7654321"]
    assert (martin.last_name, martin.phone, martin.email) == (
        "Martin",
        "+33612345678",
        "camille@exemple.fr",
    )
    assert (petit.birth_on and petit.birth_on.year, petit.phone) == (1970, "+33623456789")


async def test_json_batch_and_cli_keep_a_couple_apart(
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
    people: list[dict[str, Any]] = [
        {"first_name": "Camille", "last_name": "Martin", "phone": "0612345678", "caf_number": "1"},
        {"first_name": "Camille", "last_name": "Durand", "phone": "0612345678"},
        {"first_name": "Hugo", "last_name": "Roux", "phone": "0699887766", "caf_number": "1"},
    ]
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/people", headers=s.auth(), json={"people": people}
    )
    assert r.status_code == 200, r.text
    report = r.json()
    assert (report["created"], report["rejected_rows"]) == (2, 1)
    [error] = report["rejected"]
    assert (error["line"], error["column"], error["header"], error["field"], error["code"]) == (
        3,
        None,
        "caf_number",
        "caf_number",
        "ambiguous_identity",
    )

    path = tmp_path / "people.csv"
    path.write_text(
        HEADER + "Roux;Lina;;06 12 34 56 78;;\r\nMartin;Camille;;06 12 34 56 78;;2\r\n",
        encoding="utf-8",
    )
    monkeypatch.setenv("RDV_DATABASE_URL", database_url)
    code = await asyncio.to_thread(cli.main, ["import", str(path), "--cohort", str(cohort)])
    out, _ = capsys.readouterr()
    assert code == 1, out
    assert "line 3, column 6 (N° CAF)" in out  # Martin's CAF number is 1, not 2
    assert _who(await _people(db, clock)) == [
        ("Durand", "Camille", None, "+33612345678", None),
        ("Martin", "Camille", None, "+33612345678", None),
        ("Roux", "Lina", None, "+33612345678", None),
    ]
