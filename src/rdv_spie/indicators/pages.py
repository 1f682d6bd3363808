"""The indicators dashboard: the figures of the territory the agent acts for (every cohort
they see there, or one) over a period of entry dates, a month-by-month chart in server-drawn
SVG with the same figures as a table, and the same numbers as CSV.

For the territory team only (admin or animator of the organisation they act for; a referent
gets 403); a cohort they do not see is the same 404 as an unknown one. The figures come from
indicators.queries, as the JSON API's do; a date that cannot be read is the page again (422)
with the message, never a 500.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response, get
from litestar.types import ControllerRouterHandler

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import Uow
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.indicators import chart, export, paths, queries
from rdv_spie.people.models import Cohort
from rdv_spie.templating.render import Renderer
from rdv_spie.web import office as ui
from rdv_spie.web.auth import Office, OfficeUser
from rdv_spie.web.pages import query_uuid

WORDS = "pages/office_indicators_words.html"  # labels, definitions, month names, CSV words
MAX_YEARS = 10  # a longer period is refused (the chart would be a thousand bars)


@dataclass
class _Asked:
    """What the filter form asks for, read from the query."""

    cohorts: list[Cohort]
    cohort: Cohort | None
    start: date | None
    end: date | None
    form: dict[str, str]
    errors: ui.Refusals = field(default_factory=ui.Refusals)


def default_period(today: date) -> tuple[date, date]:
    """The last 12 months: from the first day of the month 11 months back to today."""
    months = today.year * 12 + today.month - 1 - 11
    return date(months // 12, months % 12 + 1, 1), today


async def _ask(
    request: Request[Any, Any, Any], uow: UnitOfWork, office: OfficeUser, where: ui.Where
) -> _Asked:
    query = request.query_params
    cohorts = await queries.territory_cohorts(uow, office.actor, where.territory.id)
    cohort = None
    if asked := (query.get("cohorte") or "").strip():
        wanted = query_uuid(asked)
        cohort = next((c for c in cohorts if c.id == wanted), None)
        if cohort is None:  # unknown, another territory's, not theirs: the same 404
            raise NotFound("cohort not found", field="cohort_id")
    first, last = default_period(where.today(uow.clock.now()))
    raw_from = (query.get("du") or "").strip()
    raw_to = (query.get("au") or "").strip()
    errors = ui.Refusals()
    start = errors.take(ui.parse_date, raw_from, "du") if raw_from else first
    end = errors.take(ui.parse_date, raw_to, "au") if raw_to else last
    if start is not None and end is not None:
        if end < start:
            errors.add(Invalid("'au' is before 'du'", field="au", code="period_reversed"))
        elif end - start > timedelta(days=366 * MAX_YEARS):
            errors.add(Invalid("the period is too long", field="du", code="period_too_long"))
    form = {
        "cohorte": str(cohort.id) if cohort else "",
        "du": raw_from or first.isoformat(),
        "au": raw_to or last.isoformat(),
    }
    return _Asked(cohorts, cohort, start, end, form, errors)


async def _dashboard(
    request: Request[Any, Any, Any], uow: UnitOfWork, office: OfficeUser
) -> tuple[_Asked, ui.Where, queries.Dashboard | None]:
    office.require_team_role()
    where = await ui.where_of(uow, office.actor, office.acting.territory_id)
    asked = await _ask(request, uow, office, where)
    if asked.errors or asked.start is None or asked.end is None:
        return asked, where, None
    figures = await queries.dashboard(
        uow=uow,
        actor=office.actor,
        territory_id=where.territory.id,
        cohort_id=asked.cohort.id if asked.cohort else None,
        entered_from=asked.start,
        entered_to=asked.end,
        today=where.today(uow.clock.now()),
    )
    return asked, where, figures


def _page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    asked: _Asked,
    where: ui.Where,
    figures: queries.Dashboard | None,
) -> Response[str]:
    context: dict[str, Any] = {
        "territory": where.territory,
        "cohorts": asked.cohorts,
        "cohort": asked.cohort,
        "form": asked.form,
        "errors": asked.errors.by_key,
        "figures": figures,
        "action": paths.INDICATORS,
    }
    if figures is not None:
        context["summary"] = export.summary(figures)
        context["chart"] = chart.layout(figures.months)
        context["percent"] = export.percent
        context["csv_url"] = f"{paths.INDICATORS_CSV}?{urlencode(asked.form)}"
    status = 422 if asked.errors else 200
    return ui.page(request, office, "indicators", "indicateurs", context, status=status)


@get(paths.INDICATORS, include_in_schema=False)
async def indicators_page(
    request: Request[Any, Any, Any], uow: Uow, office: Office
) -> Response[str]:
    """The dashboard (?cohorte=&du=YYYY-MM-DD&au=YYYY-MM-DD; the last 12 months by default)."""
    asked, where, figures = await _dashboard(request, uow, office)
    return _page(request, office, asked, where, figures)


@get(paths.INDICATORS_CSV, include_in_schema=False)
async def indicators_csv(
    request: Request[Any, Any, Any], uow: Uow, office: Office
) -> Response[Any]:
    """The dashboard's numbers as a CSV file (the page again, 422, when a date is wrong)."""
    asked, where, figures = await _dashboard(request, uow, office)
    if figures is None:
        return _page(request, office, asked, where, figures)
    renderer: Renderer = request.app.state.renderer

    def words(key: str) -> str:
        return renderer.macro(WORDS, "csv_word", key).strip()

    def month_name(month: date) -> str:
        return renderer.macro(WORDS, "month_short", month).strip()

    cohort = asked.cohort
    text = export.csv_text(
        figures,
        territory=where.territory.name,
        cohort=cohort.name if cohort else None,
        words=words,
        month_name=month_name,
    )
    name = renderer.macro(
        WORDS,
        "csv_name",
        export.slug(where.territory.slug),
        export.slug(cohort.name) if cohort else "",
        figures.entered_from.isoformat(),
        figures.entered_to.isoformat(),
    ).strip()
    return Response(
        text,
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


ROUTES: list[ControllerRouterHandler] = [indicators_page, indicators_csv]
