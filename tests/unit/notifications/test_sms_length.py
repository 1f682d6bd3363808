"""Every SMS fits one segment (160 GSM-7 characters) with the demo's longest names and a
40-character public URL: a template leaves out details in its stated order, never the link
nor the phone number."""

from __future__ import annotations

import csv
import io
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from rdv_spie import demo
from rdv_spie.notifications import tokens
from rdv_spie.templating.gsm import is_gsm7, segments, septets, to_gsm7
from rdv_spie.templating.render import Renderer, jour_heure, phone_fr

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PARIS = ZoneInfo("Europe/Paris")
PUBLIC_URL = "https://rendezvous-insertion.aisne-02.fr"
SHORT_URL = "https://rdv.aisne.fr"
TOKEN = tokens.derive(b"k" * 32, uuid.UUID(int=7))

# Each SMS a person may receive, by what it announces, and its template. A move sends a new
# confirmation (with the .ics's SEQUENCE + 1 by e-mail): the same template, the new time.
KINDS = {
    "invitation": "invitation",
    "invitation reminder": "invitation_reminder",
    "confirmation": "booking_confirmation",
    "move": "booking_confirmation",
    "appointment reminder": "appointment_reminder",
    "cancellation": "appointment_cancelled",
    "CTO decision": "cto_decision",
}
APPOINTMENT_MESSAGES = {"booking_confirmation", "appointment_reminder", "appointment_cancelled"}
WITHOUT_LINK = {"cto_decision"}  # generic on purpose: the person is called, with no page to open


def _longest(names: Any) -> str:
    return max(names, key=lambda name: septets(to_gsm7(name)))


def _longest_first_name() -> str:
    rows = csv.DictReader(io.StringIO(demo.DEMO_PEOPLE.decode()), delimiter=";")
    return _longest(row["Prénom"] for row in rows)


def _longest_moment(year: int = 2026) -> datetime:
    """The start whose day is the longest to write ("mercredi 30 septembre à 10h45")."""
    days = (date(year, 1, 1) + timedelta(days=n) for n in range(365))
    day = max(days, key=lambda d: len(jour_heure(datetime(d.year, d.month, d.day, 10, 45))))
    return datetime(day.year, day.month, day.day, 10, 45, tzinfo=PARIS)


def _place(kind: str) -> dict[str, Any]:
    if kind != "address":
        return {"name": demo.PHONE_PLACE if kind == "phone" else "Visio", "kind": kind,
                "address": None, "postcode": None, "city": None, "phone": None}  # fmt: skip
    return {
        "name": _longest(name for name, *_ in demo.PLACES.values()),
        "kind": "address",
        "address": _longest(street for _, street, *_ in demo.PLACES.values()),
        "postcode": "02300",
        "city": _longest(town for *_, town in demo.PLACES.values()),
        "phone": None,
    }


def demo_context(
    message: str,
    *,
    kind: str = "address",
    public_url: str = PUBLIC_URL,
    named: bool = True,
    organisation: str | None = None,
    first_name: str | None = None,
) -> dict[str, Any]:
    """The context compose builds, with the longest of the demo's names."""
    structure = organisation or _longest(name for _, name, _ in demo.ORGANISATIONS)
    context: dict[str, Any] = {
        "territory": {"name": demo.TERRITORY["name"], "slug": demo.TERRITORY["slug"],
                      "phone": demo.TERRITORY["phone"]},
        "organisation": {"name": structure, "phone": "01 99 00 10 03", "email": None},
        "public_url": public_url,
        "person": {"first_name": first_name or _longest_first_name(), "last_name": "Lefebvre"},
        "link": f"{public_url}/i/{TOKEN}",
        "type_name": "Premier rendez-vous d'orientation",
        "book_by": date(2026, 12, 31),
        "reminder_number": 2,
        "next_steps": "Votre référente vous appelle lundi.",
    }  # fmt: skip
    if message in APPOINTMENT_MESSAGES:
        starts_at = _longest_moment()
        agent = _longest(given for _, _, given, *_ in demo.AGENTS)
        context["appointment"] = {
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(minutes=45),
            "duration_minutes": 45,
            "type_name": "Premier rendez-vous d'orientation",
            "place": _place(kind),
            "whom": {"first_name": agent if named else None, "structure": structure},
        }
    return context


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def test_every_sms_template_has_a_row() -> None:
    templates = {
        p.name.removesuffix(".sms.txt") for p in (TEMPLATES / "messages").glob("*.sms.txt")
    }
    assert templates == set(KINDS.values())
    assert len(PUBLIC_URL) == 40 and len(TOKEN) == 22


@pytest.mark.parametrize("kind_of_message", list(KINDS))
@pytest.mark.parametrize("place", ["address", "phone", "video"])
@pytest.mark.parametrize("named", [True, False])
def test_one_segment_with_the_demo_longest_names(
    renderer: Renderer, kind_of_message: str, place: str, named: bool
) -> None:
    message = KINDS[kind_of_message]
    context = demo_context(message, kind=place, named=named)
    sms = renderer.render_sms(message, context)
    assert is_gsm7(sms)
    assert septets(sms) <= 160 and segments(sms) == 1, f"{septets(sms)}: {sms}"
    assert phone_fr(context["organisation"]["phone"]) in sms
    if message not in WITHOUT_LINK:
        assert context["link"] in sms
    if message in APPOINTMENT_MESSAGES:
        assert f"{context['appointment']['starts_at']:%H}h" in sms  # the time always stays
    if message in APPOINTMENT_MESSAGES - {"appointment_cancelled"} and place == "address":
        assert context["appointment"]["place"]["city"] in sms  # so does the town, here


@pytest.mark.parametrize("message", ["invitation", "cto_decision"])
def test_the_best_wording_when_everything_fits(renderer: Renderer, message: str) -> None:
    context = demo_context(
        message, public_url=SHORT_URL, organisation="CCAS de Laon", first_name="Léa"
    )
    sms = renderer.render_sms(message, context)
    assert segments(sms) == 1
    assert "Bonjour Léa" in sms or "bonjour Léa" in sms


@pytest.mark.parametrize("message", sorted(APPOINTMENT_MESSAGES))
def test_whom_when_the_type_allows_it(renderer: Renderer, message: str) -> None:
    """The referent's first name is a detail: kept when it fits, never there when forbidden."""
    context = demo_context(
        message, public_url=SHORT_URL, organisation="CCAS de Laon", first_name="Léa"
    )
    context["appointment"]["place"] |= {"name": "MDS", "address": "1 rue Haute", "city": "Laon"}
    assert "avec Camille" in renderer.render_sms(message, context)
    context["appointment"]["whom"]["first_name"] = None
    assert "Camille" not in renderer.render_sms(message, context)
