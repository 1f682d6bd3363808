"""A posted form read through the API's own body type (a msgspec Struct), field by field, so a
page refuses exactly what the API refuses (the same bounds, enums and types) and says every
refused field at once. Codes only: the French is in templates/pages/office_messages.html."""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Mapping
from typing import Any, TypeVar

import msgspec

from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Invalid, NotFound
from rdv_spie.web.office import Refusals

S = TypeVar("S", bound=msgspec.Struct)
T = TypeVar("T")


def _code(message: str) -> str:
    """A page's code for what msgspec said about one value."""
    if message.startswith("Expected `int`"):
        return "whole_number"
    if "length <=" in message:
        return "text_too_long"
    if "length >=" in message:
        return "value_missing"
    if message.startswith(("Invalid enum value", "Expected `bool`", "Invalid UUID")):
        return "not_listed"
    return "invalid"


def _nullable(kind: Any) -> bool:
    try:
        msgspec.convert(None, kind)
    except msgspec.ValidationError:
        return False
    return True


def take(
    refusals: Refusals,
    shape: type[S],
    values: Mapping[str, Any],
    *,
    fields: Iterable[str] | None = None,
) -> dict[str, Any]:
    """The values of ``shape``'s fields (those in ``fields``, else every one ``values``
    holds) converted as the API converts a JSON body (text to numbers and booleans as a
    form sends them); a blank value is None where the API allows null. Each refused value is
    added to ``refusals`` under its field; the others are in the answer."""
    wanted = set(fields) if fields is not None else set(values)
    out: dict[str, Any] = {}
    for info in msgspec.structs.fields(shape):
        if info.name not in wanted:
            continue
        value = values.get(info.name, "")
        if value == "" or value is None:
            if _nullable(info.type):
                out[info.name] = None
            else:
                refusals.add(Invalid("a value is required", field=info.name, code="value_missing"))
            continue
        try:
            out[info.name] = msgspec.convert(value, info.type, strict=False)
        except msgspec.ValidationError as exc:
            refusals.add(Invalid(str(exc), field=info.name, code=_code(str(exc))))
    return out


def url(path: str, **ids: object) -> str:
    """A path with its ``{name:uuid}`` placeholders filled in."""
    for name, value in ids.items():
        path = path.replace(f"{{{name}:uuid}}", str(value))
    return path


def done(request_key: str | None, keys: frozenset[str]) -> str | None:
    """A page's ``?fait=`` key, when it is one of its own."""
    return request_key if request_key in keys else None


async def attempt(
    uow: UnitOfWork,
    refusals: Refusals,
    call: Awaitable[T],
    *,
    not_found: Iterable[str] = (),
) -> T | None:
    """Await a service call in a savepoint: what it refuses (Invalid, or NotFound naming
    one of ``not_found``'s fields: a value chosen in a list) is added to ``refusals`` and
    everything it changed is undone, so the page shown again leaves nothing half-written
    (the request's transaction still commits: the session's activity, for one). Objects
    loaded before are expired: read what the page shows again before the call."""
    try:
        async with uow.session.begin_nested():
            return await call
    except (Invalid, NotFound) as exc:
        if isinstance(exc, NotFound) and exc.field not in set(not_found):
            raise
        refusals.add(exc)
        return None
