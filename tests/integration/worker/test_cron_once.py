"""Cron jobs run once per due time however many workers there are (issue 18, item 1), on a
real redis-server, with the project's worker settings (worker/settings.py).

arq names a cron run ``<name>:<due time>`` and enqueues it only when neither that job nor its
result exists. Two workers polling together both see the job queued (it waits for its due
time); a worker that comes late, after the run has finished, sees only the kept result — which
arq's default for cron jobs does not keep. ``scheduled`` keeps it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from arq import create_pool
from arq.worker import Worker
from tests.support.redis_server import RedisServer

from rdv_spie.settings import Settings
from rdv_spie.worker.settings import CRON_RESULT_KEPT_S, scheduled, worker_settings

RUNS: list[str] = []


async def tick(ctx: dict[str, Any]) -> int:
    """The cron job of these tests: notes which due time it ran for."""
    RUNS.append(ctx["job_id"])
    await asyncio.sleep(0.05)
    return len(RUNS)


def _worker(settings: Settings, pool: Any, cron_job: Any, *, burst: bool = False) -> Worker:
    options = worker_settings(settings)
    options.update(functions=[], cron_jobs=[cron_job], on_startup=None, on_shutdown=None)
    return Worker(**options, redis_pool=pool, burst=burst, handle_signals=False, poll_delay=0.05)


async def _pool(settings: Settings) -> Any:
    options = worker_settings(settings)
    return await create_pool(
        options["redis_settings"],
        job_serializer=options["job_serializer"],
        job_deserializer=options["job_deserializer"],
        default_queue_name=options["queue_name"],
    )


def test_every_cron_of_the_worker_keeps_its_result() -> None:
    crons = worker_settings(Settings(redis_url="redis://127.0.0.1:1/0"))["cron_jobs"]
    assert {c.name for c in crons} >= {
        "cron:plan_messages",
        "cron:run_committees",
        "cron:sweep_outbox",
        "cron:purge_personal_data",
    }
    assert all(c.unique and c.keep_result_s == CRON_RESULT_KEPT_S for c in crons)


async def test_two_workers_run_each_due_time_once(tmp_path: Path) -> None:
    RUNS.clear()
    with RedisServer(tmp_path) as redis:
        settings = Settings(redis_url=redis.url)
        pool = await _pool(settings)
        workers = [
            _worker(settings, pool, scheduled(tick, second=set(range(60)), microsecond=0))
            for _ in range(2)
        ]
        tasks = [asyncio.create_task(w.async_run()) for w in workers]
        await asyncio.sleep(3.6)
        for w in workers:
            await w.close()
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await pool.aclose()
    per_due_time = Counter(RUNS)
    assert len(per_due_time) >= 2, RUNS
    assert set(per_due_time.values()) == {1}, per_due_time


async def test_a_late_worker_does_not_run_a_finished_due_time_again(tmp_path: Path) -> None:
    RUNS.clear()
    now = datetime.now(UTC)
    due = (now + timedelta(seconds=2)).replace(microsecond=0)
    with RedisServer(tmp_path) as redis:
        settings = Settings(redis_url=redis.url)
        pool = await _pool(settings)

        def job() -> Any:
            return scheduled(tick, second={due.second}, microsecond=0)

        first = _worker(settings, pool, job())
        await first.run_cron(now, 0.5)  # learns the next due time
        await asyncio.sleep(max((due - datetime.now(UTC)).total_seconds() - 0.7, 0))
        await first.run_cron(datetime.now(UTC), 0.5)  # queues it, waiting for the due time
        assert await pool.zcard(first.queue_name) == 1
        await _worker(settings, pool, job(), burst=True).async_run()  # runs it at due time
        assert [f"cron:tick:{int(due.timestamp() * 1000)}"] == RUNS

        # A second worker whose loop was busy until now reaches the same due time.
        late = _worker(settings, pool, job())
        await late.run_cron(due - timedelta(seconds=0.5), 0.5)
        await late.run_cron(due - timedelta(seconds=0.4), 0.5)
        assert await pool.zcard(late.queue_name) == 0
        await _worker(settings, pool, job(), burst=True).async_run()
        await pool.aclose()
    assert len(RUNS) == 1, RUNS
