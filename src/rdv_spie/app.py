"""The Litestar application, built by ``create_app`` (never at import time)."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from urllib.parse import urlsplit

from litestar import Litestar, Router
from litestar.datastructures import CacheControlHeader, State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.static_files import create_static_files_router
from litestar.types import ControllerRouterHandler

from rdv_spie import deps
from rdv_spie.administration import pages as administration_pages
from rdv_spie.administration.agents_api import AgentController
from rdv_spie.administration.api import OrganisationController, PlaceController, TerritoryController
from rdv_spie.audit.api import AuditController
from rdv_spie.calendars import pages as calendar_pages
from rdv_spie.calendars.api import CalendarFeedController
from rdv_spie.calendars.cache import FeedCache
from rdv_spie.calendars.feeds import serve_feed
from rdv_spie.clock import Clock
from rdv_spie.committees import pages as committee_pages
from rdv_spie.committees.api import RequestController, SeriesController, SessionController
from rdv_spie.db.uow import Database, open_database, settings_clock
from rdv_spie.indicators import pages as indicator_pages
from rdv_spie.indicators.api import IndicatorController
from rdv_spie.invitations import pages as invitation_pages
from rdv_spie.journeys import pages as journey_pages
from rdv_spie.logging import configure_logging
from rdv_spie.notifications import tokens
from rdv_spie.notifications.webhooks import twilio_status
from rdv_spie.people import pages as people_pages
from rdv_spie.people.api import CohortController, JourneyController
from rdv_spie.privacy import pages as privacy_pages
from rdv_spie.privacy.api import PrivacyController
from rdv_spie.scheduling import pages as scheduling_pages
from rdv_spie.scheduling.api import (
    AbsenceController,
    AppointmentController,
    AppointmentTypeController,
    RuleController,
    SlotController,
)
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer
from rdv_spie.web import auth, login, ratelimit, security
from rdv_spie.web.errors import EXCEPTION_HANDLERS
from rdv_spie.web.health import healthz, readyz
from rdv_spie.web.home import home
from rdv_spie.web.openapi import TimeOfDaySchema

# The pages' route handlers, each room's ``pages.ROUTES`` (the API lives under /api/v1 below).
# A room never imports another room's pages: this is where they meet.
PAGES: list[ControllerRouterHandler] = [
    *invitation_pages.ROUTES,
    *login.ROUTES,
    *scheduling_pages.ROUTES,
    *people_pages.ROUTES,
    *calendar_pages.ROUTES,
    *journey_pages.ROUTES,
    *indicator_pages.ROUTES,
    *administration_pages.ROUTES,
    *committee_pages.ROUTES,
    *privacy_pages.ROUTES,
]


def _provide_slot_cache(state: State) -> SlotCache:
    """This process's cache of computed slots (validated by the database on every read)."""
    cache: SlotCache = state.slot_cache
    return cache


def _provide_feed_cache(state: State) -> FeedCache:
    """This process's rendered calendar feeds (validated by the database on every read)."""
    cache: FeedCache = state.feed_cache
    return cache


@dataclass(frozen=True, slots=True)
class Overrides:
    """Pieces a test or the demo swaps in: a clock, an existing database."""

    clock: Clock | None = None
    database: Database | None = None


@asynccontextmanager
async def _jobs(settings: Settings, clock: Clock, db: Database) -> AsyncGenerator[object, None]:
    """With Redis, hand due messages to the arq worker; without, run the jobs in-process.
    Yields the job queue (pages hand it the imports they confirm)."""
    if settings.redis_url:
        from arq import create_pool

        from rdv_spie.worker.queue import ArqQueue
        from rdv_spie.worker.settings import QUEUE_NAME, pool_options, redis_settings

        pool = await create_pool(
            redis_settings(settings), default_queue_name=QUEUE_NAME, **pool_options()
        )
        queue = ArqQueue(pool, QUEUE_NAME)
        db.on_due_notifications = queue.wake
        try:
            yield queue
        finally:
            await pool.aclose()
        return
    from rdv_spie.worker.context import build_context
    from rdv_spie.worker.inprocess import InProcessRunner

    context = build_context(settings, clock, db=db)
    runner = InProcessRunner(context, sweep_seconds=settings.inprocess_sweep_seconds)
    runner.start()
    try:
        yield runner.queue
    finally:
        await runner.stop()
        await context.aclose()


def create_app(settings: Settings | None = None, overrides: Overrides | None = None) -> Litestar:
    """Build the web application."""
    settings = settings or Settings()
    overrides = overrides or Overrides()
    configure_logging(level=settings.log_level, json=settings.log_json)

    clock = overrides.clock or settings_clock(settings)
    redis_client = None
    counter: ratelimit.Counter
    if settings.redis_url:
        from redis.asyncio import Redis

        redis_client = Redis.from_url(settings.redis_url)
        counter = ratelimit.RedisCounter(redis_client)
    else:
        counter = ratelimit.DatabaseCounter(lambda: state.db, clock)

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncGenerator[None, None]:
        try:
            if overrides.database is not None:  # owned by whoever passed it in
                yield
                return
            async with open_database(settings) as (db, _):
                app.state.db = db
                async with _jobs(settings, app.state.clock, db) as queue:
                    app.state.job_queue = queue
                    yield
        finally:
            if redis_client is not None:
                await redis_client.aclose()

    state = State(
        {
            "settings": settings,
            "clock": clock,
            "db": overrides.database,
            "secret_key": tokens.load_secret_key(
                settings.secret_key, settings.outbox_dir.parent / "secret-key"
            ),
            "rate_limiter": ratelimit.RateLimiter(counter, clock),
            "slot_cache": SlotCache(),
            "feed_cache": FeedCache(),
            "renderer": Renderer(settings.templates_dir),
        }
    )

    api = Router(
        path="/api/v1",
        route_handlers=[
            TerritoryController,
            OrganisationController,
            PlaceController,
            AgentController,
            AppointmentTypeController,
            RuleController,
            AbsenceController,
            SlotController,
            AppointmentController,
            CohortController,
            JourneyController,
            AuditController,
            PrivacyController,
            IndicatorController,
            CalendarFeedController,
            SeriesController,
            SessionController,
            RequestController,
        ],
        dependencies={"actor": Provide(deps.provide_actor)},
        after_response=deps.record_key_use,  # a key's last use, in its own transaction
        opt={"csrf_exempt": True},  # every call carries its API key; no cookie is read
    )
    static = create_static_files_router(
        path="/static",
        directories=[settings.templates_dir / "static"],
        cache_control=CacheControlHeader(max_age=3600, public=True),
        include_in_schema=False,
    )
    hosts = [*settings.allowed_hosts]
    public_host = urlsplit(settings.public_url).hostname
    if public_host and public_host not in hosts:
        hosts.append(public_host)
    return Litestar(
        route_handlers=[
            api,
            home,
            healthz,
            readyz,
            twilio_status,
            serve_feed,
            static,
            *PAGES,
        ],
        dependencies={
            "office": Provide(auth.provide_office_user),
            "member": Provide(auth.provide_signed_in),
            "visitor": Provide(auth.provide_visitor),
            "uow": Provide(deps.provide_uow),
            "settings": Provide(deps.provide_settings, sync_to_thread=False),
            "slot_cache": Provide(_provide_slot_cache, sync_to_thread=False),
            "feed_cache": Provide(_provide_feed_cache, sync_to_thread=False),
            "database": Provide(deps.provide_database, sync_to_thread=False),
            "clock": Provide(deps.provide_clock, sync_to_thread=False),
        },
        lifespan=[lifespan],
        state=state,
        guards=[security.csrf_guard],
        before_send=[security.before_send],
        middleware=[security.AllowedHosts(hosts)],
        exception_handlers=EXCEPTION_HANDLERS,
        openapi_config=OpenAPIConfig(
            title="rdv-spie API",
            version="1",
            path="/api/v1/schema",
            description="Appointments for the service public de l'insertion et de l'emploi. "
            "Authenticate with 'Authorization: Bearer <API key>'.",
            render_plugins=[SwaggerRenderPlugin()],
        ),
        plugins=[TimeOfDaySchema()],
        debug=settings.debug,
    )
