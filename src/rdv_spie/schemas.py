"""Shared HTTP field types: bounded strings (the column sizes), so an over-long value is a 400
naming the field instead of a database error."""

from datetime import time
from typing import Annotated

import msgspec

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
Phone = Annotated[str, msgspec.Meta(min_length=1, max_length=20)]
Postcode = Annotated[str, msgspec.Meta(min_length=1, max_length=10)]
# A local wall time of the territory ("09:00:00"); an offset is refused, as it depends on the day.
TimeOfDay = Annotated[time, msgspec.Meta(tz=False)]
