"""What every back-office page shares: the agent's territory and time zone, reading a posted
form, rendering an ``office_*`` page with the menu.

Page helpers only: no business rule lives here (services check permissions themselves).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

from litestar import Request, Response
from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import DomainError, Invalid
from rdv_spie.territories.models import Territory
from rdv_spie.web.auth import OfficeUser
from rdv_spie.web.pages import render

# The menu: (key, path, words). ``active`` in a page's context is one of the keys.
MENU = (
    ("agenda", "/agent/agenda", "Agenda"),
    ("disponibilites", "/agent/disponibilites", "Disponibilités"),
    ("personnes", "/agent/personnes", "Personnes à suivre"),
    ("prise", "/agent/prise-de-rdv", "Prendre un rendez-vous"),
    ("calendrier", "/agent/calendrier", "Mon calendrier"),
)


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


def page(
    request: Request[Any, Any, Any],
    office: OfficeUser,
    name: str,
    active: str | None,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
) -> Response[str]:
    """A back-office page (``templates/pages/office_<name>.html``) with its menu."""
    values = dict(context or {})
    values["menu"] = MENU
    values["active"] = active
    values["me"] = office.agent
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


# What a person reads when a service refuses a form: by code, then by field.
_BY_CODE = {
    "overlapping_rule": "Cette plage chevauche une de vos plages existantes sur les mêmes jours.",
    "not_started": "Ce rendez-vous n'a pas encore commencé : vous pourrez dire s'il a eu lieu "
    "une fois l'heure passée.",
    "already_final": "Ce rendez-vous est annulé : son statut ne peut plus changer.",
    "already_started": "Ce rendez-vous a commencé : il ne peut plus être annulé.",
    "slot_taken": "Ce créneau vient d'être réservé. Choisissez-en un autre ci-dessous.",
    "already_booked": "Cette personne a déjà un rendez-vous à venir : il est dans l'agenda.",
    "outside_availability": "Ce créneau n'est plus proposé. Choisissez-en un autre ci-dessous.",
    "in_the_past": "Ce créneau est déjà passé. Choisissez-en un autre ci-dessous.",
    "no_organisation": "Votre compte n'est rattaché à aucune structure.",
}
_BY_FIELD = {
    "end_time": "L'heure de fin doit être après l'heure de début.",
    "start_time": "Vérifiez l'heure de début.",
    "valid_until": "La date de fin doit être le même jour ou après la date de début.",
    "valid_from": "Vérifiez la date de début.",
    "weekdays": "Cochez au moins un jour.",
    "appointment_type_ids": "Cochez au moins un motif.",
    "place_id": "Choisissez un lieu dans la liste.",
    "ends_at": "La fin doit être après le début.",
    "starts_at": "Vérifiez la date et l'heure de début.",
    "title": "Le titre est trop long (200 caractères au plus).",
}
_OWN = "form_value"  # raised by the helpers below, already in French


def french(exc: DomainError) -> str:
    """The French sentence shown next to the field a service refused."""
    if exc.code == _OWN:
        return exc.detail
    return (
        _BY_CODE.get(exc.code)
        or _BY_FIELD.get(exc.field or "")
        or ("Cette valeur ne convient pas. Vérifiez-la et recommencez.")
    )


def parse_uuid(value: str | None, field: str) -> uuid.UUID:
    """A uuid from a form or query value, or Invalid naming the field."""
    try:
        return uuid.UUID(value or "")
    except ValueError:
        raise Invalid("Choisissez une valeur dans la liste.", field=field, code=_OWN) from None


def maybe_uuid(value: str | None) -> uuid.UUID | None:
    """A uuid, or None when the value is not one."""
    try:
        return uuid.UUID(value or "")
    except ValueError:
        return None


def parse_date(value: str | None, field: str, *, required: bool = True) -> date | None:
    """A date typed as YYYY-MM-DD (what <input type=date> sends)."""
    if not value:
        if required:
            raise Invalid("Indiquez une date.", field=field, code=_OWN)
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Invalid("Indiquez une date valide.", field=field, code=_OWN) from None


def parse_time(value: str | None, field: str) -> time:
    """A wall time typed as HH:MM."""
    try:
        return time.fromisoformat(value or "")
    except ValueError:
        raise Invalid("Indiquez une heure, par exemple 09:30.", field=field, code=_OWN) from None


def parse_local(value: str | None, field: str, zone: ZoneInfo) -> datetime:
    """A local date and time (<input type=datetime-local>) in the territory's zone, as an
    aware instant; a wall time that does not exist (the spring DST gap) is refused."""
    try:
        naive = datetime.fromisoformat(value or "")
    except ValueError:
        raise Invalid("Indiquez une date et une heure.", field=field, code=_OWN) from None
    if naive.tzinfo is not None:
        raise Invalid("Indiquez une date et une heure.", field=field, code=_OWN)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        raise Invalid(
            "Cette heure n'existe pas ce jour-là (changement d'heure).", field=field, code=_OWN
        )
    return aware
