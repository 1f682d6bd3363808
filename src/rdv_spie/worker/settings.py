"""arq wiring: the worker's functions, crons, start-up and shutdown (the other arq import is
``queue.py``). Built from Settings when asked, never at import time."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from arq import cron, func
from arq.connections import RedisSettings
from arq.cron import CronJob
from arq.worker import Function

from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, settings_clock
from rdv_spie.logging import configure_logging
from rdv_spie.notifications.transports.factory import Transports
from rdv_spie.settings import Settings
from rdv_spie.worker import jobs
from rdv_spie.worker.context import build_context
from rdv_spie.worker.queue import ArqQueue

QUEUE_NAME = "rdv-spie"
IMPORT_TIMEOUT_S = 3600


def _dumps(value: dict[str, Any]) -> bytes:
    return json.dumps(value, separators=(",", ":")).encode()


def _loads(raw: bytes) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(raw)
    return loaded


def pool_options() -> dict[str, Any]:
    """``arq.create_pool`` keywords for a process that queues jobs (the web): the worker's
    JSON format, not arq's default pickle, which the worker cannot read."""
    return {"job_serializer": _dumps, "job_deserializer": _loads}


# How long a cron job's outcome (counts only) stays in Redis under its job id.
CRON_RESULT_KEPT_S = 3600


def scheduled(coroutine: Callable[..., Any], **schedule: Any) -> CronJob:
    """A cron job that runs once per due time however many workers there are.

    arq gives a cron run the job id ``<name>:<due time>`` and enqueues it only when neither
    that job nor its result exists. Its default keeps no result, so a worker that reaches the
    due time late (its loop busy with an import) would find nothing once another worker has
    finished the run, and run it again. Keeping the result an hour closes that gap (the
    test: tests/integration/worker/test_cron_once.py).
    """
    return cron(coroutine, unique=True, keep_result=CRON_RESULT_KEPT_S, **schedule)


def redis_settings(settings: Settings) -> RedisSettings:
    """arq's connection settings from RDV_REDIS_URL."""
    if not settings.redis_url:
        raise ValueError("the worker needs RDV_REDIS_URL (without it the web process sends)")
    return RedisSettings.from_dsn(settings.redis_url)


def worker_settings(
    settings: Settings,
    *,
    clock: Clock | None = None,
    db: Database | None = None,
    transports: Transports | None = None,
) -> dict[str, Any]:
    """Keyword arguments for ``arq.worker.Worker`` (tests pass a clock, a database and
    transports pointed at loopback servers)."""
    clock = clock or settings_clock(settings)

    async def on_startup(ctx: dict[str, Any]) -> None:
        configure_logging(level=settings.log_level, json=settings.log_json)
        context = build_context(settings, clock, db=db, transports=transports)
        queue = ArqQueue(ctx["redis"], QUEUE_NAME)
        context.db.on_due_notifications = queue.wake
        ctx["jobs"] = context
        ctx["queue"] = queue

    async def on_shutdown(ctx: dict[str, Any]) -> None:
        if "jobs" in ctx:
            await ctx["jobs"].aclose()

    functions: list[Callable[..., Any] | Function] = [
        jobs.send_notification,
        # A file of 100,000 people takes a minute or two; a worker that dies mid-way leaves
        # a lease the sweep takes over after it expires.
        func(jobs.run_import, timeout=IMPORT_TIMEOUT_S),
    ]
    return {
        "functions": functions,
        "cron_jobs": [
            scheduled(jobs.sweep_outbox, second={0, 30}, run_at_startup=True, timeout=120),
            scheduled(jobs.sweep_imports, second={15, 45}, run_at_startup=True, timeout=60),
            scheduled(
                jobs.plan_messages, minute=set(range(0, 60, 5)), run_at_startup=True, timeout=600
            ),
            scheduled(
                jobs.run_committees, minute=set(range(0, 60, 5)), run_at_startup=True, timeout=600
            ),
            scheduled(
                jobs.generate_cto_sessions, hour={3}, minute={17}, run_at_startup=True, timeout=600
            ),
            scheduled(jobs.purge_web_state, hour={4}, minute={7}, timeout=600),
            scheduled(jobs.purge_personal_data, hour={4}, minute={22}, timeout=1800),
            scheduled(jobs.purge_audit, hour={4}, minute={37}, timeout=600),
            scheduled(jobs.forget_stale_imports, hour={4}, minute={52}, timeout=600),
        ],
        "on_startup": on_startup,
        "on_shutdown": on_shutdown,
        "redis_settings": redis_settings(settings),
        "queue_name": QUEUE_NAME,
        "job_serializer": _dumps,
        "job_deserializer": _loads,
        "keep_result": 0,  # a retry must be able to reuse nothing; the outbox keeps outcomes
        "max_tries": 1,  # retries are the outbox's business (backoff, jitter, give-up)
        "job_timeout": 120,
        "max_jobs": 20,
    }
