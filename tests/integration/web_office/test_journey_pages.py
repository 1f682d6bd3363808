"""The territory team's journeys in the browser (issue 15, item 4): the list with its filters,
search and pages; a person's page with the timeline; inviting again; closing (page and API).

Today is Tuesday 1 December 2026, 09:00 in Paris (the suite's clock)."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import func, select, update
from tests.integration.web_office.office_support import (
    Office,
    add_journey,
    body,
    book_journey,
    csrf,
    login,
    office_journey,
    set_password,
)

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.audit.models import FileRead
from rdv_spie.clock import FrozenClock
from rdv_spie.committees.models import CtoRequest, CtoSeries, CtoSession, RequestStatus
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment
from rdv_spie.territories.models import Organisation, OrganisationKind

LIST = "/agent/parcours"
NOW = datetime(2026, 12, 1, 8, tzinfo=UTC)


def page_of(journey_id: uuid.UUID) -> str:
    return f"{LIST}/{journey_id}"


async def team_login(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, o: Office
) -> None:
    """Log in as the territory's animator (the team)."""
    email = await set_password(db, clock, o.s.animator_id)
    response = await login(client, email)
    assert response.status_code == 303, response.text


async def change(
    db: Database, clock: FrozenClock, model: Any, ident: uuid.UUID, **values: Any
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(update(model).where(model.id == ident).values(**values))


async def invite(
    db: Database,
    clock: FrozenClock,
    journey_id: uuid.UUID,
    *,
    channel: Channel = Channel.EMAIL,
    expires_at: datetime = NOW + timedelta(days=10),
) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        invitation = Invitation(
            journey_id=journey_id,
            channel=channel,
            token_hash=uuid.uuid4().hex * 2,
            expires_at=expires_at,
        )
        uow.session.add(invitation)
        await uow.session.flush()
        return invitation.id


async def message(
    db: Database,
    clock: FrozenClock,
    o: Office,
    journey_id: uuid.UUID,
    invitation_id: uuid.UUID,
    *,
    name: str,
    channel: str,
    status: NotificationStatus,
    at: datetime,
    params: dict[str, Any] | None = None,
) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        row = Notification(
            territory_id=o.s.territory_id,
            name=name,
            channel=channel,
            idempotency_key=f"test:{uuid.uuid4()}",
            person_id=journey.person_id,
            journey_id=journey_id,
            invitation_id=invitation_id,
            params=params or {},
            status=status,
            not_before=at,
            sent_at=at if status != NotificationStatus.PENDING else None,
        )
        uow.session.add(row)
        await uow.session.flush()
        return row.id


async def committee_request(
    db: Database, clock: FrozenClock, o: Office, journey_id: uuid.UUID, *, summary: str
) -> None:
    """A situation request acknowledged for the session of Thursday 10 December, 9h30."""
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        series = CtoSeries(
            territory_id=o.s.territory_id,
            organisation_id=o.s.organisation_id,
            name="CTO Laon",
            starts_on=date(2026, 12, 10),
            place_id=o.s.place_ids[0],
        )
        uow.session.add(series)
        await uow.session.flush()
        starts = datetime(2026, 12, 10, 8, 30, tzinfo=UTC)
        session = CtoSession(
            series_id=series.id,
            territory_id=o.s.territory_id,
            occurs_on=date(2026, 12, 10),
            starts_at=starts,
            ends_at=starts + timedelta(hours=2),
            deadline_at=starts - timedelta(days=3),
            freeze_at=starts - timedelta(days=3),
            dispatch_at=starts - timedelta(days=2),
        )
        uow.session.add(session)
        await uow.session.flush()
        uow.session.add(
            CtoRequest(
                session_id=session.id,
                territory_id=o.s.territory_id,
                referent_id=o.s.referent_ids[0],
                organisation_id=o.s.organisation_id,
                person_id=journey.person_id,
                journey_id=journey_id,
                thematics=["logement"],
                summary=summary,
                consent=True,
                submitted_at=NOW - timedelta(days=1),
                status=RequestStatus.ACKNOWLEDGED,
            )
        )


def names(page: str) -> list[str]:
    """The people listed, in order."""
    return re.findall(r'<a href="/agent/parcours/[0-9a-f-]{36}">Camille ([^<]+)</a>', page)


async def test_the_list_filters_searches_and_pages_the_open_journeys(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    await office_journey(db, clock, o, last_name="Dupont", appointment_by_on=date(2026, 12, 20))
    await office_journey(db, clock, o, last_name="Lefèvre", appointment_by_on=date(2026, 11, 25))
    martin = await office_journey(db, clock, o, last_name="Martin", referent_id=o.s.referent_ids[1])
    gone = await office_journey(db, clock, o, last_name="Partie")
    await change(db, clock, Journey, gone, closed_at=NOW, closed_reason="demenagement")
    await add_journey(
        db,
        clock,
        territory_id=o.other.territory_id,
        cohort_id=o.other_cohort_id,
        last_name="Ailleurs",
        appointment_by_on=date(2026, 12, 20),
    )
    await team_login(client, db, clock, o)

    listed = body(await client.get(LIST))
    assert names(listed) == ["Lefèvre", "Dupont", "Martin"]  # the nearest deadline first
    assert "en retard de 6 jours" in listed and "19 jours" in listed
    assert "En retard" in listed and "À inviter" in listed
    assert "Partie" not in listed and "Ailleurs" not in listed
    assert "3 parcours." in listed

    assert names(body(await client.get(LIST, params={"q": "LEFEVRE"}))) == ["Lefèvre"]
    assert names(body(await client.get(LIST, params={"q": "camille dup"}))) == ["Dupont"]
    assert names(body(await client.get(LIST, params={"statut": "late"}))) == ["Lefèvre"]
    assert names(body(await client.get(LIST, params={"statut": "closed"}))) == ["Partie"]
    by_referent = {"referent": str(o.s.referent_ids[1])}
    assert names(body(await client.get(LIST, params=by_referent))) == ["Martin"]
    assert names(body(await client.get(LIST, params={"referent": "aucun"}))) == [
        "Lefèvre",
        "Dupont",
    ]
    assert names(body(await client.get(LIST, params={"cohorte": str(o.other_cohort_id)}))) == []
    assert f'href="/agent/parcours/{martin}"' in listed

    # Only the people shown are in their read trail, as the API's list writes it.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        whats = set(
            await uow.session.scalars(
                select(FileRead.what)
                .join(Person, Person.id == FileRead.person_id)
                .where(Person.last_name == "Martin")
            )
        )
        hidden = await uow.session.scalar(
            select(func.count())
            .select_from(FileRead)
            .join(Person, Person.id == FileRead.person_id)
            .where(Person.last_name == "Ailleurs")
        )
    assert whats == {"journeys"} and hidden == 0


async def test_pages_of_fifty_keep_the_filters(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    async with db.unit_of_work(clock=clock) as uow:
        for i in range(60):
            person = Person(
                territory_id=o.s.territory_id, first_name="Camille", last_name=f"Nom{i:02d}"
            )
            uow.session.add(person)
            await uow.session.flush()
            uow.session.add(
                Journey(
                    territory_id=o.s.territory_id,
                    person_id=person.id,
                    cohort_id=o.cohort_id,
                    entered_on=date(2026, 11, 10),
                    invite_by_on=date(2026, 11, 13),
                    appointment_by_on=date(2026, 12, 10) + timedelta(days=i),
                )
            )
    await team_login(client, db, clock, o)
    first = body(await client.get(LIST, params={"q": "nom"}))
    assert names(first) == [f"Nom{i:02d}" for i in range(50)]
    assert "page 1 sur 2" in first and "Page suivante" in first
    assert "/agent/parcours?q=nom&page=2" in first
    second = body(await client.get(LIST, params={"q": "nom", "page": "2"}))
    assert names(second) == [f"Nom{i:02d}" for i in range(50, 60)]
    assert "Page précédente" in second and "Page suivante" not in second
    plain = body(await client.get(LIST, params={"page": "2"}))
    assert names(plain) == [f"Nom{i:02d}" for i in range(50, 60)]
    # A page past the end shows the last one.
    assert names(body(await client.get(LIST, params={"page": "9"}))) == names(plain)


async def test_each_status_filter_lists_exactly_the_journeys_shown_with_it(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """The status filter (SQL) and the status shown (people/status.py) agree."""
    o = office
    made: dict[str, uuid.UUID] = {}
    for status in ("to_invite", "invited", "expired", "booked", "seen", "noshow", "late", "closed"):
        due = date(2026, 11, 30) if status == "late" else date(2026, 12, 20)
        made[status] = await office_journey(
            db, clock, o, last_name=f"Statut{status}", appointment_by_on=due
        )
    await invite(db, clock, made["invited"])
    await invite(db, clock, made["expired"], expires_at=NOW - timedelta(hours=1))
    await invite(db, clock, made["late"], expires_at=NOW - timedelta(days=1))
    for status, hour in (("booked", 8), ("seen", 9), ("noshow", 10)):
        r = await book_journey(client, o.s, made[status], starts_at=f"2026-12-03T{hour:02d}:00:00Z")
        assert r.status_code == 201, r.text
        if status != "booked":
            async with db.unit_of_work(clock=clock) as uow:
                await uow.session.execute(
                    update(Appointment)
                    .where(Appointment.journey_id == made[status])
                    .values(status=status)
                )
    await change(db, clock, Journey, made["closed"], closed_at=NOW, closed_reason="refus")
    await team_login(client, db, clock, o)
    words = {
        "to_invite": "À inviter",
        "invited": "Invitée",
        "invitation_expired": "Invitation expirée",
        "booked": "Rendez-vous pris",
        "seen": "Reçue",
        "noshow": "Absente au rendez-vous",
        "late": "En retard",
        "closed": "Parcours clos",
    }
    for status, word in words.items():
        key = "expired" if status == "invitation_expired" else status
        page = body(await client.get(LIST, params={"statut": status}))
        assert names(page) == [f"Statut{key}"], status
        assert f'journey-{status}">{word}</span>' in page, status


async def test_a_person_page_shows_the_timeline_in_local_time(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    journey = await office_journey(
        db, clock, o, last_name="Durand", referent_id=o.s.referent_ids[0]
    )
    sms = await invite(db, clock, journey, channel=Channel.SMS)
    email = await invite(db, clock, journey, channel=Channel.EMAIL)
    sent = datetime(2026, 11, 24, 8, 30, tzinfo=UTC)  # 9h30 in Paris
    await message(
        db, clock, o, journey, sms, name="invitation", channel="sms",
        status=NotificationStatus.DELIVERED, at=sent,
    )  # fmt: skip
    await message(
        db, clock, o, journey, email, name="invitation_reminder", channel="email",
        status=NotificationStatus.FAILED, at=sent + timedelta(days=3),
        params={"reminder_number": 1},
    )  # fmt: skip
    booked = await book_journey(client, o.s, journey, starts_at="2026-12-03T09:00:00Z")
    assert booked.status_code == 201, booked.text
    await committee_request(db, clock, o, journey, summary="Dettes de loyer, SECRET")
    await team_login(client, db, clock, o)

    page = body(await client.get(page_of(journey)))
    assert "Parcours de Camille Durand" in page
    # The committee request: its status and its session, never what the fiche says.
    assert (
        "Demande d'examen en comité (séance du jeudi 10 décembre 2026 à 9h30) : "
        "<strong>Reçue par l'animation</strong>"
    ) in page
    assert "SECRET" not in page and "loyer" not in page
    assert "Rendez-vous pris" in page and "Jeunes 18-30 ans" in page
    assert "dans 19 jours" in page
    invitation = "Invitation par SMS : <strong>Reçu</strong>"
    reminder = "Relance n° 1 par e-mail : <strong>Échec de l'envoi</strong>"
    appointment = "Rendez-vous « Premier rendez-vous » à Lieu 0 : <strong>Prévu</strong>"
    assert "mardi 24 novembre 2026 à 9h30" in page
    assert "jeudi 3 décembre 2026 à 10h" in page  # 09:00 UTC
    # Newest first: the appointment, the reminder, the invitation, the entry.
    order = [page.index(appointment), page.index(reminder), page.index(invitation)]
    assert order == sorted(order)
    assert page.index(invitation) < page.index("Entrée dans la cohorte Jeunes 18-30 ans.")
    # An appointment to come: no invitation again, but booking stays a link.
    assert "Relancer maintenant" not in page
    assert f'href="/agent/prise-de-rdv?parcours={journey}"' in page

    async with db.unit_of_work(clock=clock, write=False) as uow:
        whats = list(await uow.session.scalars(select(FileRead.what)))
    assert "journey" in whats

    # A referent of the structure sees it elsewhere but not here; another territory: 404.
    referent = httpx.AsyncClient(transport=client._transport, base_url=client.base_url)
    async with referent:
        await login(referent, o.email)
        assert (await referent.get(page_of(journey))).status_code == 403
        assert (await referent.get(LIST)).status_code == 403
    foreign = await add_journey(
        db,
        clock,
        territory_id=o.other.territory_id,
        cohort_id=o.other_cohort_id,
        last_name="Ailleurs",
        appointment_by_on=date(2026, 12, 20),
    )
    assert (await client.get(page_of(foreign))).status_code == 404
    assert (await client.get(page_of(uuid.uuid4()))).status_code == 404


async def _count_messages(db: Database, clock: FrozenClock, journey_id: uuid.UUID) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(
            await uow.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(Notification.journey_id == journey_id, Notification.name == "invitation")
            )
            or 0
        )


async def test_invite_again_writes_one_message_inside_the_sending_window(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    journey = await office_journey(db, clock, o, last_name="Relancee")
    expired = await invite(db, clock, journey, expires_at=NOW - timedelta(days=1))
    clock.set(datetime(2026, 12, 1, 21, tzinfo=UTC))  # 22:00 in Paris: the window is shut
    await team_login(client, db, clock, o)
    page = body(await client.get(page_of(journey)))
    assert "Invitation expirée" in page
    done = await client.post(page_of(journey) + "/relance", data={"csrf_token": csrf(page)})
    assert done.status_code == 303
    assert done.headers["location"] == page_of(journey) + "?fait=relance"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = list(await uow.session.scalars(select(Notification)))
        invitation = await uow.session.get(Invitation, expired)
    assert [(n.name, n.channel, n.invitation_id) for n in rows] == [
        ("invitation", "email", expired)
    ]
    # Wednesday 09:00 in Paris, the cohort's window opening; the link is valid again.
    assert rows[0].not_before == datetime(2026, 12, 2, 8, tzinfo=UTC)
    assert invitation is not None and invitation.expires_at == datetime(2026, 12, 12, 8, tzinfo=UTC)
    back = body(await client.get(done.headers["location"]))
    assert "La relance est enregistrée" in back and "Invitée" in back

    # A second click the same day writes nothing and says why.
    again = await client.post(page_of(journey) + "/relance", data={"csrf_token": csrf(back)})
    assert again.status_code == 409
    assert "déjà été relancée aujourd'hui" in body(again)
    assert await _count_messages(db, clock, journey) == 1

    # Someone never invited gets their invitation created on the channel they agreed to.
    fresh = await office_journey(db, clock, o, last_name="Nouvelle")
    done = await client.post(page_of(fresh) + "/relance", data={"csrf_token": csrf(back)})
    assert done.status_code == 303
    async with db.unit_of_work(clock=clock, write=False) as uow:
        created = list(
            await uow.session.scalars(select(Invitation).where(Invitation.journey_id == fresh))
        )
    assert [i.channel for i in created] == ["email"]
    assert await _count_messages(db, clock, fresh) == 1


async def test_invite_again_is_refused_when_closed_booked_or_unreachable(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    closed = await office_journey(db, clock, o, last_name="Close")
    await change(db, clock, Journey, closed, closed_at=NOW, closed_reason="doublon")
    booked = await office_journey(db, clock, o, last_name="Reservee")
    r = await book_journey(client, o.s, booked, starts_at="2026-12-03T09:00:00Z")
    assert r.status_code == 201, r.text
    silent = await office_journey(db, clock, o, last_name="Muette")
    async with db.unit_of_work(clock=clock) as uow:
        cohort = Cohort(territory_id=o.s.territory_id, name="Sans motif")
        uow.session.add(cohort)
        await uow.session.flush()
        untyped_cohort = cohort.id
    untyped = await add_journey(
        db,
        clock,
        territory_id=o.s.territory_id,
        cohort_id=untyped_cohort,
        last_name="Sansmotif",
        appointment_by_on=date(2026, 12, 20),
    )
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, silent)
        assert journey is not None
        await uow.session.execute(
            update(Person).where(Person.id == journey.person_id).values(email_consent=False)
        )
    await team_login(client, db, clock, o)
    token = csrf(body(await client.get(LIST)))
    for journey_id, status, words in (
        (closed, 409, "Ce parcours est clos"),
        (booked, 409, "Cette personne a déjà un rendez-vous à venir"),
        (silent, 422, "n'a accepté ni les SMS ni les e-mails"),
        (untyped, 422, "La cohorte n'a pas de motif de premier rendez-vous"),
    ):
        refused = await client.post(page_of(journey_id) + "/relance", data={"csrf_token": token})
        assert refused.status_code == status, refused.text
        assert words in body(refused)
        assert await _count_messages(db, clock, journey_id) == 0
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert await uow.session.scalar(select(func.count()).select_from(Invitation)) == 0


async def test_closing_removes_the_journey_from_the_list_and_stops_its_reminders(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    twins = {}
    for name in ("Restante", "Demenagee"):
        journey = await office_journey(db, clock, o, last_name=name)
        invitation = await invite(db, clock, journey)
        await change(db, clock, Journey, journey, invited_at=NOW - timedelta(days=4))
        queued = await message(
            db, clock, o, journey, invitation, name="invitation_reminder", channel="email",
            status=NotificationStatus.PENDING, at=NOW + timedelta(days=1),
        )  # fmt: skip
        twins[name] = (journey, queued)
    journey, queued = twins["Demenagee"]
    await team_login(client, db, clock, o)
    page = body(await client.get(page_of(journey)))

    missing = await client.post(page_of(journey) + "/cloture", data={"csrf_token": csrf(page)})
    assert missing.status_code == 422
    assert 'href="#raison-0">Raison de la clôture : Choisissez la raison' in body(missing)
    closed = await client.post(
        page_of(journey) + "/cloture", data={"csrf_token": csrf(page), "raison": "demenagement"}
    )
    assert closed.status_code == 303
    shown = body(await client.get(closed.headers["location"]))
    assert "Le parcours est clos" in shown and "Parcours clos : A déménagé." in shown
    assert "Relancer maintenant" not in shown and "Clore le parcours" not in shown

    async with db.unit_of_work(clock=clock, write=False) as uow:
        row = await uow.session.get(Journey, journey)
        cancelled = await uow.session.get(Notification, queued)
        kept = await uow.session.get(Notification, twins["Restante"][1])
    assert row is not None and row.closed_reason == "demenagement" and row.closed_at == NOW
    assert cancelled is not None and cancelled.status == NotificationStatus.CANCELLED
    assert kept is not None and kept.status == NotificationStatus.PENDING

    assert names(body(await client.get(LIST))) == ["Restante"]
    assert names(body(await client.get(LIST, params={"statut": "closed"}))) == ["Demenagee"]

    twice = await client.post(
        page_of(journey) + "/cloture", data={"csrf_token": csrf(page), "raison": "refus"}
    )
    assert twice.status_code == 409 and "Ce parcours est déjà clos." in body(twice)

    # The planner's next pass reminds the open twin only (the third day's reminder is due).
    before = {}
    for name, (journey_id, _) in twins.items():
        before[name] = await _reminders(db, clock, journey_id)
    await planner.plan(db=db, clock=clock, secret_key=b"k" * 32)
    assert await _reminders(db, clock, twins["Restante"][0]) > before["Restante"]
    assert await _reminders(db, clock, journey) == before["Demenagee"]


async def _reminders(db: Database, clock: FrozenClock, journey_id: uuid.UUID) -> int:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        return int(
            await uow.session.scalar(
                select(func.count())
                .select_from(Notification)
                .where(
                    Notification.journey_id == journey_id,
                    Notification.name == "invitation_reminder",
                )
            )
            or 0
        )


async def test_the_api_closes_a_journey_for_the_territory_team_only(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    o = office
    journey = await office_journey(db, clock, o, last_name="Api")
    url = f"/api/v1/journeys/{journey}/close"
    referent = await client.post(
        url, json={"reason": "refus"}, headers=o.s.auth(o.s.referent_ids[0])
    )
    assert referent.status_code == 403
    foreign = await client.post(url, json={"reason": "refus"}, headers=o.other.auth())
    assert foreign.status_code == 404
    bad = await client.post(url, json={"reason": "vacances"}, headers=o.s.auth())
    assert bad.status_code == 422 and bad.json()["code"] == "reason_invalid"
    done = await client.post(url, json={"reason": "emploi_formation"}, headers=o.s.auth())
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "closed" and done.json()["id"] == str(journey)
    again = await client.post(url, json={"reason": "refus"}, headers=o.s.auth(o.s.animator_id))
    assert again.status_code == 409 and again.json()["code"] == "already_closed"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        row = await uow.session.get(Journey, journey)
    assert row is not None and row.closed_reason == "emploi_formation"
    listed = await client.get(f"/api/v1/cohorts/{o.cohort_id}/journeys", headers=o.s.auth())
    assert [j["status"] for j in listed.json()] == ["closed"]


async def test_the_team_of_another_structure_of_the_territory_follows_but_does_not_book(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """An admin of another structure of the territory is in its team: they read and act on
    the journeys of every cohort there; booking stays with the structures that follow the
    person (the office booking's rule), so the page does not offer it."""
    o = office
    journey = await office_journey(db, clock, o, last_name="Partagee")
    async with db.unit_of_work(clock=clock) as uow:
        other = Organisation(
            territory_id=o.s.territory_id,
            name="Mission locale",
            kind=OrganisationKind.MISSION_LOCALE,
        )
        agent = Agent(email="admin-ml@exemple.fr", first_name="Alex", last_name="Admin")
        uow.session.add_all([other, agent])
        await uow.session.flush()
        uow.session.add(Membership(agent_id=agent.id, organisation_id=other.id, role=Role.ADMIN))
        agent_id = agent.id
    await login(client, await set_password(db, clock, agent_id))
    assert names(body(await client.get(LIST))) == ["Partagee"]
    page = body(await client.get(page_of(journey)))
    assert "Parcours de Camille Partagee" in page
    assert "Prendre rendez-vous pour cette personne" not in page
    assert "votre structure ne peut pas le prendre pour elle" in page
    closed = await client.post(
        page_of(journey) + "/cloture", data={"csrf_token": csrf(page), "raison": "doublon"}
    )
    assert closed.status_code == 303
