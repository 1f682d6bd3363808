"""Every link the service sends works for the one who receives it: each message of the
registry, composed from real rows and rendered by the project's own functions (SMS, e-mail
subject, text and HTML), carries only links on our public URL, none to the JSON API; each is
followed over HTTP as its recipient would — the person with a fresh browser, the agent logged
in through the form (a page, 200) and logged out (the login form, then back): a committee's
members (partners) to the session's page on their portal, a request's referent to their fiche,
the person told of the decision to their file through their invitation link. The feeds'
committee events name the portal's page too, never the API nor a person."""

from __future__ import annotations

import html
import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from icalendar import Calendar
from litestar import Litestar
from sqlalchemy import select
from tests.integration.web_office.office_support import login, set_password
from tests.support import scenario as sc
from tests.support import world
from tests.support.loopback import PUBLIC_URL

from rdv_spie.administration import messages as administration
from rdv_spie.agents import setup_links
from rdv_spie.agents.models import Agent, Membership, Role, SetupLink
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import charter
from rdv_spie.committees import messages as committees
from rdv_spie.committees import paths as cpaths
from rdv_spie.committees.models import CtoMember, CtoSession
from rdv_spie.db.uow import Database
from rdv_spie.invitations import messages as invitations
from rdv_spie.invitations.models import Invitation
from rdv_spie.messages import MESSAGES
from rdv_spie.notifications import compose, outbox, tokens
from rdv_spie.notifications import messages as delivery
from rdv_spie.notifications.links import page_url
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Person
from rdv_spie.scheduling import messages as scheduling
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer
from rdv_spie.web import paths

_URL = re.compile(r"https?://[^\s\"'<>]+")
# Messages (name, channel) that link to nothing of ours: the decision's SMS stays generic and
# short (anyone holding the phone may read it); its e-mail links to the person's file.
LINKLESS = frozenset({(committees.DECISION, "sms")})


def _for_person(w: world.World, **fields: Any) -> dict[str, Any]:
    return {"person_id": w.person_id, "journey_id": w.journey_id, **fields}


def _for_agent(agent_id: uuid.UUID, **params: Any) -> dict[str, Any]:
    return {"agent_id": agent_id, "params": params}


# Messages to someone who cannot log in yet: the link to choose a password and the login
# form are followed as a fresh browser, like a person's links.
OPEN = frozenset({administration.AGENT_SETUP_LINK})


# The row of each message: what its writer puts in the outbox (the partner's id is the
# "partner" key of the ids the test adds). A message the registry lists without a row here
# fails the test until one is written.
ROWS: dict[str, Callable[[world.World, uuid.UUID], dict[str, Any]]] = {
    invitations.INVITATION: lambda w, p: _for_person(w, invitation_id=w.invitation_id),
    invitations.INVITATION_REMINDER: lambda w, p: _for_person(
        w, invitation_id=w.invitation_id, params={"reminder_number": 2}
    ),
    invitations.REFERENT_DEADLINE_ALERT: lambda w, p: _for_agent(
        w.s.referent_ids[0], journey_ids=[str(w.journey_id)]
    ),
    invitations.ANIMATOR_NO_SLOTS_ALERT: lambda w, p: _for_agent(
        w.s.animator_id,
        cohort_id=str(w.cohort_id),
        waiting_count=3,
        appointment_by_first="2026-12-31",
    ),
    scheduling.CONFIRMATION: lambda w, p: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    scheduling.REMINDER: lambda w, p: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    scheduling.CANCELLED: lambda w, p: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    committees.SESSION_MOVED: lambda w, p: _for_agent(p, session_id=str(w.session_id), sequence=0),
    committees.SESSION_CANCELLED: lambda w, p: _for_agent(p, session_id=str(w.session_id)),
    committees.AGENDA: lambda w, p: _for_agent(p, session_id=str(w.session_id)),
    committees.ACKNOWLEDGED: lambda w, p: _for_agent(
        w.s.referent_ids[0], request_id=str(w.request_id)
    ),
    committees.CARRIED_OVER: lambda w, p: _for_agent(
        w.s.referent_ids[0],
        request_id=str(w.request_id),
        from_session_id=str(w.session_id),
        to_session_id=str(w.next_session_id),
        reason="full",
    ),
    committees.DECISION: lambda w, p: _for_person(w, params={"request_id": str(w.request_id)}),
    delivery.DELIVERY_FAILED_ALERT: lambda w, p: {
        **_for_agent(
            w.s.referent_ids[0],
            person_id=str(w.person_id),
            channel="sms",
            reason_code="undelivered",
            message_name=invitations.INVITATION,
        ),
        "journey_id": w.journey_id,  # as outbox.alert_referent writes it
    },
    administration.AGENT_SETUP_LINK: lambda w, p: _for_agent(
        w.s.referent_ids[1],
        setup_link_id=str(w.setup_link_id),
        organisation_id=str(w.s.organisation_id),
    ),
}


def _prefix(path: str) -> str:
    """A page path up to its first placeholder."""
    return path.split("{", 1)[0]


def _whole(url: str) -> str:
    """A pattern finding ``url`` as a whole link, not as the start of a longer one."""
    return re.escape(url) + r"(?![^\s\"'<>])"


def _urls(value: Any) -> Iterator[str]:
    """Every URL string in a template context, however deeply nested."""
    if isinstance(value, str) and _URL.fullmatch(value):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _urls(item)
    elif isinstance(value, list | tuple):
        for item in value:
            yield from _urls(item)


def _target(url: str) -> str:
    """The path and query a browser asks our server for."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _browser(app: Litestar) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=PUBLIC_URL)


async def _partner(db: Database, clock: FrozenClock, s: sc.Scenario) -> uuid.UUID:
    """A partner of the territory's organisation (a committee member with no back office)."""
    async with db.unit_of_work(clock=clock) as uow:
        agent = Agent(email="partner@test.test", first_name="Partner", last_name="Test")
        uow.session.add(agent)
        await uow.session.flush()
        uow.session.add(
            Membership(agent_id=agent.id, organisation_id=s.organisation_id, role=Role.PARTNER)
        )
        return agent.id


async def _messages(
    app: Litestar, db: Database, clock: FrozenClock, settings: Settings
) -> dict[tuple[str, str], tuple[Notification, set[str]]]:
    """Each message of the registry on each of its channels, written and composed from real
    rows (the invitation's token is the one its link carries), with the URLs its rendered
    texts show."""
    s = await sc.build(db, clock)
    partner = await _partner(db, clock, s)
    secret: bytes = app.state.secret_key
    async with db.unit_of_work(clock=clock) as uow:
        w = await world.build(uow, s)
        # The partner sits on the world's series and accepted the charter (a sworn member).
        series_id = await uow.session.scalar(
            select(CtoSession.series_id).where(CtoSession.id == w.session_id)
        )
        uow.session.add(
            CtoMember(
                series_id=series_id,
                agent_id=partner,
                charter_accepted_on=clock.now().date(),
                charter_version=charter.CURRENT_VERSION,
                charter_accepted_at=clock.now(),
            )
        )
        invitation = await uow.session.get(Invitation, w.invitation_id)
        assert invitation is not None
        invitation.token_hash = tokens.hash_token(tokens.derive(secret, invitation.id))
        link = await uow.session.get(SetupLink, w.setup_link_id)
        assert link is not None
        link.token_hash = setup_links.hash_token(setup_links.derive(secret, link.id))
        for kind in MESSAGES:
            for channel in kind.channels:
                await outbox.add(
                    uow,
                    territory_id=s.territory_id,
                    name=kind.name,
                    channel=channel,
                    key=f"links:{kind.name}:{channel}",
                    not_before=clock.now(),
                    **ROWS[kind.name](w, partner),
                )

    renderer = Renderer(settings.templates_dir)
    found: dict[tuple[str, str], tuple[Notification, set[str]]] = {}
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = (await uow.session.scalars(select(Notification))).all()
        assert len(rows) == sum(len(k.channels) for k in MESSAGES)
        for n in rows:
            built = await compose.compose(
                uow, n, MESSAGES[n.name], public_url=PUBLIC_URL, secret_key=secret
            )
            assert isinstance(built, compose.Composed), (n.name, n.channel, built)
            slug = built.territory.slug
            if n.channel == "sms":
                texts = [renderer.render_sms(n.name, built.context, territory_slug=slug)]
            else:
                email = renderer.render_email(n.name, built.context, territory_slug=slug)
                texts = [email.subject, email.text, email.html]
            urls = {html.unescape(url) for text in texts for url in _URL.findall(text)}
            # Every context link a text shows is one the extraction saw (it misses none).
            shown = {u for u in _urls(built.context) if any(re.search(_whole(u), t) for t in texts)}
            assert shown <= urls, (n.name, n.channel, shown - urls)
            found[(n.name, n.channel)] = (n, urls)
    return found


async def _follow_as_agent(
    app: Litestar, db: Database, clock: FrozenClock, agent_id: uuid.UUID, urls: set[str]
) -> list[tuple[str, str]]:
    """Each URL opened by the agent: logged out, the login form (then back to it); logged in
    through the form, a page (redirects followed, never to the login form). Returns what went
    wrong."""
    wrong: list[tuple[str, str]] = []
    async with _browser(app) as browser:
        for url in sorted(urls):
            answer = await browser.get(_target(url))
            where = answer.headers.get("location", "")
            back = parse_qs(urlsplit(where).query).get("suite", [""])[0]
            if answer.status_code not in (302, 303) or urlsplit(where).path != paths.LOGIN:
                wrong.append((url, f"logged out: {answer.status_code} {where}"))
            elif back != _target(url):
                wrong.append((url, f"logged out: the login form leads back to {back!r}"))
    email = await set_password(db, clock, agent_id)
    async with _browser(app) as browser:
        logged = await login(browser, email)
        assert logged.status_code in (302, 303), logged.text
        for url in sorted(urls):
            answer = await browser.get(_target(url), follow_redirects=True)
            if answer.status_code != 200 or answer.url.path == paths.LOGIN:
                wrong.append((url, f"logged in: {answer.status_code} at {answer.url}"))
    return wrong


async def _follow_as_person(app: Litestar, urls: set[str]) -> list[tuple[str, str]]:
    """Each URL opened in a fresh browser, redirects followed: the page answers 200."""
    wrong: list[tuple[str, str]] = []
    for url in sorted(urls):
        async with _browser(app) as browser:
            answer = await browser.get(_target(url), follow_redirects=True)
            if answer.status_code != 200:
                wrong.append((url, f"{answer.status_code} at {answer.url}"))
    return wrong


async def test_every_link_of_every_message_works_for_its_recipient(
    app: Litestar, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    assert sorted(ROWS) == sorted(MESSAGES.names()), "write the row of each message in ROWS"
    messages = await _messages(app, db, clock, settings)

    every = {url for _, urls in messages.values() for url in urls}
    assert sorted(url for url in every if "/api/" in url) == []
    assert sorted(url for url in every if not url.startswith(f"{PUBLIC_URL}/")) == []
    # Every other message offers a link (its person's page, the pages where the agent acts), so
    # the walk below looks at something for each of them.
    without = sorted(key for key, (_, urls) in messages.items() if not urls)
    assert without == sorted(LINKLESS)
    # Committee messages point to the committee's pages: members to the portal's session,
    # the referent to their fiche, the person to their file.
    portal, fiche = _prefix(cpaths.PORTAL_SESSION), _prefix(cpaths.FICHE)
    for name in (committees.SESSION_MOVED, committees.AGENDA):
        assert all(urlsplit(u).path.startswith(portal) for u in messages[(name, "email")][1])
    for name in (committees.ACKNOWLEDGED, committees.CARRIED_OVER):
        assert all(urlsplit(u).path.startswith(fiche) for u in messages[(name, "email")][1])
    decision = messages[(committees.DECISION, "email")][1]
    assert [urlsplit(u).query for u in decision] == ["suite=dossier"], decision

    wrong: list[tuple[str, str, str, str]] = []
    for (name, channel), (n, urls) in sorted(messages.items()):
        if not urls:
            continue
        if name in OPEN:
            found = await _follow_as_person(app, urls)
        elif n.agent_id is not None:
            assert all(paths.in_office(urlsplit(u).path) for u in urls), (name, urls)
            found = await _follow_as_agent(app, db, clock, n.agent_id, urls)
        else:
            found = await _follow_as_person(app, urls)
        wrong += [(name, channel, url, why) for url, why in found]
    assert wrong == []


async def test_the_walk_tells_a_page_from_a_missing_one(
    app: Litestar, db: Database, clock: FrozenClock
) -> None:
    """Positive control: an API address, a path no route serves and a foreign journey fail
    the agent's walk; the back office's home passes it."""
    s = await sc.build(db, clock)
    base = PUBLIC_URL
    assert await _follow_as_agent(app, db, clock, s.referent_ids[0], {f"{base}/agent"}) == []
    broken = {
        f"{base}/api/v1/cto-requests/{uuid.uuid4()}",
        f"{base}/agents",
        f"{base}{paths.JOURNEYS}/{uuid.uuid4()}",
    }
    wrong = await _follow_as_agent(app, db, clock, s.referent_ids[0], broken)
    assert {url for url, _ in wrong} == broken
    assert await _follow_as_person(app, {f"{base}/i/pas-un-jeton"}) != []


async def test_the_feed_names_the_portals_session_page(
    app: Litestar, db: Database, clock: FrozenClock
) -> None:
    """A series' feed: each session's DESCRIPTION (and URL) is its page on the partners'
    portal; no API address, no person's name."""
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        w = await world.build(uow, s)
        session = await uow.session.get(CtoSession, w.session_id)
        assert session is not None
        series_id = session.series_id
        person = await uow.session.get(Person, w.person_id)
        assert person is not None
        names = [person.first_name, person.last_name]
    async with _browser(app) as browser:
        made = await browser.post(
            f"/api/v1/calendar-feeds/cto-series/{series_id}", headers=s.auth()
        )
        assert made.status_code in (200, 201), made.text
        feed = await browser.get(_target(made.json()["url"]))
        assert feed.status_code == 200, feed.text
    events = {str(e["UID"]): e for e in Calendar.from_ical(feed.content).walk("VEVENT")}
    assert events, feed.text
    page = page_url(PUBLIC_URL, cpaths.PORTAL_SESSION, session_id=w.session_id)
    descriptions = [str(e.get("DESCRIPTION", "")) for e in events.values()]
    assert any(page in d for d in descriptions), descriptions
    for event in events.values():
        text = f"{event.get('DESCRIPTION', '')} {event.get('URL', '')}"
        assert "/api/" not in text, text
        assert urlsplit(str(event["URL"])).path.startswith(_prefix(cpaths.PORTAL_SESSION))
        for name in names:
            assert name.lower() not in text.lower(), (name, text)
