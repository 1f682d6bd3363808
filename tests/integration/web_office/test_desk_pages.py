"""The SPIE team's desk (committees/pages_desk.py): the queue on the 72 h clock with the overdue
request first and said in words, acknowledging (one e-mail to the referent), a session's agenda
before the freeze (the freeze's order, where the capacity cuts) and after it (the frozen list,
the eleventh carried over), moving and cancelling with a reason, recording a decision; a
referent gets 403, another territory's team 404."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import func, select
from tests.integration.web_office.office_support import Office, body, login, post_form
from tests.integration.web_office.office_support import set_password as with_password
from tests.support.cto import Cto

from rdv_spie.clock import FrozenClock
from rdv_spie.committees import cycle, paths
from rdv_spie.committees.models import CtoRequest, CtoSession, RequestStatus, SessionStatus
from rdv_spie.db.uow import Database
from rdv_spie.notifications.models import Notification


def url(path: str, **ids: object) -> str:
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


@pytest.fixture
async def cto(client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office) -> Cto:
    s = office.s
    c = Cto(s, client, db, clock, s.organisation_id, [], s.organisation_id, s.referent_ids[0])
    r = await client.post(
        "/api/v1/cto-series",
        headers=c.animator,
        json={
            "territory_id": str(s.territory_id),
            "organisation_id": str(s.organisation_id),
            "name": "CTO de Laon",
            "starts_on": "2026-12-10",
            "place_id": str(s.place_ids[0]),
        },
    )
    assert r.status_code == 201, r.text
    c.series_id = uuid.UUID(r.json()["id"])
    return c


async def team_login(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, o: Office
) -> None:
    email = await with_password(db, clock, o.s.admin_id)
    assert (await login(client, email)).status_code == 303


async def count(db: Database, clock: FrozenClock, name: str) -> int:
    async with db.unit_of_work(clock=clock) as uow:
        return int(
            await uow.session.scalar(
                select(func.count()).select_from(Notification).where(Notification.name == name)
            )
            or 0
        )


async def first_session(cto: Cto) -> dict[str, str]:
    return (await cto.sessions())[0]


async def test_queue_overdue_first_and_acknowledge(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    late, fresh = await cto.add_people(2)
    session = await first_session(cto)
    r = await cto.submit(session["id"], late)
    assert r.status_code == 201, r.text
    late_id = r.json()["id"]
    clock.advance(timedelta(hours=75, minutes=30))
    assert (await cto.submit(session["id"], fresh)).status_code == 201
    clock.advance(timedelta(hours=30, minutes=20))
    await team_login(client, db, clock, office)
    page = await client.get(paths.COMMITTEES)
    assert page.status_code == 200, page.text
    text = body(page)
    # 105 h 50 after the first: 34 h late (33 h 50, rounded towards late); the second 41 h left
    assert "En retard de 34 h" in text and "Reste 41 h" in text
    assert text.index("En retard de 34 h") < text.index("Reste 41 h")
    assert text.index("Nom0") < text.index("Nom1")
    assert "CTO de Laon" in text and "2 / 10" in text
    done = await post_form(
        client, url(paths.ACKNOWLEDGE, request_id=late_id), {}, token_from=paths.COMMITTEES
    )
    assert done.status_code == 303
    assert await count(db, clock, "cto_request_acknowledged") == 1
    after = body(await client.get(done.headers["location"]))
    assert "Le référent en est prévenu par e-mail" in after
    assert "En retard de" not in after and "Reste 41 h" in after


async def test_agenda_before_and_after_freeze(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    people = await cto.add_people(11)
    session = await first_session(cto)
    for i, person in enumerate(people):
        extra = {"urgent": True, "urgent_reason": "Expulsion prévue"} if i == 10 else {}
        assert (await cto.submit(session["id"], person, **extra)).status_code == 201
        clock.advance(timedelta(minutes=5))
    await team_login(client, db, clock, office)
    page_url = url(paths.SESSION, session_id=session["id"])
    page = await client.get(page_url)
    assert page.status_code == 200, page.text
    text = body(page)
    cut = text.index("Au-delà de la capacité")
    # urgent first, then first come first served; the 10th by time is past the capacity
    assert text.index("1. Prénom10 Nom10") < text.index("2. Prénom0 Nom0") < cut
    assert text.index("10. Prénom8 Nom8") < cut < text.index("Prénom9 Nom9")
    assert "Logement, Mobilité" in text and "Recherche un logement" in text
    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    assert await cycle.freeze_due(db, clock) >= 1
    await team_login(client, db, clock, office)  # the browser's session timed out meanwhile
    text = body(await client.get(page_url))
    assert "Ordre du jour arrêté" in text and "Au-delà de la capacité" not in text
    carried = text.index("Reportées à la séance du")
    assert text.index("1. Prénom10 Nom10") < text.index("10. Prénom8 Nom8") < carried
    assert text.index("Prénom9 Nom9") > carried


async def test_move_and_cancel_with_reasons(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    first, second = (await cto.sessions())[:2]
    await team_login(client, db, clock, office)
    move = url(paths.SESSION_MOVE, session_id=first["id"])
    page = url(paths.SESSION, session_id=first["id"])
    refused = await post_form(client, move, {"starts_at": "2026-12-11T10:00"}, token_from=page)
    assert refused.status_code == 422 and "Remplissez ce champ." in body(refused)
    past = await post_form(
        client, move, {"starts_at": "2026-11-11T10:00", "reason": "Férié"}, token_from=page
    )
    assert past.status_code == 422 and "Le formulaire contient une erreur" in body(past)
    moved = await post_form(
        client, move, {"starts_at": "2026-12-11T10:00", "reason": "Jour férié"}, token_from=page
    )
    assert moved.status_code == 303
    async with db.unit_of_work(clock=clock) as uow:
        found = await uow.session.get(CtoSession, uuid.UUID(first["id"]))
        assert found is not None and found.status == SessionStatus.MOVED
        assert found.starts_at.isoformat().startswith("2026-12-11T09:00")
        assert found.change_reason == "Jour férié"
    assert "Raison du déplacement : Jour férié" in body(await client.get(page))
    cancel = url(paths.SESSION_CANCEL, session_id=second["id"])
    second_page = url(paths.SESSION, session_id=second["id"])
    empty = await post_form(client, cancel, {"reason": ""}, token_from=second_page)
    assert empty.status_code == 422
    done = await post_form(client, cancel, {"reason": "Salle indisponible"}, token_from=second_page)
    assert done.status_code == 303
    assert "La séance est annulée" in body(await client.get(done.headers["location"]))
    async with db.unit_of_work(clock=clock) as uow:
        found = await uow.session.get(CtoSession, uuid.UUID(second["id"]))
        assert found is not None and found.status == SessionStatus.CANCELLED
        assert found.change_reason == "Salle indisponible"


async def test_decision_recorded_once_held(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    (person,) = await cto.add_people(1)
    session = await first_session(cto)
    r = await cto.submit(session["id"], person)
    request_id = r.json()["id"]
    clock.advance(datetime.fromisoformat(session["freeze_at"]) - clock.now() + timedelta(minutes=1))
    await cycle.freeze_due(db, clock)
    await team_login(client, db, clock, office)
    page = url(paths.SESSION, session_id=session["id"])
    decide = url(paths.DECISION, request_id=request_id)
    form = {"decision": "Orientation vers un accompagnement logement", "next_steps": "Appel"}
    early = await post_form(client, decide, form, token_from=page)
    assert early.status_code == 422 and "La séance n'a pas encore eu lieu" in body(early)
    clock.advance(datetime.fromisoformat(session["starts_at"]) - clock.now() + timedelta(hours=1))
    await team_login(client, db, clock, office)
    assert "Décision du comité" in body(await client.get(page))
    empty = await post_form(client, decide, {"decision": ""}, token_from=page)
    assert empty.status_code == 422
    done = await post_form(client, decide, form, token_from=page)
    assert done.status_code == 303
    async with db.unit_of_work(clock=clock) as uow:
        found = await uow.session.get(CtoRequest, uuid.UUID(request_id))
        assert found is not None and found.status == RequestStatus.DECIDED
        assert found.next_steps == "Appel"
    sent = await count(db, clock, "cto_decision")
    assert sent == 2  # e-mail and SMS: the person accepted both
    again = await post_form(client, decide, form, token_from=page)
    assert again.status_code == 303 and await count(db, clock, "cto_decision") == sent


async def test_referent_403_other_territory_404(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office, cto: Cto
) -> None:
    (person,) = await cto.add_people(1)
    session = await first_session(cto)
    request_id = (await cto.submit(session["id"], person)).json()["id"]
    session_page = url(paths.SESSION, session_id=session["id"])
    assert (await login(client, office.email)).status_code == 303
    assert (await client.get(paths.COMMITTEES)).status_code == 403
    assert (await client.get(session_page)).status_code == 403
    client.cookies.clear()
    email = await with_password(db, clock, office.other.admin_id)
    assert (await login(client, email)).status_code == 303
    assert (await client.get(paths.COMMITTEES)).status_code == 200
    assert (await client.get(session_page)).status_code == 404
    refused = await post_form(
        client, url(paths.ACKNOWLEDGE, request_id=request_id), {}, token_from=paths.COMMITTEES
    )
    assert refused.status_code == 404
    assert await count(db, clock, "cto_request_acknowledged") == 0
