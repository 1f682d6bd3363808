"""Without Redis (the embedded default) the web process runs the same jobs itself: the
planner, the committee cycle, the sweepers, delivery and imports of people, in background
tasks (an import runs beside the loop, so messages keep going out meanwhile). Several web
processes may do so at once: claims are compare-and-swaps, planning is idempotent.

On SQLite one connection writes at a time: while an import holds the write lock longer than
the busy timeout, a job gives up with "database is locked". That is not a failure: the pass
stops with one warning line and the next one does the work (jobs are idempotent, and what
was not claimed stays pending in the outbox)."""

from __future__ import annotations

import asyncio
import contextlib
import time
import uuid
from collections.abc import Awaitable, Callable
from typing import Any

import structlog

from rdv_spie.db.engine import is_database_busy
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
    jobs.forget_stale_imports,
)
CONCURRENT_SENDS = 8


class InProcessRunner:
    """Sweeps, plans and delivers in a loop; woken early when a request commits a message."""

    def __init__(self, context: JobContext, *, sweep_seconds: float) -> None:
        self.queue = InProcessQueue()
        self.ctx: dict[str, Any] = {"jobs": context, "queue": self.queue}
        self.sweep_seconds = sweep_seconds
        self._task: asyncio.Task[None] | None = None
        self._last_plan = self._last_daily = -GENERATE_EVERY_SECONDS
        self._daily_owed: list[Callable[[dict[str, Any]], Awaitable[int]]] = []
        self._imports: dict[uuid.UUID, asyncio.Task[None]] = {}
        # Started as a loop: imports run beside it. Called pass by pass (tests): a pass
        # waits for the imports it started.
        self.background = False
        context.db.on_due_notifications = self.queue.wake

    def start(self) -> None:
        """Start the loop in the background."""
        self.background = True
        self._task = asyncio.create_task(self._loop(), name="rdv-spie-inprocess-jobs")

    async def stop(self) -> None:
        """Stop the loop (a send in flight is abandoned: its lease lets the next run finish)."""
        tasks = [*([self._task] if self._task is not None else []), *self._imports.values()]
        for task in tasks:  # an import stopped mid-way resumes when its lease expires
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def run_once(self, *, plan: bool = True) -> bool:
        """One pass: plan, sweep, deliver everything due (tests call this directly). False
        when the database stayed locked: the rest of the pass waits for the next one."""
        try:
            if plan:
                await jobs.plan_messages(self.ctx)
                await jobs.run_committees(self.ctx)
            await jobs.sweep_outbox(self.ctx)
            await jobs.sweep_imports(self.ctx)
        except Exception as exc:
            if not is_database_busy(exc):
                raise
            _busy("plan_messages" if plan else "sweep_outbox")
            return False
        return await self.drain()

    async def tick(self) -> None:
        """What the loop does each time: the daily jobs when due, planning when due, a pass."""
        try:
            if not await self._daily():
                return
            now = time.monotonic()
            plan = now - self._last_plan >= PLAN_EVERY_SECONDS
            if await self.run_once(plan=plan) and plan:
                self._last_plan = now
        except Exception:
            _log.exception("inprocess_jobs_failed")

    async def drain(self) -> bool:
        """Deliver every queued id, a few at a time (like an arq worker's concurrent jobs).
        False when the database stayed locked for some: they are still pending, and the
        next sweep hands them over again."""
        await self._start_imports()
        ids: list[uuid.UUID] = []
        while not self.queue.pending.empty():
            notification_id = self.queue.pending.get_nowait()
            if notification_id not in ids:
                ids.append(notification_id)
        if not ids:
            return True
        gate = asyncio.Semaphore(CONCURRENT_SENDS)
        busy: list[uuid.UUID] = []

        async def send(notification_id: uuid.UUID) -> None:
            async with gate:
                try:
                    await jobs.send_notification(self.ctx, str(notification_id))
                except Exception as exc:  # one bad row must not stop the others
                    if is_database_busy(exc):
                        busy.append(notification_id)
                    else:  # its lease expires, then the sweeper moves it on
                        _log.exception(
                            "inprocess_send_failed", notification_id=str(notification_id)
                        )

        await asyncio.gather(*(send(i) for i in ids))
        if busy:
            _busy("send_notification", notifications=len(busy))
        return not busy

    async def _start_imports(self) -> None:
        """Start a task for each import handed over (one per run at a time)."""
        started: list[asyncio.Task[None]] = []
        while not self.queue.imports.empty():
            import_id = self.queue.imports.get_nowait()
            task = self._imports.get(import_id)
            if task is None or task.done():
                task = asyncio.create_task(self._import(import_id), name=f"import-{import_id}")
                self._imports[import_id] = task
            started.append(task)
        if started and not self.background:
            await asyncio.gather(*started)

    async def _import(self, import_id: uuid.UUID) -> None:
        try:
            await jobs.run_import(self.ctx, str(import_id))
        except Exception as exc:  # its lease expires, then the sweep hands it over again
            if is_database_busy(exc):
                _busy("run_import")
            else:
                _log.exception("inprocess_import_failed", import_id=str(import_id))
        finally:
            if self._imports.get(import_id) is asyncio.current_task():
                del self._imports[import_id]

    async def _daily(self) -> bool:
        """The daily jobs still owed today, each on its own: one failing does not hold back
        the others (it is tried again the next day, or at the next start). False when the
        database stayed locked: that job and the ones after it are tried at the next tick."""
        now = time.monotonic()
        if now - self._last_daily >= GENERATE_EVERY_SECONDS:
            self._last_daily = now
            self._daily_owed = list(DAILY)
        while self._daily_owed:
            job = self._daily_owed[0]
            try:
                await job(self.ctx)
            except Exception as exc:
                if is_database_busy(exc):
                    _busy(job.__name__)
                    return False
                _log.exception("inprocess_daily_job_failed", job=job.__name__)
            self._daily_owed.pop(0)
        return True

    async def _loop(self) -> None:
        while True:
            await self.tick()
            self.queue.woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.queue.woken.wait(), self.sweep_seconds)
            try:
                await self.drain()
            except Exception:
                _log.exception("inprocess_jobs_failed")


def _busy(job: str, **fields: int) -> None:
    # One line, no traceback: nothing failed, the job runs again at the next tick.
    _log.warning("inprocess_database_busy", job=job, **fields)
