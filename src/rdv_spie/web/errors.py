"""Map errors to RFC 9457 problem details (``application/problem+json``) that name the field."""

from __future__ import annotations

import re
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, NotFoundException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR
from litestar.types import ExceptionHandlersMap
from sqlalchemy.exc import DBAPIError

from rdv_spie.deps import wants_html
from rdv_spie.errors import DomainError
from rdv_spie.logging import get_logger
from rdv_spie.web import paths
from rdv_spie.web.auth import LoginRequired
from rdv_spie.web.pages import redirect, render
from rdv_spie.web.ratelimit import TooManyRequests

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


def html_error(
    request: Request[Any, Any, Any],
    status: int,
    code: str,
    headers: dict[str, str] | None = None,
    retry_after: int | None = None,
) -> Response[Any]:
    """The French error page (pages/error.html); a dead invitation session gets the very
    page an unknown link gets."""
    if code == "link_invalid":
        return render(request, "invitation_invalid", {}, status=404, headers=headers)
    context = {
        "status": status,
        "code": code,
        "retry_minutes": max(1, ((retry_after or 60) + 59) // 60),
        "home": paths.OFFICE if request.url.path.startswith(paths.OFFICE) else "/",
    }
    return render(request, "error", context, status=status, headers=headers)


def on_domain_error(request: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    """A service said no: say why, and about which field."""
    headers = None
    retry_after = exc.retry_after if isinstance(exc, TooManyRequests) else None
    if retry_after is not None:
        headers = {"Retry-After": str(retry_after)}
    if wants_html(request):
        return html_error(request, exc.status, exc.code, headers, retry_after)
    return problem(
        exc.status,
        _TITLES.get(exc.status, "Error"),
        exc.detail,
        code=exc.code,
        field=exc.field,
        headers=headers,
    )


def on_login_required(request: Request[Any, Any, Any], exc: LoginRequired) -> Response[Any]:
    """A back-office page without a live session: to the login form."""
    return redirect(exc.login_path)


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


def on_validation_error(request: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    """The request did not parse: name each offending field (bad date, bad uuid…)."""
    if wants_html(request):
        return html_error(request, 400, "bad_request")
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


def on_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    """Framework errors (404 route, 405…) in the same shape."""
    status = exc.status_code
    if status >= 500:  # the framework's own 500s (e.g. a dependency that failed) are bugs too
        _log.error("framework error", status=status, exc_info=exc)
    code = "not_found" if isinstance(exc, NotFoundException) else f"http_{status}"
    if wants_html(request):
        return html_error(request, status, code, headers=exc.headers)
    return problem(status, _TITLES.get(status, "Error"), exc.detail, code=code, headers=exc.headers)


# How long a client should wait before trying again while the database does not answer.
DATABASE_RETRY_SECONDS = 5
# The driver's words for a connection that is gone or cannot be made (asyncpg, aiosqlite).
_CONNECTION_ERRORS = frozenset(
    {
        "CannotConnectNowError",
        "ConnectionDoesNotExistError",
        "ConnectionFailureError",
        "InterfaceError",
        "InternalClientError",
        "TooManyConnectionsError",
        "AdminShutdownError",
        "CrashShutdownError",
    }
)


def database_unreachable(exc: BaseException) -> bool:
    """The database cannot be reached (down, restarting, connection lost), not a bug: the
    same request may succeed in a moment."""
    if isinstance(exc, (ConnectionError, TimeoutError)):
        return True
    if isinstance(exc, OSError) and exc.errno is None and "connect" in str(exc).lower():
        return True  # asyncpg's "Multiple exceptions: [Errno 111] Connect call failed …"
    if isinstance(exc, DBAPIError):
        orig = exc.orig
        return (
            exc.connection_invalidated
            or isinstance(orig, (ConnectionError, TimeoutError))
            or type(orig).__name__ in _CONNECTION_ERRORS
        )
    return False


def on_database_error(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database does not answer: 503 with Retry-After, and the next request tries again
    (the pool pings its connections); anything else from the driver is a bug (500)."""
    if not database_unreachable(exc):
        return on_unexpected(request, exc)
    _log.warning(
        "database unreachable",
        error=type(exc).__name__,
        route=request.scope.get("path_template"),
    )
    headers = {"Retry-After": str(DATABASE_RETRY_SECONDS), "Cache-Control": "no-store"}
    if wants_html(request):
        return html_error(request, 503, "database_unavailable", headers, DATABASE_RETRY_SECONDS)
    return problem(
        503,
        "Service unavailable",
        "the database does not answer; nothing was saved, try again in a few seconds",
        code="database_unavailable",
        headers=headers,
    )


def on_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """A bug: log it (without the request body or query), answer a plain 500."""
    _log.exception(
        "unhandled error", method=request.method, route=request.scope.get("path_template")
    )
    if wants_html(request):
        return html_error(request, HTTP_500_INTERNAL_SERVER_ERROR, "internal")
    return problem(
        HTTP_500_INTERNAL_SERVER_ERROR,
        "Internal server error",
        "something went wrong on our side; nothing was saved",
        code="internal",
    )


EXCEPTION_HANDLERS: ExceptionHandlersMap = {
    LoginRequired: on_login_required,
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_error,
    DBAPIError: on_database_error,
    OSError: on_database_error,
    Exception: on_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
