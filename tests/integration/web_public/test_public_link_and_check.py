"""The invitation link and the identity check: the token leaves the URL for an HttpOnly
cookie, dead links all look the same, nothing personal before the check, 5 wrong answers
lock the journey, a right answer rotates the session, every form needs its token."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import update
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.models import Invitation
from rdv_spie.people.models import Journey
from rdv_spie.settings import Settings


@pytest.fixture
async def invited(db: Database, clock: FrozenClock, app: Litestar) -> b.Invited:
    s = await sc.build(db, clock)
    return await b.invite(db, clock, app, s, await b.cohort(db, clock, s))


async def test_token_exchanged_for_a_cookie(
    client: httpx.AsyncClient, invited: b.Invited, db: Database, clock: FrozenClock
) -> None:
    r = await b.open_link(client, invited.token)
    assert invited.token not in r.headers["location"]
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("rdv_session=") and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert invited.token not in cookie
    assert r.headers["referrer-policy"] == "no-referrer"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        invitation = await uow.session.get(Invitation, invited.invitation_id)
        assert invitation is not None and invitation.opened_at == clock.now()
    page = await client.get("/rdv")
    assert page.status_code == 200
    assert "Département test" in page.text and "Premier rendez-vous" in page.text
    assert page.headers["cache-control"] == "no-store"


async def test_dead_links_all_look_the_same(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    s = await sc.build(db, clock)
    cohort = await b.cohort(db, clock, s)
    expired = await b.invite(db, clock, app, s, cohort, expires_at=clock.now())
    revoked = await b.invite(db, clock, app, s, cohort, last_name="Martin")
    closed = await b.invite(db, clock, app, s, cohort, last_name="Petit")
    async with db.unit_of_work(clock=clock) as uow:
        await uow.session.execute(
            update(Invitation)
            .where(Invitation.id == revoked.invitation_id)
            .values(revoked_at=clock.now())
        )
        await uow.session.execute(
            update(Journey).where(Journey.id == closed.journey_id).values(closed_at=clock.now())
        )
    answers = []
    for token in ["A" * 22, expired.token, revoked.token, closed.token]:
        async with b.browser(app) as fresh:
            r = await fresh.get(f"/i/{token}")
            assert "rdv_session" not in r.headers.get("set-cookie", "")
            answers.append((r.status_code, r.text))
    assert {status for status, _ in answers} == {404}
    assert len({text for _, text in answers}) == 1
    assert "Ce lien n'est plus valable" in answers[0][1]
    # A working link of the same territory opens.
    await b.open_link(client, (await b.invite(db, clock, app, s, cohort, last_name="Roux")).token)


async def test_nothing_personal_before_the_check(
    client: httpx.AsyncClient, invited: b.Invited, app: Litestar
) -> None:
    await b.verified(client, invited.token)
    assert (await b.book_first(client)).status_code == 303
    booked = await client.get("/rdv/confirmation")
    assert "Dupré" not in booked.text  # the pages never print the name
    assert "décembre" in booked.text and "Lieu 0" in booked.text

    async with b.browser(app) as other:
        await b.open_link(other, invited.token)
        page = await other.get("/rdv")
        assert page.status_code == 200 and "Vérifions que c'est bien vous" in page.text
        for personal in ["Dupré", "Camille", "décembre", "Lieu 0", "10h", "rue de l"]:
            assert personal not in page.text
        for path in ["/rdv/confirmation", "/rdv/creneaux", "/rdv/rendez-vous.ics", "/rdv/annuler"]:
            r = await other.get(path)
            assert r.status_code == 303 and r.headers["location"] == "/rdv", path
        r = await other.post("/rdv/annuler", data={"csrf_token": b.csrf(page.text)})
        assert r.status_code == 303 and r.headers["location"] == "/rdv"
    assert (await client.get("/rdv/confirmation")).status_code == 200  # still booked


async def test_five_wrong_answers_lock_the_link(
    client: httpx.AsyncClient, invited: b.Invited, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    await b.open_link(client, invited.token)
    for left in [4, 3, 2, 1]:
        r = await b.answer(client, "MAR")
        assert r.status_code == 422
        assert f"Il vous reste {left} essai" in r.text
        assert (
            'aria-invalid="true"' in r.text
            and 'aria-describedby="lettres-hint lettres-error"' in r.text
        )
    empty = await b.answer(client, " - ")  # no letter: not counted
    assert empty.status_code == 422 and "Il vous reste" not in empty.text
    locked = await b.answer(client, "MAR")
    assert locked.status_code == 403
    assert "Ce lien est bloqué" in locked.text and "01 99 00 00 00" in locked.text
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, invited.journey_id)
        assert journey is not None
        assert journey.identity_failures == 5 and journey.identity_locked_at == clock.now()
    # The session is dead; the link, opened again, says it is locked; a right answer fails.
    assert (await client.get("/rdv")).status_code == 404
    async with b.browser(app) as again:
        await b.open_link(again, invited.token)
        page = await again.get("/rdv")
        assert page.status_code == 403 and "Ce lien est bloqué" in page.text
        right = await again.post(
            "/rdv/verification", data={"csrf_token": b.csrf_for(app, again), "lettres": "DUP"}
        )
        assert right.status_code == 403 and "Ce lien est bloqué" in right.text
        assert (await again.get("/rdv/creneaux")).headers["location"] == "/rdv"


async def test_right_answer_rotates_the_session(
    client: httpx.AsyncClient, invited: b.Invited, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    await b.open_link(client, invited.token)
    wrong = await b.answer(client, "DUR")
    assert wrong.status_code == 422
    before = client.cookies["rdv_session"]
    r = await b.answer(client, "  dUpRé ")  # case, accents, spaces: all fine; more letters too
    assert r.status_code == 303 and r.headers["location"] == "/rdv"
    after = client.cookies["rdv_session"]
    assert after != before
    assert (await client.get("/rdv")).headers["location"] == "/rdv/creneaux"
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, invited.journey_id)
        assert journey is not None and journey.identity_failures == 0
    async with b.browser(app) as stolen:  # the id planted before the check is worthless
        stolen.cookies.set("rdv_session", before)
        assert (await stolen.get("/rdv")).status_code == 404
        assert (await stolen.get("/rdv/creneaux")).status_code == 404


async def test_every_form_needs_its_token(client: httpx.AsyncClient, invited: b.Invited) -> None:
    await b.open_link(client, invited.token)
    for data in [{"lettres": "DUP"}, {"lettres": "DUP", "csrf_token": "0" * 64}]:
        r = await client.post("/rdv/verification", data=data)
        assert r.status_code == 403
    assert (await client.get("/rdv/creneaux")).headers["location"] == "/rdv"  # not passed
    await b.verified(client, invited.token)
    slots = await client.get("/rdv/creneaux")
    confirm = await client.get(b.slot_links(slots.text)[0])
    fields = b.hidden_fields(confirm.text)
    del fields["csrf_token"]
    assert (await client.post("/rdv/creneaux/confirmer", data=fields)).status_code == 403
    assert (await client.post("/rdv/annuler", data={})).status_code == 403
    assert (await client.post("/rdv/deplacer/confirmer", data=fields)).status_code == 403
    assert (await client.get("/rdv/confirmation")).status_code == 303  # nothing was booked


async def test_session_times_out(
    client: httpx.AsyncClient, invited: b.Invited, clock: FrozenClock
) -> None:
    await b.verified(client, invited.token)
    clock.advance(timedelta(minutes=21))
    assert (await client.get("/rdv/creneaux")).status_code == 404


async def test_link_and_check_are_rate_limited_per_address(
    db: Database, clock: FrozenClock, settings: Settings, invited: b.Invited
) -> None:
    tight = settings.model_copy(update={"rate_limit_token_hits": 3, "rate_limit_identity_hits": 2})
    app = create_app(tight, Overrides(clock=clock, database=db))
    # The link derives from the app's secret key: the same key file, the same token.
    async with b.browser(app) as c:
        for _ in range(3):
            await b.open_link(c, invited.token)
        r = await c.get(f"/i/{invited.token}")
        assert r.status_code == 429 and int(r.headers["retry-after"]) > 0
        assert "Vous avez fait beaucoup d'essais" in r.text
        for _ in range(2):
            assert (await b.answer(c, "MAR")).status_code == 422
        assert (await b.answer(c, "DUP")).status_code == 429  # not even a right answer
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, invited.journey_id)
        assert journey is not None and journey.identity_failures == 2
    clock.advance(timedelta(seconds=settings.rate_limit_window_seconds))
    async with b.browser(app) as c:
        await b.verified(c, invited.token)


async def test_parallel_guesses_get_five_looks_at_most(
    client: httpx.AsyncClient,
    invited: b.Invited,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
) -> None:
    """Eight wrong answers sent at once (separate transactions on PostgreSQL): the answers are
    checked one after the other, so five count, the rest meet the lock, then the right one
    is refused too."""
    await b.open_link(client, invited.token)
    page = await client.get("/rdv")
    token = b.csrf(page.text)
    guesses = [f"x{chr(97 + i)}z" for i in range(8)]
    replies = await asyncio.gather(
        *(
            client.post("/rdv/verification", data={"csrf_token": token, "lettres": g})
            for g in guesses
        )
    )
    assert all(r.status_code in (403, 404, 422) for r in replies), [r.status_code for r in replies]
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = await uow.session.get(Journey, invited.journey_id)
        assert journey is not None
        assert journey.identity_failures == 5 and journey.identity_locked_at is not None
    await b.open_link(client, invited.token)
    locked = await client.get("/rdv")
    assert locked.status_code == 403 and "bloqué" in locked.text
    right = await client.post(
        "/rdv/verification", data={"csrf_token": b.csrf_for(app, client), "lettres": "dup"}
    )
    assert right.status_code == 403 and "bloqué" in right.text


async def test_many_browsers_open_links_at_once(
    app: Litestar, invited: b.Invited, db: Database, clock: FrozenClock
) -> None:
    """Opening a link writes (a session, the first opening): concurrent openings all succeed,
    SQLite included (page requests take its write lock up front)."""

    async def open_once() -> int:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as c:
            opened = await c.get(f"/i/{invited.token}")
            page = await c.get("/rdv")
            return opened.status_code * 1000 + page.status_code

    results = await asyncio.gather(*(open_once() for _ in range(12)))
    assert results == [303200] * 12
