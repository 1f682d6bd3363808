"""The person's file (/rdv/mon-dossier), from their invitation link's session once the identity
check is passed: their appointments with the place, the day the partners will discuss their
situation (never its content), the next steps once decided; nothing of anyone else; a dead or
missing session gets the very page of an unknown link."""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from litestar import Litestar
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.committees.models import CtoRequest, CtoSeries, CtoSession, RequestStatus
from rdv_spie.db.uow import Database
from rdv_spie.templating.render import date_fr
from rdv_spie.territories.models import Place

PARIS = ZoneInfo("Europe/Paris")

FILE = "/rdv/mon-dossier"
SUMMARY = "Canari-résumé: dettes de loyer"
TRIED = "Canari-essai: FSL refusé"
DECISION = "Canari-décision: orientation PLIE"
NEXT_STEPS = "Votre référente vous appelle lundi pour un rendez-vous au PLIE."


async def _request(
    db: Database, clock: FrozenClock, invited: b.Invited, *, days: int = 10
) -> tuple[uuid.UUID, CtoSession]:
    """A series of the territory and the person's request on the agenda of its session."""
    s = invited.s
    now = clock.now()
    async with db.unit_of_work(clock=clock) as uow:
        series = CtoSeries(
            territory_id=s.territory_id,
            organisation_id=s.organisation_id,
            name="CTO Canari-série",
            starts_on=now.date(),
            place_id=s.place_ids[0],
        )
        uow.session.add(series)
        await uow.session.flush()
        session = CtoSession(
            series_id=series.id,
            territory_id=s.territory_id,
            occurs_on=(now + timedelta(days=days)).date(),
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=2),
            deadline_at=now + timedelta(days=days - 3),
            freeze_at=now + timedelta(days=days - 3),
            dispatch_at=now + timedelta(days=days - 2),
        )
        uow.session.add(session)
        await uow.session.flush()
        request = CtoRequest(
            session_id=session.id,
            territory_id=s.territory_id,
            referent_id=s.referent_ids[0],
            organisation_id=s.organisation_id,
            person_id=invited.person_id,
            journey_id=invited.journey_id,
            thematics=["logement", "sante"],
            summary=SUMMARY,
            already_tried=TRIED,
            consent=True,
            submitted_at=now,
            status=RequestStatus.ON_AGENDA,
            agenda_number=1,
        )
        uow.session.add(request)
        await uow.session.flush()
        return request.id, session


@pytest.fixture
async def invited(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> b.Invited:
    s = await sc.build(db, clock)
    person = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    await b.verified(client, person.token)
    return person


async def _place_name(db: Database, clock: FrozenClock, place_id: uuid.UUID) -> str:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        place = await uow.session.get(Place, place_id)
        assert place is not None
        return place.name


async def test_appointments_with_their_place(
    client: httpx.AsyncClient, invited: b.Invited, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    empty = await client.get(FILE)
    assert empty.status_code == 200, empty.text
    assert "Vous n'avez pas de rendez-vous à venir" in empty.text
    assert "partenaires" not in empty.text

    assert (await b.book_first(client)).status_code == 303
    confirmation = await client.get("/rdv/confirmation")
    assert f'href="{FILE}"' in confirmation.text  # the booked page links to the file
    [appointment] = await b.appointments(db, clock, invited.journey_id)
    place = await _place_name(db, clock, appointment.place_id)

    page = await client.get(FILE)
    assert page.status_code == 200
    assert "Vous n'avez pas de rendez-vous à venir" not in page.text
    assert place in page.text
    assert "Mes rendez-vous passés" not in page.text
    assert page.headers["cache-control"] == "no-store"

    # Once it is past, it is listed among the past ones, still with its place.
    clock.set(appointment.ends_at + timedelta(hours=1))
    async with b.browser(app) as again:  # back through the link
        await b.verified(again, invited.token)
        later = await again.get(FILE)
    assert later.status_code == 200
    assert "Mes rendez-vous passés" in later.text and place in later.text
    assert "Vous n'avez pas de rendez-vous à venir" in later.text


async def test_committee_day_without_content_then_next_steps(
    client: httpx.AsyncClient,
    invited: b.Invited,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
) -> None:
    request_id, session = await _request(db, clock, invited, days=5)
    page = await client.get(FILE)
    assert page.status_code == 200
    day = date_fr(session.starts_at.astimezone(PARIS))
    assert f"Les partenaires vont parler de votre situation le {day}" in page.text
    for secret in (SUMMARY, TRIED, "Canari-série", "Logement", "Santé", "logement", "sante"):
        assert secret not in page.text, secret

    # The team records the decision through the API, once the session has started.
    clock.set(session.starts_at + timedelta(hours=1))
    decided = await client.post(
        f"/api/v1/cto-requests/{request_id}/decision",
        headers=invited.s.auth(invited.s.admin_id),
        json={"decision": DECISION, "next_steps": NEXT_STEPS},
    )
    assert decided.status_code == 200, decided.text
    async with b.browser(app) as later:  # the person comes back through their link
        await b.verified(later, invited.token)
        page = await later.get(FILE)
    assert page.status_code == 200
    assert "Les partenaires ont parlé de votre situation" in page.text
    assert NEXT_STEPS in page.text
    for secret in (DECISION, SUMMARY, TRIED, "Canari-série", "Logement", "Santé"):
        assert secret not in page.text, secret


async def test_another_persons_file_is_never_shown(
    client: httpx.AsyncClient,
    invited: b.Invited,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
) -> None:
    other = await b.invite(
        db, clock, app, invited.s, invited.cohort_id, last_name="Martin", first_name="Zoé"
    )
    async with b.browser(app) as theirs:
        await b.verified(theirs, other.token, "mar")
        assert (await b.book_first(theirs)).status_code == 303
    request_id, _ = await _request(db, clock, other)
    async with db.unit_of_work(clock=clock) as uow:  # their request is decided
        row = await uow.session.get(CtoRequest, request_id)
        assert row is not None
        row.status, row.next_steps = RequestStatus.DECIDED, "Canari-suite de Zoé"
        row.decision, row.decided_at = DECISION, clock.now()
    page = await client.get(FILE)
    assert page.status_code == 200
    assert "Vous n'avez pas de rendez-vous à venir" in page.text
    assert "partenaires" not in page.text
    for secret in ("Martin", "Zoé", "Canari-suite", DECISION, SUMMARY):
        assert secret not in page.text, secret


async def test_no_or_wrong_session_gets_the_invalid_link_page(
    client: httpx.AsyncClient, invited: b.Invited, app: Litestar
) -> None:
    async with b.browser(app) as fresh:
        unknown = await fresh.get("/i/" + "A" * 22)
        assert unknown.status_code == 404
        none = await fresh.get(FILE)
        fresh.cookies.set("rdv_session", "pas-une-session")
        wrong = await fresh.get(FILE)
    assert none.status_code == wrong.status_code == 404
    assert none.text == wrong.text == unknown.text

    # A session that has not passed the check is asked it first, then comes to the file.
    async with b.browser(app) as unchecked:
        opened = await unchecked.get(f"/i/{invited.token}?suite=dossier")
        assert opened.headers["location"] == "/rdv?suite=dossier"
        asked = await unchecked.get(FILE)
        assert asked.status_code == 303
        assert asked.headers["location"] == "/rdv?suite=dossier"
        check = await unchecked.get("/rdv?suite=dossier")
        assert 'action="/rdv/verification?suite=dossier"' in check.text
        answer = await unchecked.post(
            "/rdv/verification?suite=dossier",
            data={"csrf_token": b.csrf(check.text), "lettres": "dup"},
        )
        assert answer.headers["location"] == "/rdv?suite=dossier"
        home = await unchecked.get("/rdv?suite=dossier")
        assert home.headers["location"] == FILE
        assert (await unchecked.get(FILE)).status_code == 200
