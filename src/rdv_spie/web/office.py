"""What every back-office page shares: the agent's territory and time zone, reading a posted
form, rendering an ``office_*`` page, and the codes of a refused form.

Page helpers only: no business rule lives here (services check permissions themselves), and
no word a person reads (the menu is in templates/pages/office_base.html, the sentences for a
refusal in templates/pages/office_messages.html, keyed by code and field).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any, ParamSpec, TypeVar
from zoneinfo import ZoneInfo

from litestar import Request, Response
from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import DomainError, Invalid, NotFound
from rdv_spie.territories.models import Territory
from rdv_spie.web.auth import OfficeUser, SignedIn
from rdv_spie.web.pages import render

# ?fait= keys that a form shared by several pages sends the browser back with (what
# office_messages.html's ``done`` says); a page that passes its own ``done`` keeps it.
SHARED_DONE = frozenset({"debloque"})


@dataclass(frozen=True, slots=True)
class Where:
    """The agent's territory (the first one, by name, when they work on several)."""

    territory: Territory
    zone: ZoneInfo

    def local(self, instant: datetime) -> datetime:
        """An instant as wall time in the territory."""
        return instant.astimezone(self.zone)

    def today(self, now: datetime) -> date:
        """The territory's date at ``now``."""
        return now.astimezone(self.zone).date()


async def where(uow: UnitOfWork, actor: Actor) -> Where:
    """The territory the agent's pages show times in."""
    territory = await uow.session.scalar(
        select(Territory)
        .where(Territory.id.in_(actor.territory_ids))
        .order_by(Territory.name)
        .limit(1)
    )
    if territory is None:
        raise Invalid("the agent belongs to no organisation", code="no_organisation")
    return Where(territory, ZoneInfo(territory.timezone))


async def where_of(uow: UnitOfWork, actor: Actor, territory_id: uuid.UUID) -> Where:
    """One of the agent's territories by id (a journey's, when booking on its behalf)."""
    actor.require_territory(territory_id)
    territory = await uow.session.get(Territory, territory_id)
    if territory is None:
        raise NotFound("territory not found", field="territory_id")
    return Where(territory, ZoneInfo(territory.timezone))


def page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    name: str,
    active: str | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response[str]:
    """A back-office page (``templates/pages/office_<name>.html``); ``active`` is the menu
    item to mark as current (a key of the menu in office_base.html); ``done`` defaults to a
    shared form's ``?fait=`` key."""
    values = dict(context or {})
    values["active"] = active
    values["me"] = office.agent
    values["acting"] = office.acting
    values["choices"] = office.choices
    if "done" not in values:  # a shared form (unlocking a link) came back here
        fait = request.query_params.get("fait")
        values["done"] = fait if fait in SHARED_DONE else None
    return render(request, f"office_{name}", values, status=status)


def portal_page(
    request: Request[Any, Any, Any],
    member: SignedIn,
    name: str,
    active: str | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response[str]:
    """A page of the partners' portal (``office_<name>.html``) for any logged-in agent: the
    menu shows the portal (and the back office's first page for staff)."""
    values = dict(context or {})
    values |= {"active": active, "me": member.agent, "acting": None, "choices": ()}
    values["portal_staff"] = member.staff
    values.setdefault("done", None)
    return render(request, f"office_{name}", values, status=status)


class Form:
    """A posted form: single values trimmed, repeated values (checkboxes) as lists."""

    def __init__(self, items: list[tuple[str, str]]) -> None:
        self._items = items

    @classmethod
    async def of(cls, request: Request[Any, Any, Any]) -> Form:
        """Read the request's urlencoded or multipart body."""
        form = await request.form()
        return cls([(k, v) for k, v in form.multi_items() if isinstance(v, str)])

    def get(self, name: str, default: str = "") -> str:
        """The first value of a field, trimmed."""
        for key, value in self._items:
            if key == name:
                return value.strip()
        return default

    def getall(self, name: str) -> list[str]:
        """Every value of a repeated field."""
        return [v.strip() for k, v in self._items if k == name]

    def values(self) -> dict[str, str]:
        """First values, to fill a form shown again."""
        out: dict[str, str] = {}
        for key, value in self._items:
            out.setdefault(key, value.strip())
        return out


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a form was refused, for the page to say in French: the DomainError's code and
    field (office_messages.html's ``error(code, field)`` holds the sentences)."""

    code: str
    field: str | None = None


def refusal(exc: DomainError) -> Refusal:
    """The code and field of a refused form."""
    return Refusal(exc.code, exc.field)


P = ParamSpec("P")
T = TypeVar("T")


class Refusals:
    """Every refusal of one posted form, keyed by field (``prefix`` + the field's name, or
    ``prefix + "form"`` for the form as a whole), so the page says them all at once: a page
    parses each field through ``take``, calls the service only when nothing was refused, and
    ``add``s what the service refuses (one rule at a time, after the fields are sound)."""

    def __init__(self, prefix: str = "") -> None:
        self.prefix = prefix
        self.by_key: dict[str, Refusal] = {}

    def __bool__(self) -> bool:
        return bool(self.by_key)

    def add(self, exc: DomainError) -> None:
        """Keep a refusal under its field (the first one of each field)."""
        self.by_key.setdefault(self.prefix + (exc.field or "form"), refusal(exc))

    def take(self, parse: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T | None:
        """``parse(*args, **kwargs)``, or None with its Invalid kept."""
        try:
            return parse(*args, **kwargs)
        except Invalid as exc:
            self.add(exc)
            return None


def parse_uuid(value: str | None, field: str) -> uuid.UUID:
    """A uuid from a form or query value, or Invalid naming the field."""
    try:
        return uuid.UUID(value or "")
    except ValueError:
        raise Invalid("not one of the listed values", field=field, code="not_listed") from None


def parse_date(value: str | None, field: str, *, required: bool = True) -> date | None:
    """A date typed as YYYY-MM-DD (what <input type=date> sends)."""
    if not value:
        if required:
            raise Invalid("a date is required", field=field, code="date_missing")
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("not a YYYY-MM-DD date", field=field, code="date_invalid") from None


def parse_time(value: str | None, field: str) -> time:
    """A wall time typed as HH:MM."""
    try:
        return time.fromisoformat(value or "")
    except ValueError:
        raise Invalid("not an HH:MM time", field=field, code="time_invalid") from None


def parse_local(value: str | None, field: str, zone: ZoneInfo) -> datetime:
    """A local date and time (<input type=datetime-local>) in the territory's zone, as an
    aware instant; a wall time that does not exist (the spring DST gap) is refused."""
    try:
        naive = datetime.fromisoformat(value or "")
    except ValueError:
        raise Invalid("not a local date and time", field=field, code="datetime_invalid") from None
    if naive.tzinfo is not None:
        raise Invalid("not a local date and time", field=field, code="datetime_invalid")
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise Invalid(
            "this wall time does not exist that day (DST gap)", field=field, code="dst_gap"
        )
    return aware
