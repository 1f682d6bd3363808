"""JSON and CSV of the entry-delay indicators: /api/v1/indicators and /api/v1/indicators.csv."""

from __future__ import annotations

import csv
import dataclasses
import io
import uuid
from datetime import date
from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from litestar.response import Response

from rdv_spie.deps import CurrentActor, Uow
from rdv_spie.indicators import queries
from rdv_spie.indicators.queries import CohortFigures

From = Annotated[date, QueryParameter(name="from", description="first entry date (inclusive)")]
To = Annotated[date, QueryParameter(name="to", description="last entry date (inclusive)")]
TerritoryId = Annotated[uuid.UUID | None, QueryParameter(name="territory_id")]
COLUMNS = [f.name for f in dataclasses.fields(CohortFigures)]


def _cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: a name starting with = + - @ is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


class IndicatorController(Controller):
    path = "/indicators"
    tags = ["indicators"]

    @get("/")
    async def indicators(
        self,
        uow: Uow,
        actor: CurrentActor,
        entered_from: From,
        entered_to: To,
        territory_id: TerritoryId = None,
    ) -> list[CohortFigures]:
        """Per cohort, for people who entered in the period: how many, the share invited within
        3 days, the share whose first appointment was held within the delay, the median days to
        it, the no-show rate and the invitations waiting for slots."""
        return await queries.compute(
            uow=uow,
            actor=actor,
            entered_from=entered_from,
            entered_to=entered_to,
            territory_id=territory_id,
        )

    @get("/csv", media_type="text/csv; charset=utf-8")
    async def indicators_csv(
        self,
        uow: Uow,
        actor: CurrentActor,
        entered_from: From,
        entered_to: To,
        territory_id: TerritoryId = None,
    ) -> Response[str]:
        """The same figures as CSV (';', shares as decimals), for a spreadsheet."""
        figures = await queries.compute(
            uow=uow,
            actor=actor,
            entered_from=entered_from,
            entered_to=entered_to,
            territory_id=territory_id,
        )
        out = io.StringIO()
        writer = csv.writer(out, delimiter=";")
        writer.writerow(COLUMNS)
        for f in figures:
            writer.writerow([_cell(v) for v in dataclasses.astuple(f)])
        name = f"indicateurs-{entered_from.isoformat()}-{entered_to.isoformat()}.csv"
        return Response(
            out.getvalue(),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )
