"""The OpenAPI document's view of types Litestar declares wrongly.

A ``datetime.time`` in this API is a local wall time of the territory, sent as "09:00:00".
Litestar declares it ``format: duration`` (an ISO 8601 "PT9H"), and JSON Schema's
``format: time`` is RFC 3339's full-time, which requires an offset that a wall time cannot
carry (it depends on the day, DST). So: a string with a pattern, matching what msgspec
writes and what it reads (seconds required, an optional fraction, no offset).
"""

from __future__ import annotations

from datetime import time
from typing import TYPE_CHECKING, Any

from litestar.openapi.spec import Schema
from litestar.openapi.spec.enums import OpenAPIType
from litestar.plugins import OpenAPISchemaPlugin

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator
    from litestar.typing import FieldDefinition

# [0-9], not \d: a validator's \d may match other scripts' digits, which msgspec refuses.
TIME_OF_DAY_PATTERN = r"^([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,9})?$"


class TimeOfDaySchema(OpenAPISchemaPlugin):
    """Declare ``datetime.time`` as a wall time ("HH:MM:SS"), not as a duration."""

    @staticmethod
    def is_plugin_supported_type(value: Any) -> bool:
        """Only ``datetime.time`` itself."""
        return value is time

    def to_openapi_schema(
        self, field_definition: FieldDefinition, schema_creator: SchemaCreator
    ) -> Schema:
        """A string with the wall-time pattern."""
        return Schema(
            type=OpenAPIType.STRING,
            pattern=TIME_OF_DAY_PATTERN,
            description="Local time of day in the territory's time zone, without offset.",
            examples=["09:00:00"],
        )
