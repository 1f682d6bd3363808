"""What every response carries, and what every form must prove.

- Security headers on every response, errors and 404s included (a ``before_send`` hook runs
  for all of them): CSP without inline scripts or styles, no framing, nosniff, no referrer
  (token pages must never leak their URL), HSTS over HTTPS, and ``no-store`` unless a handler
  chose its own caching (feeds, static files).
- CSRF: every unsafe request outside the API and webhooks carries a form token bound to the
  browser's session cookie (``sessions.csrf_token``); a missing or wrong one is a 403.
- The access log: method, path with tokens masked, status. Never a query string or a token.
"""

from __future__ import annotations

import re
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.response.base import ASGIResponse
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from rdv_spie.errors import Forbidden, Invalid
from rdv_spie.logging import get_logger
from rdv_spie.web import sessions

_log = get_logger("rdv_spie.access")

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
# The interactive API documentation loads Swagger UI from its CDN.
_DOCS_CSP = (
    "default-src 'none'; script-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; "
    "style-src 'self' 'unsafe-inline' https://cdn.jsdelivr.net; img-src 'self' data: "
    "https://cdn.jsdelivr.net; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'"
)
_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}
HSTS = "max-age=31536000; includeSubDomains"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_PROBES = frozenset({"/healthz", "/readyz"})
# Paths whose second segment is a secret (invitation links, feed links).
_TOKEN_PATH = re.compile(r"^/(i|feeds)/[^/]+", re.IGNORECASE)


def masked_path(path: str) -> str:
    """The path as the access log may show it: secrets in it replaced by '…'."""
    return _TOKEN_PATH.sub(lambda m: f"/{m.group(1)}/…", path)


def _unrouted(path: str) -> str:
    """A path no route matched, as the log may show it: its first segment only (the rest may
    be a name or a phone someone typed, which a 404 would otherwise echo into the log)."""
    head, sep, _rest = path.lstrip("/").partition("/")
    return f"/{head}/…" if sep else f"/{head}"


def _raw(headers: dict[str, str]) -> tuple[tuple[bytes, bytes], ...]:
    return tuple((name.lower().encode(), value.encode()) for name, value in headers.items())


# Encoded once: this hook runs on every response, calendar polls included.
_RAW = _raw({**_HEADERS, "Content-Security-Policy": CSP})
_RAW_DOCS = _raw({**_HEADERS, "Content-Security-Policy": _DOCS_CSP})
_OURS = frozenset(name for name, _ in _RAW) | {b"strict-transport-security"}
_RAW_HSTS = (b"strict-transport-security", HSTS.encode())
_NO_STORE = (b"cache-control", b"no-store")


async def before_send(message: Message, scope: Scope) -> None:
    """Add the security headers to every response (they replace any a handler set) and
    ``no-store`` unless the handler chose its own caching (feeds, static files); log it."""
    if message["type"] != "http.response.start":
        return
    path: str = scope.get("path", "")
    headers = [h for h in message.get("headers", ()) if h[0].lower() not in _OURS]
    headers.extend(_RAW_DOCS if path.startswith("/api/v1/schema") else _RAW)
    if scope.get("scheme") == "https":
        headers.append(_RAW_HSTS)
    if not any(name.lower() == b"cache-control" for name, _ in headers):
        headers.append(_NO_STORE)
    message["headers"] = headers
    _log.info(
        "request",
        method=scope.get("method"),
        path=masked_path(path if "path_template" in scope else _unrouted(path)),
        status=message["status"],
    )


async def csrf_guard(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Refuse an unsafe request without a valid form token (handlers opt out with
    ``opt={"csrf_exempt": True}``: the API authenticates each call, webhooks are signed)."""
    _refuse_nul_in_query(connection.scope)
    if connection.scope.get("method") not in _UNSAFE or handler.opt.get("csrf_exempt"):
        return
    request: Request[Any, Any, Any] = Request(connection.scope, connection.receive)
    submitted = request.headers.get("x-csrf-token")
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()  # kept by the request: the handler does not read it again
        _refuse_nul_in_form(form)
        if submitted is None:
            value = form.get(sessions.CSRF_FIELD)
            submitted = value if isinstance(value, str) else None
    secret_key: bytes = connection.app.state.secret_key
    if not sessions.csrf_valid(secret_key, request, submitted):
        raise Forbidden(
            "the form token is missing or does not match this browser's session",
            field=sessions.CSRF_FIELD,
            code="csrf",
        )


def _refuse_nul_in_query(scope: Scope) -> None:
    """A NUL character in the query string: no page asks for one, and PostgreSQL refuses to
    store or compare text that holds one (a 500 before this check)."""
    if b"%00" in scope.get("query_string", b""):
        raise Invalid("a parameter holds a NUL character", field="query", code="nul_character")


def _refuse_nul_in_form(form: Any) -> None:
    """The same for the fields of a form (a file's content is the upload's to check)."""
    for name, value in form.multi_items():
        if isinstance(value, str) and "\x00" in value:
            raise Invalid("the field holds a NUL character", field=name, code="nul_character")


class AllowedHosts(ASGIMiddleware):
    """Answer 400 to a Host header naming a host not configured (any port): links the
    service writes must never be built from a forged Host."""

    def __init__(self, hosts: list[str]) -> None:
        self._hosts = frozenset(h.lower() for h in hosts)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        host = ""
        for header, value in scope.get("headers", ()):
            if header == b"host":
                host = value.decode("latin-1").lower()
                break
        name = host.rsplit("]", 1)[0].lstrip("[") if host.startswith("[") else host.split(":")[0]
        # Health checks come from the container runtime or the orchestrator by address.
        if name in self._hosts or scope.get("path") in _PROBES:
            await next_app(scope, receive, send)
            return
        response = ASGIResponse(
            body=b"invalid host header", status_code=400, media_type="text/plain"
        )
        await response(scope, receive, send)
