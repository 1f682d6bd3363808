"""Rate limits on the endpoints an attacker would hammer: invitation links, the identity
check, the login form.

Fixed windows counted where every web process sees them: Redis when configured (INCR and
EXPIRE in one transaction), else the database (one upsert in its own short transaction, so a
refused request still counts). The window comes from the injected clock, so tests move time.
Keys carry a purpose and a subject (an IP address, a hashed e-mail), never a token.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from litestar import Request
from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database
from rdv_spie.errors import DomainError
from rdv_spie.web.models import RateCounter


class TooManyRequests(DomainError):
    """Too many tries: come back after ``retry_after`` seconds."""

    status = 429
    default_code = "rate_limited"

    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many requests; retry after {retry_after} s", code="rate_limited")
        self.retry_after = retry_after


@dataclass(frozen=True, slots=True)
class Limit:
    """At most ``hits`` in each window of ``window_seconds``."""

    hits: int
    window_seconds: int


class Counter(Protocol):
    """Counts hits of ``key`` in the window starting at ``window_start``."""

    async def incr(self, key: str, window_start: datetime, window_seconds: int) -> int: ...

    async def get(self, key: str, window_start: datetime) -> int: ...


def client(request: Request[Any, Any, Any]) -> str:
    """Who is asking, for a counter key: the client address (the proxy's X-Forwarded-For once
    uvicorn trusts it), IPv6 addresses grouped by /64 (one subscriber's whole prefix)."""
    host = request.client.host if request.client else "unknown"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host[:64]
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


def subject(secret_key: bytes, value: str) -> str:
    """A short, non-reversible form of a subject (an e-mail) for a counter key: keyed with the
    application's secret (HMAC-SHA-256), so whoever reads the counters (Redis keys, the
    rate_counter table) cannot confirm an address by hashing a guess."""
    message = b"rate-limit\x00" + value.strip().lower().encode()
    return hmac.new(secret_key, message, hashlib.sha256).hexdigest()[:32]


class RateLimiter:
    """Checks limits against a shared counter."""

    def __init__(self, counter: Counter, clock: Clock) -> None:
        self._counter = counter
        self._clock = clock

    def _window(self, limit: Limit) -> tuple[datetime, datetime]:
        now = self._clock.now()
        epoch = int(now.timestamp())
        return now, datetime.fromtimestamp(epoch - epoch % limit.window_seconds, UTC)

    def _refuse(self, now: datetime, window_start: datetime, limit: Limit) -> TooManyRequests:
        remaining = window_start + timedelta(seconds=limit.window_seconds) - now
        return TooManyRequests(max(1, int(remaining.total_seconds() + 0.999)))

    async def hit(self, purpose: str, who: str, limit: Limit) -> None:
        """Count a hit; raise TooManyRequests once the window's allowance is spent."""
        now, window_start = self._window(limit)
        hits = await self._counter.incr(f"rl:{purpose}:{who}", window_start, limit.window_seconds)
        if hits > limit.hits:
            raise self._refuse(now, window_start, limit)

    async def check(self, purpose: str, who: str, limit: Limit) -> None:
        """Raise TooManyRequests when the allowance is spent, without counting (failures are
        counted afterwards with ``hit``: a login limit that counts only wrong passwords)."""
        now, window_start = self._window(limit)
        if await self._counter.get(f"rl:{purpose}:{who}", window_start) >= limit.hits:
            raise self._refuse(now, window_start, limit)


class RedisCounter:
    """Counters in Redis, one key per window, expiring with it."""

    def __init__(self, redis: object) -> None:
        self._redis = redis

    async def incr(self, key: str, window_start: datetime, window_seconds: int) -> int:
        full = f"{key}:{int(window_start.timestamp())}"
        async with self._redis.pipeline(transaction=True) as pipe:  # type: ignore[attr-defined]
            pipe.incr(full)
            pipe.expire(full, window_seconds * 2)
            hits, _ = await pipe.execute()
        return int(hits)

    async def get(self, key: str, window_start: datetime) -> int:
        value = await self._redis.get(f"{key}:{int(window_start.timestamp())}")  # type: ignore[attr-defined]
        return int(value or 0)


class DatabaseCounter:
    """Counters in the ``rate_counter`` table, one row per key, reset when its window ends."""

    def __init__(self, database: Callable[[], Database], clock: Clock) -> None:
        self._database = database  # the app's, once its lifespan has opened it
        self._clock = clock

    async def incr(self, key: str, window_start: datetime, window_seconds: int) -> int:
        async with self._database().unit_of_work(clock=self._clock) as uow:
            insert = pg_insert if uow.is_postgres else sqlite_insert
            stmt = insert(RateCounter).values(key=key, window_started_at=window_start, hits=1)
            same_window = RateCounter.window_started_at == stmt.excluded.window_started_at
            upsert = stmt.on_conflict_do_update(
                index_elements=[RateCounter.key],
                set_={
                    "hits": case((same_window, RateCounter.hits + 1), else_=1),
                    "window_started_at": stmt.excluded.window_started_at,
                },
            ).returning(RateCounter.hits)
            hits = await uow.session.scalar(upsert)
        return int(hits or 0)

    async def get(self, key: str, window_start: datetime) -> int:
        async with self._database().unit_of_work(clock=self._clock, write=False) as uow:
            hits = await uow.session.scalar(
                select(RateCounter.hits).where(
                    RateCounter.key == key, RateCounter.window_started_at == window_start
                )
            )
        return int(hits or 0)
