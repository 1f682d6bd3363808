"""The job queue: the only place besides ``settings.py`` that knows arq.

Redis only wakes and schedules work; the database is the source of truth. A job id per
(notification, attempt) lets arq drop duplicates while a retry still gets a fresh job; one per
import run lets the sweep hand a run over again without queueing it twice.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Protocol

from arq.connections import ArqRedis


class JobQueue(Protocol):
    """Where due notifications are handed for sending."""

    async def enqueue_notification(
        self, notification_id: uuid.UUID, attempts: int = 0, *, overdue_round: int | None = None
    ) -> None:
        """Ask for one notification to be sent (``overdue_round``: see ``ArqQueue``)."""

    async def wake(self, notification_ids: list[uuid.UUID]) -> None:
        """Hand over notifications committed just now (attempt 0)."""

    async def enqueue_import(
        self, import_id: uuid.UUID, *, overdue_round: int | None = None
    ) -> None:
        """Ask for one confirmed import of people to be written."""


class ArqQueue:
    """Jobs in Redis for the arq worker."""

    def __init__(self, redis: ArqRedis, queue_name: str) -> None:
        self.redis = redis
        self.queue_name = queue_name

    async def enqueue_notification(
        self, notification_id: uuid.UUID, attempts: int = 0, *, overdue_round: int | None = None
    ) -> None:
        """Enqueue ``send_notification``; a job already queued for this attempt is kept.

        A message still pending long after it was due comes with ``overdue_round`` and gets a
        job id of that round: its job may be one a worker took and died with, which arq keeps
        marked in progress for the longest job timeout (the import's hour) and so neither runs
        nor lets the same id be queued again. One more job per round at most; the claim's
        compare-and-swap sends the message once whichever job comes first.
        """
        job_id = f"send:{notification_id}:{attempts}"
        if overdue_round is not None:
            job_id += f":overdue{overdue_round}"
        await self.redis.enqueue_job(
            "send_notification", str(notification_id), _job_id=job_id, _queue_name=self.queue_name
        )

    async def wake(self, notification_ids: list[uuid.UUID]) -> None:
        """Enqueue notifications committed just now."""
        for notification_id in notification_ids:
            await self.enqueue_notification(notification_id, 0)

    async def enqueue_import(
        self, import_id: uuid.UUID, *, overdue_round: int | None = None
    ) -> None:
        """Enqueue ``run_import``; a job already queued or running for this run is kept. The
        sweep passes its round, for the reason given in ``enqueue_notification``: a run left
        by a dead worker resumes within minutes, not once arq lets go of its job an hour on."""
        job_id = f"import:{import_id}"
        if overdue_round is not None:
            job_id += f":overdue{overdue_round}"
        await self.redis.enqueue_job(
            "run_import", str(import_id), _job_id=job_id, _queue_name=self.queue_name
        )


class InProcessQueue:
    """Without Redis: ids go to the web process's runner (see ``inprocess.py``)."""

    def __init__(self) -> None:
        self.pending: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self.imports: asyncio.Queue[uuid.UUID] = asyncio.Queue()
        self.woken = asyncio.Event()

    async def enqueue_notification(
        self, notification_id: uuid.UUID, attempts: int = 0, *, overdue_round: int | None = None
    ) -> None:
        """Queue one id for the runner."""
        self.pending.put_nowait(notification_id)
        self.woken.set()

    async def wake(self, notification_ids: list[uuid.UUID]) -> None:
        """Queue ids committed just now."""
        for notification_id in notification_ids:
            await self.enqueue_notification(notification_id)

    async def enqueue_import(
        self, import_id: uuid.UUID, *, overdue_round: int | None = None
    ) -> None:
        """Queue one import run for the runner."""
        self.imports.put_nowait(import_id)
        self.woken.set()
