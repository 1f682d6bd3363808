"""Browser sessions (web/sessions.py) and rate limits (web/ratelimit.py) on both databases and
on Redis: timeouts follow the injected clock, ended sessions stay dead, counters are shared."""

from __future__ import annotations

import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from redis.asyncio import Redis
from sqlalchemy import select
from tests.support.redis_server import RedisServer

from rdv_spie.agents.models import Agent
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings
from rdv_spie.web import ratelimit, sessions
from rdv_spie.web.models import RateCounter, SessionKind


async def _agent(db: Database, clock: FrozenClock) -> uuid.UUID:
    async with db.unit_of_work(clock=clock) as uow:
        agent = Agent(email=f"{uuid.uuid4().hex}@exemple.fr", first_name="A", last_name="B")
        uow.session.add(agent)
        await uow.session.flush()
        return agent.id


async def _current(db: Database, clock: FrozenClock, settings: Settings, token: str) -> bool:
    async with db.unit_of_work(clock=clock) as uow:
        row = await sessions.current_session(uow, settings, token, SessionKind.AGENT)
        return row is not None


async def test_idle_and_absolute_timeouts(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    agent_id = await _agent(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        token, row = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
    assert row.token_hash != token and len(token) >= 43  # 256 bits, stored hashed
    idle = timedelta(minutes=settings.agent_session_idle_minutes)
    # Activity keeps it alive past the idle timeout…
    for _ in range(3):
        clock.advance(idle - timedelta(minutes=1))
        assert await _current(db, clock, settings, token)
    # …but never past the absolute one.
    clock.advance(timedelta(minutes=settings.agent_session_max_minutes))
    assert not await _current(db, clock, settings, token)

    async with db.unit_of_work(clock=clock) as uow:
        token, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
    clock.advance(idle + timedelta(seconds=1))
    assert not await _current(db, clock, settings, token)
    clock.advance(-idle)  # once timed out, it is ended for good
    assert not await _current(db, clock, settings, token)


async def test_rotation_and_logout_end_the_old_session(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    agent_id = await _agent(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        first, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
    async with db.unit_of_work(clock=clock) as uow:
        second, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id, replaces=first
        )
    assert second != first
    assert not await _current(db, clock, settings, first)
    assert await _current(db, clock, settings, second)
    async with db.unit_of_work(clock=clock) as uow:
        await sessions.end_session(uow, second)
    assert not await _current(db, clock, settings, second)
    async with db.unit_of_work(clock=clock) as uow:  # one kind is never taken for the other
        third, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
    async with db.unit_of_work(clock=clock) as uow:
        assert await sessions.current_session(uow, settings, third, SessionKind.AGENT) is not None
        assert await sessions.current_session(uow, settings, third, SessionKind.PERSON) is None
        assert await sessions.current_session(uow, settings, "x" * 500, SessionKind.AGENT) is None


async def _exhaust(limiter: ratelimit.RateLimiter, who: str) -> int:
    limit = ratelimit.Limit(hits=3, window_seconds=60)
    for _ in range(3):
        await limiter.hit("login", who, limit)
    with pytest.raises(ratelimit.TooManyRequests) as refused:
        await limiter.hit("login", who, limit)
    return refused.value.retry_after


async def test_database_counter(db: Database, clock: FrozenClock) -> None:
    limiter = ratelimit.RateLimiter(ratelimit.DatabaseCounter(lambda: db, clock), clock)
    clock.advance(timedelta(seconds=20 - clock.now().timestamp() % 60))  # 20 s into a window
    assert await _exhaust(limiter, "192.0.2.1") == 40
    await limiter.hit("login", "192.0.2.2", ratelimit.Limit(3, 60))  # another subject
    await limiter.hit("identity", "192.0.2.1", ratelimit.Limit(3, 60))  # another purpose
    clock.advance(timedelta(seconds=40))  # the next window starts afresh
    assert await _exhaust(limiter, "192.0.2.1") == 60


async def test_redis_counter_is_shared(clock: FrozenClock, tmp_path: Path) -> None:
    with RedisServer(tmp_path) as server:
        first, second = Redis.from_url(server.url), Redis.from_url(server.url)
        try:
            # Two web processes: each has its own client, both see one count.
            a = ratelimit.RateLimiter(ratelimit.RedisCounter(first), clock)
            b = ratelimit.RateLimiter(ratelimit.RedisCounter(second), clock)
            limit = ratelimit.Limit(hits=3, window_seconds=60)
            await a.hit("token", "192.0.2.9", limit)
            await b.hit("token", "192.0.2.9", limit)
            await a.hit("token", "192.0.2.9", limit)
            with pytest.raises(ratelimit.TooManyRequests):
                await b.hit("token", "192.0.2.9", limit)
            ttl = await first.ttl(f"rl:token:192.0.2.9:{int(clock.now().timestamp()) // 60 * 60}")
            assert 0 < ttl <= 120  # keys expire with their window
        finally:
            await first.aclose()
            await second.aclose()


async def test_purge_keeps_live_sessions_and_current_counters(
    db: Database, clock: FrozenClock, settings: Settings
) -> None:
    agent_id = await _agent(db, clock)
    async with db.unit_of_work(clock=clock) as uow:
        old, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
        await sessions.end_session(uow, old)
    limiter = ratelimit.RateLimiter(ratelimit.DatabaseCounter(lambda: db, clock), clock)
    await limiter.hit("login", "192.0.2.1", ratelimit.Limit(3, 60))
    clock.advance(sessions.KEEP_ENDED + timedelta(minutes=1))
    async with db.unit_of_work(clock=clock) as uow:
        live, _ = await sessions.open_session(
            uow, settings, kind=SessionKind.AGENT, agent_id=agent_id
        )
    await limiter.hit("login", "192.0.2.2", ratelimit.Limit(3, 60))

    assert await sessions.purge(db, clock) == 2  # the ended session and the old counter
    assert await sessions.purge(db, clock) == 0
    assert await _current(db, clock, settings, live)
    async with db.unit_of_work(clock=clock) as uow:
        keys = set((await uow.session.scalars(select(RateCounter.key))).all())
    assert keys == {"rl:login:192.0.2.2"}
