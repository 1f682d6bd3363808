"""The committee messages render in plain French for every case: partner e-mails carry
numbers, thematics and structures only; the decision SMS is generic, GSM-7 and at most two
segments for long structure names; plain text never carries HTML escapes."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rdv_spie.templating.gsm import is_gsm7, segments
from rdv_spie.templating.render import Renderer

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PARIS = ZoneInfo("Europe/Paris")
ORGANISATIONS = [
    "CCAS de Laon",
    "Conseil départemental de la Haute-Garonne",
    "Association Insertion & Emploi — Ardennes",
]
PARTNER_MESSAGES = ["cto_agenda", "cto_session_moved", "cto_session_cancelled"]
REFERENT_MESSAGES = ["cto_request_acknowledged", "cto_request_carried_over"]


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def _base(
    org: str = "Département de l'Aisne", phone: str | None = "+33323246000"
) -> dict[str, Any]:
    return {
        "territory": {"name": "Aisne — Laon", "slug": "aisne", "phone": None},
        "organisation": {"name": org, "phone": phone, "email": None},
        "public_url": "https://rdv.example.fr",
        "back_office_url": "https://rdv.example.fr/agent",
        "agent": {"first_name": "Claire", "last_name": "Martin"},
        # The pages the messages link to (committees/messages.py, rdv_spie/messages.py).
        "session_url": "https://rdv.example.fr/agent/partenaire/seances/1",
        "fiche_url": "https://rdv.example.fr/agent/fiches/1",
        "file_url": "https://rdv.example.fr/i/jeton?suite=dossier",
    }


def _cto(place: bool = True, video: bool = True, reason: str | None = None) -> dict[str, Any]:
    return {
        "name": "Laon",
        "starts_at": datetime(2026, 12, 10, 8, 30, tzinfo=PARIS),
        "ends_at": datetime(2026, 12, 10, 10, 30, tzinfo=PARIS),
        "duration_minutes": 120,
        "deadline_at": datetime(2026, 12, 7, 14, 0, tzinfo=PARIS),
        "place": {"name": "Maison des solidarités", "address": "2 rue Paul Doumer",
                  "postcode": "02000", "city": "Laon"} if place else None,
        "video_url": "https://visio.example.org/cto" if video else None,
        "capacity": 10,
        "sequence": 1,
        "change_reason": reason,
    }  # fmt: skip


def _well_formed(subject: str, text: str, html: str) -> None:
    assert subject and "\n" not in subject
    assert "&amp;" not in subject + text and "&#39;" not in subject + text and "<" not in text
    assert text.endswith("\n") and "\n\n\n" not in text
    assert '<html lang="fr">' in html and "{{" not in text + html and "{%" not in text + html


@pytest.mark.parametrize("message", PARTNER_MESSAGES)
@pytest.mark.parametrize(("place", "video"), [(True, True), (True, False), (False, True)])
@pytest.mark.parametrize("count", [0, 1, 10])
def test_partner_messages(
    renderer: Renderer, message: str, place: bool, video: bool, count: int
) -> None:
    situations = [
        {"number": i + 1, "thematics": ["Logement", "Mobilité"], "urgent": i == 0,
         "structure": "France Travail Laon"}
        for i in range(count)
    ]  # fmt: skip
    reason = "Jeudi férié" if count == 1 else None  # why the session moved or was cancelled
    context = _base() | {"cto": _cto(place, video, reason), "situations": situations}
    email = renderer.render_email(message, context)
    _well_formed(email.subject, email.text, email.html)
    if message != "cto_agenda":
        told = "Jeudi férié" in email.text and "Jeudi férié" in email.html
        assert told == (reason is not None)
        assert "Raison" not in email.text or reason is not None
    assert "Claire Martin" in email.text and "Laon" in email.subject
    if video:
        assert "https://visio.example.org/cto" in email.text or message.endswith("cancelled")
    # Partners are sent to the session's page on their portal, never to the API.
    assert context["session_url"] in email.text and context["session_url"] in email.html
    assert "/api/" not in email.text + email.html
    if message == "cto_agenda":
        if count == 0:
            assert "Aucune situation" in email.text
        else:
            assert f"{count} situation" in email.subject
            assert "Situation n° 1 (urgente) : Logement, Mobilité" in email.text


@pytest.mark.parametrize("message", REFERENT_MESSAGES)
@pytest.mark.parametrize("reason", ["full", "cancelled"])
@pytest.mark.parametrize("has_next", [True, False])
def test_referent_messages(renderer: Renderer, message: str, reason: str, has_next: bool) -> None:
    when = datetime(2026, 12, 10, 8, 30, tzinfo=PARIS)
    context = _base() | {
        "request": {
            "person_name": "Marie Dupont",
            "submitted_at": datetime(2026, 12, 1, 10, 0, tzinfo=PARIS),
        },
        "cto": {"name": "Laon", "starts_at": when},
        "sessions": {
            "from": {"starts_at": when, "deadline_at": when},
            "to": {"starts_at": when, "deadline_at": when} if has_next else None,
        },
        "reason": reason,
    }
    email = renderer.render_email(message, context)
    _well_formed(email.subject, email.text, email.html)
    # The person is named in the body only: subjects show in mailbox lists and notifications.
    assert "Marie Dupont" not in email.subject and "Marie Dupont" in email.text
    # The referent is sent to their fiche's page, never to the API.
    assert context["fiche_url"] in email.text and context["fiche_url"] in email.html
    assert "/api/" not in email.text + email.html
    if message == "cto_request_carried_over":
        assert ("annulée" in email.text) == (reason == "cancelled")
        assert ("Aucune autre séance" in email.text) == (not has_next)


@pytest.mark.parametrize("org", ORGANISATIONS)
@pytest.mark.parametrize("next_steps", ["Votre référente vous appelle lundi.", None])
def test_decision_to_the_person(renderer: Renderer, org: str, next_steps: str | None) -> None:
    context = _base(org) | {
        "person": {"first_name": "Marie-Élisabeth", "last_name": "Dupont"},
        "next_steps": next_steps,
        "link": "https://rdv.example.fr/",
    }
    sms = renderer.render_sms("cto_decision", context)
    assert is_gsm7(sms) and segments(sms) <= 2 and "étudiée" in sms
    assert "Votre référente" not in sms  # the SMS stays generic
    email = renderer.render_email("cto_decision", context)
    _well_formed(email.subject, email.text, email.html)
    assert "Marie-Élisabeth Dupont" in email.text
    assert ("Votre référente vous appelle lundi." in email.text) == (next_steps is not None)
