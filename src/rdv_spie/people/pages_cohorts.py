"""Cohorts in the back office: the list, creating and changing one (the same validation as the
API), and a cohort's page (its counts, its imports, its journeys).

For the territory team only (admins and animators of the organisation the agent acts for);
the cohorts are people/service.py's, seen and changed under its rules. Each posted field is
checked by the API's own schema (``CohortPatch``, one field at a time so that every refusal
is said at once); what the service refuses comes back beside its field, nothing written.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import select

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.people import counts, paths, service
from rdv_spie.people.models import Cohort
from rdv_spie.people.schemas import CohortIn, CohortPatch
from rdv_spie.people.status import JourneyStatus
from rdv_spie.scheduling.models import AppointmentType
from rdv_spie.territories.models import Organisation
from rdv_spie.web import office as ui
from rdv_spie.web import paths as office_paths
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

DAYS = ("entry_delay_days", "invite_within_days", "invitation_valid_days", "deadline_alert_days")
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
# The order the cohort's page counts its journeys in.
STATUSES = (
    JourneyStatus.TO_INVITE,
    JourneyStatus.INVITED,
    JourneyStatus.BOOKED,
    JourneyStatus.SEEN,
    JourneyStatus.NOSHOW,
    JourneyStatus.INVITATION_EXPIRED,
    JourneyStatus.LATE,
    JourneyStatus.CLOSED,
)
# The code of a field the schema refuses (office_messages.html words it).
_SCHEMA_CODES = {
    "name": "cohort_name",
    "reminder_days": "cohort_reminders",
    "send_weekdays": "cohort_weekdays",
    **dict.fromkeys(DAYS, "cohort_days"),
}
# What the service may refuse about a field, as the page's codes.
_SERVICE_CODES = {
    "name": "cohort_name_taken",
    "send_window_end": "cohort_window",
    "appointment_type_id": "not_listed",
    "organisation_id": "not_listed",
}
_DONE = frozenset({"cohorte", "cohorte-modifiee"})
_SPLIT = re.compile(r"[\s,;]+")


def url(path: str, cohort_id: uuid.UUID) -> str:
    """A cohort's page path with its id."""
    return path.replace("{cohort_id:uuid}", str(cohort_id))


@dataclass(frozen=True, slots=True)
class Choices:
    """What the form offers: the territory's appointment types and organisations."""

    types: list[tuple[uuid.UUID, str, bool]]  # id, name, active
    organisations: list[tuple[uuid.UUID, str]]


async def _choices(uow: UnitOfWork, territory_id: uuid.UUID) -> Choices:
    types = await uow.session.execute(
        select(AppointmentType.id, AppointmentType.name, AppointmentType.active)
        .where(AppointmentType.territory_id == territory_id)
        .order_by(AppointmentType.name, AppointmentType.id)
    )
    organisations = await uow.session.execute(
        select(Organisation.id, Organisation.name)
        .where(Organisation.territory_id == territory_id)
        .order_by(Organisation.name, Organisation.id)
    )
    return Choices([(i, n, bool(a)) for i, n, a in types], [(i, n) for i, n in organisations])


# ------------------------------------------------------------------------- the list


@get(paths.COHORTS, include_in_schema=False)
async def cohorts(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The cohorts the agent's team sees, with their open and late journeys."""
    office.require_team_role()
    where = await ui.where(uow, office.actor)
    rows = await service.list_cohorts(uow=uow, actor=office.actor)
    now = uow.clock.now()
    counted = await counts.by_status(uow, [c.id for c in rows], now=now, today=where.today(now))
    names = {i: n for i, n, _ in (await _choices(uow, where.territory.id)).types}
    context = {
        "cohorts": [
            {
                "cohort": c,
                "url": url(paths.COHORT, c.id),
                "type": names.get(c.appointment_type_id) if c.appointment_type_id else None,
                "open": sum(counted[c.id].values()) - counted[c.id][JourneyStatus.CLOSED],
                "late": counted[c.id][JourneyStatus.LATE],
            }
            for c in rows
        ],
        "new_url": paths.COHORT_NEW,
        "done": _done(request),
    }
    return ui.page(request, office, "cohorts", "cohortes", context)


def _done(request: Request[Any, Any, Any]) -> str | None:
    key = request.query_params.get("fait")
    return key if key in _DONE else None


# ------------------------------------------------------------------------- one cohort


@get(paths.COHORT, include_in_schema=False)
async def cohort_page(
    request: Request[Any, Any, Any], uow: Uow, office: Office, cohort_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A cohort's settings in words, its journeys counted by status, and where to go next."""
    office.require_team_role()
    cohort = await service.get_cohort(uow=uow, actor=office.actor, cohort_id=cohort_id)
    where = await ui.where_of(uow, office.actor, cohort.territory_id)
    now = uow.clock.now()
    counted = (await counts.by_status(uow, [cohort.id], now=now, today=where.today(now)))[cohort.id]
    choices = await _choices(uow, cohort.territory_id)
    journeys = f"{office_paths.JOURNEYS}?cohorte={cohort.id}"
    context = {
        "cohort": cohort,
        "type": next((n for i, n, _ in choices.types if i == cohort.appointment_type_id), None),
        "organisation": next(
            (n for i, n in choices.organisations if i == cohort.organisation_id), None
        ),
        "weekdays": [d for i, d in enumerate(WEEKDAYS) if cohort.send_weekdays & (1 << i)],
        "reminders": sorted(cohort.reminder_days),
        "counts": [(str(s), counted[s], f"{journeys}&statut={s}") for s in STATUSES],
        "total": sum(counted.values()),
        "links": {
            "import": url(paths.IMPORT_NEW, cohort.id),
            "history": url(paths.IMPORT_HISTORY, cohort.id),
            "journeys": journeys,
            "indicators": f"{office_paths.INDICATORS}?cohorte={cohort.id}",
            "edit": url(paths.COHORT_EDIT, cohort.id),
            "list": paths.COHORTS,
        },
        "done": _done(request),
    }
    return ui.page(request, office, "cohort", "cohortes", context)


# ------------------------------------------------------------------------- the form


def _form_of(cohort: Cohort | None, office: OfficeUser) -> dict[str, Any]:
    """What the form shows first: the cohort's settings, or the API's defaults."""
    if cohort is None:
        defaults = CohortIn(territory_id=office.acting.territory_id, name="x")
        shown: Any = defaults
        active = True
        organisation_id: uuid.UUID | None = office.acting.organisation_id
        type_id = None
    else:
        shown, active = cohort, cohort.active
        organisation_id, type_id = cohort.organisation_id, cohort.appointment_type_id
    return {
        "name": cohort.name if cohort else "",
        "appointment_type_id": str(type_id or ""),
        "organisation_id": str(organisation_id or ""),
        **{d: str(getattr(shown, d)) for d in DAYS},
        "reminder_days": ", ".join(str(d) for d in shown.reminder_days),
        "send_window_start": shown.send_window_start.strftime("%H:%M"),
        "send_window_end": shown.send_window_end.strftime("%H:%M"),
        "weekdays": [str(i) for i in range(7) if shown.send_weekdays & (1 << i)],
        "active": active,
    }


def _read(form: ui.Form, errors: ui.Refusals) -> dict[str, Any]:
    """The cohort's fields from the posted form, each checked by the API's schema; every
    refusal is kept in ``errors`` (a refused field is left out of the values)."""
    raw: dict[str, Any] = {"name": form.get("name"), **{d: form.get(d) for d in DAYS}}
    raw["reminder_days"] = [
        int(t) if t.isdigit() else t for t in _SPLIT.split(form.get("reminder_days")) if t
    ]
    days = form.getall("send_weekdays")
    if all(d in {"0", "1", "2", "3", "4", "5", "6"} for d in days):
        raw["send_weekdays"] = sum(1 << int(d) for d in set(days))
    else:
        errors.add(Invalid("not a weekday", field="send_weekdays", code="weekday_invalid"))
    raw["appointment_type_id"] = errors.take(
        ui.parse_uuid, form.get("appointment_type_id"), "appointment_type_id"
    )
    organisation = form.get("organisation_id")
    raw["organisation_id"] = (
        errors.take(ui.parse_uuid, organisation, "organisation_id") if organisation else None
    )
    for end in ("send_window_start", "send_window_end"):
        raw[end] = errors.take(ui.parse_time, form.get(end), end)
    start, end_ = raw["send_window_start"], raw["send_window_end"]
    if start is not None and end_ is not None and end_ <= start:
        errors.add(
            Invalid(
                "the window ends before it starts", field="send_window_end", code="cohort_window"
            )
        )
    raw["active"] = form.get("active") == "1"
    values: dict[str, Any] = {}
    for name, value in raw.items():
        if errors.prefix + name in errors.by_key:
            continue
        try:
            checked = msgspec.convert({name: value}, CohortPatch, strict=False)
        except msgspec.ValidationError as exc:
            errors.add(Invalid(str(exc), field=name, code=_SCHEMA_CODES.get(name, "invalid")))
            continue
        values[name] = getattr(checked, name)
    return values


async def _save(
    uow: UnitOfWork, errors: ui.Refusals, write: Callable[[], Awaitable[Cohort]]
) -> Cohort | None:
    """The service's write in a savepoint: the cohort, or None with the refusal kept (then
    only the write is undone, and the page can still read)."""
    try:
        async with uow.session.begin_nested():
            return await write()
    except (Invalid, NotFound) as exc:
        code = _SERVICE_CODES.get(exc.field or "")
        if code is None:
            raise
        errors.add(Invalid(exc.detail, field=exc.field, code=code))
        return None


async def _form_page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    *,
    cohort: Cohort | None,
    form: dict[str, Any],
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    territory_id = cohort.territory_id if cohort else office.acting.territory_id
    choices = await _choices(uow, territory_id)
    current = cohort.appointment_type_id if cohort else None
    context = {
        "cohort": cohort,
        "form": form,
        "errors": errors or {},
        "weekdays": WEEKDAYS,
        "types": [(i, n) for i, n, a in choices.types if a or i == current],
        "organisations": choices.organisations,
        "action": url(paths.COHORT_EDIT, cohort.id) if cohort else paths.COHORT_NEW,
        "back": url(paths.COHORT, cohort.id) if cohort else paths.COHORTS,
    }
    return ui.page(request, office, "cohort_form", "cohortes", context, status=status)


def _shown_again(form: ui.Form) -> dict[str, Any]:
    return {
        **form.values(),
        "weekdays": form.getall("send_weekdays"),
        "active": form.get("active") == "1",
    }


@get(paths.COHORT_NEW, include_in_schema=False)
async def new_cohort(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The form of a new cohort, filled with the API's defaults."""
    office.require_team_role()
    return await _form_page(request, uow, office, cohort=None, form=_form_of(None, office))


@post(paths.COHORT_NEW, include_in_schema=False, status_code=303)
async def create_cohort(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Create a cohort on the territory of the organisation the agent acts for."""
    office.require_team_role()
    form = await ui.Form.of(request)
    errors = ui.Refusals()
    values = _read(form, errors)
    created = None
    if not errors:
        active = values.pop("active")
        body = msgspec.convert(
            {"territory_id": office.acting.territory_id, **values}, CohortIn, strict=False
        )
        fields = {**msgspec.structs.asdict(body), "active": active}
        created = await _save(
            uow, errors, lambda: service.create_cohort(uow=uow, actor=office.actor, values=fields)
        )
    if created is None:
        return await _form_page(
            request,
            uow,
            office,
            cohort=None,
            form=_shown_again(form),
            errors=errors.by_key,
            status=422,
        )
    return redirect(f"{url(paths.COHORT, created.id)}?fait=cohorte")


@get(paths.COHORT_EDIT, include_in_schema=False)
async def edit_cohort(
    request: Request[Any, Any, Any], uow: Uow, office: Office, cohort_id: FromPath[uuid.UUID]
) -> Response[str]:
    """The form of a cohort's settings."""
    office.require_team_role()
    cohort = await service.get_cohort(uow=uow, actor=office.actor, cohort_id=cohort_id)
    return await _form_page(request, uow, office, cohort=cohort, form=_form_of(cohort, office))


@post(paths.COHORT_EDIT, include_in_schema=False, status_code=303)
async def update_cohort(
    request: Request[Any, Any, Any], uow: Uow, office: Office, cohort_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change a cohort's settings (journeys already open keep their deadlines)."""
    office.require_team_role()
    cohort = await service.get_cohort(uow=uow, actor=office.actor, cohort_id=cohort_id)
    form = await ui.Form.of(request)
    errors = ui.Refusals()
    values = _read(form, errors)
    saved = None
    if not errors:
        saved = await _save(
            uow,
            errors,
            lambda: service.update_cohort(
                uow=uow, actor=office.actor, cohort_id=cohort_id, values=values
            ),
        )
    if saved is None:
        await uow.session.refresh(cohort)  # what the refused write had set is undone
        return await _form_page(
            request,
            uow,
            office,
            cohort=cohort,
            form=_shown_again(form),
            errors=errors.by_key,
            status=422,
        )
    return redirect(f"{url(paths.COHORT, cohort_id)}?fait=cohorte-modifiee")


ROUTES: list[ControllerRouterHandler] = [
    cohorts,
    new_cohort,
    create_cohort,
    cohort_page,
    edit_cohort,
    update_cohort,
]
