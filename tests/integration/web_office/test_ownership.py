"""Who owns an appointment: its acting organisation. Its members see and change it, the agents
attending it see it, and the rest of a shared calendar sees only "busy" — an agent who works for
two organisations no longer carries one's appointments to the other."""

from __future__ import annotations

import uuid
from datetime import date, time

import httpx
from sqlalchemy import select, update
from tests.integration.web_office.office_support import (
    Office,
    act_for,
    body,
    csrf,
    login,
    office_journey,
    set_password,
)

from rdv_spie.agents import api_keys
from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people.models import Cohort, Journey
from rdv_spie.scheduling import booking
from rdv_spie.scheduling.models import Absence, AppointmentType, AvailabilityRule
from rdv_spie.territories.models import Organisation, OrganisationKind

# Wednesday 2 December 2026, 10:00 in Paris: inside the scenario's 9:00–12:00 hours.
WEDNESDAY_TEN = "2026-12-02T09:00:00Z"


async def _france_travail(
    db: Database, clock: FrozenClock, office: Office, *, with_hours: bool = True
) -> tuple[uuid.UUID, uuid.UUID, str]:
    """A France Travail agency on the same territory with one referent (who has a password and
    an API key) opening Wednesday 9:00–12:00 at the Département's place for the single type."""
    s = office.s
    async with db.unit_of_work(clock=clock) as uow:
        org = Organisation(
            territory_id=s.territory_id, name="France Travail Laon", kind=OrganisationKind.OTHER
        )
        agent = Agent(email="karim@ft.test", first_name="Karim", last_name="Benali")
        uow.session.add_all([org, agent])
        await uow.session.flush()
        uow.session.add(Membership(agent_id=agent.id, organisation_id=org.id, role=Role.REFERENT))
        if with_hours:
            single = await uow.session.get(AppointmentType, s.single_type_id)
            assert single is not None
            uow.session.add(
                AvailabilityRule(
                    agent_id=agent.id,
                    place_id=s.place_ids[0],
                    organisation_id=org.id,
                    weekdays=1 << 2,
                    start_time=time(9),
                    end_time=time(12),
                    valid_from=date(2026, 1, 1),
                    appointment_types=[single],
                )
            )
        await uow.session.flush()
        key = (await api_keys.create_api_key(uow=uow, agent_id=agent.id, label="t")).secret
    s.keys[agent.id] = key
    await set_password(db, clock, agent.id)
    return org.id, agent.id, key


async def _busy_referents(db: Database, clock: FrozenClock, office: Office) -> None:
    """The Département's own referents are away on Wednesday morning."""
    async with db.unit_of_work(clock=clock) as uow:
        for referent in office.s.referent_ids:
            uow.session.add(
                Absence(
                    agent_id=referent,
                    starts_at=clock.now().replace(day=2, hour=7),
                    ends_at=clock.now().replace(day=2, hour=12),
                )
            )


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


async def test_an_agent_of_two_organisations_carries_nothing_from_one_to_the_other(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """Referent 1 works for the Département and for France Travail. An appointment she holds
    for France Travail is France Travail's: the Département's other referent gets a 404 and
    sees only "busy" in the team agenda; France Travail's members and she herself see it."""
    s = office.s
    ft, _, karim_key = await _france_travail(db, clock, office, with_hours=False)
    dual = s.referent_ids[1]
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=dual, organisation_id=ft, role=Role.REFERENT))
        # She opens her hours for France Travail.
        await uow.session.execute(
            update(AvailabilityRule)
            .where(AvailabilityRule.agent_id == dual)
            .values(organisation_id=ft)
        )
    booked = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WEDNESDAY_TEN,
            "referent_id": str(dual),
            "person": {"first_name": "Zoé", "last_name": "Secrète"},
            "organisation_id": str(ft),
        },
        headers=_bearer(karim_key),
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["acting_organisation_id"] == str(ft)
    path = f"/api/v1/appointments/{appointment['id']}"

    colleague = s.auth(s.referent_ids[0])  # Département only
    assert (await client.get(path, headers=colleague)).status_code == 404
    listed = await client.get(
        "/api/v1/appointments/",
        params={"from": "2026-11-30T00:00:00Z", "to": "2026-12-07T00:00:00Z"},
        headers=colleague,
    )
    assert appointment["id"] not in listed.text
    cancel = await client.post(f"{path}/cancel", json={}, headers=colleague)
    assert cancel.status_code == 404
    for who in (s.auth(dual), _bearer(karim_key)):  # she attends; Karim is France Travail
        assert (await client.get(path, headers=who)).status_code == 200

    assert (await login(client, office.email)).status_code == 303
    team = body(await client.get("/agent/agenda?semaine=2026-11-30&equipe=1"))
    assert "Occupé" in team and "Rendez-vous d'une autre structure" in team
    assert "Secrète" not in team and "Premier rendez-vous" not in team


async def test_booking_another_organisations_person_by_id_is_refused(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """A person followed only by the Département cannot be booked by France Travail through
    their person id (a journey id was already refused)."""
    s = office.s
    _, _, karim_key = await _france_travail(db, clock, office)
    journey_id = await office_journey(db, clock, office, last_name="Durand")
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        person_id = journey.person_id
    for field, value in (("person_id", person_id), ("journey_id", journey_id)):
        answer = await client.post(
            "/api/v1/appointments/",
            json={
                "appointment_type_id": str(s.single_type_id),
                "place_id": str(s.place_ids[0]),
                "starts_at": WEDNESDAY_TEN,
                field: str(value),
            },
            headers=_bearer(karim_key),
        )
        assert answer.status_code == 404, (field, answer.text)
    # The Département's referent may: the person's journey is in her structure's cohort.
    own = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WEDNESDAY_TEN,
            "person_id": str(person_id),
        },
        headers=s.auth(s.referent_ids[0]),
    )
    assert own.status_code == 201, own.text


async def test_a_booking_made_for_a_cohort_stays_with_the_booker(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """Through the API a Département referent books her cohort's person, whose journey France
    Travail's Karim follows too; only he is free, so he receives — and the appointment is held
    for the Département: she reads it, finds it in her team agenda, and may cancel it."""
    s = office.s
    _, karim, _ = await _france_travail(db, clock, office)
    await _busy_referents(db, clock, office)
    journey_id = await office_journey(db, clock, office, last_name="Durand", referent_id=karim)
    booked = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WEDNESDAY_TEN,
            "journey_id": str(journey_id),
        },
        headers=s.auth(s.referent_ids[0]),
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert [a["agent_id"] for a in appointment["agents"]] == [str(karim)]
    assert appointment["acting_organisation_id"] == str(s.organisation_id)
    path = f"/api/v1/appointments/{appointment['id']}"
    assert (await client.get(path, headers=s.auth(s.referent_ids[0]))).status_code == 200
    assert (await login(client, office.email)).status_code == 303
    team = body(await client.get("/agent/agenda?semaine=2026-11-30&equipe=1"))
    assert "Durand" in team and "Karim Benali" in team
    cancelled = await client.post(f"{path}/cancel", json={}, headers=s.auth(s.referent_ids[0]))
    assert cancelled.status_code == 200, cancelled.text


async def test_office_booking_offers_the_following_structures_agents_and_says_whom(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """In the back office, a Département journey is offered the Département's agents only
    (France Travail's free hours are not the Département's to give), the confirm step names
    the agent, and the agenda says whom the appointment was booked with."""
    s = office.s
    await _france_travail(db, clock, office)
    journey_id = await office_journey(db, clock, office, last_name="Durand")
    assert (await login(client, office.email)).status_code == 303
    week = f"/agent/prise-de-rdv?parcours={journey_id}&motif={s.single_type_id}&semaine=2026-11-30"

    await _busy_referents(db, clock, office)
    only_karim_free = body(await client.get(week))
    # Wednesday morning: only France Travail's Karim is free, so no slot is offered that day.
    assert "debut=2026-12-02T09%3A00%3A00%2B00%3A00" not in only_karim_free
    # Thursday: the Département's own hours.
    assert "debut=2026-12-03T08%3A00%3A00%2B00%3A00" in only_karim_free

    confirm = f"{week}&lieu={s.place_ids[0]}&debut=2026-12-03T08%3A00%3A00%2B00%3A00"
    page = body(await client.get(confirm))
    assert "Referent0 Test" in page and "Karim" not in page
    booked = await client.post(
        "/agent/prise-de-rdv",
        data={
            "csrf_token": csrf(page),
            "parcours": str(journey_id),
            "motif": str(s.single_type_id),
            "lieu": str(s.place_ids[0]),
            "debut": "2026-12-03T08:00:00+00:00",
            "semaine": "2026-11-30",
            "cle": "une-cle-de-formulaire",
            "avec": str(s.referent_ids[1]),
        },
    )
    assert booked.status_code == 303, booked.text
    agenda = body(await client.get(booked.headers["location"]))
    assert "Le rendez-vous est pris avec Referent1 Test (Département laon)" in agenda
    assert "Durand" in agenda

    # The booker manages what she booked: she cancels it from her agenda.
    appointment_id = booked.headers["location"].rsplit("#rdv-", 1)[1]
    cancelled = await client.post(
        f"/agent/rendez-vous/{appointment_id}/annulation",
        data={"csrf_token": csrf(agenda), "semaine": "2026-11-30", "equipe": "1"},
    )
    assert cancelled.status_code == 303, cancelled.text
    after = body(await client.get(cancelled.headers["location"]))
    assert "Le rendez-vous est annulé. La personne en est prévenue." in after
    assert "Annulé par le service" in after


async def test_a_cohort_without_structure_books_for_the_hours_owner(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """A person booking online from a cohort of no structure: the appointment is held for the
    structure whose opening hours it takes."""
    s = office.s
    ft, karim, _ = await _france_travail(db, clock, office)
    await _busy_referents(db, clock, office)
    async with db.unit_of_work(clock=clock) as uow:
        cohort = Cohort(territory_id=s.territory_id, name="Sans structure")
        uow.session.add(cohort)
        await uow.session.flush()
        cohort_id = cohort.id
    journey_id = await office_journey(db, clock, office, last_name="Libre")
    async with db.unit_of_work(clock=clock) as uow:
        journey = await uow.session.get(Journey, journey_id)
        assert journey is not None
        journey.cohort_id = cohort_id
    async with db.unit_of_work(clock=clock) as uow:
        booked = await booking.book_appointment(
            uow=uow,
            actor=None,
            appointment_type_id=s.single_type_id,
            place_id=s.place_ids[0],
            starts_at=clock.now().replace(day=2, hour=9),
            journey_id=journey_id,
        )
        assert booked.appointment.acting_organisation_id == ft
        assert [a.agent_id for a in booked.appointment.attendees] == [karim]


async def test_an_absence_is_read_by_its_agent_and_their_managers_only(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """An absence's title may be personal: a fellow referent does not read it, the agent and
    the structure's admin do."""
    s = office.s
    created = await client.post(
        "/api/v1/absences/",
        json={
            "starts_at": "2026-12-07T08:00:00Z",
            "ends_at": "2026-12-07T12:00:00Z",
            "title": "Rendez-vous médical",
        },
        headers=s.auth(s.referent_ids[0]),
    )
    assert created.status_code == 201, created.text
    params = {"agent_id": str(s.referent_ids[0])}
    for who, seen in ((s.referent_ids[0], True), (s.admin_id, True), (s.referent_ids[1], False)):
        answer = await client.get("/api/v1/absences/", params=params, headers=s.auth(who))
        if seen:
            assert "Rendez-vous médical" in answer.text, who
        else:
            assert answer.status_code == 404 and "médical" not in answer.text
        everyone = await client.get("/api/v1/absences/", headers=s.auth(who))
        assert ("Rendez-vous médical" in everyone.text) is seen


async def test_an_agent_gives_only_their_own_structures_hours(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """France Travail books someone new: the Département's referents are free on Thursday but
    their hours are the Département's, so France Travail gets no slot there; on Wednesday
    Karim's own hours are taken."""
    s = office.s
    ft, karim, karim_key = await _france_travail(db, clock, office)
    booking_for = {
        "appointment_type_id": str(s.single_type_id),
        "place_id": str(s.place_ids[0]),
        "person": {"first_name": "Nouvelle", "last_name": "Personne"},
    }
    thursday = await client.post(
        "/api/v1/appointments/",
        json={**booking_for, "starts_at": "2026-12-03T08:00:00Z"},
        headers=_bearer(karim_key),
    )
    assert thursday.status_code == 422, thursday.text
    assert thursday.json()["code"] == "outside_availability"
    wednesday = await client.post(
        "/api/v1/appointments/",
        json={**booking_for, "starts_at": WEDNESDAY_TEN},
        headers=_bearer(karim_key),
    )
    assert wednesday.status_code == 201, wednesday.text
    assert wednesday.json()["acting_organisation_id"] == str(ft)
    assert [a["agent_id"] for a in wednesday.json()["agents"]] == [str(karim)]


async def test_an_agent_of_two_structures_opens_hours_for_one_of_them(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """Referent 1 also works for France Travail: her pages act for one structure at a time
    (the first by name until she chooses); a new rule is for the structure she acts for, and
    a rule for the other one is refused until she switches to it."""
    s = office.s
    ft, _, _ = await _france_travail(db, clock, office, with_hours=False)
    dual = s.referent_ids[1]
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=dual, organisation_id=ft, role=Role.REFERENT))
    email = await set_password(db, clock, dual)
    assert (await login(client, email)).status_code == 303
    page = body(await client.get("/agent/disponibilites"))
    assert "Changer de structure" in page
    assert "France Travail Laon" not in page  # acting for the Département
    rule = {
        "weekdays": "5",
        "start_time": "09:00",
        "end_time": "12:00",
        "place_id": str(s.place_ids[0]),
        "appointment_type_ids": str(s.single_type_id),
        "valid_from": "2026-12-01",
    }
    elsewhere = await client.post(
        "/agent/disponibilites/plages",
        data={"csrf_token": csrf(page), **rule, "organisation_id": str(ft)},
    )
    assert elsewhere.status_code == 422
    assert "Choisissez une de vos structures dans la liste." in body(elsewhere)
    await act_for(client, ft)
    page = body(await client.get("/agent/disponibilites"))
    assert "France Travail Laon" in page
    saved = await client.post(
        "/agent/disponibilites/plages",
        data={"csrf_token": csrf(page), **rule},
    )
    assert saved.status_code == 303, saved.text
    async with db.unit_of_work(clock=clock) as uow:
        owners = set(
            await uow.session.scalars(
                select(AvailabilityRule.organisation_id).where(
                    AvailabilityRule.agent_id == dual, AvailabilityRule.weekdays == 1 << 5
                )
            )
        )
    assert owners == {ft}
    unknown = await client.post(
        "/agent/structure",
        data={"csrf_token": csrf(page), "organisation_id": str(uuid.uuid4())},
    )
    assert unknown.status_code == 422


async def test_an_admin_opens_hours_only_for_a_structure_they_run(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """The Département's admin is only a referent at France Travail: she may open a shared
    agent's hours for the Département, not for France Travail."""
    s = office.s
    ft, _, _ = await _france_travail(db, clock, office, with_hours=False)
    dual = s.referent_ids[1]
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=dual, organisation_id=ft, role=Role.REFERENT))
        uow.session.add(Membership(agent_id=s.admin_id, organisation_id=ft, role=Role.REFERENT))
    rule = {
        "agent_id": str(dual),
        "place_id": str(s.place_ids[0]),
        "weekdays": [5],
        "start_time": "09:00:00",
        "end_time": "12:00:00",
        "valid_from": "2026-12-01",
        "appointment_type_ids": [str(s.single_type_id)],
    }
    refused = await client.post(
        "/api/v1/availability-rules/", json={**rule, "organisation_id": str(ft)}, headers=s.auth()
    )
    assert refused.status_code == 404, refused.text
    allowed = await client.post(
        "/api/v1/availability-rules/",
        json={**rule, "organisation_id": str(s.organisation_id)},
        headers=s.auth(),
    )
    assert allowed.status_code == 201, allowed.text


async def test_an_agent_moves_an_appointment_only_within_its_structures_hours(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """An appointment held for the Département moves only to the Département's hours: when
    its referents are away, the hour France Travail's Karim opens is refused (422), though
    booking it for France Travail would take it; Karim's hours stay his structure's."""
    s = office.s
    ft, karim, karim_key = await _france_travail(db, clock, office)
    booked = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2026-12-02T08:00:00Z",
            "person": {"first_name": "Léa", "last_name": "Martin"},
        },
        headers=s.auth(s.referent_ids[0]),
    )
    assert booked.status_code == 201, booked.text
    appointment = booked.json()
    assert appointment["acting_organisation_id"] == str(s.organisation_id)
    await _busy_referents(db, clock, office)  # the Département is away from 8:00 Paris

    moved = await client.post(
        f"/api/v1/appointments/{appointment['id']}/move",
        json={"starts_at": WEDNESDAY_TEN},
        headers=s.auth(s.referent_ids[0]),
    )

    assert moved.status_code == 422, moved.text
    again = await client.get(
        f"/api/v1/appointments/{appointment['id']}", headers=s.auth(s.referent_ids[0])
    )
    assert again.json()["starts_at"] == booked.json()["starts_at"]
    assert [a["agent_id"] for a in again.json()["agents"]] != [str(karim)]
    # The same hour is free for an appointment France Travail holds.
    own = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WEDNESDAY_TEN,
            "person": {"first_name": "Noé", "last_name": "Petit"},
            "organisation_id": str(ft),
        },
        headers=_bearer(karim_key),
    )
    assert own.status_code == 201, own.text


async def test_the_slot_search_offers_what_a_booking_for_the_journey_accepts(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """With the Département's referents away, Wednesday 10:00 is France Travail's hour only:
    the slots of a Département journey leave it out (its booking would be refused), the slots
    of France Travail's structure hold it, and an unseen journey is a 404."""
    s = office.s
    ft, _, karim_key = await _france_travail(db, clock, office)
    await _busy_referents(db, clock, office)
    journey_id = await office_journey(db, clock, office, last_name="Durand")
    window = {
        "appointment_type_id": str(s.single_type_id),
        "from": "2026-12-02T08:00:00Z",
        "to": "2026-12-02T11:00:00Z",
    }
    me = s.auth(s.referent_ids[0])

    async def starts(params: dict[str, str], headers: dict[str, str]) -> set[str]:
        answer = await client.get("/api/v1/slots/", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return {slot["starts_at"] for slot in answer.json()}

    ten = "2026-12-02T09:00:00Z"
    assert ten in await starts(window, me)  # any structure's hours, as before
    assert ten not in await starts({**window, "journey_id": str(journey_id)}, me)
    assert ten in await starts({**window, "organisation_id": str(ft)}, me)
    assert ten not in await starts({**window, "organisation_id": str(s.organisation_id)}, me)
    refused = await client.post(
        "/api/v1/appointments/",
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": ten,
            "journey_id": str(journey_id),
        },
        headers=me,
    )
    assert refused.status_code == 422, refused.text
    foreign = await client.get(
        "/api/v1/slots/",
        params={**window, "journey_id": str(journey_id)},
        headers=_bearer(karim_key),
    )
    assert foreign.status_code == 404, foreign.text


async def test_a_journey_is_booked_only_for_a_structure_following_it(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """A referent of the Département and of France Travail books a Département journey: held
    for the Département, yes; for France Travail, which does not follow the journey, a 422
    naming organisation_id, and nothing booked."""
    s = office.s
    ft, _, _ = await _france_travail(db, clock, office)
    dual = s.referent_ids[0]
    async with db.unit_of_work(clock=clock) as uow:
        uow.session.add(Membership(agent_id=dual, organisation_id=ft, role=Role.REFERENT))
    journey_id = await office_journey(db, clock, office, last_name="Durand")
    booking = {
        "appointment_type_id": str(s.single_type_id),
        "place_id": str(s.place_ids[0]),
        "starts_at": "2026-12-02T08:00:00Z",
        "journey_id": str(journey_id),
    }

    refused = await client.post(
        "/api/v1/appointments/",
        json={**booking, "organisation_id": str(ft)},
        headers=s.auth(dual),
    )

    assert refused.status_code == 422, refused.text
    assert (refused.json()["field"], refused.json()["code"]) == ("organisation_id", "not_following")
    booked = await client.post(
        "/api/v1/appointments/",
        json={**booking, "organisation_id": str(s.organisation_id)},
        headers=s.auth(dual),
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["acting_organisation_id"] == str(s.organisation_id)
