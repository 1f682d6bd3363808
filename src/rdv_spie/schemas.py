"""Shared HTTP field types: bounded strings (the column sizes), so an over-long value is a 400
naming the field instead of a database error; and the one shape of a PATCH body."""

from datetime import time
from typing import Annotated, Any

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Postcode = Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
# A local wall time of the territory ("09:00:00"); an offset is refused, as it depends on the day.
TimeOfDay = Annotated[time, msgspec.Meta(tz=False)]


class Patch(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Base of every PATCH body. Each field defaults to ``msgspec.UNSET`` (left out = keep):
    ``X | UnsetType | None`` for a nullable column, so ``null`` clears it, and ``X | UnsetType``
    for the others, so ``null`` is a 400 naming the field. Never ``None`` as a default: "not
    sent" and "set to null" must differ. Handlers read the body through ``sent``."""


def sent(body: Patch) -> dict[str, Any]:
    """The fields a PATCH body carries, ``null`` included: ``{name: value}`` for every field
    not UNSET."""
    return {
        name: value
        for name in body.__struct_fields__
        if (value := getattr(body, name)) is not msgspec.UNSET
    }
