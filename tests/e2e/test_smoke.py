"""The browser tooling works on the pages that exist: health, and an invitation link that
leads nowhere, with JavaScript, without, and on a 320 px phone."""

from __future__ import annotations

import secrets
from pathlib import Path

import pytest
from playwright.async_api import Browser, Route, expect
from tests.e2e.axe import assert_no_violations, axe, describe
from tests.e2e.browser import MODES, Mode, NewPage, Shot, Watch, missing_requirements

# What the pages will send, except for inline styles (the layout at the time of writing had a
# <style> element): enough to show that axe gets in where page scripts must come from 'self'.
SCRIPTS_FROM_SELF = (
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self'"
)


def unknown_link() -> str:
    """An invitation path with a well-formed token (22 characters) that no invitation has."""
    return f"/i/{secrets.token_urlsafe(16)}"


def test_missing_browser_or_axe_is_explained(tmp_path: Path) -> None:
    problems = missing_requirements(tmp_path / "chromium", tmp_path / "axe.min.js")
    assert len(problems) == 2
    assert "system-packages.sh" in problems[0] and "npm ci" in problems[1]


async def test_requests_outside_loopback_are_refused_and_reported(browser: Browser) -> None:
    context = await browser.new_context()
    watch = Watch()
    await watch.attach(context)
    page = await context.new_page()
    await page.set_content('<img src="http://outside.invalid/pixel.png" alt="">')
    await context.close()
    assert watch.problems == ["request outside loopback refused: http://outside.invalid/pixel.png"]


async def test_healthz_answers_the_browser(new_page: NewPage) -> None:
    page = await new_page()
    response = await page.goto("/healthz")
    assert response is not None and response.status == 200
    assert await response.json() == {"status": "ok"}


@pytest.mark.parametrize("mode", MODES)
async def test_unknown_invitation_link_shows_the_french_404_page(
    new_page: NewPage, shot: Shot, mode: Mode
) -> None:
    page = await new_page(mode)
    response = await page.goto(unknown_link())
    assert response is not None and response.status == 404
    assert await page.get_attribute("html", "lang") == "fr"
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ce lien n'est plus valable")
    await expect(page.locator("main")).to_contain_text("n'existe pas ou a expiré")
    assert (await shot(page, "unknown-link")).stat().st_size > 0
    if mode == "mobile":
        assert await page.evaluate("document.documentElement.scrollWidth") <= 320
    assert_no_violations(await axe(page), where=f"the unknown link page ({mode})")


async def test_axe_gets_in_under_csp_and_finds_what_is_wrong(new_page: NewPage) -> None:
    page = await new_page()

    async def with_csp(route: Route) -> None:
        response = await route.fetch()
        headers = {**response.headers, "content-security-policy": SCRIPTS_FROM_SELF}
        await route.fulfill(response=response, headers=headers)

    await page.route("**/i/*", with_csp)
    response = await page.goto(unknown_link())
    assert response is not None
    assert await response.header_value("content-security-policy") == SCRIPTS_FROM_SELF
    await page.locator("main").evaluate("m => m.insertAdjacentHTML('beforeend', '<input>')")

    violations = await axe(page)

    unlabelled = [v for v in violations if v.id == "label"]
    assert unlabelled and unlabelled[0].nodes[0].target == "input"
    assert "- label [critical]" in describe(violations)
