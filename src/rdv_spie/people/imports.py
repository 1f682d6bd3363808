"""Importing a file of people into a cohort in two steps, kept as an ``ImportRun``.

1. ``preview`` reads the file (CSV, .xlsx, .ods, .xls) and counts what importing it would do —
   new, updated, unchanged, rejected — with intake's own matching run read-only: it never
   writes a person. The file is kept in the run until it is imported.
2. ``confirm`` queues the run; ``run`` (a worker's job) claims it with a lease and writes it
   batch by batch through intake's writer, each batch's counts and ``processed_rows`` in the
   batch's own transaction: a worker that dies leaves a run whose lease expires, and the next
   one resumes after the last batch committed. The run ends ``done`` with its file emptied.

Reading the file (its kind, header, columns and rows) is ``upload.py``'s.

Never keeps a cell's content in a run: a rejected row is its line, column, header and reason
code. Never commits (the caller's unit of work does) except in ``run``, which owns its
transactions like intake does.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable, Mapping
from datetime import timedelta
from typing import Any, Protocol

import structlog
from sqlalchemy import or_, select, update
from sqlalchemy.exc import DataError, IntegrityError
from sqlalchemy.orm import defer

from rdv_spie.agents.guards import Actor
from rdv_spie.agents.models import Agent
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.people import intake, upload
from rdv_spie.people.models import ImportRun, ImportState
from rdv_spie.people.rows import FIELDS, RowError
from rdv_spie.people.table import CsvFormatError

_log = structlog.get_logger(__name__)
LEASE = timedelta(minutes=2)  # renewed by every batch; a batch takes well under a second
KEEP_ALL = sys.maxsize
HISTORY_LIMIT = 500
KEEP_PREVIEW = timedelta(days=7)  # a preview not imported by then loses its file


class ImportQueue(Protocol):
    """Where a confirmed run is handed to a worker (worker/queue.py implements it)."""

    async def enqueue_import(self, import_id: uuid.UUID) -> None:
        """Ask for one run to be imported."""


def _rejected(errors: list[RowError]) -> list[dict[str, object]]:
    return [
        {"line": e.line, "column": e.column, "header": e.header, "field": e.field, "code": e.code}
        for e in errors
    ]


async def _fill(
    uow: UnitOfWork,
    into: intake.Target,
    run: ImportRun,
    found: upload.Table | CsvFormatError,
    chosen: Mapping[str, str],
) -> None:
    """Set the run's mapping and counts from a reading of its file (nothing written but it)."""
    if isinstance(found, CsvFormatError):
        run.mapping = dict(chosen)
        run.error_code = found.code
        run.total_rows = run.created_count = run.updated_count = 0
        run.unchanged_count = run.rejected_count = 0
        run.rejected = []
        return
    report = await intake.count_rows(uow, into, found.rows, keep=KEEP_ALL, pause=_yield)
    run.mapping = dict(chosen)
    run.error_code = None
    run.total_rows = report.rows
    run.created_count = report.created
    run.updated_count = report.updated
    run.unchanged_count = report.unchanged
    run.rejected_count = report.rejected_rows
    run.rejected = _rejected(report.rejected)


async def _yield() -> None:
    await asyncio.sleep(0)


async def preview(
    *,
    uow: UnitOfWork,
    actor: Actor,
    cohort_id: uuid.UUID,
    file_name: str,
    data: bytes,
    max_bytes: int,
) -> ImportRun:
    """Step one: read the file and keep it with what importing it would do (no person
    written). Refused whole (``Invalid``, field "file", nothing kept) when it is empty, too
    big, not a table, or without two named columns; a header whose names are not recognised
    is kept, for the person to say which column is which."""
    into = await intake.target(uow, cohort_id, actor)
    if not data:
        raise Invalid("the file is empty", field="file", code="empty_file")
    if len(data) > max_bytes:
        raise Invalid(f"the file is over {max_bytes} bytes", field="file", code="file_too_big")
    today = uow.clock.now().astimezone(into.zone).date()
    found = await upload.read(into.region, data, today, {})
    if isinstance(found, CsvFormatError) and not upload.usable(found):
        if found.code in upload.MAPPING_PROBLEMS or found.code == "empty_file":
            raise Invalid("no usable column", field="file", code="no_usable_column")
        raise Invalid(str(found), field="file", code="not_a_table")
    run = ImportRun(
        territory_id=into.territory_id,
        cohort_id=into.cohort_id,
        agent_id=actor.agent_id,
        file_name=upload.clean_name(file_name),
        file_kind=upload.file_kind(data, file_name),
        file_size=len(data),
        content=data,
        state=ImportState.PREVIEWED,
    )
    await _fill(uow, into, run, found, {})
    uow.session.add(run)
    await uow.session.flush()
    return run


async def get_run(*, uow: UnitOfWork, actor: Actor, import_id: uuid.UUID) -> ImportRun:
    """One run of a cohort the actor may import into (any other is not found)."""
    # The file (up to import_max_bytes) is read only while it may still be previewed: the
    # progress page is asked for every 2 seconds.
    run = await uow.session.get(
        ImportRun, import_id, options=[defer(ImportRun.content, raiseload=True)]
    )
    if run is None:
        raise NotFound("import not found", field="import_id")
    await intake.target(uow, run.cohort_id, actor)
    if run.state == ImportState.PREVIEWED:
        await uow.session.refresh(run, ["content"])
    return run


async def remap(
    *, uow: UnitOfWork, actor: Actor, import_id: uuid.UUID, mapping: Mapping[str, str]
) -> ImportRun:
    """Read the run's file again with the columns the person chose (header text -> field,
    "" to ignore); refused (``Invalid``, nothing changed) when the choice leaves a field
    without its column or gives one field twice. Only before the import."""
    run = await get_run(uow=uow, actor=actor, import_id=import_id)
    if run.state != ImportState.PREVIEWED or run.content is None:
        raise Invalid("this import has started", field="form", code="import_started")
    for name in mapping.values():
        if name and name not in FIELDS:
            raise Invalid("not a field", field="mapping", code="not_listed")
    into = await intake.target(uow, run.cohort_id, actor)
    today = uow.clock.now().astimezone(into.zone).date()
    found = await upload.read(into.region, run.content, today, mapping)
    if isinstance(found, CsvFormatError):
        if found.code in upload.MAPPING_PROBLEMS:
            raise Invalid(str(found), field="mapping", code=found.code)
        raise Invalid(str(found), field="file", code="not_a_table")
    await _fill(uow, into, run, found, mapping)
    return run


async def confirm(*, uow: UnitOfWork, actor: Actor, import_id: uuid.UUID) -> ImportRun:
    """Step two: queue a previewed run for a worker. Confirming again does nothing; a run
    whose columns are not settled is refused."""
    run = await get_run(uow=uow, actor=actor, import_id=import_id)
    if run.state != ImportState.PREVIEWED:
        return run
    if run.error_code is not None or run.content is None:
        raise Invalid("the columns are not settled", field="mapping", code="import_not_ready")
    run.state = ImportState.QUEUED
    run.queued_at = uow.clock.now()
    return run


async def history(
    *, uow: UnitOfWork, actor: Actor, cohort_id: uuid.UUID
) -> list[tuple[ImportRun, Agent | None]]:
    """The cohort's runs (the latest ``HISTORY_LIMIT``), latest first, with who uploaded each."""
    into = await intake.target(uow, cohort_id, actor)
    rows = await uow.session.execute(
        select(ImportRun, Agent)
        .outerjoin(Agent, Agent.id == ImportRun.agent_id)
        .where(ImportRun.cohort_id == into.cohort_id)
        .options(
            defer(ImportRun.content, raiseload=True), defer(ImportRun.rejected, raiseload=True)
        )
        .order_by(ImportRun.created_at.desc(), ImportRun.id)
        .limit(HISTORY_LIMIT)
    )
    return [(run, agent) for run, agent in rows]


async def due(db: Database, clock: Clock) -> list[uuid.UUID]:
    """Runs a worker should take: queued or running, and nobody's lease alive."""
    now = clock.now()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        ids = await uow.session.scalars(
            select(ImportRun.id)
            .where(
                ImportRun.state.in_((ImportState.QUEUED, ImportState.RUNNING)),
                or_(ImportRun.claimed_until.is_(None), ImportRun.claimed_until < now),
            )
            .order_by(ImportRun.queued_at)
        )
        return list(ids)


async def forget_stale(db: Database, clock: Clock, *, keep: timedelta = KEEP_PREVIEW) -> int:
    """Drop the files of previews never imported after ``keep`` (a file of people is kept
    only as long as it may be imported); their runs stay in the history as failed."""
    async with db.unit_of_work(clock=clock) as uow:
        result = await uow.session.execute(
            update(ImportRun)
            .where(
                ImportRun.state == ImportState.PREVIEWED,
                ImportRun.created_at < clock.now() - keep,
            )
            .values(
                state=ImportState.FAILED,
                content=None,
                error_code="preview_expired",
                finished_at=clock.now(),
            )
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


class LeaseLost(Exception):
    """Another worker took the run (this one was too slow): stop without writing."""


async def run(
    *,
    db: Database,
    clock: Clock,
    import_id: uuid.UUID,
    after_batch: Callable[[int], Awaitable[None]] | None = None,
) -> str:
    """Import a queued run (a worker's job; safe to run twice): claim it, skip the rows a
    previous worker committed, write the rest batch by batch. Returns what happened:
    "done", "failed", "not_claimed" (finished, or someone else's lease alive) or "lost".
    ``after_batch`` is awaited after each committed batch with the rows processed."""
    now = clock.now()
    lease = now + LEASE
    async with db.unit_of_work(clock=clock) as uow:
        claimed = await uow.session.execute(
            update(ImportRun)
            .where(
                ImportRun.id == import_id,
                ImportRun.state.in_((ImportState.QUEUED, ImportState.RUNNING)),
                or_(ImportRun.claimed_until.is_(None), ImportRun.claimed_until < now),
            )
            .values(state=ImportState.RUNNING, claimed_until=lease)
            .execution_options(synchronize_session=False)
        )
        if getattr(claimed, "rowcount", 0) != 1:
            return "not_claimed"
        found = await uow.session.get(ImportRun, import_id)
        assert found is not None
        job = found
        if job.started_at is None:
            job.started_at = now
        if job.processed_rows == 0:  # a fresh start: the preview's counts give way
            job.created_count = job.updated_count = job.unchanged_count = 0
            job.rejected_count = 0
            job.rejected = []
        into = await intake.target(uow, job.cohort_id, None)
        content, chosen = job.content, dict(job.mapping)
        done_rows = job.processed_rows
        report = intake.ImportReport(
            rows=done_rows,
            created=job.created_count,
            updated=job.updated_count,
            unchanged=job.unchanged_count,
            rejected_rows=job.rejected_count,
            keep=KEEP_ALL,
        )
        rejected = list(job.rejected)
    today = now.astimezone(into.zone).date()
    table = None if content is None else await upload.read(into.region, content, today, chosen)
    if not isinstance(table, upload.Table):
        code = "file_missing" if table is None else table.code
        await _finish(db, clock, import_id, lease, ImportState.FAILED, error_code=code)
        return "failed"
    batches = list(intake.batches(table.rows))
    total = sum(len(b) + len({e.line for e in errors}) for b, errors in batches)
    seen = 0
    try:
        for batch, errors in batches:
            seen += len(batch) + len({e.line for e in errors})
            if seen <= done_rows:  # committed by a worker before this one
                continue
            kept = len(report.rejected)
            async with db.unit_of_work(clock=clock) as uow:
                intake.count(report, batch, errors)
                if batch:
                    await intake.write_batch(uow, into, batch, report)
                rejected.extend(_rejected(report.rejected[kept:]))
                renewed = clock.now() + LEASE
                moved = await uow.session.execute(
                    update(ImportRun)
                    .where(
                        ImportRun.id == import_id,
                        ImportRun.state == ImportState.RUNNING,
                        ImportRun.claimed_until == lease,
                    )
                    .values(
                        total_rows=total,
                        processed_rows=seen,
                        created_count=report.created,
                        updated_count=report.updated,
                        unchanged_count=report.unchanged,
                        rejected_count=report.rejected_rows,
                        rejected=list(rejected),
                        claimed_until=renewed,
                    )
                    .execution_options(synchronize_session=False)
                )
                if getattr(moved, "rowcount", 0) != 1:
                    raise LeaseLost
            lease = renewed
            if after_batch is not None:
                await after_batch(seen)
    except LeaseLost:
        return "lost"
    except (IntegrityError, DataError):
        # The same batch would fail again at every retry: stop here, the batches before it
        # stay imported (importing the file again adds the rest, duplicating no one).
        _log.exception("import_batch_refused", import_id=str(import_id), processed=seen)
        await _finish(db, clock, import_id, lease, ImportState.FAILED, error_code="import_error")
        return "failed"
    rejected.sort(key=lambda e: (_int(e.get("line")), _int(e.get("column"))))
    finished = await _finish(db, clock, import_id, lease, ImportState.DONE, rejected=rejected)
    return "done" if finished else "lost"


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


async def _finish(
    db: Database,
    clock: Clock,
    import_id: uuid.UUID,
    lease: Any,
    state: ImportState,
    *,
    error_code: str | None = None,
    rejected: list[dict[str, object]] | None = None,
) -> bool:
    """End a run this worker holds: the file is dropped, the lease released."""
    values: dict[str, Any] = {
        "state": state,
        "content": None,
        "finished_at": clock.now(),
        "claimed_until": None,
        "error_code": error_code,
    }
    if rejected is not None:
        values["rejected"] = rejected
    async with db.unit_of_work(clock=clock) as uow:
        result = await uow.session.execute(
            update(ImportRun)
            .where(
                ImportRun.id == import_id,
                ImportRun.state == ImportState.RUNNING,
                ImportRun.claimed_until == lease,
            )
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        return getattr(result, "rowcount", 0) == 1
