"""The admins' configuration pages (issue 15, item 6): the territory's structures, the
organisation's places, the territory's appointment types, the territory's feed link and a
person's read trail — through the same services and refusals as the API, for admins only."""

from __future__ import annotations

import html
import re
import uuid
from datetime import timedelta

import httpx
from sqlalchemy import insert, select
from tests.integration.web_office.office_support import (
    Office,
    body,
    book_journey,
    login,
    office_journey,
    post_form,
    set_password,
)

from rdv_spie.administration import paths
from rdv_spie.audit import service as audit
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.journeys import paths as journey_paths
from rdv_spie.people.models import Journey
from rdv_spie.scheduling.models import AppointmentType
from rdv_spie.territories.models import Organisation, Place

TYPE_FIELDS = {
    "name": "Suivi renforcé",
    "duration_minutes": "30",
    "buffer_after_minutes": "10",
    "min_notice_minutes": "120",
    "horizon_days": "45",
    "attendance": "single",
    "online_cancel": "true",
    "cancel_cutoff_minutes": "240",
    "move_cutoff_minutes": "1440",
    "show_agent_name": "false",
    "mandatory": "true",
    "what_to_bring": "Une pièce d'identité",
}


def url(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


async def as_admin(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    email = await set_password(db, clock, office.s.admin_id)
    assert (await login(client, email)).status_code == 303


async def test_the_home_links_every_administration_page(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await as_admin(client, office, db, clock)
    page = await client.get(paths.ADMINISTRATION)
    assert page.status_code == 200
    for path in (
        paths.ORGANISATIONS,
        paths.AGENTS,
        paths.PLACES,
        paths.TYPES,
        paths.API_KEYS,
        paths.FEED,
        paths.READ_TRAIL,
    ):
        assert f'href="{path}"' in page.text, path


async def test_an_organisation_is_added_refused_and_changed(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await as_admin(client, office, db, clock)
    new = paths.ORGANISATION_NEW
    refused = await post_form(
        client, new, {"name": "", "kind": "plutot", "phone": "0" * 25}, token_from=new
    )
    assert refused.status_code == 422
    text = body(refused)
    assert "Le formulaire contient 3 erreurs" in text
    assert "Remplissez ce champ." in text and "Choisissez une valeur dans la liste." in text
    assert "Ce texte est trop long" in text
    made = await post_form(
        client,
        new,
        {"name": "Mission locale de Laon", "kind": "mission_locale", "phone": "03 23 11 11 11"},
        token_from=new,
    )
    assert made.status_code == 303, made.text
    listed = body(await client.get(made.headers["location"]))
    assert "La structure est ajoutée au territoire." in listed
    assert "Mission locale de Laon" in listed and "Mission locale</td>" in listed
    again = await post_form(
        client, new, {"name": "Mission locale de Laon", "kind": "association"}, token_from=new
    )
    assert again.status_code == 422
    assert "Ce nom est déjà utilisé" in body(again)
    async with db.unit_of_work(clock=clock) as uow:
        org = await uow.session.scalar(
            select(Organisation).where(Organisation.name == "Mission locale de Laon")
        )
        assert org is not None and org.territory_id == office.s.territory_id
        assert org.kind == "mission_locale" and org.email is None
    edit = url(paths.ORGANISATION, organisation_id=org.id)
    # A name already taken on the territory: refused, and nothing of the form is kept.
    clash = await post_form(
        client,
        edit,
        {"name": "Département laon", "kind": "caf", "email": "x@exemple.fr"},
        token_from=edit,
    )
    assert clash.status_code == 422 and "Ce nom est déjà utilisé" in body(clash)
    changed = await post_form(
        client,
        edit,
        {"name": "Mission locale du Laonnois", "kind": "mission_locale", "email": "ml@exemple.fr"},
        token_from=edit,
    )
    assert changed.status_code == 303, changed.text
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Organisation, org.id)
        assert row is not None
        assert (row.name, row.email, row.phone) == (
            "Mission locale du Laonnois",
            "ml@exemple.fr",
            None,
        )
    # Another territory's structure is the 404 of an unknown one.
    foreign = await client.get(
        url(paths.ORGANISATION, organisation_id=office.other.organisation_id)
    )
    assert foreign.status_code == 404


async def test_a_place_is_added_changed_and_taken_out_of_service(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await as_admin(client, office, db, clock)
    new = paths.PLACE_NEW
    refused = await post_form(
        client, new, {"name": "Antenne de Chauny", "kind": "address"}, token_from=new
    )
    assert refused.status_code == 422
    assert "Indiquez l'adresse : ce lieu reçoit à une adresse." in body(refused)
    made = await post_form(
        client,
        new,
        {
            "name": "Antenne de Chauny",
            "kind": "address",
            "address": "3 place de l'Hôtel de ville",
            "postcode": "02300",
            "city": "Chauny",
        },
        token_from=new,
    )
    assert made.status_code == 303, made.text
    async with db.unit_of_work(clock=clock) as uow:
        place = await uow.session.scalar(select(Place).where(Place.name == "Antenne de Chauny"))
        assert place is not None and place.organisation_id == office.s.organisation_id
    listed = body(await client.get(paths.PLACES))
    assert "Antenne de Chauny" in listed and "En service" in listed
    edit = url(paths.PLACE, place_id=place.id)
    # The kind changes to address without one: refused, nothing written.
    half = await post_form(
        client,
        edit,
        {"name": "Antenne renommée", "kind": "address", "address": "", "active": "true"},
        token_from=edit,
    )
    assert half.status_code == 422
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Place, place.id)
        assert row is not None and row.name == "Antenne de Chauny" and row.address
    out = await post_form(
        client,
        edit,
        {
            "name": "Antenne de Chauny",
            "kind": "phone",
            "phone": "03 23 22 22 22",
            "active": "false",
        },
        token_from=edit,
    )
    assert out.status_code == 303, out.text
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Place, place.id)
        assert row is not None
        assert (row.active, row.kind, row.phone, row.address) == (
            False,
            "phone",
            "03 23 22 22 22",
            None,
        )
    assert "Hors service" in body(await client.get(paths.PLACES))
    # The other territory's place: the 404 of an unknown one.
    foreign = await client.get(url(paths.PLACE, place_id=office.other.place_ids[0]))
    assert foreign.status_code == 404


async def test_an_appointment_type_is_added_refused_and_changed(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await as_admin(client, office, db, clock)
    new = paths.TYPE_NEW
    form = await client.get(new)
    assert 'value="45"' in form.text  # the API's default duration
    refused = await post_form(
        client,
        new,
        {**TYPE_FIELDS, "duration_minutes": "0", "horizon_days": "un mois"},
        token_from=new,
    )
    assert refused.status_code == 422
    text = body(refused)
    assert "Indiquez un nombre entier, sans virgule ni unité." in text
    assert 'aria-describedby="erreur-horizon_days"' in refused.text
    # Once every field is sound, the service's limits (the API's): one refusal at a time.
    zero = await post_form(client, new, {**TYPE_FIELDS, "duration_minutes": "0"}, token_from=new)
    assert zero.status_code == 422
    assert "La durée doit être comprise entre 5 et 480 minutes." in body(zero)
    async with db.unit_of_work(clock=clock) as uow:
        assert (
            await uow.session.scalar(
                select(AppointmentType).where(AppointmentType.name == "Suivi renforcé")
            )
        ) is None
    made = await post_form(
        client,
        new,
        {**TYPE_FIELDS, "place_ids": [str(office.s.place_ids[0])]},
        token_from=new,
    )
    assert made.status_code == 303, made.text
    async with db.unit_of_work(clock=clock) as uow:
        created = await uow.session.scalar(
            select(AppointmentType).where(AppointmentType.name == "Suivi renforcé")
        )
        assert created is not None
        assert created.territory_id == office.s.territory_id
        assert (
            created.duration_minutes,
            created.buffer_after_minutes,
            created.min_notice_minutes,
            created.horizon_days,
            created.move_cutoff_minutes,
            created.show_agent_name,
            created.mandatory,
            created.what_to_bring,
        ) == (30, 10, 120, 45, 1440, False, True, "Une pièce d'identité")
        assert created.allowed_place_ids == {office.s.place_ids[0]}
    edit = url(paths.TYPE, type_id=created.id)
    page = await client.get(edit)
    assert page.status_code == 200 and 'value="120"' in page.text
    changed = await post_form(
        client,
        edit,
        {
            **TYPE_FIELDS,
            "name": "Diagnostic 360 renforcé",
            "attendance": "tripartite",
            "online_cancel": "false",
            "what_to_bring": "",
            "active": "false",
        },
        token_from=edit,
    )
    assert changed.status_code == 303, changed.text
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(AppointmentType, created.id)
        assert row is not None
        assert (row.name, row.attendance, row.online_cancel, row.what_to_bring, row.active) == (
            "Diagnostic 360 renforcé",
            "tripartite",
            False,
            None,
            False,
        )
        assert row.allowed_place_ids == frozenset()  # no box checked: every place
    listed = body(await client.get(paths.TYPES))
    assert "Diagnostic 360 renforcé" in listed and "Plus proposé" in listed


async def test_a_new_territory_feed_link_stops_the_old_one(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    await as_admin(client, office, db, clock)
    assert "pas de lien en service" in body(await client.get(paths.FEED))
    links = []
    for _ in range(2):
        made = await post_form(client, paths.FEED, {}, token_from=paths.FEED)
        assert made.status_code == 200
        text = body(made)
        found = [w for w in text.split('"') if "/feeds/" in w]
        https = next(w for w in found if w.startswith("http"))
        assert any(w.startswith("webcal://") and w.endswith(https.split("://")[1]) for w in found)
        links.append("/" + https.split("/", 3)[3])
    assert links[0] != links[1]
    old, current = [await client.get(link) for link in links]
    assert old.status_code == 404
    assert current.status_code == 200 and "BEGIN:VCALENDAR" in current.text
    status = body(await client.get(paths.FEED))
    assert "Un lien fonctionne depuis le" in status and "/feeds/" not in status


async def test_the_read_trail_lists_reads_through_the_api_and_the_office(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(db, clock, office, last_name="Lemaire")
    booked = await book_journey(client, office.s, journey)
    assert booked.status_code == 201, booked.text
    shown = await client.get(f"/api/v1/appointments/{booked.json()['id']}", headers=office.s.auth())
    assert shown.status_code == 200
    # The referent opens the booking page for the person: a read in the back office.
    assert (await login(client, office.email)).status_code == 303
    assert (await client.get(f"/agent/prise-de-rdv?parcours={journey}")).status_code == 200
    await client.post("/agent/deconnexion")
    # The animator opens the person's journey page.
    animator = await set_password(db, clock, office.s.animator_id)
    assert (await login(client, animator)).status_code == 303
    assert (await client.get(url(journey_paths.JOURNEY, journey_id=journey))).status_code == 200
    await client.post("/agent/deconnexion")
    await as_admin(client, office, db, clock)
    search = await client.get(paths.READ_TRAIL, params={"q": "LÉMA cam"})  # accents, case
    assert search.status_code == 200
    person_id = booked.json()["person_id"]
    assert f"?personne={person_id}" in search.text and "Camille Lemaire" in body(search)
    other = body(await client.get(paths.READ_TRAIL, params={"q": "dupont"}))
    assert "Aucune personne du territoire ne porte ce nom." in other
    trail = await client.get(paths.READ_TRAIL, params={"personne": person_id})
    assert trail.status_code == 200
    text = body(trail)
    assert "Consultations du dossier de Camille Lemaire" in text
    assert "API : un rendez-vous" in text and "Admin Test" in text
    assert "Page du parcours ou prise de rendez-vous (espace agent)" in text
    assert "Referent0 Test" in text and "Animator Test" in text
    # Reading the trail is not a read of the file: the trail is the same the second time.
    again = body(await client.get(paths.READ_TRAIL, params={"personne": person_id}))
    assert again.count("<tr>") == text.count("<tr>")
    # Someone of another territory, or not a person id: the 404 of an unknown person.
    stranger = uuid.uuid4()
    assert (
        await client.get(paths.READ_TRAIL, params={"personne": str(stranger)})
    ).status_code == 404
    assert (await client.get(paths.READ_TRAIL, params={"personne": "x"})).status_code == 404


async def test_a_referent_gets_403_on_every_administration_page(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    assert (await login(client, office.email)).status_code == 303
    assert 'href="/agent/administration"' not in (await client.get("/agent/agenda")).text
    ids = {
        "organisation_id": office.s.organisation_id,
        "place_id": office.s.place_ids[0],
        "type_id": office.s.single_type_id,
    }
    pages = [
        paths.ADMINISTRATION,
        paths.ORGANISATIONS,
        paths.ORGANISATION_NEW,
        url(paths.ORGANISATION, **ids),
        paths.PLACES,
        paths.PLACE_NEW,
        url(paths.PLACE, **ids),
        paths.TYPES,
        paths.TYPE_NEW,
        url(paths.TYPE, **ids),
        paths.FEED,
        paths.READ_TRAIL,
    ]
    for page in pages:
        assert (await client.get(page)).status_code == 403, page
    forms = {
        paths.ORGANISATION_NEW: {"name": "Refusée", "kind": "caf"},
        url(paths.ORGANISATION, **ids): {"name": "Refusée", "kind": "caf"},
        paths.PLACE_NEW: {"name": "Refusé", "kind": "video"},
        url(paths.PLACE, **ids): {"name": "Refusé", "kind": "video", "active": "false"},
        paths.TYPE_NEW: {**TYPE_FIELDS, "name": "Refusé"},
        url(paths.TYPE, **ids): {**TYPE_FIELDS, "name": "Refusé", "active": "false"},
        paths.FEED: {},
    }
    for path, data in forms.items():
        refused = await post_form(client, path, data, token_from="/agent/agenda")
        assert refused.status_code == 403, path
    async with db.unit_of_work(clock=clock) as uow:
        assert (
            await uow.session.scalar(select(Organisation).where(Organisation.name == "Refusée"))
            is None
        )
        place = await uow.session.get(Place, office.s.place_ids[0])
        assert place is not None and place.active and place.name != "Refusé"
        kind = await uow.session.get(AppointmentType, office.s.single_type_id)
        assert kind is not None and kind.name == "Premier rendez-vous"


async def test_a_long_read_trail_goes_on_on_a_second_page(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    journey = await office_journey(db, clock, office, last_name="Lemaire")
    async with db.unit_of_work(clock=clock) as uow:
        row = await uow.session.get(Journey, journey)
        assert row is not None
        person_id = row.person_id
        start = clock.now() - timedelta(days=30)
        await uow.session.execute(
            insert(FileRead),
            [
                {
                    "id": uuid.uuid4(),
                    "at": start + timedelta(minutes=i),
                    "agent_id": office.s.animator_id,
                    "person_id": person_id,
                    "what": "agenda",
                }
                for i in range(audit.MAX_ROWS + 1)
            ],
        )
    await as_admin(client, office, db, clock)
    first = await client.get(paths.READ_TRAIL, params={"personne": str(person_id)})
    assert first.status_code == 200
    assert first.text.count('<td data-label="Agent">') == audit.MAX_ROWS
    older = re.search(r'href="([^"]*avant=[^"]*)"', first.text)
    assert older, "no link to the older lines"
    second = await client.get(html.unescape(older.group(1)))
    assert second.status_code == 200
    assert second.text.count('<td data-label="Agent">') == 1
    assert "avant=" not in second.text
