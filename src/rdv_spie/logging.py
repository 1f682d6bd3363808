"""structlog set-up shared by web and worker; never log a phone number, e-mail or token."""

from __future__ import annotations

import io
import logging
import re
import sys
from typing import Any, TextIO

import structlog
import structlog.tracebacks
from structlog.typing import ExcInfo


def configure_logging(*, level: str = "INFO", json: bool = False) -> None:
    """Route stdlib and structlog records through one renderer on stderr."""
    processors: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    # Tracebacks without local variables (they hold addresses, names and tokens) nor the
    # rows PostgreSQL quotes in an error's DETAIL line.
    if json:
        processors.append(
            structlog.processors.ExceptionRenderer(
                structlog.tracebacks.ExceptionDictTransformer(show_locals=False)
            )
        )
        processors.append(_scrub_exception)
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain_traceback)
    )
    structlog.configure(
        processors=[*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    logging.basicConfig(
        level=level.upper(), stream=sys.stderr, format="%(levelname)s %(name)s %(message)s"
    )
    # uvicorn's access log prints full paths; invitation and feed tokens live in paths later.
    logging.getLogger("uvicorn.access").disabled = True
    # Libraries that print what they send (SQL parameters, message bodies, phone numbers) at
    # DEBUG or INFO: warnings only, whatever the level asked for.
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.WARNING)


QUIET_LIBRARIES = (
    "aiosqlite",
    "asyncpg",
    "sqlalchemy.engine",
    "sqlalchemy.pool",
    "twilio",
    "aiosmtplib",
    "httpx",
    "httpcore",
)


# "DETAIL:  Key (territory_id, caf_number)=(…, 1234567) already exists." and "Failing row
# contains (…)" quote people's data; the error's first line and the SQL say enough.
_DETAIL = re.compile(r"^(\s*)DETAIL:.*$", re.MULTILINE)


def _scrubbed(text: str) -> str:
    return _DETAIL.sub(r"\1DETAIL: (hidden)", text)


def _plain_traceback(sio: TextIO, exc_info: ExcInfo) -> None:
    buffer = io.StringIO()
    structlog.dev.plain_traceback(buffer, exc_info)
    sio.write(_scrubbed(buffer.getvalue()))


def _scrub_exception(
    _logger: object, _name: str, event_dict: structlog.types.EventDict
) -> structlog.types.EventDict:
    if "exception" in event_dict:
        event_dict["exception"] = _scrub_value(event_dict["exception"])
    return event_dict


def _scrub_value(value: Any) -> Any:
    if isinstance(value, str):
        return _scrubbed(value)
    if isinstance(value, list):
        return [_scrub_value(v) for v in value]
    if isinstance(value, dict):
        return {k: _scrub_value(v) for k, v in value.items()}
    return value


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    """A named structlog logger."""
    logger: structlog.stdlib.BoundLogger = structlog.get_logger(name)
    return logger
