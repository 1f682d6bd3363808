"""The partners' portal's subscribe page: a committee member's own link to their series'
calendar (FeedKind.CTO_MEMBER, subject the membership), shown as ``webcal://`` and
``https://`` with a copy button (templates/static/copy.js) and as selectable text without
JavaScript, with short instructions for Outlook, Google Agenda and Thunderbird.

Each member has their own link, so making a new one (the old one stops working) leaves the
other members' calendars alone, and removing a member ends theirs (the feed's subject is
gone: the one 404). The feed shows the sessions and a count of situations, never a person,
so it is open before the charter is accepted. A series the agent does not sit on is the 404
of an unknown one.
"""

from __future__ import annotations

import uuid
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.calendars import service
from rdv_spie.calendars.api import feed_urls
from rdv_spie.calendars.models import FeedKind
from rdv_spie.committees import paths as committee
from rdv_spie.committees.models import CtoMember, CtoSeries
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import NotFound
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Territory
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Member, SignedIn


async def _sitting(
    uow: UnitOfWork, member: SignedIn, series_id: uuid.UUID
) -> tuple[CtoMember, CtoSeries, ui.Where]:
    """The agent's membership of the series, else the 404 of an unknown series."""
    found = (
        await uow.session.execute(
            select(CtoMember, CtoSeries)
            .join(CtoSeries, CtoSeries.id == CtoMember.series_id)
            .where(CtoMember.series_id == series_id, CtoMember.agent_id == member.agent.id)
        )
    ).first()
    if found is None:
        raise NotFound("CTO series not found", field="series_id")
    sitting, series = found
    territory = await uow.session.get(Territory, series.territory_id)
    assert territory is not None
    return sitting, series, ui.Where(territory, ZoneInfo(territory.timezone))


def _page(
    request: Request[Any, Any, Any],
    member: SignedIn,
    series: CtoSeries,
    where: ui.Where,
    feed: Any,
    links: tuple[str, str] | None,
) -> Response[str]:
    context = {
        "series": series,
        "feed": feed,
        "created": where.local(feed.created_at) if feed else None,
        "expires": where.local(feed.expires_at) if feed else None,
        "url": links[0] if links else None,
        "webcal": links[1] if links else None,
        "new_link": committee.SUBSCRIBE_NEW_LINK.replace("{series_id:uuid}", str(series.id)),
        "portal": committee,
    }
    return ui.portal_page(request, member, "subscribe", "portail", context)


@get(committee.SUBSCRIBE, include_in_schema=False)
async def subscribe(
    request: Request[Any, Any, Any], uow: Uow, member: Member, series_id: FromPath[uuid.UUID]
) -> Response[str]:
    """Whether the member's link works, since when, and how to add it to a calendar."""
    sitting, series, where = await _sitting(uow, member, series_id)
    feed = await service.current_feed(uow=uow, kind=FeedKind.CTO_MEMBER, subject_id=sitting.id)
    return _page(request, member, series, where, feed, None)


@post(committee.SUBSCRIBE_NEW_LINK, include_in_schema=False, status_code=200)
async def new_link(
    request: Request[Any, Any, Any], uow: Uow, member: Member, series_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A new link for this member (their old one stops working), shown on this page only."""
    settings: Settings = request.app.state.settings
    sitting, series, where = await _sitting(uow, member, series_id)
    issued = await service.issue_feed(
        uow=uow,
        kind=FeedKind.CTO_MEMBER,
        subject_id=sitting.id,
        created_by=member.agent.id,
        valid_days=settings.feed_valid_days,
        programme_end_on=settings.feed_programme_end_on,
    )
    links = feed_urls(settings.public_url, issued.token)
    return _page(request, member, series, where, issued.feed, links)


ROUTES: list[ControllerRouterHandler] = [subscribe, new_link]
