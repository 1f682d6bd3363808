"""The territory's calendar feed link (its appointments and CTO sessions, without personal
data): whether one works and since when, and a new one on request, shown on that answer only
(tokens are stored hashed), the old one stopping in the same transaction — as the agent's own
link on /agent/calendrier and the API's /calendar-feeds/territories/{id}, through the same
calendars/service.py and the same guard."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.types import ControllerRouterHandler

from rdv_spie.administration import paths
from rdv_spie.agents import guards
from rdv_spie.calendars import service
from rdv_spie.calendars.models import FeedKind
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.settings import Settings
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser


def _urls(public_url: str, token: str) -> tuple[str, str]:
    """The https (as configured) and webcal links of a token (the feed path of
    calendars/feeds.py)."""
    url = f"{public_url.rstrip('/')}/feeds/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


async def _feed_territory(uow: UnitOfWork, office: OfficeUser) -> ui.Where:
    office.require_admin_role()
    territory_id = office.acting.territory_id
    await guards.require_territory_manager(
        uow, office.actor, territory_id, detail=service.FEED_MANAGERS
    )
    return await ui.where_of(uow, office.actor, territory_id)


@get(paths.FEED, include_in_schema=False)
async def feed(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """Whether the territory's feed link works, and since when."""
    where = await _feed_territory(uow, office)
    found = await service.current_feed(
        uow=uow, kind=FeedKind.TERRITORY, subject_id=where.territory.id
    )
    context = {
        "admin": paths,
        "territory": where.territory.name,
        "feed": found,
        "created": where.local(found.created_at) if found else None,
        "expires": where.local(found.expires_at) if found else None,
        "url": None,
    }
    return ui.page(request, office, "admin_feed", "administration", context)


@post(paths.FEED, include_in_schema=False, status_code=200)
async def new_feed(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """A new link for the territory (the old one stops working), shown on this page only."""
    settings: Settings = request.app.state.settings
    where = await _feed_territory(uow, office)
    issued = await service.issue_feed(
        uow=uow,
        kind=FeedKind.TERRITORY,
        subject_id=where.territory.id,
        created_by=office.agent.id,
        valid_days=settings.feed_valid_days,
        programme_end_on=settings.feed_programme_end_on,
    )
    url, webcal = _urls(settings.public_url, issued.token)
    context = {
        "admin": paths,
        "territory": where.territory.name,
        "feed": issued.feed,
        "created": where.local(issued.feed.created_at),
        "expires": where.local(issued.feed.expires_at),
        "url": url,
        "webcal": webcal,
    }
    return ui.page(request, office, "admin_feed", "administration", context)


ROUTES: list[ControllerRouterHandler] = [feed, new_feed]
