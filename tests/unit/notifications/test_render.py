"""Rendering: every message renders for each of its channels with a realistic context, SMS are
GSM-7 and short (every SMS fits one segment for every département and a long
organisation name), plain text never carries HTML escapes, territory overrides win."""

from __future__ import annotations

import random
import shutil
from collections.abc import Mapping
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from jinja2 import UndefinedError

from rdv_spie.templating.gsm import is_gsm7, segments, septets
from rdv_spie.templating.render import (
    Renderer,
    date_court,
    date_fr,
    duree,
    heure,
    jour_heure,
    phone_fr,
)

TEMPLATES = Path(__file__).resolve().parents[3] / "templates"
PARIS = ZoneInfo("Europe/Paris")

# The 101 départements with their chef-lieu, as a territory is likely to be named.
DEPARTEMENTS = [
    "Ain — Bourg-en-Bresse", "Aisne — Laon", "Allier — Moulins",
    "Alpes-de-Haute-Provence — Digne-les-Bains", "Hautes-Alpes — Gap", "Alpes-Maritimes — Nice",
    "Ardèche — Privas", "Ardennes — Charleville-Mézières", "Ariège — Foix", "Aube — Troyes",
    "Aude — Carcassonne", "Aveyron — Rodez", "Bouches-du-Rhône — Marseille", "Calvados — Caen",
    "Cantal — Aurillac", "Charente — Angoulême", "Charente-Maritime — La Rochelle",
    "Cher — Bourges", "Corrèze — Tulle", "Corse-du-Sud — Ajaccio", "Haute-Corse — Bastia",
    "Côte-d'Or — Dijon", "Côtes-d'Armor — Saint-Brieuc", "Creuse — Guéret",
    "Dordogne — Périgueux", "Doubs — Besançon", "Drôme — Valence", "Eure — Évreux",
    "Eure-et-Loir — Chartres", "Finistère — Quimper", "Gard — Nîmes",
    "Haute-Garonne — Toulouse", "Gers — Auch", "Gironde — Bordeaux", "Hérault — Montpellier",
    "Ille-et-Vilaine — Rennes", "Indre — Châteauroux", "Indre-et-Loire — Tours",
    "Isère — Grenoble", "Jura — Lons-le-Saunier", "Landes — Mont-de-Marsan",
    "Loir-et-Cher — Blois", "Loire — Saint-Étienne", "Haute-Loire — Le Puy-en-Velay",
    "Loire-Atlantique — Nantes", "Loiret — Orléans", "Lot — Cahors", "Lot-et-Garonne — Agen",
    "Lozère — Mende", "Maine-et-Loire — Angers", "Manche — Saint-Lô",
    "Marne — Châlons-en-Champagne", "Haute-Marne — Chaumont", "Mayenne — Laval",
    "Meurthe-et-Moselle — Nancy", "Meuse — Bar-le-Duc", "Morbihan — Vannes", "Moselle — Metz",
    "Nièvre — Nevers", "Nord — Lille", "Oise — Beauvais", "Orne — Alençon",
    "Pas-de-Calais — Arras", "Puy-de-Dôme — Clermont-Ferrand", "Pyrénées-Atlantiques — Pau",
    "Hautes-Pyrénées — Tarbes", "Pyrénées-Orientales — Perpignan", "Bas-Rhin — Strasbourg",
    "Haut-Rhin — Colmar", "Rhône — Lyon", "Haute-Saône — Vesoul", "Saône-et-Loire — Mâcon",
    "Sarthe — Le Mans", "Savoie — Chambéry", "Haute-Savoie — Annecy", "Paris — Paris",
    "Seine-Maritime — Rouen", "Seine-et-Marne — Melun", "Yvelines — Versailles",
    "Deux-Sèvres — Niort", "Somme — Amiens", "Tarn — Albi", "Tarn-et-Garonne — Montauban",
    "Var — Toulon", "Vaucluse — Avignon", "Vendée — La Roche-sur-Yon", "Vienne — Poitiers",
    "Haute-Vienne — Limoges", "Vosges — Épinal", "Yonne — Auxerre",
    "Territoire de Belfort — Belfort", "Essonne — Évry-Courcouronnes",
    "Hauts-de-Seine — Nanterre", "Seine-Saint-Denis — Bobigny", "Val-de-Marne — Créteil",
    "Val-d'Oise — Cergy", "Guadeloupe — Basse-Terre", "Martinique — Fort-de-France",
    "Guyane — Cayenne", "La Réunion — Saint-Denis", "Mayotte — Mamoudzou",
]  # fmt: skip

# Structures that write, up to the longest realistic names (~40 characters).
ORGANISATIONS = [
    "CCAS de Laon",
    "France Travail Chauny",
    "Mission locale du Pays de Laon",
    "Département de la Seine-Saint-Denis",
    "Département des Alpes-de-Haute-Provence",
    "Conseil départemental de la Haute-Garonne",
    "Association Insertion & Emploi — Ardennes",
]

LONG_PUBLIC_URL = "https://rdv-insertion.departement-exemple.fr"
TOKEN = "AbCdEf0123456789abcdEF"

PERSON_MESSAGES = {
    "invitation",
    "invitation_reminder",
    "booking_confirmation",
    "appointment_reminder",
    "appointment_cancelled",
}
AGENT_MESSAGES = {"referent_deadline_alert", "animator_no_slots_alert", "delivery_failed_alert"}


@pytest.fixture(scope="module")
def renderer() -> Renderer:
    return Renderer(TEMPLATES)


def base_context(
    *,
    territory: str = "Aisne — Laon",
    organisation: str = "Mission locale du Pays de Laon",
    org_phone: str | None = "+33323246000",
    territory_phone: str | None = "+33323240000",
    org_email: str | None = "contact@ml-paysdelaon.fr",
    public_url: str = LONG_PUBLIC_URL,
) -> dict[str, Any]:
    return {
        "territory": {"name": territory, "slug": "aisne", "phone": territory_phone},
        "organisation": {"name": organisation, "phone": org_phone, "email": org_email},
        "public_url": public_url,
    }


def place(kind: str = "address") -> dict[str, Any]:
    if kind == "address":
        return {
            "name": "Maison départementale des solidarités du Laonnois",
            "kind": "address",
            "address": "12 rue du Général-de-Gaulle, bâtiment B, 2e étage",
            "postcode": "02000",
            "city": "Laon",
            "phone": "+33323246010",
        }
    return {"name": kind, "kind": kind, "address": None, "postcode": None, "city": None,
            "phone": None}  # fmt: skip


def person_context(
    message: str, *, kind: str = "address", first_name: str = "Marie", **base: Any
) -> dict[str, Any]:
    context = base_context(**base)
    context |= {
        "person": {"first_name": first_name, "last_name": "Dupont"},
        "link": f"{context['public_url']}/i/{TOKEN}",
        "type_name": "Premier rendez-vous d'orientation",
    }
    if message in {"invitation", "invitation_reminder"}:
        context["book_by"] = date(2026, 12, 8)
        context["mandatory"] = False
    if message == "invitation_reminder":
        context["reminder_number"] = 2
    if message in {"booking_confirmation", "appointment_reminder", "appointment_cancelled"}:
        context["appointment"] = {
            "starts_at": datetime(2026, 12, 8, 14, 30, tzinfo=PARIS),
            "ends_at": datetime(2026, 12, 8, 15, 15, tzinfo=PARIS),
            "duration_minutes": 45,
            "type_name": "Premier rendez-vous d'orientation",
            "place": place(kind),
            "whom": {"first_name": "Claire", "structure": context["organisation"]["name"]},
        }
    return context


def agent_context(message: str, **base: Any) -> dict[str, Any]:
    context = base_context(**base)
    context |= {
        "agent": {"first_name": "Claire", "last_name": "Martin"},
        "back_office_url": "https://rdv.aisne.fr/agent",
    }
    book = "https://rdv.aisne.fr/agent/prise-de-rdv?parcours="
    if message == "referent_deadline_alert":
        context["journeys"] = [
            {"id": "j1", "first_name": "Marie", "last_name": "Dupont",
             "cohort_name": "Jeunes 18-30 ans", "appointment_by": date(2026, 12, 8),
             "book_url": f"{book}j1"},
            {"id": "j2", "first_name": "Ali", "last_name": "Ben Salah",
             "cohort_name": "Familles & enfants", "appointment_by": date(2026, 12, 9),
             "book_url": f"{book}j2"},
        ]  # fmt: skip
        context["agenda_url"] = "https://rdv.aisne.fr/agent/agenda"
    elif message == "animator_no_slots_alert":
        context |= {
            "cohort": {"id": "c1", "name": "Jeunes 18-30 ans — Laon"},
            "waiting_count": 12,
            "type_name": "Premier rendez-vous d'orientation",
            "appointment_by_first": date(2026, 12, 8),
            "cohort_url": "https://rdv.aisne.fr/agent/cohortes/c1",
            "journeys_url": "https://rdv.aisne.fr/agent/parcours?cohorte=c1",
        }
    elif message == "delivery_failed_alert":
        context |= {
            "person": {"first_name": "Marie", "last_name": "Dupont"},
            "channel": "sms",
            "reason_code": "twilio_21211",
            "message_name": "invitation",
            "book_url": f"{book}j1",
            "agenda_url": "https://rdv.aisne.fr/agent/agenda",
        }
    return context


def context_for(message: str, **kwargs: Any) -> dict[str, Any]:
    if message in PERSON_MESSAGES:
        return person_context(message, **kwargs)
    return agent_context(message, **kwargs)


# Filters ------------------------------------------------------------------------------------


def test_french_dates_and_times() -> None:
    assert date_fr(date(2026, 12, 8)) == "mardi 8 décembre 2026"
    assert date_fr(date(2026, 12, 1)) == "mardi 1er décembre 2026"
    assert date_fr(date(2027, 8, 15), annee=False) == "dimanche 15 août"
    assert date_court(date(2026, 12, 8)) == "08/12/2026"
    assert date_court(date(2026, 12, 8), annee=False) == "08/12"
    assert heure(time(14, 30)) == "14h30"
    assert heure(time(9, 0)) == "9h"
    assert heure(time(9, 5)) == "9h05"
    at = datetime(2026, 12, 8, 14, 30, tzinfo=PARIS)
    assert jour_heure(at) == "mardi 8 décembre 2026 à 14h30"
    assert jour_heure(at, annee=False) == "mardi 8 décembre à 14h30"
    assert [duree(m) for m in (1, 45, 60, 90, 120)] == [
        "1 minute", "45 minutes", "1 heure", "1h30", "2 heures"
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("e164", "shown"),
    [
        ("+33323246000", "03 23 24 60 00"),
        ("+33612345678", "06 12 34 56 78"),
        ("+262262123456", "0262 12 34 56"),
        ("+594594123456", "0594 12 34 56"),
        ("+3228001234", "+32 2 800 12 34"),
        (None, ""),
        ("pas un numéro", "pas un numéro"),
    ],
)
def test_phone_fr(e164: str | None, shown: str) -> None:
    assert phone_fr(e164) == shown


def test_phone_fr_reads_mainland_numbers_as_phonenumbers_does() -> None:
    """Mainland numbers, in E.164 or written nationally, skip the parser: the same text as its
    national format, whatever the digits (every first digit, numbers valid or not)."""
    rng = random.Random(17)
    for first in "123456789":
        for _ in range(60):
            e164 = f"+33{first}{rng.randrange(10**8):08d}"
            number = phonenumbers.parse(e164, "FR")
            national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
            assert phone_fr(e164) == national, e164
            # Written nationally, the way an admin types it: the same text.
            compact = "0" + e164[3:]
            pairs = [compact[i : i + 2] for i in range(0, 10, 2)]
            for written in (compact, " ".join(pairs), ".".join(pairs)):
                assert phone_fr(written) == national, written


# Every message, every channel ---------------------------------------------------------------


@pytest.mark.parametrize("message", sorted(PERSON_MESSAGES))
@pytest.mark.parametrize("kind", ["address", "phone", "video"])
@pytest.mark.parametrize("phones", [("+33323246000", None), (None, "+262262123456"), (None, None)])
def test_person_messages_render_on_both_channels(
    renderer: Renderer, message: str, kind: str, phones: tuple[str | None, str | None]
) -> None:
    org_phone, territory_phone = phones
    context = person_context(
        message, kind=kind, org_phone=org_phone, territory_phone=territory_phone
    )
    assert renderer.has_template(message, "sms") and renderer.has_template(message, "email")

    sms = renderer.render_sms(message, context)
    assert is_gsm7(sms) and sms == sms.strip() and "\n" not in sms and "  " not in sms
    assert context["link"] in sms
    assert segments(sms) == 1

    email = renderer.render_email(message, context)
    assert_email_is_well_formed(email.subject, email.text, email.html)
    assert context["link"] in email.text and context["link"] in email.html
    assert "Marie Dupont" in email.text
    phone = org_phone or territory_phone
    if phone:
        assert phone_fr(phone) in email.text and phone_fr(phone) in email.html
    else:
        assert "Vous avez une question" in email.text


@pytest.mark.parametrize("message", sorted(AGENT_MESSAGES))
def test_agent_messages_render_as_email_only(renderer: Renderer, message: str) -> None:
    context = agent_context(message)
    assert not renderer.has_template(message, "sms")
    assert renderer.has_template(message, "email")
    email = renderer.render_email(message, context)
    assert_email_is_well_formed(email.subject, email.text, email.html)
    assert "Claire Martin" in email.text
    # Each page the alert links to, in both versions (the HTML escapes a query's "&").
    shared = {"public_url", "back_office_url"}
    links = [v for k, v in context.items() if k.endswith("_url") and k not in shared]
    links += [j["book_url"] for j in context.get("journeys", [])]
    assert links
    for link in links:
        assert link in email.text and link in email.html


def assert_email_is_well_formed(subject: str, text: str, html: str) -> None:
    assert subject and "\n" not in subject and subject == subject.strip()
    assert "&amp;" not in subject and "&#39;" not in subject
    assert "&amp;" not in text and "&#39;" not in text and "<" not in text
    assert text.endswith("\n") and "\n\n\n" not in text
    assert '<html lang="fr">' in html and "<title>" in html
    assert "<img" not in html and "<script" not in html and "<style" not in html
    assert "{{" not in text + html and "{%" not in text + html


def test_delivery_failure_reason_in_plain_words(renderer: Renderer) -> None:
    context = agent_context("delivery_failed_alert")
    email = renderer.render_email("delivery_failed_alert", context)
    assert "le numéro de téléphone n'est pas valide" in email.text
    assert "Le SMS envoyé à Marie Dupont" in email.text
    context |= {"channel": "email", "reason_code": "smtp_550", "message_name": "nouveau"}
    email = renderer.render_email("delivery_failed_alert", context)
    assert "L'e-mail envoyé" in email.text and "a été refusée" in email.text
    context["reason_code"] = "inconnu_42"
    email = renderer.render_email("delivery_failed_alert", context)
    assert "le message n'a pas pu être remis (code inconnu_42)" in email.text


def test_deadline_alert_speaks_of_one_person_in_the_singular(renderer: Renderer) -> None:
    context = agent_context("referent_deadline_alert")
    context["journeys"] = context["journeys"][:1]
    email = renderer.render_email("referent_deadline_alert", context)
    assert email.subject.startswith("1 personne n'a pas")
    assert "Une personne que vous accompagnez" in email.text
    assert "Vous pouvez l'appeler" in email.text


@pytest.mark.parametrize(
    "message", ["booking_confirmation", "appointment_reminder", "appointment_cancelled"]
)
def test_email_says_whom_when_the_type_allows_it(renderer: Renderer, message: str) -> None:
    context = person_context(message)
    email = renderer.render_email(message, context)
    for part in (email.text, email.html):
        assert "Claire (Mission locale du Pays de Laon)" in part
    context["appointment"]["whom"] = None  # the type does not name the agent
    email = renderer.render_email(message, context)
    for part in (email.text, email.html):
        assert "Claire" not in part and "Avec :" not in part


@pytest.mark.parametrize("message", ["invitation", "invitation_reminder"])
def test_an_invitation_says_when_the_appointment_is_mandatory(
    renderer: Renderer, message: str
) -> None:
    context = person_context(message)
    email = renderer.render_email(message, context)
    for part in (email.text, email.html):
        assert "obligatoire" not in part
    context["mandatory"] = True  # the cohort's type is mandatory
    email = renderer.render_email(message, context)
    assert "Ce rendez-vous est obligatoire." in email.text
    assert "<strong>Ce rendez-vous est obligatoire.</strong>" in email.html


# Escaping -----------------------------------------------------------------------------------


def test_only_html_is_escaped(renderer: Renderer) -> None:
    context = person_context(
        "booking_confirmation", organisation="Association Insertion & Emploi <02>"
    )
    # The SMS keeps the structure's name when the link is short.
    context["link"] = "https://rdv.fr/i/x"
    sms = renderer.render_sms("booking_confirmation", context)
    email = renderer.render_email("booking_confirmation", context)
    for plain in (sms, email.text):
        assert "Insertion & Emploi <02>" in plain and "&amp;" not in plain
    assert "Insertion &amp; Emploi &lt;02&gt;" in email.html
    assert "<02>" not in email.html


# SMS length ---------------------------------------------------------------------------------


@pytest.mark.parametrize("message", ["invitation", "invitation_reminder"])
def test_invitation_sms_fit_one_segment_for_every_territory(
    renderer: Renderer, message: str
) -> None:
    worst = ""
    for territory in DEPARTEMENTS:
        for organisation in ORGANISATIONS:
            for first_name in ("Léa", "Marie-Christine-Alexandra"):
                context = person_context(
                    message, territory=territory, organisation=organisation,
                    first_name=first_name, public_url=LONG_PUBLIC_URL,
                )  # fmt: skip
                sms = renderer.render_sms(message, context)
                assert is_gsm7(sms)
                assert septets(sms) <= 160, sms
                assert f"{LONG_PUBLIC_URL}/i/{TOKEN}" in sms
                assert "03 23 24 60 00" in sms  # the number to call always stays
                if message == "invitation":  # and so does the structure, for an invitation
                    assert organisation.split()[0] in sms
                worst = max(worst, sms, key=septets)
    assert len(f"{LONG_PUBLIC_URL}/i/{TOKEN}") == 69
    assert septets(worst) > 150  # the worst case really is near the limit


def test_invitation_sms_keeps_the_best_wording_when_it_fits(renderer: Renderer) -> None:
    context = person_context(
        "invitation",
        organisation="CCAS de Laon",
        first_name="Léa",
        public_url="https://rdv.aisne.fr",
    )
    sms = renderer.render_sms("invitation", context)
    assert sms.startswith("Bonjour Léa, CCAS de Laon vous invite")
    assert "03 23 24 60 00" in sms


@pytest.mark.parametrize(
    "message", ["booking_confirmation", "appointment_reminder", "appointment_cancelled"]
)
@pytest.mark.parametrize("kind", ["address", "phone", "video"])
def test_other_sms_fit_one_segment_in_the_worst_case(
    renderer: Renderer, message: str, kind: str
) -> None:
    for organisation in ORGANISATIONS:
        context = person_context(
            message, kind=kind, organisation=organisation,
            first_name="Marie-Christine-Alexandra", public_url=LONG_PUBLIC_URL,
        )  # fmt: skip
        sms = renderer.render_sms(message, context)
        assert is_gsm7(sms) and segments(sms) == 1, sms
        assert context["link"] in sms and "03 23 24 60 00" in sms


def test_sms_templates_words_are_gsm7_already(renderer: Renderer) -> None:
    # Transliteration is a safety net: the templates' own words must not depend on it.
    for message in sorted(PERSON_MESSAGES):
        for kind in ("address", "phone", "video"):
            context = person_context(
                message, kind=kind, territory="Aisne", organisation="CCAS de Laon"
            )
            context["appointment"] = context.get("appointment", {}) | {"place": {
                "name": "MDS de Laon", "kind": kind, "address": "12 rue Carnot",
                "postcode": "02000", "city": "Laon", "phone": None,
            }}  # fmt: skip
            raw = renderer.environment.get_template(f"messages/{message}.sms.txt").render(context)
            assert is_gsm7(" ".join(raw.split())), raw


# Lookup -------------------------------------------------------------------------------------


@pytest.fixture
def overridden(tmp_path: Path) -> Renderer:
    root = tmp_path / "templates"
    shutil.copytree(TEMPLATES, root)
    custom = root / "territories" / "aisne" / "messages"
    custom.mkdir(parents=True)
    (custom / "invitation.sms.txt").write_text(
        "Le SPIE de l'Aisne vous invite : {{ link }}\n", encoding="utf-8"
    )
    (custom / "_layout.email.html").write_text(
        '<!DOCTYPE html>\n<html lang="fr"><head><title>{{ subject }}</title></head>'
        "<body><p>Aisne</p>{% block content %}{% endblock %}</body></html>\n",
        encoding="utf-8",
    )
    return Renderer(root)


def test_territory_template_wins_over_the_default(overridden: Renderer) -> None:
    context = person_context("invitation")
    assert overridden.render_sms("invitation", context, territory_slug="aisne") == (
        f"Le SPIE de l'Aisne vous invite : {context['link']}"
    )
    assert overridden.render_sms("invitation", context, territory_slug="oise") == (
        overridden.render_sms("invitation", context)
    )
    assert "Le SPIE de l'Aisne" not in overridden.render_sms("invitation", context)
    # Parts without an override fall back to the defaults; the layout can be overridden too.
    email = overridden.render_email("invitation", context, territory_slug="aisne")
    assert "<p>Aisne</p>" in email.html and "Choisir mon rendez-vous" in email.html
    assert "<p>Aisne</p>" not in overridden.render_email("invitation", context).html
    assert email.text == overridden.render_email("invitation", context).text


def test_names_and_slugs_cannot_escape_the_templates_folder(renderer: Renderer) -> None:
    context = person_context("invitation")
    with pytest.raises(ValueError, match="slug"):
        renderer.render_sms("invitation", context, territory_slug="../aisne")
    with pytest.raises(ValueError, match="message name"):
        renderer.render_sms("../invitation", context)
    assert not renderer.has_template("nothing_here", "sms")


def test_missing_context_is_an_error(renderer: Renderer) -> None:
    context: Mapping[str, Any] = {
        k: v for k, v in person_context("invitation").items() if k != "book_by"
    }
    with pytest.raises(UndefinedError):
        renderer.render_sms("invitation", context)
