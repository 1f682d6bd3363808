"""Debian's Chromium driven by Playwright: what the browser tests need, and nothing downloaded.

The browser is /usr/bin/chromium from the Debian package (tests/tools/system-packages.sh);
Playwright comes from PyPI and ``playwright install`` is never run. Every page loads from the
loopback live server only: any other address is refused and reported.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol
from urllib.parse import urlsplit

from playwright.async_api import BrowserContext, ConsoleMessage, Page, Route, WebError

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = (
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
)
E2E_DIR = Path(__file__).resolve().parent
AXE_SOURCE = E2E_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = E2E_DIR.parents[1] / "var" / "artifacts" / "e2e"
DEFAULT_TIMEOUT_MS = 10_000

Mode = Literal["js", "nojs", "mobile"]
# How a person may meet the pages: a desktop browser, the same without JavaScript, a phone.
MODES: tuple[Mode, ...] = ("js", "nojs", "mobile")
MODE_OPTIONS: dict[Mode, dict[str, Any]] = {
    "js": {},
    "nojs": {"java_script_enabled": False},
    "mobile": {
        "viewport": {"width": 320, "height": 640},
        "screen": {"width": 320, "height": 640},
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    },
}
COMMON_OPTIONS: dict[str, Any] = {"locale": "fr-FR", "timezone_id": "Europe/Paris"}
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


def missing_requirements(chromium: Path = CHROMIUM, axe_source: Path = AXE_SOURCE) -> list[str]:
    """What the browser tests cannot run without, each with how to get it."""
    missing = []
    if not chromium.is_file():
        missing.append(
            f"{chromium} is missing: run `bash tests/tools/system-packages.sh` as root "
            "(it installs Debian's chromium package; never `playwright install`)"
        )
    if not axe_source.is_file():
        missing.append(
            f"{axe_source} is missing: run `make test`, or `npm ci` in tests/e2e "
            "(axe-core, pinned by tests/e2e/package-lock.json)"
        )
    return missing


def artifact_name(test_name: str, step: str) -> str:
    """A file name for a test's step: letters, digits, '.', '_' and '-' only."""
    return re.sub(r"[^\w.]+", "-", f"{test_name}-{step}").strip("-") + ".png"


@dataclass(frozen=True)
class Shot:
    """``await shot(page, "step")`` saves a full-page PNG under var/artifacts/e2e/."""

    folder: Path
    test_name: str

    async def __call__(self, page: Page, step: str) -> Path:
        path = self.folder / artifact_name(self.test_name, step)
        await page.screenshot(path=path, full_page=True)
        return path


def _outside_loopback(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in {"http", "https", "ws", "wss"} and parts.hostname not in _LOOPBACK


@dataclass
class Watch:
    """What went wrong in a context's pages without failing a step: requests that would have
    left the machine, uncaught script errors, Content-Security-Policy violations."""

    problems: list[str] = field(default_factory=list)

    async def attach(self, context: BrowserContext) -> None:
        """Refuse and record non-loopback requests; record script errors and CSP reports."""
        await context.route(_outside_loopback, self._refuse)
        context.on("weberror", self._on_error)
        context.on("console", self._on_console)

    async def _refuse(self, route: Route) -> None:
        self.problems.append(f"request outside loopback refused: {route.request.url}")
        await route.abort("blockedbyclient")

    def _on_error(self, error: WebError) -> None:
        where = error.page.url if error.page else "?"
        self.problems.append(f"uncaught error on {where}: {error.error}")

    def _on_console(self, message: ConsoleMessage) -> None:
        if message.type == "error" and "Content Security Policy" in message.text:
            where = message.page.url if message.page else "?"
            self.problems.append(f"CSP violation on {where}: {message.text}")


class NewContext(Protocol):
    """The ``new_context`` fixture: ``await new_context("nojs")``, closed after the test."""

    async def __call__(self, mode: Mode = "js", **options: Any) -> BrowserContext: ...


class NewPage(Protocol):
    """The ``new_page`` fixture: a page in a new context of that mode."""

    async def __call__(self, mode: Mode = "js", **options: Any) -> Page: ...
