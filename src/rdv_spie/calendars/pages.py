"""Back-office pages of the calendars room: the agent's personal iCal feed link, and the
partners' subscribe page (pages_subscribe.py).

Tokens are stored hashed, so a link can be shown only on the page that creates it; creating
one revokes the previous link in the same transaction (calendars/service.issue_feed).
"""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, get, post
from litestar.types import ControllerRouterHandler

from rdv_spie.calendars import pages_subscribe, paths, service
from rdv_spie.calendars.api import feed_urls
from rdv_spie.calendars.models import FeedKind
from rdv_spie.deps import Uow
from rdv_spie.settings import Settings
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office

PATH = paths.CALENDAR


@get(PATH, include_in_schema=False)
async def my_calendar(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """Whether a feed link works, and since when."""
    where = await ui.where(uow, office.actor)
    feed = await service.current_feed(uow=uow, kind=FeedKind.AGENT, subject_id=office.agent.id)
    context = {
        "feed": feed,
        "created": where.local(feed.created_at) if feed else None,
        "expires": where.local(feed.expires_at) if feed else None,
        "url": None,
    }
    return ui.page(request, office, "calendar", "calendrier", context)


@post(PATH, include_in_schema=False, status_code=200)
async def new_link(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """A new link (the old one stops working), shown on this page only."""
    settings: Settings = request.app.state.settings
    where = await ui.where(uow, office.actor)
    issued = await service.issue_feed(
        uow=uow,
        kind=FeedKind.AGENT,
        subject_id=office.agent.id,
        created_by=office.agent.id,
        valid_days=settings.feed_valid_days,
        programme_end_on=settings.feed_programme_end_on,
    )
    url, webcal = feed_urls(settings.public_url, issued.token)
    context = {
        "feed": issued.feed,
        "created": where.local(issued.feed.created_at),
        "expires": where.local(issued.feed.expires_at),
        "url": url,
        "webcal": webcal,
    }
    return ui.page(request, office, "calendar", "calendrier", context)


ROUTES: list[ControllerRouterHandler] = [my_calendar, new_link, *pages_subscribe.ROUTES]
