"""Logging in and out of the back office: sessions, timeouts, rate limit, form tokens."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import httpx
from litestar import Litestar
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    PASSWORD,
    Office,
    csrf,
    login,
    set_password,
)
from tests.integration.web_public import browsing as b

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.web import ratelimit
from rdv_spie.web.models import RateCounter
from rdv_spie.web.sessions import AGENT_COOKIE


async def test_login_opens_a_new_session_and_goes_to_the_agenda(
    client: httpx.AsyncClient, office: Office
) -> None:
    response = await login(client, office.email)
    assert response.status_code == 303
    assert response.headers["location"] == "/agent"
    assert client.cookies.get(AGENT_COOKIE)
    agenda = await client.get("/agent/agenda")
    assert agenda.status_code == 200
    assert 'aria-current="page">Agenda' in agenda.text
    assert agenda.headers["cache-control"] == "no-store"


async def test_a_page_without_session_goes_to_login_and_comes_back(
    client: httpx.AsyncClient, office: Office
) -> None:
    first = await client.get("/agent/personnes")
    assert first.status_code == 303
    assert first.headers["location"] == "/agent/connexion?suite=/agent/personnes"
    page = await client.get(first.headers["location"])
    response = await client.post(
        "/agent/connexion",
        data={
            "csrf_token": csrf(page.text),
            "email": office.email,
            "password": PASSWORD,
            "suite": "/agent/personnes",
        },
    )
    assert response.headers["location"] == "/agent/personnes"


async def test_suite_never_leaves_the_back_office(
    client: httpx.AsyncClient, office: Office
) -> None:
    page = await client.get("/agent/connexion")
    response = await client.post(
        "/agent/connexion",
        data={
            "csrf_token": csrf(page.text),
            "email": office.email,
            "password": PASSWORD,
            "suite": "//evil.example/agent",
        },
    )
    assert response.headers["location"] == "/agent"


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, office: Office
) -> None:
    wrong = await login(client, office.email, "pas le bon mot de passe")
    unknown = await login(client, "personne@nulle.part", PASSWORD)
    for response in (wrong, unknown):
        assert response.status_code == 400
        assert "Adresse e-mail ou mot de passe incorrect" in response.text
        assert AGENT_COOKIE not in response.cookies
    assert (await client.get("/agent/agenda")).status_code == 303


async def test_a_session_id_from_before_login_is_dead_after_it(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    planted = client.cookies[AGENT_COOKIE]
    await login(client, office.email)  # logging in again, with that cookie in the browser
    fresh = client.cookies[AGENT_COOKIE]
    assert fresh != planted
    client.cookies.set(AGENT_COOKIE, planted, domain="testserver.local")
    assert (await client.get("/agent/agenda")).status_code == 303
    client.cookies.set(AGENT_COOKIE, fresh, domain="testserver.local")
    assert (await client.get("/agent/agenda")).status_code == 200


async def test_logout_ends_the_session_on_the_server(
    client: httpx.AsyncClient, office: Office
) -> None:
    await login(client, office.email)
    token = client.cookies[AGENT_COOKIE]
    page = await client.get("/agent/agenda")
    response = await client.post("/agent/deconnexion", data={"csrf_token": csrf(page.text)})
    assert response.status_code == 303
    assert response.headers["location"].startswith("/agent/connexion")
    client.cookies.set(AGENT_COOKIE, token, domain="testserver.local")  # replayed
    again = await client.get("/agent/agenda")
    assert again.status_code == 303
    assert again.headers["location"].startswith("/agent/connexion")


async def test_idle_timeout(client: httpx.AsyncClient, office: Office, clock: FrozenClock) -> None:
    await login(client, office.email)
    clock.advance(timedelta(minutes=29))
    assert (await client.get("/agent/agenda")).status_code == 200
    clock.advance(timedelta(minutes=29))  # active a minute ago: still alive
    assert (await client.get("/agent/agenda")).status_code == 200
    clock.advance(timedelta(minutes=31))
    assert (await client.get("/agent/agenda")).status_code == 303


async def test_absolute_timeout(
    client: httpx.AsyncClient, office: Office, clock: FrozenClock
) -> None:
    await login(client, office.email)
    for _ in range(20):  # 10 h less 20 s of steady use
        clock.advance(timedelta(minutes=30) - timedelta(seconds=1))
        assert (await client.get("/agent/agenda")).status_code == 200
    clock.advance(timedelta(seconds=21))
    assert (await client.get("/agent/agenda")).status_code == 303


async def test_login_is_rate_limited(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    page = await client.get("/agent/connexion")
    token = csrf(page.text)
    statuses = []
    for _ in range(11):
        response = await client.post(
            "/agent/connexion",
            data={"csrf_token": token, "email": office.email, "password": "mauvais mot de passe"},
        )
        statuses.append(response.status_code)
    assert statuses[:10] == [400] * 10
    assert statuses[10] == 429
    assert int(response.headers["retry-after"]) >= 1
    # The right password does not get through either, until the window ends.
    blocked = await client.post(
        "/agent/connexion",
        data={"csrf_token": token, "email": office.email, "password": PASSWORD},
    )
    assert blocked.status_code == 429
    # The per-address counter is keyed with the application's secret: whoever reads the
    # counters cannot confirm an address by hashing a guess.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        keys = list(await uow.session.scalars(select(RateCounter.key)))
    bare = hashlib.sha256(office.email.strip().lower().encode()).hexdigest()[:32]
    keyed = ratelimit.subject(app.state.secret_key, office.email)
    assert any(key == f"rl:login-email:{keyed}" for key in keys), keys
    assert not any(bare in key or office.email in key for key in keys)


async def test_forms_without_or_with_a_wrong_token_are_refused(
    client: httpx.AsyncClient, office: Office
) -> None:
    page = await client.get("/agent/connexion")
    no_token = await client.post(
        "/agent/connexion", data={"email": office.email, "password": PASSWORD}
    )
    assert no_token.status_code == 403
    await login(client, office.email)
    agenda = await client.get("/agent/agenda")
    valid = csrf(agenda.text)
    assert valid != csrf(page.text)  # bound to the new session
    for path in ("/agent/disponibilites/absences", "/agent/calendrier", "/agent/deconnexion"):
        for data in ({}, {"csrf_token": csrf(page.text)}, {"csrf_token": "0" * 64}):
            response = await client.post(path, data=data)
            assert response.status_code == 403, (path, data)
    assert (await client.get("/agent/agenda")).status_code == 200  # still logged in


async def test_the_limit_follows_the_email_across_addresses(
    app: Litestar, client: httpx.AsyncClient, office: Office
) -> None:
    page = await client.get("/agent/connexion")
    for _ in range(10):
        await client.post(
            "/agent/connexion",
            data={"csrf_token": csrf(page.text), "email": office.email, "password": "mauvais !"},
        )
    elsewhere = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("192.0.2.7", 4000)),
        base_url="http://testserver.local",
    )
    async with elsewhere:
        form = await elsewhere.get("/agent/connexion")
        same_email = await elsewhere.post(
            "/agent/connexion",
            data={"csrf_token": csrf(form.text), "email": office.email, "password": PASSWORD},
        )
        assert same_email.status_code == 429
        other_email = await elsewhere.post(
            "/agent/connexion",
            data={"csrf_token": csrf(form.text), "email": office.other_email, "password": PASSWORD},
        )
        assert other_email.status_code == 303


async def test_right_passwords_never_lock_the_account(
    app: Litestar, client: httpx.AsyncClient, office: Office
) -> None:
    """Only wrong passwords count per e-mail: someone who knows the address cannot keep the
    agent out by logging in (or trying) from elsewhere with fewer than ten mistakes."""
    for i in range(12):
        elsewhere = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(f"192.0.2.{10 + i}", 4000)),
            base_url="http://testserver.local",
        )
        async with elsewhere:
            form = await elsewhere.get("/agent/connexion")
            ok = await elsewhere.post(
                "/agent/connexion",
                data={"csrf_token": csrf(form.text), "email": office.email, "password": PASSWORD},
            )
            assert ok.status_code == 303, i
    v6 = [f"2001:db8:1:2::{n}" for n in range(11)]  # one subscriber's /64 is one address
    statuses = []
    for address in v6:
        other = httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(address, 4000)),
            base_url="http://testserver.local",
        )
        async with other:
            form = await other.get("/agent/connexion")
            r = await other.post(
                "/agent/connexion",
                data={"csrf_token": csrf(form.text), "email": "x@y.test", "password": "z"},
            )
            statuses.append(r.status_code)
    assert statuses[:10] == [400] * 10 and statuses[10] == 429


async def test_a_person_link_opened_in_the_same_browser_keeps_the_agent_in(
    app: Litestar, client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    """The person's and the agent's sessions are separate cookies: a link opened (or planted
    by another site) does not log the agent out, and the agent's forms keep working."""
    await login(client, office.email)
    agent_cookie = client.cookies[AGENT_COOKIE]
    invited = await b.invite(db, clock, app, office.s, await b.cohort(db, clock, office.s))
    await b.open_link(client, invited.token)
    assert client.cookies[AGENT_COOKIE] == agent_cookie
    agenda = await client.get("/agent/agenda")
    assert agenda.status_code == 200
    assert (await client.get("/rdv")).status_code == 200  # and the person's pages work too
    out = await client.post("/agent/deconnexion", data={"csrf_token": csrf(agenda.text)})
    assert out.status_code == 303


async def test_partners_have_no_back_office(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        agent = Agent(email="partenaire@caf.test", first_name="Nadia", last_name="Roux")
        uow.session.add(agent)
        await uow.session.flush()
        uow.session.add(
            Membership(
                agent_id=agent.id, organisation_id=office.s.organisation_id, role=Role.PARTNER
            )
        )
    await set_password(db, clock, agent.id)
    await login(client, "partenaire@caf.test")
    for path in ("/agent/agenda", "/agent/personnes", "/agent/prise-de-rdv"):
        page = await client.get(path)
        assert page.status_code == 403, path
        assert "réservé aux référents" in page.text and "Moreau" not in page.text
