"""Importing people into a cohort in two steps: upload and preview (nothing written), then
import (a worker writes it batch by batch; the page shows progress and ends on a summary);
the history and the rejected rows as CSV.

For the territory team only (admins and animators of the organisation the agent acts for);
the runs are people/imports.py's, seen and changed under intake's rules. A refused file or
mapping comes back on its form with the reason, nothing kept.
"""

from __future__ import annotations

import asyncio
import csv
import io
import uuid
from typing import Any, cast

from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import AppSettings, Uow
from rdv_spie.errors import Invalid
from rdv_spie.people import imports, intake, paths, service, upload
from rdv_spie.people.models import Cohort, ImportRun, ImportState
from rdv_spie.people.rows import FIELDS
from rdv_spie.templating.render import Renderer
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

# The route's own ceiling; the setting ``import_max_bytes`` (at most this) is the rule.
MAX_UPLOAD_BYTES = 64 * 1024 * 1024
SHOWN_REJECTED = 200  # rows listed on the page; the CSV has them all
REFRESH_SECONDS = 2
FILE_FIELD = "fichier"
REASONS = "pages/office_import_reasons.txt"


def url(path: str, **ids: uuid.UUID) -> str:
    """A path of this module with its ids filled in."""
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


def _links(run: ImportRun) -> dict[str, str]:
    return {
        "run": url(paths.IMPORT, import_id=run.id),
        "mapping": url(paths.IMPORT_MAPPING, import_id=run.id),
        "confirm": url(paths.IMPORT_CONFIRM, import_id=run.id),
        "rejected": url(paths.IMPORT_REJECTED, import_id=run.id),
        "history": url(paths.IMPORT_HISTORY, cohort_id=run.cohort_id),
        "new": url(paths.IMPORT_NEW, cohort_id=run.cohort_id),
        "cohort": url(paths.COHORT, cohort_id=run.cohort_id),
    }


async def _cohort(uow: UnitOfWork, actor: Actor, cohort_id: uuid.UUID) -> Cohort:
    """A cohort the agent may import into (any other is not found, or refused)."""
    await intake.target(uow, cohort_id, actor)
    return await service.get_cohort(uow=uow, actor=actor, cohort_id=cohort_id)


def _new_page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    cohort: Cohort,
    settings_max: int,
    *,
    errors: ui.Refusals | None = None,
    status: int = 200,
) -> Response[str]:
    context = {
        "cohort": cohort,
        "errors": (errors or ui.Refusals()).by_key,
        "max_mb": max(1, min(settings_max, MAX_UPLOAD_BYTES) // (1024 * 1024)),
        "action": url(paths.IMPORT_NEW, cohort_id=cohort.id),
        "links": {
            "cohort": url(paths.COHORT, cohort_id=cohort.id),
            "history": url(paths.IMPORT_HISTORY, cohort_id=cohort.id),
        },
    }
    return ui.page(request, office, "import_new", "cohortes", context, status=status)


@get(paths.IMPORT_NEW, include_in_schema=False)
async def import_form(
    request: Request[Any, Any, Any],
    uow: Uow,
    office: Office,
    settings: AppSettings,
    cohort_id: FromPath[uuid.UUID],
) -> Response[str]:
    """The upload form (step one)."""
    office.require_team_role()
    cohort = await _cohort(uow, office.actor, cohort_id)
    return _new_page(request, office, cohort, settings.import_max_bytes)


@post(paths.IMPORT_NEW, include_in_schema=False, request_max_body_size=MAX_UPLOAD_BYTES)
async def upload_file(
    request: Request[Any, Any, Any],
    uow: Uow,
    office: Office,
    settings: AppSettings,
    cohort_id: FromPath[uuid.UUID],
) -> Response[Any]:
    """Read the file and keep its preview (no person written), then show it."""
    office.require_team_role()
    cohort = await _cohort(uow, office.actor, cohort_id)
    form = await request.form()
    upload = form.get(FILE_FIELD)
    errors = ui.Refusals()
    if not isinstance(upload, UploadFile) or not upload.filename:
        errors.add(Invalid("no file", field="file", code="file_missing"))
        return _new_page(
            request, office, cohort, settings.import_max_bytes, errors=errors, status=422
        )
    data = await upload.read()
    try:
        run = await imports.preview(
            uow=uow,
            actor=office.actor,
            cohort_id=cohort.id,
            file_name=upload.filename,
            data=data,
            max_bytes=min(settings.import_max_bytes, MAX_UPLOAD_BYTES),
        )
    except Invalid as exc:
        errors.add(exc)
        status = 413 if exc.code == "file_too_big" else 422
        return _new_page(
            request, office, cohort, settings.import_max_bytes, errors=errors, status=status
        )
    return redirect(url(paths.IMPORT, import_id=run.id))


async def _run_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    run: ImportRun,
    *,
    errors: ui.Refusals | None = None,
    chosen: dict[int, str] | None = None,
    done: str | None = None,
    status: int = 200,
) -> Response[str]:
    cohort = await service.get_cohort(uow=uow, actor=office.actor, cohort_id=run.cohort_id)
    where = await ui.where_of(uow, office.actor, run.territory_id)
    columns: list[upload.Column] = []
    if run.state == ImportState.PREVIEWED and run.content is not None:
        today = where.today(uow.clock.now())
        columns = await asyncio.to_thread(upload.describe, run.content, run.mapping, today)
    selected = {c.index: (chosen or {}).get(c.index, c.field or "") for c in columns}
    total = max(run.total_rows, run.processed_rows)
    waiting = run.state in (ImportState.QUEUED, ImportState.RUNNING)
    # Under way, the page reloads itself every 2 seconds through the HTTP Refresh header (no
    # script; a <meta> refresh fails WCAG 2.2.1 in axe) unless the person turned it off.
    refreshing = waiting and request.query_params.get("actualiser") != "non"
    context = {
        "run": run,
        "cohort": cohort,
        "columns": columns,
        "selected": selected,
        "fields": FIELDS,
        "rejected": run.rejected[:SHOWN_REJECTED],
        "shown": SHOWN_REJECTED,
        "total": total,
        "percent": (100 * run.processed_rows // total) if total else 0,
        "waiting": waiting,
        "refreshing": refreshing,
        "uploaded_at": where.local(run.created_at),
        "finished_at": where.local(run.finished_at) if run.finished_at else None,
        "errors": (errors or ui.Refusals()).by_key,
        "links": _links(run),
        "done": done or request.query_params.get("fait"),
    }
    response = ui.page(request, office, "import", "cohortes", context, status=status)
    if refreshing:
        response.headers["Refresh"] = str(REFRESH_SECONDS)
    return response


@get(paths.IMPORT, include_in_schema=False)
async def import_page(
    request: Request[Any, Any, Any], uow: Uow, office: Office, import_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A run: its preview (columns, counts, rejected rows), its progress, or its summary."""
    office.require_team_role()
    run = await imports.get_run(uow=uow, actor=office.actor, import_id=import_id)
    return await _run_page(request, uow, office, run)


@post(paths.IMPORT_MAPPING, include_in_schema=False)
async def change_mapping(
    request: Request[Any, Any, Any], uow: Uow, office: Office, import_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Say which field each column gives, and count again (still nothing written)."""
    office.require_team_role()
    run = await imports.get_run(uow=uow, actor=office.actor, import_id=import_id)
    form = await ui.Form.of(request)
    errors = ui.Refusals()
    if run.state != ImportState.PREVIEWED or run.content is None:
        errors.add(Invalid("this import has started", field="form", code="import_started"))
        return await _run_page(request, uow, office, run, errors=errors, status=409)
    where = await ui.where_of(uow, office.actor, run.territory_id)
    today = where.today(uow.clock.now())
    columns = await asyncio.to_thread(upload.describe, run.content, run.mapping, today)
    chosen: dict[int, str] = {}
    mapping: dict[str, str] = {}
    for column in columns:
        sent = form.getall(f"colonne-{column.index}")
        if not sent:  # not in the form: the column keeps what it gives
            continue
        value = sent[0]
        if value and value not in FIELDS:
            errors.add(Invalid("not a field", field="mapping", code="not_listed"))
            continue
        chosen[column.index] = value
        if column.header:
            mapping[column.header] = value
    if not errors:
        try:
            run = await imports.remap(
                uow=uow, actor=office.actor, import_id=run.id, mapping=mapping
            )
        except Invalid as exc:
            errors.add(exc)
    if errors:
        return await _run_page(request, uow, office, run, errors=errors, chosen=chosen, status=422)
    return redirect(url(paths.IMPORT, import_id=run.id) + "?fait=colonnes")


@post(paths.IMPORT_CONFIRM, include_in_schema=False)
async def confirm(
    request: Request[Any, Any, Any], uow: Uow, office: Office, import_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Step two: hand the run to a worker, then follow its progress."""
    office.require_team_role()
    try:
        run = await imports.confirm(uow=uow, actor=office.actor, import_id=import_id)
    except Invalid as exc:
        errors = ui.Refusals()
        errors.add(exc)
        run = await imports.get_run(uow=uow, actor=office.actor, import_id=import_id)
        return await _run_page(request, uow, office, run, errors=errors, status=422)
    # The worker must find the run queued: commit before waking it (the sweep takes it
    # anyway if this wake-up is lost).
    await uow.session.commit()
    queue = request.app.state.get("job_queue")
    if queue is not None and run.state == ImportState.QUEUED:
        await cast(imports.ImportQueue, queue).enqueue_import(run.id)
    return redirect(url(paths.IMPORT, import_id=run.id))


@get(paths.IMPORT_HISTORY, include_in_schema=False)
async def import_history(
    request: Request[Any, Any, Any], uow: Uow, office: Office, cohort_id: FromPath[uuid.UUID]
) -> Response[str]:
    """Every import into the cohort: who, when, which file, what it did."""
    office.require_team_role()
    cohort = await _cohort(uow, office.actor, cohort_id)
    where = await ui.where_of(uow, office.actor, cohort.territory_id)
    runs = await imports.history(uow=uow, actor=office.actor, cohort_id=cohort.id)
    context = {
        "cohort": cohort,
        "runs": [
            {
                "run": run,
                "agent": agent,
                "at": where.local(run.created_at),
                "links": _links(run),
            }
            for run, agent in runs
        ],
        "links": {
            "cohort": url(paths.COHORT, cohort_id=cohort.id),
            "new": url(paths.IMPORT_NEW, cohort_id=cohort.id),
        },
    }
    return ui.page(request, office, "import_history", "cohortes", context)


@get(paths.IMPORT_REJECTED, include_in_schema=False)
async def rejected_csv(
    request: Request[Any, Any, Any], uow: Uow, office: Office, import_id: FromPath[uuid.UUID]
) -> Response[bytes]:
    """The rejected rows of a run as CSV (line, column, reason): never a cell's content."""
    office.require_team_role()
    run = await imports.get_run(uow=uow, actor=office.actor, import_id=import_id)
    renderer: Renderer = request.app.state.renderer
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(renderer.macro(REASONS, "csv_header").split(";"))
    for row in run.rejected:
        column = row.get("column")
        writer.writerow(
            [
                row.get("line"),
                column if column is not None else "",
                _cell(str(row.get("header") or "")),
                renderer.macro(REASONS, "reason", row.get("code"), row.get("field")).strip(),
            ]
        )
    stamp = run.created_at.strftime("%Y%m%d-%H%M")
    return Response(
        ("\ufeff" + buffer.getvalue()).encode("utf-8"),  # the BOM tells Excel it is UTF-8
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="lignes-refusees-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


def _cell(text: str) -> str:
    """A header from the file, never read as a formula by a spreadsheet (CSV injection)."""
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


ROUTES: list[ControllerRouterHandler] = [
    import_form,
    upload_file,
    import_page,
    change_mapping,
    confirm,
    import_history,
    rejected_csv,
]
