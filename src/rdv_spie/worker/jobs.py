"""The jobs, each taking ids only (never an address, a phone number or a token) and safe to
run twice. Registered with arq in ``settings.py`` and run directly by ``inprocess.py``."""

from __future__ import annotations

import uuid
from typing import Any

import structlog

from rdv_spie.invitations import service as invitations
from rdv_spie.notifications import outbox
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.queue import JobQueue

_log = structlog.get_logger(__name__)


def _jobs(ctx: dict[str, Any]) -> JobContext:
    jobs: JobContext = ctx["jobs"]
    return jobs


async def send_notification(ctx: dict[str, Any], notification_id: str) -> str:
    """Send one outbox row (claimed by compare-and-swap: a duplicate job does nothing)."""
    return await _jobs(ctx).deliverer.deliver(uuid.UUID(notification_id))


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Move on crashed sends and hand every due message to the queue again (a lost enqueue,
    a Redis restart or a dead worker only delays a message). Returns how many were due."""
    jobs = _jobs(ctx)
    queue: JobQueue = ctx["queue"]
    recovered = await outbox.recover(jobs.db, clock=jobs.clock)
    due = await outbox.due(jobs.db, clock=jobs.clock)
    for notification_id, attempts in due:
        await queue.enqueue_notification(notification_id, attempts)
    if any(recovered) or due:
        _log.info("outbox_swept", due=len(due), recovered=list(recovered))
    return len(due)


async def plan_messages(ctx: dict[str, Any]) -> dict[str, int]:
    """Plan invitations, reminders and alerts for every active cohort."""
    jobs = _jobs(ctx)
    report = await invitations.plan(
        db=jobs.db,
        clock=jobs.clock,
        secret_key=jobs.secret_key,
        grid_minutes=jobs.settings.slot_grid_minutes,
    )
    counts = {
        "invited": report.invited,
        "waiting": report.waiting,
        "reminders": report.reminders,
        "deadline_alerts": report.deadline_alerts,
        "no_slot_alerts": report.no_slot_alerts,
    }
    if any(counts.values()):
        _log.info("messages_planned", **counts)
    return counts
