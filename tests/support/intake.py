"""Intake test data: a CSV of newly eligible people with some bad rows, and the journey
setup (cohort through the API) the invitation tests share."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass

import httpx
from tests.support.scenario import Scenario

HEADER = "Nom;Prénom;Date de naissance;Téléphone;Courriel;N° CAF;Date d'entrée"
BAD_ROWS = {
    # line in the file → (cells, expected code)
    "phone": ("Martin;Léa;12/03/1990;01 02;lea.bad@example.org;;", "invalid_phone"),
    "email": ("Durand;Hugo;01/01/1985;06 10 00 00 99;pas-un-courriel;;", "invalid_email"),
    "date": ("Petit;Inès;31/02/1990;06 10 00 00 98;;;", "invalid_date"),
    "name": (";Noah;05/05/1995;06 10 00 00 97;;;", "missing_value"),
    "columns": ("Roux;Zoé;05/05/1995", "wrong_column_count"),
}


@dataclass(frozen=True)
class Person:
    last_name: str
    first_name: str
    phone: str | None  # as written in the file
    email: str | None

    @property
    def e164(self) -> str | None:
        return None if self.phone is None else "+33" + self.phone.replace(" ", "")[1:]


def people(count: int, *, seed: int = 7) -> list[Person]:
    """``count`` people: two thirds with phone and e-mail, the rest one of the two."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        kind = i % 3
        # 06 39 and 06 90–06 97 are overseas mobiles (Mayotte, Guadeloupe…): stay clear.
        phone = f"06 {rng.randint(10, 38)} {i // 100:02d} {i % 100:02d} {rng.randint(10, 99)}"
        email = f"personne{i}@exemple.fr"
        out.append(
            Person(
                last_name=f"Nom{i}",
                first_name=f"Prénom{i}",
                phone=phone if kind != 2 else None,
                email=email if kind != 1 else None,
            )
        )
    return out


def csv_bytes(rows: list[Person], *, bad_every: int = 0, encoding: str = "utf-8") -> bytes:
    """The file: a header, the people, and the bad rows spread through it."""
    lines = [HEADER]
    bad = list(BAD_ROWS.values())
    for i, p in enumerate(rows):
        lines.append(f"{p.last_name};{p.first_name};01/02/1990;{p.phone or ''};{p.email or ''};;")
        if bad_every and (i + 1) % bad_every == 0 and bad:
            lines.append(bad.pop(0)[0])
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


async def create_cohort(client: httpx.AsyncClient, s: Scenario, **overrides: object) -> uuid.UUID:
    """A cohort through the API, inviting for the scenario's single type."""
    body = {
        "territory_id": str(s.territory_id),
        "name": "Jeunes 18-30 ans",
        "appointment_type_id": str(s.single_type_id),
        "organisation_id": str(s.organisation_id),
        **overrides,
    }
    response = await client.post("/api/v1/cohorts/", json=body, headers=s.auth())
    assert response.status_code == 201, response.text
    return uuid.UUID(response.json()["id"])
