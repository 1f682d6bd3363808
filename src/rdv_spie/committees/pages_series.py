"""The series of committees: creating and changing one (its rule in words, capacity, deadline,
place or video link), its members and their charter.

The territory team's pages (admin or animator acting for a structure of the territory): they
call committees/series.py as the JSON API does (the same guards, the same body types field by
field), so a page refuses what the API refuses. The rule is built from plain choices (every
week, every two weeks, the n-th weekday of the month), never typed. A series of another
territory is the 404 of an unknown one."""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Awaitable
from datetime import time
from typing import Any, TypeVar

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.types import ControllerRouterHandler
from sqlalchemy import func, select

from rdv_spie.agents.models import Agent, Membership
from rdv_spie.committees import paths, series, words
from rdv_spie.committees.models import CtoMember, CtoSeries
from rdv_spie.committees.schemas import SeriesIn
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.territories import service as territories
from rdv_spie.territories.models import Organisation, Place
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import redirect

T = TypeVar("T")

_DONE = frozenset({"serie-creee", "serie-modifiee", "membre-ajoute", "membre-retire"})
# Numbers and texts read through SeriesIn's own types; each has its sentence when refused.
_CHECKED = {
    "name": "series_name",
    "duration_minutes": "series_duration",
    "capacity": "series_capacity",
    "deadline_days_before": "series_days",
    "freeze_days_before": "series_days",
    "dispatch_days_before": "series_days",
    "video_url": "series_video",
}
_TIMES = ("start_time", "deadline_time", "dispatch_time")
_SHOWN = (*_CHECKED, *_TIMES, "frequency", "weekday", "nth", "starts_on", "place_id")
# What a service refuses, by field, said by the series' own sentences.
_SERVICE_CODES = {
    "name": "series_name_taken",
    "place_id": "series_somewhere",
    "video_url": "series_somewhere",
    "dispatch_days_before": "series_dispatch_order",
    "rrule": "series_rule",
    "organisation_id": "series_organisation",
}


def current_charter() -> str:
    """The charter version members accept now (committees/charter.py's, once it exists)."""
    try:
        module = importlib.import_module("rdv_spie.committees.charter")
    except ImportError:
        return "1"
    return str(getattr(module, "CURRENT_VERSION", "1"))


def url(path: str, **ids: object) -> str:
    """A path with its ``{name:uuid}`` placeholders filled in."""
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


def _hhmm(moment: time) -> str:
    return f"{moment.hour:02d}:{moment.minute:02d}"


def _values(found: CtoSeries) -> dict[str, str]:
    """The form's values for a series."""
    frequency, weekday, nth = words.read_rule(found.rrule) or ("", "", 1)
    values = {name: str(getattr(found, name) or "") for name in _CHECKED}
    values |= {name: _hhmm(getattr(found, name)) for name in _TIMES}
    values |= {
        "frequency": frequency,
        "weekday": weekday,
        "nth": str(nth),
        "starts_on": found.starts_on.isoformat(),
        "place_id": str(found.place_id or ""),
        "active": "true" if found.active else "false",
    }
    return values


def _blank() -> dict[str, str]:
    """A new series' form: the API's defaults."""
    values = {
        info.name: str(info.default)
        for info in msgspec.structs.fields(SeriesIn)
        if info.name in _CHECKED and isinstance(info.default, int)
    }
    values |= {
        "start_time": "08:30",
        "deadline_time": "14:00",
        "dispatch_time": "09:00",
        "frequency": words.FORTNIGHTLY,
        "weekday": "TH",
        "nth": "1",
    }
    return values


async def _read(
    request: Request[Any, Any, Any], refusals: ui.Refusals, *, editing: bool
) -> tuple[dict[str, Any], dict[str, str]]:
    """The posted series, field by field through SeriesIn's types, and the values to show."""
    form = await ui.Form.of(request)
    values = {name: form.get(name) for name in _SHOWN}
    fields: dict[str, Any] = {}
    types = {info.name: info.type for info in msgspec.structs.fields(SeriesIn)}
    for name, code in _CHECKED.items():
        if values[name] == "":
            if name == "video_url":
                fields[name] = None
                continue
            refusals.add(Invalid("a value is required", field=name, code="value_missing"))
            continue
        try:
            fields[name] = msgspec.convert(values[name], types[name], strict=False)
        except msgspec.ValidationError as exc:
            refusals.add(Invalid(str(exc), field=name, code=code))
    for name in _TIMES:
        fields[name] = refusals.take(ui.parse_time, values[name], name)
    frequency, weekday = values["frequency"], values["weekday"]
    if frequency not in words.FREQUENCIES:
        refusals.add(Invalid("not listed", field="frequency", code="not_listed"))
    if weekday not in words.WEEKDAYS:
        refusals.add(Invalid("not listed", field="weekday", code="not_listed"))
    nth = int(values["nth"]) if values["nth"].lstrip("-").isdigit() else 0
    if frequency == words.MONTHLY and nth not in words.NTHS:
        refusals.add(Invalid("not listed", field="nth", code="not_listed"))
    fields["rrule"] = words.build_rule(frequency, weekday, nth)
    fields["place_id"] = None
    if values["place_id"]:
        fields["place_id"] = refusals.take(ui.parse_uuid, values["place_id"], "place_id")
    if editing:
        values["active"] = form.get("active")
        if values["active"] not in ("true", "false"):
            refusals.add(Invalid("choose yes or no", field="active", code="not_listed"))
        fields["active"] = values["active"] == "true"
    else:
        fields["starts_on"] = refusals.take(ui.parse_date, values["starts_on"], "starts_on")
    return fields, values


async def _attempt(uow: UnitOfWork, refusals: ui.Refusals, call: Awaitable[T]) -> T | None:
    """A service call in a savepoint: what it refuses is said with the series' sentences and
    everything it changed is undone (nothing half-written)."""
    try:
        async with uow.session.begin_nested():
            return await call
    except (Invalid, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.field not in ("place_id", "organisation_id"):
            raise
        code = _SERVICE_CODES.get(exc.field or "", "invalid")
        refusals.add(Invalid(str(exc), field=exc.field, code=code))
        return None


async def _places(uow: UnitOfWork, office: OfficeUser) -> list[Place]:
    found = await territories.list_places(
        uow=uow, actor=office.actor, territory_id=office.acting.territory_id
    )
    return [p for p in found if p.active]


async def _series(uow: UnitOfWork, office: OfficeUser, series_id: uuid.UUID) -> CtoSeries:
    """A series of the acting structure's territory; any other is the 404 of an unknown one."""
    office.require_team_role()
    found = await uow.session.get(CtoSeries, series_id)
    if found is None or found.territory_id != office.acting.territory_id:
        raise NotFound("CTO series not found", field="series_id")
    return found


async def _members(uow: UnitOfWork, office: OfficeUser, found: CtoSeries) -> list[dict[str, Any]]:
    """The series' members: name, structures on the territory, charter."""
    where = await ui.where_of(uow, office.actor, found.territory_id)
    rows = await uow.session.execute(
        select(CtoMember, Agent)
        .join(Agent, Agent.id == CtoMember.agent_id)
        .where(CtoMember.series_id == found.id)
        .order_by(Agent.last_name, Agent.first_name)
    )
    structures = await _structures(uow, found.territory_id)
    current = current_charter()
    out = []
    for member, agent in rows.all():
        accepted = member.charter_accepted_at
        out.append(
            {
                "agent": agent,
                "structures": structures.get(agent.id, []),
                "version": member.charter_version,
                "current": member.charter_version == current,
                "accepted_at": where.local(accepted) if accepted else None,
                "accepted_on": member.charter_accepted_on,
                "remove": url(paths.MEMBER_REMOVE, series_id=found.id, agent_id=agent.id),
            }
        )
    return out


async def _structures(uow: UnitOfWork, territory_id: uuid.UUID) -> dict[uuid.UUID, list[str]]:
    """Each agent of the territory and the names of their structures there."""
    rows = await uow.session.execute(
        select(Membership.agent_id, Organisation.name)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(Organisation.territory_id == territory_id)
        .order_by(Organisation.name)
    )
    out: dict[uuid.UUID, list[str]] = {}
    for agent_id, name in rows.all():
        out.setdefault(agent_id, []).append(name)
    return out


async def _candidates(uow: UnitOfWork, found: CtoSeries) -> list[dict[str, Any]]:
    """Active agents of the territory who are not members yet."""
    structures = await _structures(uow, found.territory_id)
    members = select(CtoMember.agent_id).where(CtoMember.series_id == found.id)
    agents = await uow.session.scalars(
        select(Agent)
        .where(Agent.id.in_(list(structures)), Agent.active, Agent.id.not_in(members))
        .order_by(Agent.last_name, Agent.first_name)
    )
    return [{"agent": a, "structures": structures[a.id]} for a in agents]


def _form_page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    context: dict[str, Any],
    *,
    errors: dict[str, ui.Refusal] | None = None,
    status: int = 200,
) -> Response[str]:
    context |= {
        "cto": paths,
        "errors": errors or {},
        "frequencies": words.FREQUENCIES,
        "weekdays": words.WEEKDAYS,
        "nths": words.NTHS,
        "done": _done(request),
    }
    return ui.page(request, office, "series_form", "comites", context, status=status)


def _done(request: Request[Any, Any, Any]) -> str | None:
    key = request.query_params.get("fait")
    return key if key in _DONE else None


async def _series_context(
    uow: UnitOfWork, office: OfficeUser, found: CtoSeries, values: dict[str, str]
) -> dict[str, Any]:
    """What the series page shows: the form, the coming sessions, the members."""
    where = await ui.where_of(uow, office.actor, found.territory_id)
    coming = await series.list_sessions(uow=uow, actor=office.actor, series_id=found.id, since=None)
    return {
        "series": {
            "id": found.id,
            "name": found.name,
            "starts_on": found.starts_on,
            "rule": words.rule_in_words(found.rrule, found.start_time),
        },
        "action": url(paths.SERIES, series_id=found.id),
        "members_action": url(paths.MEMBERS, series_id=found.id),
        "values": values,
        "places": await _places(uow, office),
        "sessions": [{"row": s, "starts_at": where.local(s.starts_at)} for s in coming[:6]],
        "sessions_count": len(coming),
        "members": await _members(uow, office, found),
        "candidates": await _candidates(uow, found),
    }


@get(paths.SERIES_LIST, include_in_schema=False)
async def series_list(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The territory's series: rule in words, capacity, deadline, where, members."""
    office.require_team_role()
    territory_id = office.acting.territory_id
    found = (
        await uow.session.scalars(
            select(CtoSeries).where(CtoSeries.territory_id == territory_id).order_by(CtoSeries.name)
        )
    ).all()
    counts = await uow.session.execute(
        select(
            CtoMember.series_id,
            func.count(),
            func.count().filter(CtoMember.charter_version == current_charter()),
        )
        .where(CtoMember.series_id.in_([s.id for s in found]))
        .group_by(CtoMember.series_id)
    )
    members = {row[0]: (row[1], row[2]) for row in counts.all()}
    places = {
        p.id: p.name
        for p in await territories.list_places(
            uow=uow, actor=office.actor, territory_id=territory_id
        )
    }
    rows = [
        {
            "row": s,
            "url": url(paths.SERIES, series_id=s.id),
            "rule": words.rule_in_words(s.rrule, s.start_time),
            "deadline": words.deadline_in_words(s.deadline_days_before, s.deadline_time),
            "place": places.get(s.place_id) if s.place_id else None,
            "members": members.get(s.id, (0, 0))[0],
            "sworn": members.get(s.id, (0, 0))[1],
        }
        for s in found
    ]
    context = {"cto": paths, "series": rows, "done": _done(request)}
    return ui.page(request, office, "series", "comites", context)


@get(paths.SERIES_NEW, include_in_schema=False)
async def new_series(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The form creating a series."""
    office.require_team_role()
    context = {
        "series": None,
        "action": paths.SERIES_NEW,
        "values": _blank(),
        "places": await _places(uow, office),
    }
    return _form_page(request, office, context)


@post(paths.SERIES_NEW, include_in_schema=False, status_code=303)
async def create_series(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Create a series (its sessions are generated at once); every refused field is said."""
    office.require_team_role()
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=False)
    created = None
    if not refusals:
        fields["territory_id"] = office.acting.territory_id
        fields["organisation_id"] = office.acting.organisation_id
        created = await _attempt(
            uow, refusals, series.create_series(uow=uow, actor=office.actor, values=fields)
        )
    if created is None:
        context = {
            "series": None,
            "action": paths.SERIES_NEW,
            "values": values,
            "places": await _places(uow, office),
        }
        return _form_page(request, office, context, errors=refusals.by_key, status=422)
    return redirect(f"{url(paths.SERIES, series_id=created.id)}?fait=serie-creee")


@get(paths.SERIES, include_in_schema=False)
async def one_series(
    request: Request[Any, Any, Any], uow: Uow, office: Office, series_id: FromPath[uuid.UUID]
) -> Response[str]:
    """A series: its form, its coming sessions and its members."""
    found = await _series(uow, office, series_id)
    context = await _series_context(uow, office, found, _values(found))
    return _form_page(request, office, context)


@post(paths.SERIES, include_in_schema=False, status_code=303)
async def change_series(
    request: Request[Any, Any, Any], uow: Uow, office: Office, series_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Change a series; deadlines of sessions not yet frozen follow; nothing half-written."""
    found = await _series(uow, office, series_id)
    refusals = ui.Refusals()
    fields, values = await _read(request, refusals, editing=True)
    # Only what changed: same timings leave the coming sessions as they are.
    fields = {k: v for k, v in fields.items() if getattr(found, k) != v}
    if not refusals:
        await _attempt(
            uow,
            refusals,
            series.update_series(uow=uow, actor=office.actor, series_id=series_id, values=fields),
        )
    if refusals:
        await uow.session.refresh(found)
        context = await _series_context(uow, office, found, values)
        return _form_page(request, office, context, errors=refusals.by_key, status=422)
    return redirect(f"{url(paths.SERIES, series_id=series_id)}?fait=serie-modifiee")


@post(paths.MEMBERS, include_in_schema=False, status_code=303)
async def add_member(
    request: Request[Any, Any, Any], uow: Uow, office: Office, series_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Add an agent of the territory to the series (chosen in a list)."""
    found = await _series(uow, office, series_id)
    form = await ui.Form.of(request)
    refusals = ui.Refusals()
    agent_id = refusals.take(ui.parse_uuid, form.get("agent_id"), "agent_id")
    if agent_id is not None:
        try:
            async with uow.session.begin_nested():
                await series.add_member(
                    uow=uow,
                    actor=office.actor,
                    series_id=series_id,
                    agent_id=agent_id,
                    charter_accepted_on=None,
                )
        except NotFound as exc:
            if exc.field != "agent_id":
                raise
            refusals.add(Invalid(str(exc), field="agent_id", code="not_listed"))
    if refusals:
        await uow.session.refresh(found)
        context = await _series_context(uow, office, found, _values(found))
        return _form_page(request, office, context, errors=refusals.by_key, status=422)
    return redirect(f"{url(paths.SERIES, series_id=series_id)}?fait=membre-ajoute#membres")


@post(paths.MEMBER_REMOVE, include_in_schema=False, status_code=303)
async def remove_member(
    uow: Uow, office: Office, series_id: FromPath[uuid.UUID], agent_id: FromPath[uuid.UUID]
) -> Response[Any]:
    """Take a member off the series (an unknown member is a 404)."""
    await _series(uow, office, series_id)
    await series.remove_member(uow=uow, actor=office.actor, series_id=series_id, agent_id=agent_id)
    return redirect(f"{url(paths.SERIES, series_id=series_id)}?fait=membre-retire#membres")


ROUTES: list[ControllerRouterHandler] = [
    series_list,
    new_series,
    create_series,
    one_series,
    change_series,
    add_member,
    remove_member,
]
