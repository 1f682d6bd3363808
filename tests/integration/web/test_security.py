"""What every response carries and what every form must prove (web/security.py): headers on
200, 404 and 500 pages alike, CSRF on unsafe requests outside the API, allowed hosts, cookie
flags, and an access log that never shows a token."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar, Request, get, post
from litestar.response import Response

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.logging import configure_logging
from rdv_spie.settings import Settings
from rdv_spie.web import pages, sessions


@get("/essai/page", include_in_schema=False)
async def a_page(request: Request[Any, Any, Any]) -> Response[str]:
    return pages.render(request, "error", {"status": 200, "code": "x", "heading": "Essai"})


@post("/essai/formulaire", status_code=200, include_in_schema=False)
async def a_form(request: Request[Any, Any, Any]) -> str:
    return "reçu"


@get("/essai/panne", include_in_schema=False)
async def a_bug() -> str:
    raise RuntimeError("boom")


def _with_test_routes(app: Litestar) -> Litestar:
    for handler in (a_page, a_form, a_bug):
        app.register(handler)
    return app


@pytest.fixture
def web_app(app: Litestar) -> Litestar:
    return _with_test_routes(app)


@pytest.fixture
async def web(web_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app, raise_app_exceptions=False),
        base_url="http://testserver.local",
    ) as c:
        yield c


def _assert_secured(response: httpx.Response) -> None:
    h = response.headers
    csp = h["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp
    assert "unsafe-inline" not in csp
    assert h["x-content-type-options"] == "nosniff"
    assert h["x-frame-options"] == "DENY"
    assert h["referrer-policy"] == "no-referrer"


async def test_headers_on_200_404_and_500(web: httpx.AsyncClient) -> None:
    ok = await web.get("/essai/page")
    missing = await web.get("/nulle-part")
    api_missing = await web.get("/api/v1/nulle-part")
    broken = await web.get("/essai/panne")
    assert [r.status_code for r in (ok, missing, api_missing, broken)] == [200, 404, 404, 500]
    for response in (ok, missing, api_missing, broken):
        _assert_secured(response)
        assert response.headers["cache-control"] == "no-store"
        assert "strict-transport-security" not in response.headers  # plain HTTP
    # Pages fail in French, as pages; the API keeps problem details.
    assert missing.headers["content-type"].startswith("text/html")
    assert "Page introuvable" in missing.text and '<html lang="fr">' in missing.text
    assert "Rien n'a été enregistré" in broken.text and "boom" not in broken.text
    assert api_missing.headers["content-type"] == "application/problem+json"


async def test_hsts_and_secure_cookies_over_https(web_app: Litestar) -> None:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=web_app), base_url="https://testserver.local"
    ) as c:
        r = await c.get("/essai/page")
    assert r.headers["strict-transport-security"].startswith("max-age=31536000")
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{sessions.CSRF_COOKIE}=")
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie


async def test_static_files_may_be_cached(web: httpx.AsyncClient) -> None:
    r = await web.get("/static/site.css")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/css")
    assert set(r.headers["cache-control"].split(", ")) == {"public", "max-age=3600"}
    _assert_secured(r)


async def test_a_form_needs_the_token_bound_to_this_browser(web: httpx.AsyncClient) -> None:
    refused = await web.post("/essai/formulaire", data={"x": "1"})
    assert refused.status_code == 403
    assert "Le formulaire a expiré" in refused.text
    _assert_secured(refused)

    page = await web.get("/essai/page")  # sets the pre-session cookie
    assert page.status_code == 200
    binding = web.cookies[sessions.CSRF_COOKIE]
    secret_key: bytes = web._transport.app.state.secret_key  # type: ignore[attr-defined]
    good = sessions.csrf_token(secret_key, binding)
    other = sessions.csrf_token(secret_key, secrets.token_urlsafe(24))

    wrong = await web.post("/essai/formulaire", data={sessions.CSRF_FIELD: other})
    assert wrong.status_code == 403
    ok = await web.post("/essai/formulaire", data={sessions.CSRF_FIELD: good})
    assert ok.status_code == 200 and ok.text == "reçu"
    header = await web.post("/essai/formulaire", headers={"X-CSRF-Token": good})
    assert header.status_code == 200

    # Another browser (no cookie) cannot replay the token.
    web.cookies.clear()
    replay = await web.post("/essai/formulaire", data={sessions.CSRF_FIELD: good})
    assert replay.status_code == 403


async def test_the_api_and_webhooks_are_not_behind_the_form_token(web: httpx.AsyncClient) -> None:
    api = await web.post("/api/v1/organisations", json={})
    assert api.status_code == 401  # asks for a key, not for a form token
    hook = await web.post("/webhooks/twilio/status", data={"MessageStatus": "delivered"})
    assert hook.status_code == 403  # refused for its missing Twilio signature, as problem details
    assert hook.headers["content-type"] == "application/problem+json"
    assert "csrf" not in hook.text


async def test_unknown_hosts_are_refused(web: httpx.AsyncClient) -> None:
    forged = await web.get("/", headers={"Host": "evil.example"})
    assert forged.status_code == 400
    _assert_secured(forged)
    with_port = await web.get("/", headers={"Host": "testserver.local:8443"})
    assert with_port.status_code == 200
    # The container's health check asks by address, whatever the configured host names.
    probe = await web.get("/healthz", headers={"Host": "127.0.0.1:8000"})
    assert probe.status_code == 200
    probe = await web.get("/readyz", headers={"Host": "10.0.0.7:8000"})
    assert probe.status_code != 400


async def test_the_access_log_masks_tokens(
    web: httpx.AsyncClient, capfd: pytest.CaptureFixture[str]
) -> None:
    configure_logging(level="INFO")  # structlog binds stderr when configured
    invitation = secrets.token_urlsafe(16)
    feed = secrets.token_urlsafe(32)
    await web.get(f"/i/{invitation}")
    await web.get(f"/I/{invitation}x")
    await web.get(f"/feeds/{feed}.ics")
    await web.get("/essai/page?nom=Dupont")
    _, err = capfd.readouterr()
    lines = [line for line in err.splitlines() if "request" in line and "method=GET" in line]
    assert len(lines) >= 3
    assert invitation not in err and feed not in err and "Dupont" not in err
    assert "path=/I/…" in err
    assert any(re.search(r"path=/i/… status=404", line) for line in lines)
    assert any("path=/feeds/…" in line for line in lines)


async def test_cookie_flag_can_be_forced(
    settings: Settings, db: Database, clock: FrozenClock
) -> None:
    forced = settings.model_copy(update={"cookie_secure": True})
    app = _with_test_routes(create_app(forced, Overrides(clock=clock, database=db)))
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
    ) as c:
        r = await c.get("/essai/page")
    assert "Secure" in r.headers["set-cookie"]


async def test_the_front_page_leads_to_the_link_or_the_login(web: httpx.AsyncClient) -> None:
    r = await web.get("/")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    assert 'href="/agent/connexion"' in r.text and "Ouvrez le lien" in r.text
    _assert_secured(r)
    office_404 = await web.get("/agent/nulle-part")
    assert office_404.status_code == 404 and 'href="/agent"' in office_404.text
