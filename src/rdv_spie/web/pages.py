"""Rendering a page for a browser: the template, the form token, the pre-session cookie.

Rooms' ``pages.py`` call ``render``; it never reads the database. Every page context gets
``paths`` (web/paths.py), ``csrf_field`` (the form field name) and ``csrf_token`` (bound to
this browser's session cookie, or to a pre-session cookie it sets when the browser has
neither).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from litestar import Request, Response
from litestar.response import Redirect

from rdv_spie.settings import Settings
from rdv_spie.templating.render import Renderer
from rdv_spie.web import paths, sessions

HTML = "text/html; charset=utf-8"


def render(
    request: Request[Any, Any, Any],
    name: str,
    context: Mapping[str, Any] | None = None,
    *,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> Response[str]:
    """The page ``templates/pages/<name>.html`` as a response (a request that opens a
    session redirects, so the next page's forms bind to the new cookie)."""
    state = request.app.state
    renderer: Renderer = state.renderer
    settings: Settings = state.settings
    binding = sessions.csrf_binding(request)
    new_pre_session = None
    if binding is None:
        binding = new_pre_session = sessions.new_pre_session_value()
    values = dict(context or {})
    values["paths"] = paths  # the back office's menu and sign-in paths (web/paths.py)
    values["csrf_field"] = sessions.CSRF_FIELD
    values["csrf_token"] = sessions.csrf_token(state.secret_key, binding)
    body = renderer.render_page(name, values)
    response = Response(body, status_code=status, media_type=HTML, headers=dict(headers or {}))
    if new_pre_session is not None:
        sessions.set_cookie(response, request, settings, sessions.CSRF_COOKIE, new_pre_session)
    return response


def query_uuid(value: str | None) -> uuid.UUID | None:
    """A UUID from a query or form value, or None when absent or malformed."""
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


def redirect(path: str) -> Redirect:
    """A 303 to a path of this site (after a POST, or to drop a token from the URL)."""
    if not path.startswith("/") or path.startswith("//"):
        raise ValueError("redirects stay on this site")
    return Redirect(path, status_code=303)
