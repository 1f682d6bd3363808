"""JSON API of the calendars room: an agent's own feed link, a territory's feed link, a CTO
series' feed link (for its partners).

Creating a link when one exists rotates it (the old one stops working in the same
transaction); the answer is the only place the link is ever shown.
"""

from __future__ import annotations

import uuid

from litestar import Controller, delete, get, post
from litestar.params import FromPath
from litestar.status_codes import HTTP_201_CREATED

from rdv_spie.agents import guards
from rdv_spie.agents.guards import Actor
from rdv_spie.calendars import service
from rdv_spie.calendars.models import FeedKind
from rdv_spie.calendars.schemas import FeedLinkOut, FeedStatusOut
from rdv_spie.committees import access as committees
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import AppSettings, CurrentActor, Uow
from rdv_spie.settings import Settings


def feed_urls(public_url: str, token: str) -> tuple[str, str]:
    """The https (as configured) and webcal links of a token."""
    url = f"{public_url.rstrip('/')}/feeds/{token}.ics"
    return url, "webcal://" + url.split("://", 1)[1]


async def _issue(
    uow: UnitOfWork, settings: Settings, kind: FeedKind, subject_id: uuid.UUID, by: uuid.UUID
) -> FeedLinkOut:
    issued = await service.issue_feed(
        uow=uow,
        kind=kind,
        subject_id=subject_id,
        created_by=by,
        valid_days=settings.feed_valid_days,
        programme_end_on=settings.feed_programme_end_on,
    )
    url, webcal = feed_urls(settings.public_url, issued.token)
    return FeedLinkOut(
        kind=kind,
        subject_id=subject_id,
        url=url,
        webcal_url=webcal,
        created_at=issued.feed.created_at,
        expires_at=issued.feed.expires_at,
    )


class CalendarFeedController(Controller):
    path = "/calendar-feeds"
    tags = ["calendar feeds"]

    @get("/me")
    async def my_feed(self, uow: Uow, actor: CurrentActor) -> FeedStatusOut:
        """Whether you have a working link to your appointments' calendar."""
        feed = await service.current_feed(uow=uow, kind=FeedKind.AGENT, subject_id=actor.agent_id)
        return FeedStatusOut.of(FeedKind.AGENT, actor.agent_id, feed)

    @post("/me", status_code=HTTP_201_CREATED)
    async def create_my_feed(
        self, uow: Uow, actor: CurrentActor, settings: AppSettings
    ) -> FeedLinkOut:
        """A new link to your appointments (people as initials); any previous link stops
        working. The link is shown in this answer only."""
        return await _issue(uow, settings, FeedKind.AGENT, actor.agent_id, actor.agent_id)

    @delete("/me")
    async def revoke_my_feed(self, uow: Uow, actor: CurrentActor) -> None:
        """Your link stops working."""
        await service.revoke_feeds(uow=uow, kind=FeedKind.AGENT, subject_id=actor.agent_id)

    @get("/territories/{territory_id:uuid}")
    async def territory_feed(
        self, uow: Uow, actor: CurrentActor, territory_id: FromPath[uuid.UUID]
    ) -> FeedStatusOut:
        """Whether the territory has a working feed link (admins and animators)."""
        await guards.require_territory_manager(
            uow, actor, territory_id, detail=service.FEED_MANAGERS
        )
        feed = await service.current_feed(uow=uow, kind=FeedKind.TERRITORY, subject_id=territory_id)
        return FeedStatusOut.of(FeedKind.TERRITORY, territory_id, feed)

    @post("/territories/{territory_id:uuid}", status_code=HTTP_201_CREATED)
    async def create_territory_feed(
        self,
        uow: Uow,
        actor: CurrentActor,
        settings: AppSettings,
        territory_id: FromPath[uuid.UUID],
    ) -> FeedLinkOut:
        """A new link to the territory's appointments, without personal data; any previous
        link stops working. The link is shown in this answer only."""
        await guards.require_territory_manager(
            uow, actor, territory_id, detail=service.FEED_MANAGERS
        )
        return await _issue(uow, settings, FeedKind.TERRITORY, territory_id, actor.agent_id)

    @delete("/territories/{territory_id:uuid}")
    async def revoke_territory_feed(
        self, uow: Uow, actor: CurrentActor, territory_id: FromPath[uuid.UUID]
    ) -> None:
        """The territory's link stops working."""
        await guards.require_territory_manager(
            uow, actor, territory_id, detail=service.FEED_MANAGERS
        )
        await service.revoke_feeds(uow=uow, kind=FeedKind.TERRITORY, subject_id=territory_id)

    @get("/cto-series/{series_id:uuid}")
    async def cto_series_feed(
        self, uow: Uow, actor: CurrentActor, series_id: FromPath[uuid.UUID]
    ) -> FeedStatusOut:
        """Whether a CTO series has a working feed link (admins and animators)."""
        await _series_manager(uow, actor, series_id)
        feed = await service.current_feed(uow=uow, kind=FeedKind.CTO_SERIES, subject_id=series_id)
        return FeedStatusOut.of(FeedKind.CTO_SERIES, series_id, feed)

    @post("/cto-series/{series_id:uuid}", status_code=HTTP_201_CREATED)
    async def create_cto_series_feed(
        self,
        uow: Uow,
        actor: CurrentActor,
        settings: AppSettings,
        series_id: FromPath[uuid.UUID],
    ) -> FeedLinkOut:
        """A new link to a CTO series' sessions for its partners ("CTO <name> — N situations",
        no personal data); any previous link stops working. Shown in this answer only."""
        await _series_manager(uow, actor, series_id)
        return await _issue(uow, settings, FeedKind.CTO_SERIES, series_id, actor.agent_id)

    @delete("/cto-series/{series_id:uuid}")
    async def revoke_cto_series_feed(
        self, uow: Uow, actor: CurrentActor, series_id: FromPath[uuid.UUID]
    ) -> None:
        """The series' link stops working."""
        await _series_manager(uow, actor, series_id)
        await service.revoke_feeds(uow=uow, kind=FeedKind.CTO_SERIES, subject_id=series_id)


async def _series_manager(uow: UnitOfWork, actor: Actor, series_id: uuid.UUID) -> None:
    series = await committees.series_for(uow, actor, series_id)
    await guards.require_territory_manager(
        uow, actor, series.territory_id, detail=service.FEED_MANAGERS
    )
