"""The jobs, each taking ids only (never an address, a phone number or a token) and safe to
run twice. Registered with arq in ``settings.py`` and run directly by ``inprocess.py``."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import structlog

from rdv_spie.audit import service as audit
from rdv_spie.committees import cycle as committees
from rdv_spie.invitations import service as invitations
from rdv_spie.notifications import outbox
from rdv_spie.people import imports
from rdv_spie.privacy import retention
from rdv_spie.web import sessions
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.queue import JobQueue

_log = structlog.get_logger(__name__)


def _jobs(ctx: dict[str, Any]) -> JobContext:
    jobs: JobContext = ctx["jobs"]
    return jobs


async def send_notification(ctx: dict[str, Any], notification_id: str) -> str:
    """Send one outbox row (claimed by compare-and-swap: a duplicate job does nothing)."""
    return await _jobs(ctx).deliverer.deliver(uuid.UUID(notification_id))


@dataclass(frozen=True, slots=True)
class _At:
    """A clock stopped at one instant (to ask the outbox what was due by then)."""

    instant: datetime

    def now(self) -> datetime:
        return self.instant


# A message still pending this long after it was due gets a job of its own again (see
# ``ArqQueue.enqueue_notification``): a worker killed with its send jobs taken but the
# messages not yet claimed would otherwise hold them back for an hour.
OVERDUE = timedelta(minutes=2)


async def sweep_outbox(ctx: dict[str, Any]) -> int:
    """Move on crashed sends and hand every due message to the queue again (a lost enqueue,
    a Redis restart or a dead worker only delays a message). Returns how many were due."""
    jobs = _jobs(ctx)
    queue: JobQueue = ctx["queue"]
    recovered = await outbox.recover(jobs.db, clock=jobs.clock)
    now = jobs.clock.now()
    due = await outbox.due(jobs.db, clock=jobs.clock)
    overdue = {n for n, _ in await outbox.due(jobs.db, clock=_At(now - OVERDUE))}
    this_round = int(now.timestamp() // OVERDUE.total_seconds())
    for notification_id, attempts in due:
        late = this_round if notification_id in overdue else None
        await queue.enqueue_notification(notification_id, attempts, overdue_round=late)
    if any(recovered) or due:
        _log.info("outbox_swept", due=len(due), overdue=len(overdue), recovered=list(recovered))
    return len(due)


async def run_import(ctx: dict[str, Any], import_id: str) -> str:
    """Write a confirmed import of people, batch by batch (claimed with a lease: a duplicate
    job does nothing; a run left by a dead worker resumes after its last batch)."""
    jobs = _jobs(ctx)
    outcome = await imports.run(db=jobs.db, clock=jobs.clock, import_id=uuid.UUID(import_id))
    _log.info("import_run", import_id=import_id, outcome=outcome)
    return outcome


async def sweep_imports(ctx: dict[str, Any]) -> int:
    """Hand over again the imports queued or left by a dead worker (lease expired): a lost
    enqueue or a crash only delays an import. Returns how many were handed over.

    Nobody is working on a due run, so each gets a job of this round (one more job per
    ``OVERDUE`` at most; the run's lease lets one job in): the job it had may be held by a
    dead worker, which arq would not let go of for an hour."""
    jobs = _jobs(ctx)
    queue: JobQueue = ctx["queue"]
    due = await imports.due(jobs.db, jobs.clock)
    this_round = int(jobs.clock.now().timestamp() // OVERDUE.total_seconds())
    for import_id in due:
        await queue.enqueue_import(import_id, overdue_round=this_round)
    if due:
        _log.info("imports_swept", due=len(due))
    return len(due)


async def forget_stale_imports(ctx: dict[str, Any]) -> int:
    """Drop the files of previews never imported within a week (daily)."""
    jobs = _jobs(ctx)
    forgotten = await imports.forget_stale(jobs.db, jobs.clock)
    if forgotten:
        _log.info("stale_imports_forgotten", runs=forgotten)
    return forgotten


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


async def generate_cto_sessions(ctx: dict[str, Any]) -> int:
    """Create the sessions of every active CTO series about six months ahead (idempotent)."""
    jobs = _jobs(ctx)
    added = await committees.generate_all(jobs.db, jobs.clock)
    if added:
        _log.info("cto_sessions_generated", added=added)
    return added


async def freeze_cto_sessions(ctx: dict[str, Any]) -> int:
    """Freeze the agendas whose time has come (D-3): at most the capacity, the rest carried
    over with their referents told. A frozen session is never frozen again."""
    jobs = _jobs(ctx)
    return await committees.freeze_due(jobs.db, jobs.clock)


async def dispatch_cto_agendas(ctx: dict[str, Any]) -> int:
    """Send the frozen agendas whose time has come (D-2) to the members who accepted the
    charter. A dispatched session is never sent again."""
    jobs = _jobs(ctx)
    return await committees.dispatch_due(jobs.db, jobs.clock)


async def run_committees(ctx: dict[str, Any]) -> dict[str, int]:
    """Freeze, then dispatch (what a cron pass does; the in-process runner calls this)."""
    frozen = await freeze_cto_sessions(ctx)
    dispatched = await dispatch_cto_agendas(ctx)
    return {"frozen": frozen, "dispatched": dispatched}


async def purge_web_state(ctx: dict[str, Any]) -> int:
    """Delete browser sessions ended a week ago and stale rate counters (daily)."""
    jobs = _jobs(ctx)
    purged = await sessions.purge(jobs.db, jobs.clock)
    if purged:
        _log.info("web_state_purged", rows=purged)
    return purged


async def purge_personal_data(ctx: dict[str, Any]) -> int:
    """Erase the personal data of people inactive for ``personal_data_retention_days``
    (daily; the indicators are unchanged)."""
    jobs = _jobs(ctx)
    keep = jobs.settings.personal_data_retention_days
    # Without a relay, messages are files in outbox_dir: the old ones go too.
    folder = jobs.settings.outbox_dir
    purged = await retention.purge(jobs.db, jobs.clock, keep_days=keep, outbox_dir=folder)
    if purged:
        _log.info("personal_data_purged", people=purged)
    return purged


async def purge_audit(ctx: dict[str, Any]) -> int:
    """Delete the trail of file reads older than ``audit_retention_days`` (daily)."""
    jobs = _jobs(ctx)
    purged = await audit.purge(jobs.db, jobs.clock, keep_days=jobs.settings.audit_retention_days)
    if purged:
        _log.info("audit_purged", rows=purged)
    return purged
