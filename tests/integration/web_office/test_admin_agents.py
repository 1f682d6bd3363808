"""Issue 15, item 6 (agents and API keys): an admin adds a referent, who receives one e-mail
with a single-use link valid 72 h, chooses their password through it (the token leaves the
address bar at once), logs in and sees their agenda; deactivating ends their sessions; an API
key is shown once and stops working when revoked. Each on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from urllib.parse import urlsplit

import httpx
import pytest
from litestar import Litestar
from sqlalchemy import select
from tests.integration.web_office.office_support import (
    Office,
    body,
    csrf,
    login,
    post_form,
    set_password,
)

from rdv_spie.administration import messages, paths
from rdv_spie.agents import setup_links
from rdv_spie.agents.models import Agent, ApiKey, Membership, SetupLink
from rdv_spie.agents.passwords import matches
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.errors import Expired
from rdv_spie.messages import MESSAGES
from rdv_spie.notifications import compose
from rdv_spie.notifications.models import Notification
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer
from rdv_spie.web import paths as office_paths
from rdv_spie.web.models import WebSession

NEW_EMAIL = "camille.durand@laon.test"
NEW_PASSWORD = "une phrase de passe bien longue"
_LINK = re.compile(r"https?://[^\s\"'<>]+/agent/mot-de-passe\?jeton=[A-Za-z0-9_-]+")


def _agent_url(path: str, agent_id: uuid.UUID) -> str:
    return path.replace("{agent_id:uuid}", str(agent_id))


async def _admin(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> str:
    email = await set_password(db, clock, office.s.admin_id)
    r = await login(client, email)
    assert r.status_code == 303, r.text
    return email


async def _setup_mails(db: Database, clock: FrozenClock, agent_id: uuid.UUID) -> list[Notification]:
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.scalars(
            select(Notification)
            .where(
                Notification.agent_id == agent_id, Notification.name == messages.AGENT_SETUP_LINK
            )
            .order_by(Notification.created_at)
        )
        return list(rows)


async def _link_in(
    app: Litestar, db: Database, clock: FrozenClock, settings: Settings, n: Notification
) -> tuple[str, str]:
    """The e-mail's text and its password link, as the worker would write them."""
    async with db.unit_of_work(clock=clock, write=False) as uow:
        row = await uow.session.get(Notification, n.id)
        assert row is not None
        built = await compose.compose(
            uow,
            row,
            MESSAGES[row.name],
            public_url=settings.public_url,
            secret_key=app.state.secret_key,
        )
    assert isinstance(built, compose.Composed), built
    assert built.address == NEW_EMAIL
    email = Renderer(settings.templates_dir).render_email(row.name, built.context)
    found = _LINK.findall(email.text)
    assert found and set(found) == set(_LINK.findall(email.html.replace("&amp;", "&")))
    return email.text, found[0]


def _browser(app: Litestar) -> httpx.AsyncClient:
    """Another browser (its own cookies) on the same application."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    )


def _local(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}"


async def _choose(
    client: httpx.AsyncClient, link: str, password: str, again: str
) -> httpx.Response:
    opened = await client.get(_local(link))
    assert opened.status_code == 303, opened.text
    assert opened.headers["location"] == paths.PASSWORD_SETUP  # the token is gone from the URL
    form = await client.get(paths.PASSWORD_SETUP)
    assert form.status_code == 200, form.text
    return await client.post(
        paths.PASSWORD_SETUP,
        data={"csrf_token": csrf(form.text), "password": password, "password_confirm": again},
    )


async def _new_referent(client: httpx.AsyncClient) -> uuid.UUID:
    r = await post_form(
        client,
        paths.AGENT_NEW,
        {"first_name": "Camille", "last_name": "Durand", "email": NEW_EMAIL, "role": "referent"},
        token_from=paths.AGENT_NEW,
    )
    assert r.status_code == 303, r.text
    agent_id = uuid.UUID(r.headers["location"].split("/")[-1].split("?")[0])
    assert r.headers["location"] == _agent_url(paths.AGENT, agent_id) + "?fait=agent-cree"
    return agent_id


async def test_a_new_referent_chooses_a_password_through_the_emailed_link_and_logs_in(
    app: Litestar,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    office: Office,
) -> None:
    await _admin(client, db, clock, office)
    agent_id = await _new_referent(client)
    listed = body(await client.get(paths.AGENTS))
    assert NEW_EMAIL in listed and "Lien envoyé le" in listed

    [mail] = await _setup_mails(db, clock, agent_id)
    text, link = await _link_in(app, db, clock, settings, mail)
    assert "Admin Test (Département laon)" in text and "72 heures" in text
    assert "Personne ne vous demandera jamais votre mot de passe" in text
    token = link.rsplit("=", 1)[1]
    # In clear nowhere but in the e-mail: the table keeps its hash, the outbox row ids only.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        [stored] = (
            await uow.session.scalars(select(SetupLink).where(SetupLink.agent_id == agent_id))
        ).all()
        row = await uow.session.get(Notification, mail.id)
        assert row is not None
        assert stored.token_hash == setup_links.hash_token(token) != token
        assert token not in str(row.params) and len(token) == 43  # 256 bits
        assert stored.expires_at == clock.now() + timedelta(hours=72)
        assert (await uow.session.get(Agent, agent_id)).password_hash is None  # type: ignore[union-attr]

    browser = _browser(app)
    async with browser:
        refused = await _choose(browser, link, NEW_PASSWORD, "une autre phrase de passe")
        assert refused.status_code == 422
        assert "Les deux mots de passe ne sont pas identiques" in body(refused)
        refused = await browser.post(
            paths.PASSWORD_SETUP,
            data={
                "csrf_token": csrf(refused.text),
                "password": NEW_EMAIL,
                "password_confirm": NEW_EMAIL,
            },
        )
        assert refused.status_code == 422
        assert "ne doit pas être votre adresse e-mail" in body(refused)
        done = await browser.post(
            paths.PASSWORD_SETUP,
            data={
                "csrf_token": csrf(refused.text),
                "password": NEW_PASSWORD,
                "password_confirm": NEW_PASSWORD,
            },
        )
        assert done.status_code == 200, done.text
        assert "Votre mot de passe est enregistré" in body(done)
        assert office_paths.LOGIN in done.text

        # Used once: the same link is refused, with the page every dead link gets.
        again = await browser.get(_local(link))
        assert again.status_code == 404
        assert "Ce lien ne fonctionne pas" in body(again)

        logged = await login(browser, NEW_EMAIL, NEW_PASSWORD)
        assert logged.status_code == 303, logged.text
        agenda = await browser.get(office_paths.AGENDA)
        assert agenda.status_code == 200
        assert "Camille Durand" in body(agenda)

    listed = body(await client.get(paths.AGENTS))
    assert "Mot de passe choisi" in listed


async def test_a_link_works_72_hours_and_a_new_one_replaces_it(
    app: Litestar,
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    settings: Settings,
    office: Office,
) -> None:
    await _admin(client, db, clock, office)
    agent_id = await _new_referent(client)
    [first] = await _setup_mails(db, clock, agent_id)
    _, first_link = await _link_in(app, db, clock, settings, first)
    r = await post_form(
        client,
        _agent_url(paths.AGENT_LINK, agent_id),
        {},
        token_from=_agent_url(paths.AGENT, agent_id),
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?fait=lien-envoye")
    mails = await _setup_mails(db, clock, agent_id)
    assert len(mails) == 2
    _, second_link = await _link_in(app, db, clock, settings, mails[1])
    assert second_link != first_link
    # The first link's e-mail, not sent yet, will not leave: its link was replaced.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        row = await uow.session.get(Notification, first.id)
        assert row is not None
        skipped = await compose.compose(
            uow,
            row,
            MESSAGES[row.name],
            public_url=settings.public_url,
            secret_key=app.state.secret_key,
        )
    assert skipped == compose.Skip("cancelled", "link_expired")
    assert (await client.get(_local(first_link))).status_code == 404

    clock.advance(timedelta(hours=71, minutes=59))
    opened = await client.get(_local(second_link))
    assert opened.status_code == 303
    clock.advance(timedelta(minutes=2))  # 72 h and a minute after it was sent
    late = await client.get(_local(second_link))
    assert late.status_code == 404 and "Ce lien ne fonctionne pas" in body(late)
    # The form opened before the deadline is refused after it too.
    form = await client.get(paths.PASSWORD_SETUP)
    assert form.status_code == 404
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert (await uow.session.get(Agent, agent_id)).password_hash is None  # type: ignore[union-attr]


async def test_a_link_sets_the_password_once_even_when_two_submissions_race(
    app: Litestar, db: Database, clock: FrozenClock, office: Office
) -> None:
    async with db.unit_of_work(clock=clock) as uow:
        issued = await setup_links.issue(
            uow, secret_key=app.state.secret_key, agent_id=office.s.referent_ids[1], created_by=None
        )
    # Both submissions found the link working; the second one's conditional update finds it spent.
    async with db.unit_of_work(clock=clock) as uow:
        assert await setup_links.live(uow, issued.id) is not None
        await setup_links.use(uow, link_id=issued.id, password=NEW_PASSWORD)
    async with db.unit_of_work(clock=clock) as uow:
        assert await setup_links.find(uow, issued.token) is None
        with pytest.raises(Expired) as refused:
            await setup_links.use(uow, link_id=issued.id, password="un tout autre mot de passe")
        assert refused.value.code == setup_links.LINK_INVALID
    async with db.unit_of_work(clock=clock, write=False) as uow:
        agent = await uow.session.get(Agent, office.s.referent_ids[1])
        assert agent is not None and agent.password_hash
        assert matches(agent.password_hash, NEW_PASSWORD)


async def test_an_email_of_another_structure_is_refused_and_nothing_is_written(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await _admin(client, db, clock, office)
    r = await post_form(
        client,
        paths.AGENT_NEW,
        {
            "first_name": "Autre",
            "last_name": "Agent",
            "email": office.other_email,
            "role": "referent",
        },
        token_from=paths.AGENT_NEW,
    )
    assert r.status_code == 422
    assert "a déjà un compte dans une autre structure" in body(r)
    r = await post_form(
        client,
        paths.AGENT_NEW,
        {"first_name": "", "last_name": "", "email": "pas-une-adresse", "role": "chef"},
        token_from=paths.AGENT_NEW,
    )
    assert r.status_code == 422
    page = body(r)
    assert "Le formulaire contient 3 erreurs" in page
    assert "Indiquez le prénom." in page and "Choisissez une valeur dans la liste." in page
    assert 'value="pas-une-adresse"' in r.text  # the form comes back as typed
    r = await post_form(
        client,
        paths.AGENT_NEW,
        {"first_name": "A", "last_name": "B", "email": "pas-une-adresse", "role": "referent"},
        token_from=paths.AGENT_NEW,
    )
    assert r.status_code == 422
    assert "Indiquez une adresse e-mail valide" in body(r)
    async with db.unit_of_work(clock=clock, write=False) as uow:
        other = await uow.session.scalar(select(Agent).where(Agent.email == office.other_email))
        assert other is not None
        orgs = (
            await uow.session.scalars(
                select(Membership.organisation_id).where(Membership.agent_id == other.id)
            )
        ).all()
        assert orgs == [office.other.organisation_id]
        assert (await uow.session.scalars(select(SetupLink))).all() == []


async def test_roles_deactivation_and_the_last_admin(
    app: Litestar, client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await _admin(client, db, clock, office)
    referent = office.s.referent_ids[0]  # has a password: logs in in a browser of their own
    browser = _browser(app)
    async with browser:
        assert (await login(browser, office.email)).status_code == 303
        assert (await browser.get(office_paths.AGENDA)).status_code == 200
        # A referent has no administration.
        assert (await browser.get(paths.AGENTS)).status_code == 403

        page = _agent_url(paths.AGENT, referent)
        r = await post_form(client, page, {"role": "animator"}, token_from=page)
        assert r.status_code == 303 and r.headers["location"].endswith("?fait=role")
        r = await post_form(
            client, _agent_url(paths.AGENT_DEACTIVATE, referent), {"actif": "0"}, token_from=page
        )
        assert r.status_code == 303 and r.headers["location"].endswith("?fait=desactive")
        # Their open session ended on the server; they can no longer log in.
        gone = await browser.get(office_paths.AGENDA)
        assert gone.status_code == 303 and gone.headers["location"].startswith(office_paths.LOGIN)
        assert (await login(browser, office.email)).status_code == 400
        async with db.unit_of_work(clock=clock, write=False) as uow:
            live = await uow.session.scalars(
                select(WebSession).where(
                    WebSession.agent_id == referent, WebSession.ended_at.is_(None)
                )
            )
            assert live.all() == []
        assert "Désactivé" in body(await client.get(paths.AGENTS))

        r = await post_form(
            client, _agent_url(paths.AGENT_DEACTIVATE, referent), {"actif": "1"}, token_from=page
        )
        assert r.status_code == 303 and r.headers["location"].endswith("?fait=reactive")
        assert (await login(browser, office.email)).status_code == 303

    # The only admin can neither step down nor deactivate themselves.
    me = _agent_url(paths.AGENT, office.s.admin_id)
    r = await post_form(client, me, {"role": "referent"}, token_from=me)
    assert r.status_code == 422
    assert "n'aurait plus aucun administrateur actif" in body(r)
    r = await post_form(
        client, _agent_url(paths.AGENT_DEACTIVATE, office.s.admin_id), {"actif": "0"}, token_from=me
    )
    assert r.status_code == 422
    assert "Vous ne pouvez pas désactiver votre propre compte" in body(r)
    # Another organisation's agent is unknown here.
    foreign = _agent_url(paths.AGENT, office.other.referent_ids[0])
    assert (await client.get(foreign)).status_code == 404
    r = await post_form(
        client,
        _agent_url(paths.AGENT_DEACTIVATE, office.other.referent_ids[0]),
        {"actif": "0"},
        token_from=me,
    )
    assert r.status_code == 404
    async with db.unit_of_work(clock=clock, write=False) as uow:
        admin = await uow.session.get(Agent, office.s.admin_id)
        other = await uow.session.get(Agent, office.other.referent_ids[0])
        assert admin is not None and other is not None and admin.active and other.active


async def test_an_api_key_is_shown_once_and_stops_working_when_revoked(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await _admin(client, db, clock, office)
    r = await post_form(client, paths.API_KEYS, {"label": "Flux CAF"}, token_from=paths.API_KEYS)
    assert r.status_code == 201, r.text
    found = re.search(r'value="(rdv_[A-Za-z0-9_-]+)"', r.text)
    assert found, "the new key is on the page that creates it"
    secret = found.group(1)
    listed = await client.get(paths.API_KEYS)
    assert secret not in listed.text and secret[:10] in listed.text and "Flux CAF" in listed.text
    # The scenario's referent keys are listed too (the organisation's agents' keys).
    assert office.s.keys[office.s.referent_ids[0]][:10] in listed.text

    headers = {"Authorization": f"Bearer {secret}"}
    assert (await client.get("/api/v1/agents", headers=headers)).status_code == 200
    async with db.unit_of_work(clock=clock, write=False) as uow:
        key = await uow.session.scalar(select(ApiKey).where(ApiKey.label == "Flux CAF"))
        assert key is not None and key.agent_id == office.s.admin_id
    revoke = paths.API_KEY_REVOKE.replace("{key_id:uuid}", str(key.id))
    r = await post_form(client, revoke, {}, token_from=paths.API_KEYS)
    assert r.status_code == 303
    assert (await client.get("/api/v1/agents", headers=headers)).status_code == 401
    assert "Révoquée le" in body(await client.get(paths.API_KEYS))
    # Another organisation's key is not one to revoke here.
    async with db.unit_of_work(clock=clock, write=False) as uow:
        other_key = await uow.session.scalar(
            select(ApiKey.id).where(ApiKey.agent_id == office.other.referent_ids[0])
        )
    r = await post_form(
        client,
        paths.API_KEY_REVOKE.replace("{key_id:uuid}", str(other_key)),
        {},
        token_from=paths.API_KEYS,
    )
    assert r.status_code == 404
    other_headers = {"Authorization": f"Bearer {office.other.keys[office.other.referent_ids[0]]}"}
    assert (await client.get("/api/v1/agents", headers=other_headers)).status_code == 200


async def test_a_partner_is_added_without_a_password_link(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, office: Office
) -> None:
    await _admin(client, db, clock, office)
    r = await post_form(
        client,
        paths.AGENT_NEW,
        {"first_name": "Paule", "last_name": "Caf", "email": "paule@caf.test", "role": "partner"},
        token_from=paths.AGENT_NEW,
    )
    assert r.status_code == 303 and r.headers["location"].endswith("?fait=partenaire-ajoute")
    shown = body(await client.get(r.headers["location"]))
    assert "Le partenaire est ajouté" in shown and "Partenaire" in shown
    async with db.unit_of_work(clock=clock, write=False) as uow:
        assert (await uow.session.scalars(select(SetupLink))).all() == []
        assert (await uow.session.scalars(select(Notification))).all() == []
