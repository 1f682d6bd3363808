"""axe-core (tests/e2e/node_modules, pinned by package-lock.json) run on a page.

How it gets in despite the pages' Content-Security-Policy (``script-src 'self'``): the source
is evaluated through the DevTools protocol (``Runtime.evaluate`` on a CDP session), which CSP
does not govern, as ``page.evaluate`` is not either; no ``<script>`` tag is added and no
``bypass_csp`` context is needed, so the page is audited under its real policy. CDP rather
than ``page.evaluate`` because Playwright's evaluate never returns in a context made with
``java_script_enabled=False``, while DevTools evaluation still runs there. In such a page
timers and ``queueMicrotask`` callbacks never fire but promise reactions do, so before axe runs
there, ``setTimeout``/``requestAnimationFrame`` are replaced by promise-based ones (the page
has no script of its own that could mind).
"""

from __future__ import annotations

import asyncio
import functools
import json
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.async_api import CDPSession, Page
from tests.e2e.browser import AXE_SOURCE

WCAG_TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa")
RUN_TIMEOUT = 30.0

# Scripting is disabled exactly when the fragment parser builds <noscript> content as elements.
_PREPARE = """(() => {
  const probe = document.createElement('div');
  probe.innerHTML = '<noscript><i></i></noscript>';
  if (probe.querySelector('i') === null) return false;
  const later = (fn, _ms, ...args) => { Promise.resolve().then(() => fn(...args)); return 0; };
  window.setTimeout = later;
  window.clearTimeout = () => {};
  window.requestAnimationFrame = (fn) => later(fn, 0, performance.now());
  window.cancelAnimationFrame = () => {};
  return true;
})()"""


@dataclass(frozen=True)
class Node:
    """One element at fault: its CSS selector(s), its HTML, what to fix."""

    target: str
    html: str
    summary: str


@dataclass(frozen=True)
class Violation:
    """One axe rule that failed, on one or more elements."""

    id: str
    impact: str
    help: str
    help_url: str
    nodes: tuple[Node, ...]


@functools.cache
def _source() -> str:
    if not AXE_SOURCE.is_file():
        pytest.fail(
            f"{AXE_SOURCE} is missing: run `make test`, or `npm ci` in tests/e2e", pytrace=False
        )
    return AXE_SOURCE.read_text()


async def _evaluate(cdp: CDPSession, expression: str, *, await_promise: bool = False) -> Any:
    answer = await cdp.send(
        "Runtime.evaluate",
        {"expression": expression, "awaitPromise": await_promise, "returnByValue": True},
    )
    if "exceptionDetails" in answer:
        details = answer["exceptionDetails"]
        text = details.get("exception", {}).get("description") or details.get("text")
        raise AssertionError(f"axe: evaluation failed in the page: {text}")
    return answer["result"].get("value")


def _target(selectors: list[Any]) -> str:
    # A selector is a list itself when the element is inside a shadow root or a frame.
    return " >> ".join(" ".join(s) if isinstance(s, list) else str(s) for s in selectors)


async def axe(page: Page, *, tags: tuple[str, ...] = WCAG_TAGS) -> list[Violation]:
    """Run axe-core on the page as it is now; returns the violations of the given tags."""
    options = {"runOnly": {"type": "tag", "values": list(tags)}, "resultTypes": ["violations"]}
    cdp = await page.context.new_cdp_session(page)
    try:
        await _evaluate(cdp, _PREPARE)
        if not await _evaluate(cdp, "typeof window.axe === 'object'"):
            await _evaluate(cdp, _source())
        raw = await asyncio.wait_for(
            _evaluate(
                cdp,
                f"axe.run(document, {json.dumps(options)}).then(r => r.violations)",
                await_promise=True,
            ),
            RUN_TIMEOUT,
        )
    finally:
        await cdp.detach()
    return [
        Violation(
            id=v["id"],
            impact=v.get("impact") or "?",
            help=v["help"],
            help_url=v["helpUrl"],
            nodes=tuple(
                Node(_target(n["target"]), n["html"], n.get("failureSummary") or "")
                for n in v["nodes"]
            ),
        )
        for v in raw
    ]


def describe(violations: list[Violation]) -> str:
    """One paragraph a violation: rule, impact, help, link, then each element at fault."""
    lines = []
    for v in violations:
        lines.append(f"- {v.id} [{v.impact}] {v.help}\n  {v.help_url}")
        for node in v.nodes:
            summary = " / ".join(line.strip() for line in node.summary.splitlines() if line.strip())
            lines.append(f"    {node.target}: {summary or node.html}")
    return "\n".join(lines)


def assert_no_violations(violations: list[Violation], *, where: str = "the page") -> None:
    """Fail with a readable list when axe found anything."""
    if violations:
        pytest.fail(
            f"axe-core found {len(violations)} accessibility violation(s) on {where} "
            f"({', '.join(WCAG_TAGS)}):\n{describe(violations)}",
            pytrace=False,
        )
