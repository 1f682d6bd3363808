"""A back-office form with several empty or wrong fields says every one at once: a summary at
the top whose entries link to the fields, and each field marked invalid and described by its
message (rules, absences, login)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, csrf, login, post_form

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.scheduling.models import Absence, AvailabilityRule

AVAILABILITY = "/agent/disponibilites"


class _Page(HTMLParser):
    """Elements by id, the summary's links in order, and the text of each element by id."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.by_id: dict[str, dict[str, str | None]] = {}
        self.texts: dict[str, str] = {}
        self.summary: list[tuple[str, str]] = []  # (href, words)
        self._open: list[tuple[str, str | None]] = []  # (tag, id)
        self._in_summary = 0
        self._link: str | None = None
        self._words = ""
        self.feed(text)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if "error-summary" in (found.get("class") or "").split():
            self._in_summary = 1
        elif self._in_summary and tag != "input":
            self._in_summary += 1
        if self._in_summary and tag == "a":
            self._link, self._words = found.get("href"), ""
        if found.get("id"):
            self.by_id[str(found["id"])] = found
            self.texts.setdefault(str(found["id"]), "")
        if tag not in ("input", "br", "meta", "link"):
            self._open.append((tag, found.get("id")))

    def handle_endtag(self, tag: str) -> None:
        if self._in_summary:
            self._in_summary -= 1
        if tag == "a" and self._link is not None:
            self.summary.append((self._link, " ".join(self._words.split())))
            self._link = None
        if self._open:
            self._open.pop()

    def handle_data(self, data: str) -> None:
        if self._link is not None:
            self._words += data
        for _, ident in self._open:
            if ident:
                self.texts[ident] += data


def _invalid(page: _Page, field: str, message_id: str) -> str:
    """The field is marked invalid and described by a message; returns the message."""
    attrs = page.by_id[field]
    assert attrs.get("aria-invalid") == "true", field
    assert attrs.get("aria-describedby") == message_id, field
    return " ".join(page.texts[message_id].split())


async def test_an_empty_rule_form_reports_every_field(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await login(client, office.email)
    response = await post_form(client, f"{AVAILABILITY}/plages", {}, token_from=AVAILABILITY)
    assert response.status_code == 422
    page = _Page(body(response))
    assert "Le formulaire contient 6 erreurs" in body(response)
    assert "<title>Erreur : Mes disponibilités" in body(response)
    assert [href for href, _ in page.summary] == [
        "#jour-0",
        "#start_time",
        "#end_time",
        "#place_id",
        "#motif-1",
        "#valid_from",
    ]
    for href, _ in page.summary:
        assert href[1:] in page.by_id  # each link lands on a field of the page
    words = dict(page.summary)
    assert words["#start_time"] == "Heure de début : Indiquez une heure, par exemple 09:30."
    assert words["#jour-0"] == "Jours de la semaine : Cochez au moins un jour."
    assert (
        _invalid(page, "start_time", "erreur-start_time")
        == "Indiquez une heure, par exemple 09:30."
    )
    assert _invalid(page, "end_time", "erreur-end_time") == "Indiquez une heure, par exemple 09:30."
    assert _invalid(page, "place_id", "erreur-place_id") == "Choisissez une valeur dans la liste."
    assert _invalid(page, "valid_from", "erreur-valid_from") == "Indiquez une date."
    assert _invalid(page, "jour-0", "erreur-weekdays") == "Cochez au moins un jour."
    assert _invalid(page, "motif-1", "erreur-appointment_type_ids") == "Cochez au moins un motif."
    assert "aria-invalid" not in str(page.by_id["valid_until"])
    async with db.unit_of_work(clock=clock, write=False) as uow:
        count = await uow.session.scalar(
            select(func.count())
            .select_from(AvailabilityRule)
            .where(AvailabilityRule.agent_id == office.s.referent_ids[0])
        )
    assert count == 1  # the scenario's only


async def test_wrong_times_and_dates_of_a_rule_are_reported_together(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    response = await post_form(
        client,
        f"{AVAILABILITY}/plages",
        {
            "weekdays": ["6"],
            "start_time": "14:00",
            "end_time": "13:00",
            "place_id": "pas un lieu",
            "appointment_type_ids": [str(office.s.single_type_id)],
            "valid_from": "2026-12-10",
            "valid_until": "2026-12-01",
        },
        token_from=AVAILABILITY,
    )
    assert response.status_code == 422
    page = _Page(body(response))
    assert [href for href, _ in page.summary] == ["#end_time", "#place_id", "#valid_until"]
    assert _invalid(page, "end_time", "erreur-end_time") == (
        "L'heure de fin doit être après l'heure de début."
    )
    assert _invalid(page, "valid_until", "erreur-valid_until") == (
        "La date de fin doit être le même jour ou après la date de début."
    )
    assert 'id="start_time" name="start_time" value="14:00"' in body(response)  # kept


async def test_an_empty_absence_form_reports_both_ends(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await login(client, office.email)
    response = await post_form(
        client, f"{AVAILABILITY}/absences", {"title": "x" * 201}, token_from=AVAILABILITY
    )
    assert response.status_code == 422
    page = _Page(body(response))
    assert "Le formulaire contient 3 erreurs" in body(response)
    assert [href for href, _ in page.summary] == ["#starts_at", "#ends_at", "#title"]
    assert dict(page.summary)["#ends_at"] == ("Fin de l'absence : Indiquez une date et une heure.")
    for field in ("starts_at", "ends_at", "title"):
        _invalid(page, field, f"erreur-absence_{field}")
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Absence)) == 0


async def test_login_says_each_empty_field_and_never_which_one_is_wrong(
    client: httpx.AsyncClient, office: Office
) -> None:
    form = await client.get("/agent/connexion")
    empty = await client.post(
        "/agent/connexion", data={"csrf_token": csrf(form.text), "email": "", "password": ""}
    )
    assert empty.status_code == 400
    page = _Page(body(empty))
    assert page.summary == [
        ("#email", "Adresse e-mail : Indiquez votre adresse e-mail."),
        ("#password", "Mot de passe : Indiquez votre mot de passe."),
    ]
    assert _invalid(page, "email", "erreur-email") == "Indiquez votre adresse e-mail."
    assert _invalid(page, "password", "erreur-password") == "Indiquez votre mot de passe."

    wrong = await login(client, office.email, "pas le bon mot de passe")
    page = _Page(body(wrong))
    assert page.summary == [("#email", "Adresse e-mail ou mot de passe incorrect.")]
    for field in ("email", "password"):
        assert _invalid(page, field, "resume-form") == "Adresse e-mail ou mot de passe incorrect."
    assert not re.search(r'id="erreur-(email|password)"', wrong.text)
