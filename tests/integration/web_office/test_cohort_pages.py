"""Cohorts in the back office: the territory team lists, creates and changes them with the
API's validation (every refusal said at once, nothing written); a cohort's page counts its
journeys by status as people/status.py derives them; referents are refused, another
territory's cohort is not found."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import func, select
from tests.integration.web_office.office_support import (
    Office,
    body,
    login,
    office_journey,
    post_form,
    set_password,
)

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.people import counts, service
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.people.status import JourneyStatus
from rdv_spie.scheduling.models import Appointment, AppointmentStatus

COHORTS = "/agent/cohortes"
NEW = f"{COHORTS}/nouvelle"


def cohort_url(cohort_id: uuid.UUID | str) -> str:
    return f"{COHORTS}/{cohort_id}"


def form(office: Office, **changes: str | list[str]) -> dict[str, str | list[str]]:
    """A valid new cohort's form, as the browser posts it."""
    values: dict[str, str | list[str]] = {
        "name": "Familles monoparentales – Chauny",
        "appointment_type_id": str(office.s.single_type_id),
        "organisation_id": str(office.s.organisation_id),
        "entry_delay_days": "21",
        "invite_within_days": "2",
        "invitation_valid_days": "12",
        "reminder_days": "3, 7",
        "deadline_alert_days": "5",
        "send_window_start": "08:30",
        "send_window_end": "18:00",
        "send_weekdays": ["0", "1", "2", "3", "4"],
        "active": "1",
    }
    values.update(changes)
    return values


async def team_login(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    """Log in as the territory's animator."""
    email = await set_password(db, clock, office.s.animator_id)
    assert (await login(client, email)).status_code == 303


async def cohort_count(db: Database, clock: FrozenClock) -> int:
    async with db.unit_of_work(clock=clock) as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Cohort)) or 0)


async def load(db: Database, clock: FrozenClock, cohort_id: uuid.UUID) -> Cohort:
    async with db.unit_of_work(clock=clock) as uow:
        cohort = await uow.session.get(Cohort, cohort_id)
        assert cohort is not None
        return cohort


async def test_the_team_creates_a_cohort_and_finds_it_listed(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await team_login(client, db, clock, office)
    listed = await client.get(COHORTS)
    assert listed.status_code == 200
    assert "Jeunes 18-30 ans" in body(listed)
    assert f'href="{NEW}"' in listed.text
    assert "autre" not in body(listed).lower().split("<main")[1]  # not the other territory's
    blank = await client.get(NEW)
    assert blank.status_code == 200
    # The API's defaults, and the organisation the agent acts for.
    assert re.search(r'name="entry_delay_days"[^>]* value="30"', blank.text)
    assert f'<option value="{office.s.organisation_id}" selected>' in blank.text

    created = await post_form(client, NEW, form(office), token_from=NEW)
    assert created.status_code == 303, body(created)
    location = created.headers["location"]
    found = re.fullmatch(rf"{COHORTS}/([0-9a-f-]+)\?fait=cohorte", location)
    assert found, location
    cohort = await load(db, clock, uuid.UUID(found.group(1)))
    assert cohort.name == "Familles monoparentales – Chauny"
    assert cohort.territory_id == office.s.territory_id
    assert cohort.organisation_id == office.s.organisation_id
    assert cohort.appointment_type_id == office.s.single_type_id
    assert (cohort.entry_delay_days, cohort.invite_within_days) == (21, 2)
    assert (cohort.invitation_valid_days, cohort.deadline_alert_days) == (12, 5)
    assert cohort.reminder_days == [3, 7]
    assert (cohort.send_window_start, cohort.send_window_end) == (time(8, 30), time(18))
    assert cohort.send_weekdays == 0b0011111
    assert cohort.active

    page = body(await client.get(location))
    assert "La cohorte est créée" in page
    assert "Premier rendez-vous dans les 21 jours" in page
    assert "3 et 7 jours après l'invitation" in page
    assert "De 8h30 à 18h, les lundi, mardi, mercredi, jeudi et vendredi" in page
    for link in (
        f"{cohort_url(cohort.id)}/imports/nouveau",
        f"{cohort_url(cohort.id)}/imports",
        f"/agent/parcours?cohorte={cohort.id}",
        f"/agent/indicateurs?cohorte={cohort.id}",
        f"{cohort_url(cohort.id)}/modifier",
    ):
        assert f'href="{link}"' in page, link
    listed_again = body(await client.get(COHORTS))
    assert "Familles monoparentales – Chauny" in listed_again
    assert "21 jours" in listed_again


async def test_refused_input_is_said_field_by_field_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await team_login(client, db, clock, office)
    before = await cohort_count(db, clock)
    refused = await post_form(
        client,
        NEW,
        form(
            office,
            name="",
            entry_delay_days="0",
            invite_within_days="trois",
            invitation_valid_days="366",
            reminder_days="3, x",
            send_window_start="19:00",
            send_window_end="08:00",
            send_weekdays=[],
            appointment_type_id="pas-un-motif",
        ),
        token_from=NEW,
    )
    assert refused.status_code == 422
    page = body(refused)
    assert "Le formulaire contient 8 erreurs" in page
    for sentence in (
        "Nom de la cohorte : Indiquez le nom de la cohorte",
        "Délai d'entrée : Indiquez un nombre entier de jours, de 1 à 365.",
        "Délai d'invitation : Indiquez un nombre entier de jours",
        "Validité de l'invitation : Indiquez un nombre entier de jours",
        "Relances : Indiquez au plus 5 nombres entiers de jours",
        "Fin des envois : La fin des envois doit être après leur début.",
        "Jours d'envoi : Cochez au moins un jour d'envoi.",
        "Motif du premier rendez-vous : Choisissez une valeur dans la liste.",
    ):
        assert sentence in page, sentence
    assert 'id="entry_delay_days" name="entry_delay_days"' in refused.text
    assert (
        'value="0" required aria-invalid="true" aria-describedby="erreur-entry_delay_days"'
        in refused.text
    )
    assert 'value="3, x"' in refused.text  # what was typed is shown again
    assert await cohort_count(db, clock) == before

    # A name the territory already has, and a type of another territory: the service's rules.
    taken = await post_form(
        client,
        NEW,
        form(office, name="Jeunes 18-30 ans"),
        token_from=NEW,
    )
    assert taken.status_code == 422
    assert "Une cohorte de ce nom existe déjà sur le territoire" in body(taken)
    foreign = await post_form(
        client,
        NEW,
        form(office, appointment_type_id=str(office.other.single_type_id)),
        token_from=NEW,
    )
    assert foreign.status_code == 422
    assert "Motif du premier rendez-vous : Choisissez une valeur dans la liste." in body(foreign)
    assert await cohort_count(db, clock) == before


async def test_the_team_changes_a_cohort_and_a_refusal_changes_nothing(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await team_login(client, db, clock, office)
    edit = f"{cohort_url(office.cohort_id)}/modifier"
    shown = await client.get(edit)
    assert shown.status_code == 200
    assert 'value="Jeunes 18-30 ans"' in shown.text
    assert 'value="3, 7"' in shown.text
    assert 'name="active" value="1" checked' in shown.text

    changed = await post_form(
        client,
        edit,
        form(
            office,
            name="Jeunes 18-25 ans",
            entry_delay_days="45",
            reminder_days="",
            send_weekdays=["5"],
            active="",
        ),
        token_from=edit,
    )
    assert changed.status_code == 303, body(changed)
    assert changed.headers["location"] == f"{cohort_url(office.cohort_id)}?fait=cohorte-modifiee"
    cohort = await load(db, clock, office.cohort_id)
    assert (cohort.name, cohort.entry_delay_days) == ("Jeunes 18-25 ans", 45)
    assert cohort.reminder_days == []
    assert cohort.send_weekdays == 0b0100000
    assert not cohort.active
    page = body(await client.get(changed.headers["location"]))
    assert "Les réglages de la cohorte sont enregistrés" in page
    assert "Aucune relance" in page
    assert "cette cohorte est inactive" in page.lower()
    assert "Inactive" in body(await client.get(COHORTS))

    # Refused by the page (a delay of 0) and by the service (a name taken): nothing changes.
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Cohort(territory_id=office.s.territory_id, name="Seniors"))
    other_name = "Seniors"
    for changes, message in (
        ({"name": "Autre nom", "entry_delay_days": "0"}, "Indiquez un nombre entier de jours"),
        ({"name": other_name, "entry_delay_days": "60"}, "Une cohorte de ce nom existe déjà"),
    ):
        refused = await post_form(client, edit, form(office, **changes), token_from=edit)
        assert refused.status_code == 422
        assert message in body(refused)
        assert "Modifier la cohorte Jeunes 18-25 ans" in body(refused)
        cohort = await load(db, clock, office.cohort_id)
        assert (cohort.name, cohort.entry_delay_days) == ("Jeunes 18-25 ans", 45)


async def test_a_referent_is_refused_and_another_territory_is_not_found(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await login(client, office.email)  # a referent of the cohort's organisation
    edit = f"{cohort_url(office.cohort_id)}/modifier"
    for path in (COHORTS, NEW, cohort_url(office.cohort_id), edit):
        assert (await client.get(path)).status_code == 403, path
    page = await client.get("/agent/disponibilites")  # a page with a form token
    token = re.search(r'name="csrf_token" value="([0-9a-f]+)"', page.text)
    assert token
    before = await cohort_count(db, clock)
    for path in (NEW, edit):
        refused = await client.post(path, data={"csrf_token": token.group(1), **form(office)})
        assert refused.status_code == 403, path
    assert await cohort_count(db, clock) == before
    assert (await load(db, clock, office.cohort_id)).name == "Jeunes 18-30 ans"

    await client.post("/agent/deconnexion", data={"csrf_token": token.group(1)})
    client.cookies.clear()
    await team_login(client, db, clock, office)
    foreign = office.other_cohort_id
    for path in (cohort_url(foreign), f"{cohort_url(foreign)}/modifier", cohort_url(uuid.uuid4())):
        assert (await client.get(path)).status_code == 404, path
    refused = await post_form(
        client,
        f"{cohort_url(foreign)}/modifier",
        form(office, name="Pris"),
        token_from=COHORTS,
    )
    assert refused.status_code == 404
    assert (await load(db, clock, foreign)).name == "Jeunes 18-30 ans"
    assert "Jeunes 18-30 ans" in body(await client.get(COHORTS))  # its own, not the other's


async def test_the_counts_are_the_derived_statuses(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    """One journey in each status; the page's counts and the grouped query agree with
    people/status.py, journey by journey."""
    today = date(2026, 12, 1)
    made: dict[str, uuid.UUID] = {}
    for name, due in (
        ("Ainvite", today + timedelta(days=20)),
        ("Invitee", today + timedelta(days=20)),
        ("Expiree", today + timedelta(days=20)),
        ("Reservee", today + timedelta(days=20)),
        ("Recue", today - timedelta(days=3)),
        ("Absente", today + timedelta(days=20)),
        ("Retard", today - timedelta(days=1)),
        ("Retardexcusee", today - timedelta(days=1)),
        ("Close", today - timedelta(days=1)),
    ):
        made[name] = await office_journey(db, clock, office, last_name=name, appointment_by_on=due)
    now = clock.now()
    async with db.unit_of_work(clock=clock) as uow:
        for name, expires in (
            ("Invitee", now + timedelta(days=2)),
            ("Expiree", now - timedelta(hours=1)),
        ):
            uow.session.add(
                Invitation(
                    journey_id=made[name],
                    channel=Channel.SMS,
                    token_hash=f"{name:0<64}"[:64],
                    expires_at=expires,
                )
            )
        # An expired SMS beside a live e-mail: still invited.
        uow.session.add(
            Invitation(
                journey_id=made["Invitee"],
                channel=Channel.EMAIL,
                token_hash=f"{'Invitee2':0<64}"[:64],
                expires_at=now - timedelta(days=1),
            )
        )
        for name, status in (
            ("Reservee", AppointmentStatus.BOOKED),
            ("Recue", AppointmentStatus.SEEN),
            ("Recue", AppointmentStatus.NOSHOW),
            ("Absente", AppointmentStatus.NOSHOW),
            ("Retardexcusee", AppointmentStatus.EXCUSED),
        ):
            journey = await uow.session.get(Journey, made[name])
            assert journey is not None
            starts = datetime(2026, 11, 20, 9, tzinfo=UTC) + timedelta(hours=len(name))
            uow.session.add(
                Appointment(
                    territory_id=office.s.territory_id,
                    acting_organisation_id=office.s.organisation_id,
                    appointment_type_id=office.s.single_type_id,
                    place_id=office.s.place_ids[0],
                    person_id=journey.person_id,
                    journey_id=journey.id,
                    starts_at=starts,
                    ends_at=starts + timedelta(minutes=45),
                    busy_until=starts + timedelta(hours=1),
                    status=status,
                )
            )
        closing = await uow.session.get(Journey, made["Close"])
        assert closing is not None
        closing.closed_at = now - timedelta(days=1)

    expected = {
        JourneyStatus.TO_INVITE: 1,
        JourneyStatus.INVITED: 1,
        JourneyStatus.INVITATION_EXPIRED: 1,
        JourneyStatus.BOOKED: 1,
        JourneyStatus.SEEN: 1,
        JourneyStatus.NOSHOW: 1,
        JourneyStatus.LATE: 2,
        JourneyStatus.CLOSED: 1,
    }
    async with db.unit_of_work(clock=clock) as uow:
        journeys = list(
            await uow.session.scalars(select(Journey).where(Journey.cohort_id == office.cohort_id))
        )
        derived = await service.statuses(uow, journeys, ZoneInfo("Europe/Paris"))
        grouped = await counts.by_status(uow, [office.cohort_id], now=now, today=today)
    assert sorted(derived.values()) == sorted(s for s, n in expected.items() for _ in range(n))
    assert grouped[office.cohort_id] == expected

    await team_login(client, db, clock, office)
    page = body(await client.get(cohort_url(office.cohort_id)))
    assert "9 parcours dans cette cohorte" in page
    for words, count, status in (
        ("À inviter", 1, "to_invite"),
        ("En retard (délai dépassé sans rendez-vous)", 2, "late"),
        ("Parcours clos", 1, "closed"),
    ):
        link = f'<a href="/agent/parcours?cohorte={office.cohort_id}&statut={status}">'
        assert f"{link}{words}</a></th><td>{count}</td>" in page, words
    listed = body(await client.get(COHORTS))
    row = re.search(r"Jeunes 18-30 ans</a></td>(.*?)</tr>", listed, re.S)
    assert row
    cells = re.findall(r"<td data-label=\"[^\"]+\">(.*?)</td>", row.group(1))
    assert cells[-2] == "8"  # open: every journey but the closed one
    assert "2" in cells[-1]  # late


async def test_the_api_refuses_a_taken_name_when_renaming(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    """The rule the form shows is the service's: PATCH says it too (it was a 500)."""
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Cohort(territory_id=office.s.territory_id, name="Seniors"))
    path = f"/api/v1/cohorts/{office.cohort_id}"
    refused = await client.patch(path, json={"name": "Seniors"}, headers=office.s.auth())
    assert refused.status_code == 422, refused.text
    assert refused.json()["field"] == "name"
    kept = await client.patch(path, json={"name": "Jeunes 18-30 ans"}, headers=office.s.auth())
    assert kept.status_code == 200, kept.text  # its own name is not "taken"
    assert (await load(db, clock, office.cohort_id)).name == "Jeunes 18-30 ans"
