"""Uploads that are not tables (issue 18 item 3), on both engines, through the import page and
the API: an image, a PDF, random binary, a CSV with a NUL byte, an empty file, a file over the
limit. Each gets a clear refusal (the form again with its message, or a problem+json 4xx that
says what is wrong) and nothing is written: no import run, no person, no journey."""

from __future__ import annotations

import os

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body
from tests.integration.web_office.test_import_pages import team, upload

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import ImportRun, Journey, Person
from rdv_spie.settings import Settings

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x02\x00\x00\x00"
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n"
NUL = "Nom;Prénom;Téléphone\nMartin;Lé\x00a;0612345678\n".encode()
BAD_FILES = {
    "image.png": PNG,
    "document.pdf": PDF,
    "bruit.bin": b"Nom;Pr\xe9nom\n" + os.urandom(4096).replace(b"\x00", b"") + b"\x00",
    "nul.csv": NUL,
    "vide.csv": b"",
}


async def _nothing_written(db: Database, clock: FrozenClock) -> None:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        for model in (ImportRun, Person, Journey):
            count = await uow.session.scalar(select(func.count()).select_from(model))
            assert count == 0, model.__name__


@pytest.mark.parametrize("name", sorted(BAD_FILES))
async def test_the_page_refuses_what_is_not_a_table(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, name: str
) -> None:
    await team(client, db, clock, office)
    refused = await upload(client, office.cohort_id, name, BAD_FILES[name])
    assert refused.status_code == 422, refused.text
    text = body(refused)
    assert 'role="alert"' in refused.text and 'aria-invalid="true"' in refused.text
    assert any(
        words in text
        for words in ("n'est pas un tableau lisible", "Le fichier est vide", "caractère nul")
    ), text[:2000]
    await _nothing_written(db, clock)


@pytest.mark.parametrize("name", sorted(BAD_FILES))
async def test_the_api_refuses_what_is_not_a_table(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, name: str
) -> None:
    s = office.s
    r = await client.post(
        f"/api/v1/cohorts/{office.cohort_id}/imports",
        content=BAD_FILES[name],
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert 400 <= r.status_code < 500, (r.status_code, r.text)
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"], r.json()
    await _nothing_written(db, clock)


async def test_too_big_for_the_page(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, settings: Settings
) -> None:
    await team(client, db, clock, office)
    big = await upload(client, office.cohort_id, "gros.csv", b"x" * (settings.import_max_bytes + 1))
    assert big.status_code == 413 and "trop gros" in body(big)
    await _nothing_written(db, clock)
