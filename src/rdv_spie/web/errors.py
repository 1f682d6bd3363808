"""Map errors to RFC 9457 problem details (``application/problem+json``) that name the field."""

from __future__ import annotations

import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap

from rdv_spie.errors import DomainError
from rdv_spie.logging import get_logger

PROBLEM = "application/problem+json"
_log = get_logger("rdv_spie.web")


def problem(
    status: int,
    title: str,
    detail: str,
    *,
    code: str,
    field: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response[dict[str, Any]]:
    """A problem-details response."""
    body: dict[str, Any] = {
        "type": f"urn:rdv-spie:problem:{code}",
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if extra:
        body.update(extra)
    return Response(body, status_code=status, media_type=PROBLEM, headers=headers)


_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    410: "Gone",
    422: "Unprocessable content",
    429: "Too many requests",
}


def on_domain_error(_request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A service said no: say why, and about which field."""
    return problem(
        exc.status, _TITLES.get(exc.status, "Error"), exc.detail, code=exc.code, field=exc.field
    )


# Python names of query parameters whose public name is a keyword ("from").
_PUBLIC_NAMES = {
    "window_start": "from",
    "window_end": "to",
    "entered_from": "from",
    "entered_to": "to",
}
_MISSING_PARAMETER = re.compile(
    r"Missing required (?:query|path|header|cookie) parameter '([^']+)'"
)


def on_validation_error(
    _request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    """The request did not parse: name each offending field (bad date, bad uuid…)."""
    errors = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            key = item.get("key") or item.get("source")
            errors.append(
                {"field": _PUBLIC_NAMES.get(str(key), key), "message": item.get("message")}
            )
    if not errors and exc.detail:
        missing = _MISSING_PARAMETER.search(exc.detail)
        if missing:  # Litestar names a missing parameter in its text only
            name = missing.group(1)
            errors.append({"field": _PUBLIC_NAMES.get(name, name), "message": "is required"})
    first = errors[0] if errors else {}
    detail = exc.detail or "invalid request"
    if first.get("field"):
        detail = f"{first['field']}: {first.get('message') or detail}"
    return problem(
        400,
        "Bad request",
        detail,
        code="bad_request",
        field=first.get("field"),
        extra={"errors": errors} if errors else None,
    )


def on_http_error(_request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (404 route, 405…) in the same shape."""
    status = exc.status_code
    if status >= 500:  # the framework's own 500s (e.g. a dependency that failed) are bugs too
        _log.error("framework error", status=status, exc_info=exc)
    code = "not_found" if isinstance(exc, NotFoundException) else f"http_{status}"
    return problem(status, _TITLES.get(status, "Error"), exc.detail, code=code, headers=exc.headers)


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: log it (without the request body or query), answer a plain 500."""
    _log.exception(
        "unhandled error", method=request.method, route=request.scope.get("path_template")
    )
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal server error",
        "something went wrong on our side; nothing was saved",
        code="internal",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    Exception: on_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
