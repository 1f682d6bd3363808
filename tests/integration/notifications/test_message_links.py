"""Every link the service sends leads somewhere: each message of the registry, composed from real
rows and rendered by the project's own functions (SMS, e-mail text and HTML), carries only links
on our public URL whose path a GET route of the built application serves."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

from litestar import Litestar
from litestar.exceptions import NotFoundException
from sqlalchemy import select
from tests.support import scenario as sc
from tests.support import world

from rdv_spie.clock import FrozenClock
from rdv_spie.committees import messages as committees
from rdv_spie.db.uow import Database
from rdv_spie.invitations import messages as invitations
from rdv_spie.messages import MESSAGES
from rdv_spie.notifications import compose, outbox
from rdv_spie.notifications import messages as delivery
from rdv_spie.notifications.models import Notification
from rdv_spie.scheduling import messages as scheduling
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer

PUBLIC_URL = "https://rdv.exemple.fr"
SECRET = b"k" * 32
_URL = re.compile(r"https?://[^\s\"'<>]+")


def _for_person(w: world.World, **fields: Any) -> dict[str, Any]:
    return {"person_id": w.person_id, "journey_id": w.journey_id, **fields}


def _for_agent(agent_id: uuid.UUID, **params: Any) -> dict[str, Any]:
    return {"agent_id": agent_id, "params": params}


# The row of each message: what its writer puts in the outbox. A message the registry lists
# without a row here fails the test until one is written.
ROWS: dict[str, Callable[[world.World], dict[str, Any]]] = {
    invitations.INVITATION: lambda w: _for_person(w, invitation_id=w.invitation_id),
    invitations.INVITATION_REMINDER: lambda w: _for_person(
        w, invitation_id=w.invitation_id, params={"reminder_number": 2}
    ),
    invitations.REFERENT_DEADLINE_ALERT: lambda w: _for_agent(
        w.s.referent_ids[0], journey_ids=[str(w.journey_id)]
    ),
    invitations.ANIMATOR_NO_SLOTS_ALERT: lambda w: _for_agent(
        w.s.animator_id,
        cohort_id=str(w.cohort_id),
        waiting_count=3,
        appointment_by_first="2026-12-31",
    ),
    scheduling.CONFIRMATION: lambda w: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    scheduling.REMINDER: lambda w: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    scheduling.CANCELLED: lambda w: _for_person(
        w, appointment_id=w.appointment_id, params={"sequence": 0}
    ),
    committees.SESSION_MOVED: lambda w: _for_agent(
        w.s.admin_id, session_id=str(w.session_id), sequence=0
    ),
    committees.SESSION_CANCELLED: lambda w: _for_agent(w.s.admin_id, session_id=str(w.session_id)),
    committees.AGENDA: lambda w: _for_agent(w.s.admin_id, session_id=str(w.session_id)),
    committees.ACKNOWLEDGED: lambda w: _for_agent(
        w.s.referent_ids[0], request_id=str(w.request_id)
    ),
    committees.CARRIED_OVER: lambda w: _for_agent(
        w.s.referent_ids[0],
        request_id=str(w.request_id),
        from_session_id=str(w.session_id),
        to_session_id=str(w.next_session_id),
        reason="full",
    ),
    committees.DECISION: lambda w: _for_person(w, params={"request_id": str(w.request_id)}),
    delivery.DELIVERY_FAILED_ALERT: lambda w: _for_agent(
        w.s.referent_ids[0],
        person_id=str(w.person_id),
        channel="sms",
        reason_code="undelivered",
        message_name=invitations.INVITATION,
    ),
}


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


def _served(app: Litestar, url: str) -> bool:
    """Whether a GET on the path of ``url`` reaches a route of the application."""
    try:
        *_, handler_path = app.asgi_router.handle_routing(urlsplit(url).path, "GET")
    except NotFoundException:
        return False
    return bool(handler_path)


def test_the_router_check_tells_a_route_from_a_missing_one(app: Litestar) -> None:
    assert _served(app, f"{PUBLIC_URL}/agent")
    assert _served(app, f"{PUBLIC_URL}/i/jeton?x=1")
    assert not _served(app, f"{PUBLIC_URL}/agents")
    assert not _served(app, f"{PUBLIC_URL}/api/v1/cto-requests/pas-un-uuid")


async def test_every_link_of_every_message_is_served_by_a_route(
    app: Litestar, db: Database, clock: FrozenClock, settings: Settings
) -> None:
    assert sorted(ROWS) == sorted(MESSAGES.names()), "write the row of each message in ROWS"
    s = await sc.build(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        w = await world.build(uow, s)
        for kind in MESSAGES:
            for channel in kind.channels:
                fields = ROWS[kind.name](w)
                await outbox.add(
                    uow,
                    territory_id=s.territory_id,
                    name=kind.name,
                    channel=channel,
                    key=f"links:{kind.name}:{channel}",
                    not_before=clock.now(),
                    **fields,
                )

    renderer = Renderer(settings.templates_dir)
    links: dict[tuple[str, str], set[str]] = {}
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = (await uow.session.scalars(select(Notification))).all()
        assert len(rows) == sum(len(k.channels) for k in MESSAGES)
        for n in rows:
            built = await compose.compose(
                uow, n, MESSAGES[n.name], public_url=PUBLIC_URL, secret_key=SECRET
            )
            assert isinstance(built, compose.Composed), (n.name, n.channel, built)
            slug = built.territory.slug
            if n.channel == "sms":
                texts = [renderer.render_sms(n.name, built.context, territory_slug=slug)]
            else:
                email = renderer.render_email(n.name, built.context, territory_slug=slug)
                texts = [email.subject, email.text, email.html]
            found = {url for text in texts for url in _URL.findall(text)}
            offered = set(_urls(built.context))
            # Every context link a text shows is one the extraction saw (it misses none).
            shown = {u for u in offered if any(re.search(_whole(u), t) for t in texts)}
            assert shown <= found
            links[(n.name, n.channel)] = {
                u for u in found | offered if u.startswith(PUBLIC_URL + "/")
            }

    # Each message offers at least one link of ours (its person's page, the back office, the
    # committee's API), so the check below looks at something for every one of them.
    assert [key for key, urls in sorted(links.items()) if not urls] == []
    broken = sorted(
        (name, channel, url)
        for (name, channel), urls in links.items()
        for url in urls
        if not _served(app, url)
    )
    assert broken == []
