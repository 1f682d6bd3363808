"""Without Redis (the embedded default) the web process runs the same jobs itself: the
planner, the committee cycle, the sweeper and delivery, in one background task. Several web
processes may do so at once: claims are compare-and-swaps, planning is idempotent."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from typing import Any

import structlog

from rdv_spie.worker import jobs
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.queue import InProcessQueue

_log = structlog.get_logger(__name__)
PLAN_EVERY_SECONDS = 60.0
GENERATE_EVERY_SECONDS = 86_400.0  # CTO sessions are generated months ahead
DAILY = (
    jobs.generate_cto_sessions,
    jobs.purge_web_state,
    jobs.purge_personal_data,
    jobs.purge_audit,
)
CONCURRENT_SENDS = 8


class InProcessRunner:
    """Sweeps, plans and delivers in a loop; woken early when a request commits a message."""

    def __init__(self, context: JobContext, *, sweep_seconds: float) -> None:
        self.queue = InProcessQueue()
        self.ctx: dict[str, Any] = {"jobs": context, "queue": self.queue}
        self.sweep_seconds = sweep_seconds
        self._task: asyncio.Task[None] | None = None
        context.db.on_due_notifications = self.queue.wake

    def start(self) -> None:
        """Start the loop in the background."""
        self._task = asyncio.create_task(self._loop(), name="rdv-spie-inprocess-jobs")

    async def stop(self) -> None:
        """Stop the loop (a send in flight is abandoned: its lease lets the next run finish)."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def run_once(self, *, plan: bool = True) -> None:
        """One pass: plan, sweep, deliver everything due (tests call this directly)."""
        if plan:
            await jobs.plan_messages(self.ctx)
            await jobs.run_committees(self.ctx)
        await jobs.sweep_outbox(self.ctx)
        await self._drain()

    async def _drain(self) -> None:
        """Deliver every queued id, a few at a time (like an arq worker's concurrent jobs)."""
        ids: list[uuid.UUID] = []
        while not self.queue.pending.empty():
            notification_id = self.queue.pending.get_nowait()
            if notification_id not in ids:
                ids.append(notification_id)
        if not ids:
            return
        gate = asyncio.Semaphore(CONCURRENT_SENDS)

        async def send(notification_id: uuid.UUID) -> None:
            async with gate:
                try:
                    await jobs.send_notification(self.ctx, str(notification_id))
                except Exception:  # one bad row must not stop the others; its lease expires
                    _log.exception("inprocess_send_failed", notification_id=str(notification_id))

        await asyncio.gather(*(send(i) for i in ids))

    async def _daily(self) -> None:
        """The daily jobs, each on its own: one failing does not hold back the others (it
        is tried again the next day, or at the next start)."""
        for job in DAILY:
            try:
                await job(self.ctx)
            except Exception:
                _log.exception("inprocess_daily_job_failed", job=job.__name__)

    async def _loop(self) -> None:
        last_plan = last_generate = -GENERATE_EVERY_SECONDS
        while True:
            try:
                if time.monotonic() - last_generate >= GENERATE_EVERY_SECONDS:
                    await self._daily()
                    last_generate = time.monotonic()
                plan = time.monotonic() - last_plan >= PLAN_EVERY_SECONDS
                await self.run_once(plan=plan)
                if plan:
                    last_plan = time.monotonic()
            except Exception:
                _log.exception("inprocess_jobs_failed")
            self.queue.woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.woken.wait(), self.sweep_seconds)
            await self._drain()
