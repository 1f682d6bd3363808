"""Browser tests: the app of tests/conftest.py served by uvicorn in the test's event loop (so
the test and the app share its FrozenClock and Database), one headless Chromium per session,
contexts with JavaScript, without, and 320 px wide, screenshots and axe-core.

    async def test_page(new_page: NewPage, shot: Shot, clock: FrozenClock) -> None:
        page = await new_page("mobile")
        response = await page.goto("/i/…")  # relative to the live server
        await shot(page, "opened")  # var/artifacts/e2e/test_page-sqlite-opened.png
        assert_no_violations(await axe(page))
"""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from playwright.async_api import Browser, BrowserContext, Page, async_playwright
from tests.e2e.browser import (
    ARTIFACTS,
    CHROMIUM,
    CHROMIUM_ARGS,
    COMMON_OPTIONS,
    DEFAULT_TIMEOUT_MS,
    MODE_OPTIONS,
    Mode,
    NewContext,
    NewPage,
    Shot,
    Watch,
    missing_requirements,
)
from tests.e2e.live import serve
from tests.e2e.mail import Mailbox
from tests.support.smtp_server import SmtpServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Debian's Chromium, headless, one for the whole session; fails when it is missing."""
    missing = missing_requirements()
    if missing:
        pytest.fail("browser tests cannot run:\n- " + "\n- ".join(missing), pytrace=False)
    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=CHROMIUM, args=list(CHROMIUM_ARGS)
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """var/artifacts/e2e/, emptied once per session; left behind for people and CI to read."""
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    return ARTIFACTS


@pytest.fixture
async def live_server(app: Litestar) -> AsyncIterator[str]:
    """The test's app (its clock and database) on http://127.0.0.1:<free port>."""
    # Lifespan on: the app starts and stops as in production; given a database through
    # Overrides, its lifespan leaves that database (and the jobs) to the test.
    async with serve(app, lifespan="on") as url:
        yield url


@pytest.fixture
async def new_context(browser: Browser, live_server: str) -> AsyncIterator[NewContext]:
    """Opens contexts on the live server ("js", "nojs" or "mobile"), French and in Paris time;
    closes them after the test, then fails it if a page asked for anything outside loopback,
    threw an uncaught error or broke the Content-Security-Policy."""
    contexts: list[BrowserContext] = []
    watch = Watch()

    async def open_context(mode: Mode = "js", **options: Any) -> BrowserContext:
        settings = {**COMMON_OPTIONS, **MODE_OPTIONS[mode], "base_url": live_server, **options}
        context = await browser.new_context(**settings)
        contexts.append(context)
        context.set_default_timeout(DEFAULT_TIMEOUT_MS)
        await watch.attach(context)
        return context

    yield open_context
    for context in contexts:
        await context.close()
    if watch.problems:
        pytest.fail("\n".join(watch.problems), pytrace=False)


@pytest.fixture
def new_page(new_context: NewContext) -> NewPage:
    """A page in a new context of the given mode."""

    async def open_page(mode: Mode = "js", **options: Any) -> Page:
        context = await new_context(mode, **options)
        return await context.new_page()

    return open_page


@pytest.fixture
def shot(request: pytest.FixtureRequest, artifacts: Path) -> Shot:
    """``await shot(page, "step")``: var/artifacts/e2e/<test name>-<step>.png."""
    return Shot(artifacts, request.node.name)


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    """A loopback SMTP server for the session (tests/support/smtp_server.py)."""
    with SmtpServer() as server:
        yield server


@pytest.fixture
def mailbox(
    smtp: SmtpServer, settings: Settings, db: Database, clock: FrozenClock, live_server: str
) -> Mailbox:
    """The test's e-mails: the outbox sent to the loopback SMTP server (emptied first), with
    links to the live server."""
    smtp.start()
    smtp.reset()
    return Mailbox(smtp, settings, db, clock, live_server)
