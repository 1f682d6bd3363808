"""``GET /feeds/<token>.ics``: the calendars that apps subscribe to (a webcal:// link is the
same path), outside /api/v1 and without an API key: the token is the credential.

Unknown, revoked and expired tokens get the same 404, byte for byte. A strong ETag (the
body's SHA-256) comes with every feed; a matching If-None-Match gets a 304 with no body. The
bodies live in a per-process cache keyed by the ``calendar_version`` counter, read in the same
query as the token (``cache.py``), so a poll of an unchanged feed costs that one query: nothing
is loaded or rendered, and nothing is shared between processes (a process that has not seen
the counter's value renders once). A write anywhere bumps the counter; the next poll then
renders again, and still gets a 304 when its body came out the same.

The token is in the path: uvicorn's access log is off (``logging.py``) and the error handlers
log the route template, never the path. Never log ``filename``.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Annotated

from litestar import Response, route
from litestar.datastructures import State
from litestar.enums import HttpMethod
from litestar.params import FromPath, HeaderParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED, HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncEngine

from rdv_spie.calendars import content, service
from rdv_spie.calendars.cache import FeedCache
from rdv_spie.calendars.feed import render_feed
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings
from rdv_spie.web.errors import PROBLEM

CALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
# The link is a secret: no shared cache may keep it, and every poll revalidates (cheaply).
_CACHE_CONTROL = "private, no-cache"
_PRIVATE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}
_NOT_FOUND = (
    b'{"type":"urn:rdv-spie:problem:not_found","title":"Not found","status":404,'
    b'"detail":"no calendar feed at this address","code":"not_found"}'
)


@lru_cache(maxsize=8)
def _polling(engine: AsyncEngine) -> AsyncEngine:
    """The engine for the one-statement poll: on PostgreSQL in autocommit, which saves the
    BEGIN and ROLLBACK round trips (a single statement sees one snapshot anyway). SQLite keeps
    its own BEGIN handling (db/engine.py)."""
    if engine.dialect.name == "postgresql":
        return engine.execution_options(isolation_level="AUTOCOMMIT")
    return engine


def not_found() -> Response[bytes]:
    """The one answer for every token that does not open a feed."""
    return Response(
        _NOT_FOUND,
        status_code=HTTP_404_NOT_FOUND,
        media_type=PROBLEM,
        headers={"Cache-Control": "no-store", **_PRIVATE},
    )


def etag_matches(header: str | None, etag: str) -> bool:
    """If-None-Match uses the weak comparison (RFC 9110 §13.1.2)."""
    if not header:
        return False
    if header.strip() == "*":
        return True
    return any(tag.strip().removeprefix("W/") == etag for tag in header.split(","))


@route(
    "/feeds/{filename:str}",
    http_method=[HttpMethod.GET, HttpMethod.HEAD],
    include_in_schema=False,
    name="calendar_feed",
)
async def serve_feed(
    state: State,
    filename: FromPath[str],
    if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
) -> Response[bytes]:
    """One calendar feed (text/calendar), or 304 when the caller's copy is current. ``HEAD``
    answers the same status and headers (ETag, Content-Length) without the body."""
    # The application's pieces come from its state, not as four dependencies: this is the
    # path calendar apps poll, and resolving them would be most of its cost (make bench).
    database: Database = state.db
    clock: Clock = state.clock
    settings: Settings = state.settings
    feed_cache: FeedCache = state.feed_cache
    token = filename.removesuffix(".ics")
    if token == filename:
        return not_found()
    now = clock.now()
    async with _polling(database.engine).connect() as conn:
        feed = await service.find_active(conn, token=token, now=now)
    if feed is None:
        return not_found()
    w = content.window(
        now, past_days=settings.feed_past_days, future_days=settings.feed_future_days
    )
    # Two links of one subject share a body; the counter was read with the link.
    key = (feed.kind, feed.subject_id, w, feed.calendar_version, settings.public_url)
    cached = feed_cache.get(key)
    if cached is None:
        # Read after the counter: a body is never older than the counter it is kept under.
        async with database.unit_of_work(clock=clock, write=False) as uow:
            about = await content.subject(uow, feed)
            if about is None:
                return not_found()
            events = await content.events(uow, feed, w, public_url=settings.public_url)
        body = render_feed(name=about.name, tzid=about.tzid, events=events)
        cached = feed_cache.put(key, f'"{hashlib.sha256(body).hexdigest()}"', body)
    etag, body = cached
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, **_PRIVATE}
    if etag_matches(if_none_match, etag):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=CALENDAR, headers=headers)
