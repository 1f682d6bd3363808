"""Back-office pages of the scheduling room: a referent's weekly availability and absences,
with a preview of the slots they open (the agenda and booking on behalf live in
pages_agenda.py and pages_booking.py; ROUTES gathers the three).

Writes go through scheduling/service.py, which checks permissions; a refused field is shown
next to it (the page passes the refusal's code and field; the French is in the templates).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

from litestar import Request, Response, get, post
from litestar.params import FromPath
from litestar.response import Redirect
from litestar.types import ControllerRouterHandler

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.scheduling import agenda, pages_agenda, pages_booking, paths, search, service
from rdv_spie.scheduling.models import AppointmentType
from rdv_spie.settings import Settings
from rdv_spie.territories.models import Place
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid, redirect

PATH = paths.AVAILABILITY
WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
PREVIEW_DAYS = 14
PREVIEW_SLOTS = 8
# ?fait= keys after a write (office_messages.html's ``done`` says them).
_DONE = frozenset({"plage", "plage-supprimee", "absence", "absence-supprimee"})


async def preview(
    *,
    uow: UnitOfWork,
    request: Request[Any, Any, Any],
    agent_id: uuid.UUID,
    types: Iterable[AppointmentType],
    where: ui.Where,
    places: dict[uuid.UUID, Place],
) -> list[dict[str, Any]]:
    """The agent's next bookable slots for each type they serve, as the public sees them."""
    settings: Settings = request.app.state.settings
    now = uow.clock.now()
    out = []
    for type_ in types:
        _, found = await search.find_slots(
            uow=uow,
            now=now,
            type_id=type_.id,
            window_start=now,
            window_end=now + timedelta(days=PREVIEW_DAYS),
            grid_minutes=settings.slot_grid_minutes,
            cache=request.app.state.slot_cache,
        )
        mine = [s for s in found if agent_id in (*s.referent_ids, *s.animator_ids)]
        out.append(
            {
                "name": type_.name,
                "count": len(mine),
                "slots": [
                    {
                        "at": where.local(s.starts_at),
                        "place": places[s.place_id].name if s.place_id in places else "",
                    }
                    for s in mine[:PREVIEW_SLOTS]
                ],
            }
        )
    return out


async def _page(
    request: Request[Any, Any, Any],
    uow: UnitOfWork,
    office: OfficeUser,
    *,
    errors: dict[str, ui.Refusal] | None = None,
    rule_form: dict[str, Any] | None = None,
    absence_form: dict[str, str] | None = None,
    status: int = 200,
) -> Response[str]:
    actor: Actor = office.actor
    where = await ui.where(uow, actor)
    me = actor.agent_id
    rules = await service.list_rules(uow=uow, actor=actor, agent_id=me)
    now = uow.clock.now()
    absences = await service.list_absences(uow=uow, actor=actor, agent_id=me, start=now)
    places = await agenda.places_of(uow, where.territory.id)
    types = [
        t
        for t in await service.list_types(uow=uow, actor=actor, territory_id=where.territory.id)
        if t.active
    ]
    served = {t.id: t for r in rules for t in r.appointment_types if t.active}
    by_id = {p.id: p for p in places}
    # An agent of several structures says which one each rule opens hours for.
    mine = await agenda.structures(uow, actor.staff_organisation_ids, where.territory.id)
    names = {o.id: o.name for o in mine}
    today = where.today(now)
    context = {
        "weekdays": WEEKDAYS,
        "rules": [
            {
                "id": r.id,
                "days": [WEEKDAYS[d] for d in sorted(r.weekday_set)],
                "start": r.start_time,
                "end": r.end_time,
                "place": by_id[r.place_id].name if r.place_id in by_id else "—",
                "structure": names.get(r.organisation_id, "") if len(mine) > 1 else "",
                "types": [t.name for t in r.appointment_types],
                "valid_from": r.valid_from,
                "valid_until": r.valid_until,
            }
            for r in rules
        ],
        "absences": [
            {
                "id": a.id,
                "starts": where.local(a.starts_at),
                "ends": where.local(a.ends_at),
                "title": a.title,
            }
            for a in absences
        ],
        "places": places,
        "types": types,
        "structures": mine if len(mine) > 1 else [],
        "preview": await preview(
            uow=uow,
            request=request,
            agent_id=me,
            types=sorted(served.values(), key=lambda t: t.name),
            where=where,
            places=by_id,
        ),
        "errors": errors or {},
        "rule_form": rule_form or {"valid_from": today.isoformat(), "weekdays": [], "types": []},
        "absence_form": absence_form or {},
        "done": _done(request.query_params.get("fait")),
        "zone": where.territory.timezone,
    }
    return ui.page(request, office, "availability", "disponibilites", context, status=status)


def _done(key: str | None) -> str | None:
    return key if key in _DONE else None


@get(PATH, include_in_schema=False)
async def availability(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[str]:
    """The agent's weekly rules, absences and next slots."""
    return await _page(request, uow, office)


@post(paths.RULES, include_in_schema=False, status_code=303)
async def add_rule(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Add a weekly rule for oneself; every empty or malformed field is reported at once."""
    form = await ui.Form.of(request)
    values: dict[str, Any] = {
        **form.values(),
        "weekdays": form.getall("weekdays"),
        "types": form.getall("appointment_type_ids"),
    }
    errors = ui.Refusals()
    weekdays = [int(day) for day in values["weekdays"] if day.isdigit()]
    if len(weekdays) != len(values["weekdays"]):
        errors.add(Invalid("not a weekday number", field="weekdays", code="weekday_invalid"))
    elif not weekdays:
        errors.add(Invalid("choose at least one weekday", field="weekdays"))
    start_time = errors.take(ui.parse_time, form.get("start_time"), "start_time")
    end_time = errors.take(ui.parse_time, form.get("end_time"), "end_time")
    if start_time is not None and end_time is not None and end_time <= start_time:
        errors.add(Invalid("end_time must be after start_time", field="end_time"))
    place_id = errors.take(ui.parse_uuid, form.get("place_id"), "place_id")
    organisation_id = query_uuid(form.get("organisation_id"))
    type_ids = [errors.take(ui.parse_uuid, v, "appointment_type_ids") for v in values["types"]]
    if not type_ids:
        errors.add(Invalid("choose at least one type", field="appointment_type_ids"))
    valid_from = errors.take(ui.parse_date, form.get("valid_from"), "valid_from")
    valid_until = errors.take(ui.parse_date, form.get("valid_until"), "valid_until", required=False)
    if valid_from is not None and valid_until is not None and valid_until < valid_from:
        errors.add(Invalid("valid_until must be on or after valid_from", field="valid_until"))
    if not errors:
        # Each was parsed, or refused.
        assert start_time is not None and end_time is not None
        assert place_id is not None and valid_from is not None
        try:
            await service.save_rule(
                uow=uow,
                actor=office.actor,
                rule=None,
                agent_id=office.actor.agent_id,
                place_id=place_id,
                weekdays=weekdays,
                start_time=start_time,
                end_time=end_time,
                valid_from=valid_from,
                valid_until=valid_until,
                appointment_type_ids=[t for t in type_ids if t is not None],
                organisation_id=organisation_id,
            )
        except (Invalid, NotFound) as exc:
            if isinstance(exc, NotFound) and exc.field not in (
                "place_id",
                "appointment_type_ids",
                "organisation_id",
            ):
                raise
            errors.add(exc)
    if errors:
        return await _page(request, uow, office, errors=errors.by_key, rule_form=values, status=422)
    return redirect(f"{PATH}?fait=plage")


@post(paths.RULE_DELETE, include_in_schema=False, status_code=303)
async def remove_rule(uow: Uow, office: Office, rule_id: FromPath[uuid.UUID]) -> Redirect:
    """Delete one of one's rules (appointments already booked stay)."""
    await service.delete_rule(uow=uow, actor=office.actor, rule_id=rule_id)
    return redirect(f"{PATH}?fait=plage-supprimee")


@post(paths.ABSENCES, include_in_schema=False, status_code=303)
async def add_absence(request: Request[Any, Any, Any], uow: Uow, office: Office) -> Response[Any]:
    """Add an absence for oneself, in the territory's local time; every empty or malformed
    field is reported at once."""
    form = await ui.Form.of(request)
    where = await ui.where(uow, office.actor)
    errors = ui.Refusals(prefix="absence_")
    starts_at = errors.take(ui.parse_local, form.get("starts_at"), "starts_at", where.zone)
    ends_at = errors.take(ui.parse_local, form.get("ends_at"), "ends_at", where.zone)
    if starts_at is not None and ends_at is not None and ends_at <= starts_at:
        errors.add(Invalid("ends_at must be after starts_at", field="ends_at"))
    title = form.get("title") or None
    if title is not None and len(title) > 200:
        errors.add(Invalid("the title is too long", field="title"))
    if not errors:
        assert starts_at is not None and ends_at is not None  # parsed, or refused
        try:
            await service.create_absence(
                uow=uow,
                actor=office.actor,
                agent_id=office.actor.agent_id,
                starts_at=starts_at,
                ends_at=ends_at,
                title=title,
            )
        except Invalid as exc:
            errors.add(exc)
    if errors:
        return await _page(
            request, uow, office, errors=errors.by_key, absence_form=form.values(), status=422
        )
    return redirect(f"{PATH}?fait=absence")


@post(paths.ABSENCE_DELETE, include_in_schema=False, status_code=303)
async def remove_absence(uow: Uow, office: Office, absence_id: FromPath[uuid.UUID]) -> Redirect:
    """Delete one of one's absences."""
    await service.delete_absence(uow=uow, actor=office.actor, absence_id=absence_id)
    return redirect(f"{PATH}?fait=absence-supprimee")


ROUTES: list[ControllerRouterHandler] = [
    availability,
    add_rule,
    remove_rule,
    add_absence,
    remove_absence,
    *pages_agenda.ROUTES,
    *pages_booking.ROUTES,
]
