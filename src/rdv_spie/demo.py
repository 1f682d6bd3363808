"""Demo territory after the Aisne guide: idempotent, so ``make demo`` can run it every time.

Everything is fictitious (names, addresses, phone numbers in the 01 99 00 range reserved for
fiction). The demo API key and the demo logins' password are random, written once beside
the database they open (``demo_files``) and reused while they still open it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import uuid
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.engine import make_url

from rdv_spie.agents import api_keys, passwords
from rdv_spie.agents.models import Agent, ApiKey, Membership, Role
from rdv_spie.committees import series as committees
from rdv_spie.committees.models import DEFAULT_RRULE, CtoMember, CtoSeries
from rdv_spie.db.base import Entity
from rdv_spie.db.uow import UnitOfWork, open_database
from rdv_spie.people import intake
from rdv_spie.people.models import Cohort
from rdv_spie.scheduling.models import AppointmentType, Attendance, AvailabilityRule
from rdv_spie.settings import Settings
from rdv_spie.territories.models import (
    HolidayZone,
    Organisation,
    OrganisationKind,
    Place,
    PlaceKind,
    Territory,
)
from rdv_spie.web import paths

T = TypeVar("T", bound=Entity)
MON, TUE, WED, THU, FRI = range(5)


async def _get_or_add(uow: UnitOfWork, model: type[T], key: dict[str, Any], **fields: Any) -> T:
    found = await uow.session.scalar(select(model).filter_by(**key))
    if found is None:
        found = model(**key, **fields)
        uow.session.add(found)
        await uow.session.flush()
    return found


def _mask(*days: int) -> int:
    return sum(1 << d for d in days)


# The demo's names, also read by the tests that size messages for the longest of them.
TERRITORY = {"slug": "aisne-laon", "name": "Aisne — Laon", "phone": "01 99 00 10 00"}
ORGANISATIONS = [
    ("cd", "Département de l'Aisne", OrganisationKind.DEPARTEMENT),
    ("ft", "France Travail Laon", OrganisationKind.FRANCE_TRAVAIL),
    ("ml", "Mission locale du Laonnois", OrganisationKind.MISSION_LOCALE),
    ("caf", "CAF de l'Aisne", OrganisationKind.CAF),
]
# key: name, street, postcode, town (all of the Département).
PLACES = {
    "laon": ("Maison des solidarités de Laon", "12 rue de la Fiction", "02000", "Laon"),
    "chauny": ("Maison des solidarités de Chauny", "3 place de l'Exemple", "02300", "Chauny"),
}
PHONE_PLACE = "Par téléphone"
# key, e-mail, first name, last name, organisation key, role.
AGENTS = [
    ("admin", "admin@demo.rdv-spie.invalid", "Alex", "Admin", "cd", Role.ADMIN),
    ("camille", "camille.martin@demo.rdv-spie.invalid", "Camille", "Martin", "cd", Role.REFERENT),
    ("karim", "karim.benali@demo.rdv-spie.invalid", "Karim", "Benali", "ft", Role.REFERENT),
    ("julie", "julie.lefevre@demo.rdv-spie.invalid", "Julie", "Lefèvre", "ml", Role.REFERENT),
    ("sophie", "sophie.dubois@demo.rdv-spie.invalid", "Sophie", "Dubois", "cd", Role.ANIMATOR),
    ("nadia", "nadia.roux@demo.rdv-spie.invalid", "Nadia", "Roux", "caf", Role.PARTNER),
]


async def seed(uow: UnitOfWork) -> dict[str, uuid.UUID]:
    """Create (or find) the demo territory; returns the ids worth printing."""
    t = await _get_or_add(
        uow,
        Territory,
        {"slug": TERRITORY["slug"]},
        name=TERRITORY["name"],
        timezone="Europe/Paris",
        holiday_zone=HolidayZone.METROPOLE,
        phone=TERRITORY["phone"],
    )
    orgs: dict[str, Organisation] = {}
    for key, name, kind in ORGANISATIONS:
        orgs[key] = await _get_or_add(
            uow,
            Organisation,
            {"territory_id": t.id, "name": name},
            kind=kind,
            phone="01 99 00 10 0" + str(len(orgs) + 1),
        )
    places: dict[str, Place] = {}
    for key, (name, street, postcode, town) in PLACES.items():
        places[key] = await _get_or_add(
            uow,
            Place,
            {"organisation_id": orgs["cd"].id, "name": name},
            kind=PlaceKind.ADDRESS,
            address=street,
            postcode=postcode,
            city=town,
        )
    places["phone"] = await _get_or_add(
        uow,
        Place,
        {"organisation_id": orgs["cd"].id, "name": PHONE_PLACE},
        kind=PlaceKind.PHONE,
    )
    people: dict[str, Agent] = {}
    for key, email, given, family, org, role in AGENTS:
        agent = await _get_or_add(uow, Agent, {"email": email}, first_name=given, last_name=family)
        await _get_or_add(
            uow, Membership, {"agent_id": agent.id, "organisation_id": orgs[org].id}, role=role
        )
        people[key] = agent
    first = await _get_or_add(
        uow,
        AppointmentType,
        {"territory_id": t.id, "name": "Premier rendez-vous d'orientation"},
        duration_minutes=45,
        buffer_after_minutes=15,
        min_notice_minutes=24 * 60,
        horizon_days=45,
        attendance=Attendance.SINGLE,
        mandatory=True,  # the RSA's orientation appointment
    )
    d360 = await _get_or_add(
        uow,
        AppointmentType,
        {"territory_id": t.id, "name": "Diagnostic 360"},
        duration_minutes=90,
        buffer_after_minutes=15,
        min_notice_minutes=48 * 60,
        horizon_days=60,
        attendance=Attendance.TRIPARTITE,
    )
    await uow.session.refresh(first, ["allowed_places"])
    await uow.session.refresh(d360, ["allowed_places"])
    if not first.allowed_places:
        first.allowed_places = list(places.values())
        d360.allowed_places = [places["laon"], places["chauny"]]
    start = date(2026, 1, 1)
    for who in ("camille", "karim", "julie"):
        await _rule(
            uow,
            people[who],
            places["laon"],
            _mask(MON, TUE, THU),
            time(9),
            time(12),
            start,
            [first, d360],
        )
        await _rule(
            uow,
            people[who],
            places["chauny"],
            _mask(MON, THU),
            time(14),
            time(17),
            start,
            [first, d360],
        )
        await _rule(
            uow, people[who], places["phone"], _mask(WED), time(9), time(12), start, [first]
        )
    await _rule(uow, people["sophie"], places["laon"], _mask(TUE), time(9), time(12), start, [d360])
    await _rule(
        uow, people["sophie"], places["chauny"], _mask(THU), time(14), time(17), start, [d360]
    )
    cohorts = {}
    for key, name, org in (
        ("young", "Jeunes 18-30 ans — Laon", "ml"),
        ("families", "Familles monoparentales — La Fère/Chauny/Tergnier", "cd"),
    ):
        cohorts[key] = await _get_or_add(
            uow,
            Cohort,
            {"territory_id": t.id, "name": name},
            entry_delay_days=30,
            appointment_type_id=first.id,
            organisation_id=orgs[org].id,
        )
    # The Laon CTO: every other Thursday at 08:30, requests until the Monday 14:00 before.
    cto = await _get_or_add(
        uow,
        CtoSeries,
        {"territory_id": t.id, "name": "Laon"},
        organisation_id=orgs["cd"].id,
        rrule=DEFAULT_RRULE,
        starts_on=date(2026, 1, 8),
        start_time=time(8, 30),
        place_id=places["laon"].id,
        video_url="https://visio.demo.rdv-spie.invalid/cto-laon",
    )
    await _get_or_add(
        uow,
        CtoMember,
        {"series_id": cto.id, "agent_id": people["nadia"].id},
        charter_accepted_on=date(2026, 1, 5),
    )
    await committees.generate_sessions(uow=uow, series=cto)
    return {
        "cto": cto.id,
        "young": cohorts["young"].id,
        "territory": t.id,
        "admin": people["admin"].id,
        "animator": people["sophie"].id,
        "partner": people["nadia"].id,  # a member of the Laon CTO: the partners' portal
        # The back office's demo login: a referent of the young people's cohort's structure,
        # so the demo's people are hers to follow and book for.
        "referent": people["julie"].id,
        "first": first.id,
        "d360": d360.id,
        "laon": places["laon"].id,
    }


async def _rule(
    uow: UnitOfWork,
    agent: Agent,
    place: Place,
    mask: int,
    start: time,
    end: time,
    valid_from: date,
    types: list[AppointmentType],
) -> None:
    rule = await _get_or_add(
        uow,
        AvailabilityRule,
        {"agent_id": agent.id, "place_id": place.id, "weekdays": mask, "start_time": start},
        end_time=end,
        valid_from=valid_from,
        valid_until=None,
        # Each demo agent works for one structure: the hours are opened for it.
        organisation_id=await uow.session.scalar(
            select(Membership.organisation_id).where(Membership.agent_id == agent.id)
        ),
    )
    await uow.session.refresh(rule, ["appointment_types"])
    if not rule.appointment_types:
        rule.appointment_types = types


async def _demo_key(uow: UnitOfWork, admin_id: uuid.UUID, known: str | None) -> str:
    """The demo key: the one already on disk when it is still valid, else a new one."""
    if known:
        found = await uow.session.scalar(
            select(ApiKey.id).where(ApiKey.secret_hash == api_keys.hash_secret(known))
        )
        if found is not None:
            return known
    issued = await api_keys.create_api_key(uow=uow, agent_id=admin_id, label="demo")
    return issued.secret


# Fictional people (example.org addresses) so the demo has invitations to send at start-up;
# with the embedded default they are written as files under var/outbox, never sent.
DEMO_PEOPLE = b"""Nom;Pr\xc3\xa9nom;Date de naissance;T\xc3\xa9l\xc3\xa9phone;Courriel
Lefebvre;Camille;14/02/1999;06 12 34 56 78;camille.lefebvre@example.org
Moreau;Yanis;03/09/2001;;yanis.moreau@example.org
Garnier;Sarah;21/06/1996;06 23 45 67 89;
"""


async def _demo_password(uow: UnitOfWork, agent_id: uuid.UUID, known: str | None) -> str:
    """The demo referent's password: the one on disk when it still opens the account."""
    agent = await uow.session.get(Agent, agent_id)
    assert agent is not None
    if known and agent.password_hash and passwords.matches(agent.password_hash, known):
        return known
    password = secrets.token_urlsafe(12)
    agent.password_hash = passwords.hash_password(password)
    return password


async def _same_password(uow: UnitOfWork, agent_id: uuid.UUID, password: str) -> None:
    """Give another demo login the demo password (unchanged when it already opens it)."""
    agent = await uow.session.get(Agent, agent_id)
    assert agent is not None
    if not (agent.password_hash and passwords.matches(agent.password_hash, password)):
        agent.password_hash = passwords.hash_password(password)


async def _seed(
    settings: Settings, known: str | None, known_password: str | None
) -> tuple[dict[str, uuid.UUID], str, str, date]:
    async with open_database(settings) as (db, clock):
        async with db.unit_of_work(clock=clock) as uow:
            ids = await seed(uow)
            secret = await _demo_key(uow, ids["admin"], known)
            password = await _demo_password(uow, ids["referent"], known_password)
            # The other demo logins share it: the animator, the admin and the CTO partner.
            for teammate in (ids["animator"], ids["admin"], ids["partner"]):
                await _same_password(uow, teammate, password)
        async with db.unit_of_work(clock=clock, write=False) as uow:
            into = await intake.target(uow, ids["young"], actor=None)
        today = clock.now().astimezone(into.zone).date()
        rows = intake.parse_all(DEMO_PEOPLE, region=into.region, today=today)
        await intake.import_rows(db=db, clock=clock, into=into, rows=rows)
    return ids, secret, password, clock.now().date()


def demo_files(settings: Settings) -> tuple[Path, Path] | None:
    """Where the demo's API key and password are kept: beside the database they open.

    A SQLite file gets ``<file>.demo-api-key.txt`` and ``<file>.demo-password.txt`` next to it,
    so two databases never share (and overwrite) each other's secrets. A server database
    (PostgreSQL) has no folder of its own: the files go to the folder that holds the outbox
    (``RDV_OUTBOX_DIR``'s parent, the instance's local data), named after the server, port and
    database. An in-memory database outlives no run: nothing is written, the secrets are only
    printed. ``None`` then.
    """
    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        if not url.database or url.database == ":memory:" or "mode=memory" in str(url):
            return None
        database = Path(url.database).resolve()
        return (
            database.with_name(database.name + ".demo-api-key.txt"),
            database.with_name(database.name + ".demo-password.txt"),
        )
    name = f"{url.host or 'localhost'}-{url.port or 'default'}-{url.database or 'default'}"
    name = re.sub(r"[^A-Za-z0-9._-]+", "_", name)
    folder = settings.outbox_dir.resolve().parent
    return folder / f"{name}.demo-api-key.txt", folder / f"{name}.demo-password.txt"


def _read(path: Path | None) -> str | None:
    if path is None or not path.exists():
        return None
    return path.read_text().strip() or None


def _keep(path: Path, value: str) -> None:
    """Write a demo secret for the next run, readable by its owner only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(value + "\n")
    path.chmod(0o600)


def run(settings: Settings) -> int:
    """Seed the demo and print what to try."""
    files = demo_files(settings)
    key_file, password_file = files if files is not None else (None, None)
    known, known_password = _read(key_file), _read(password_file)
    ids, secret, password, today = asyncio.run(_seed(settings, known, known_password))
    if key_file is not None and secret != known:
        _keep(key_file, secret)
    if password_file is not None and password != known_password:
        _keep(password_file, password)
    key_where = f"also in {key_file}" if key_file else "in-memory database: not kept"
    password_where = f"also in {password_file}" if password_file else key_where
    base = settings.public_url.rstrip("/")
    monday = today + timedelta(days=7 - today.weekday())
    week = f"from={monday}T00:00:00%2B01:00&to={monday + timedelta(days=7)}T00:00:00%2B01:00"
    print(f"""
Demo territory "Aisne — Laon" is ready (re-running this changes nothing).

  Back office         {base}{paths.LOGIN}
                      julie.lefevre@demo.rdv-spie.invalid (referent, Mission locale)
                      sophie.dubois@demo.rdv-spie.invalid (animator: cohorts, imports,
                        journeys, indicators)
                      admin@demo.rdv-spie.invalid (admin: agents, places, types, keys)
                      nadia.roux@demo.rdv-spie.invalid (partner: the CTO portal)
                      one password for the four:
                      password {password}   ({password_where})
  API documentation   {base}/api/v1/schema
  API key (admin)     {secret}   ({key_where})
  Messages            {settings.outbox_dir}  (.eml and .txt files: nothing leaves this machine;
                      three demo people are invited once the server runs, 09:00–19:00 Mon–Sat;
                      each message holds the person's booking link /i/…)

Try:
  curl -H "Authorization: Bearer {secret}" {base}/api/v1/appointment-types
  curl -H "Authorization: Bearer {secret}" \\
    "{base}/api/v1/slots?appointment_type_id={ids["first"]}&{week}"
  curl -H "Authorization: Bearer {secret}" {base}/api/v1/cohorts/{ids["young"]}/journeys
  curl -H "Authorization: Bearer {secret}" {base}/api/v1/cto-series/{ids["cto"]}/sessions
  curl -H "Authorization: Bearer {secret}" -H "Content-Type: text/csv" \\
    --data-binary @people.csv {base}/api/v1/cohorts/{ids["young"]}/imports
""")
    return 0
