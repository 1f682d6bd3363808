"""``GET /feeds/<token>.ics``: the calendars that apps subscribe to (a webcal:// link is the
same path), outside /api/v1 and without an API key: the token is the credential.

Unknown, revoked and expired tokens get the same 404, byte for byte. A strong ETag (the
body's SHA-256) comes with every feed; a matching If-None-Match gets a 304 with no body. The
bodies live in a per-process cache keyed by the feed's ``content.fingerprint`` (one aggregate
query), so an unchanged feed is answered without loading or rendering its events, and nothing
is shared between processes: a process that has not seen the fingerprint renders once.

The token is in the path: uvicorn's access log is off (``logging.py``) and the error handlers
log the route template, never the path. Never log ``filename``.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from litestar import Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath, HeaderParameter
from litestar.status_codes import HTTP_304_NOT_MODIFIED, HTTP_404_NOT_FOUND

from rdv_spie.calendars import content, service
from rdv_spie.calendars.cache import FeedCache
from rdv_spie.calendars.feed import render_feed
from rdv_spie.deps import AppSettings, Uow
from rdv_spie.web.errors import PROBLEM

CALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8" to text types
# The link is a secret: no shared cache may keep it, and every poll revalidates (cheaply).
_CACHE_CONTROL = "private, no-cache"
_PRIVATE = {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex, nofollow"}
_NOT_FOUND = (
    b'{"type":"urn:rdv-spie:problem:not_found","title":"Not found","status":404,'
    b'"detail":"no calendar feed at this address","code":"not_found"}'
)


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


@get(
    "/feeds/{filename:str}",
    include_in_schema=False,
    name="calendar_feed",
)
async def serve_feed(
    uow: Uow,
    settings: AppSettings,
    feed_cache: NamedDependency[FeedCache],
    filename: FromPath[str],
    if_none_match: Annotated[str | None, HeaderParameter(name="If-None-Match")] = None,
) -> Response[bytes]:
    """One calendar feed (text/calendar), or 304 when the caller's copy is current."""
    token = filename.removesuffix(".ics")
    if token == filename:
        return not_found()
    feed = await service.find_active(uow=uow, token=token)
    if feed is None:
        return not_found()
    about = await content.subject(uow, feed)
    if about is None:
        return not_found()
    w = content.window(
        uow.clock.now(), past_days=settings.feed_past_days, future_days=settings.feed_future_days
    )
    # The fingerprint is read before the events: a body is never older than its key.
    key = (
        content.feed_id_key(feed),
        w,
        about,
        await content.fingerprint(uow, feed, w),
        settings.public_url,
    )
    cached = feed_cache.get(key)
    if cached is None:
        events = await content.events(uow, feed, w, public_url=settings.public_url)
        body = render_feed(name=about.name, tzid=about.tzid, events=events)
        cached = feed_cache.put(key, f'"{hashlib.sha256(body).hexdigest()}"', body)
    etag, body = cached
    headers = {"ETag": etag, "Cache-Control": _CACHE_CONTROL, **_PRIVATE}
    if etag_matches(if_none_match, etag):
        return Response(b"", status_code=HTTP_304_NOT_MODIFIED, headers=headers)
    return Response(body, media_type=CALENDAR, headers=headers)
