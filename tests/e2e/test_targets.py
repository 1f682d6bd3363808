"""Touch targets and focus rings on a 320 px phone, on the main public pages (the invitation
link, the identity check, the slots, the confirm step, the confirmation) and the main
back-office pages (login, agenda, team agenda, rules and absences, booking for a caller,
people to follow, the personal feed page; the forms also with their errors) and the territory
team's office and administration (cohorts, imports, journeys, indicators, the forms with date
and time fields); axe-core on each of them too.

- **Standalone link or button** (the elements measured): a rendered ``<button>``, or an
  ``<a href>`` that has the class ``standalone`` or ``button``, or is a flex or grid item, or
  is the only text of its block: the nearest ancestor whose display is not ``inline`` holds no
  text outside this link other than that of other links and buttons and of visually hidden
  text. A link inside a sentence is not standalone (its line is the sentence's). Elements
  without a box, hidden, or waiting off-screen until focused (the skip link) are left out.
  Each must be at least 24 px high (WCAG 2.2's 2.5.8 minimum; the style sheets aim at 44),
  on every line when it wraps (the height of each of its client rectangles).
- **Focus ring**: every ``<input>`` of type date, time and datetime-local shows a ring when
  focused, from the keyboard and from a click: its computed outline or box-shadow changes and
  is not none.

On SQLite only, as test_accessibility.py: what is measured is HTML and CSS.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from litestar import Litestar
from playwright.async_api import Locator, Page, expect
from tests.e2e.browser import NewPage, Shot
from tests.e2e.steps import COHORTS, CSV_ROWS, audit, invited_person, log_in, windows_1252_csv
from tests.integration.web_office.office_support import add_cohort, add_journey, set_password
from tests.support import scenario as sc

from rdv_spie.administration import paths as admin
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people import imports
from rdv_spie.web import paths as office

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

MIN_HEIGHT = 24  # px
DATE_AND_TIME = 'input[type="date"], input[type="time"], input[type="datetime-local"]'

# The criterion of the module docstring, in the page.
_STANDALONE = """() => {
  const inline = (el) => ['inline', 'contents'].includes(getComputedStyle(el).display);
  const quiet = (node, link) => {
    const parent = node.parentElement;
    return !node.textContent.trim() || link.contains(node) || !parent
      || parent.closest('.visually-hidden, a[href], button') !== null;
  };
  const found = [];
  for (const el of document.querySelectorAll('a[href], button')) {
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    if (style.visibility !== 'visible' || box.width === 0 || box.height === 0) continue;
    // A link broken over lines is as high as its lowest line, whatever its whole box.
    const lines = [...el.getClientRects()].filter((r) => r.width > 0 && r.height > 0);
    const height = Math.min(...lines.map((r) => r.height));
    if (box.right <= 0 || el.closest('.visually-hidden')) continue;
    const parentDisplay = el.parentElement ? getComputedStyle(el.parentElement).display : '';
    let why = null;
    if (el.tagName === 'BUTTON') why = 'button';
    else if (el.matches('.standalone, .button')) why = 'class';
    else if (/flex|grid/.test(parentDisplay)) why = 'flex or grid item';
    else {
      let block = el.parentElement;
      while (block && inline(block)) block = block.parentElement;
      const walker = document.createTreeWalker(block, NodeFilter.SHOW_TEXT);
      let alone = true;
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        if (!quiet(node, el)) { alone = false; break; }
      }
      if (alone) why = 'alone in its block';
    }
    if (why) found.push({
      tag: el.tagName.toLowerCase(),
      text: el.textContent.replace(/\\s+/g, ' ').trim(),
      height: Math.round(height * 10) / 10,
      why: why,
    });
  }
  return found;
}"""

_RING = """(el) => {
  const s = getComputedStyle(el);
  return {outline: `${s.outlineStyle} ${s.outlineWidth} ${s.outlineColor}`,
          shadow: s.boxShadow, style: s.outlineStyle, width: parseFloat(s.outlineWidth)};
}"""


@dataclass(frozen=True)
class Target:
    """One standalone link or button as measured."""

    where: str
    tag: str
    text: str
    height: float
    why: str


MEASURED: list[Target] = []


def _shows(ring: dict[str, Any]) -> bool:
    return (ring["style"] != "none" and ring["width"] > 0) or ring["shadow"] != "none"


async def _ring_after(page: Page, field: Locator, how: str) -> dict[str, Any]:
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    if how == "keyboard":
        # From the nearest focusable element before it that is not a date or time field
        # (Tab walks through such a field's parts), Tab until the field has the focus.
        await field.evaluate(
            """(el) => {
              const all = [...document.querySelectorAll(
                'a[href], button, input:not([type=hidden]), select, textarea')];
              const before = all.slice(0, all.indexOf(el)).reverse()
                .find((e) => !e.matches('input[type=date], input[type=time], '
                                        + 'input[type=datetime-local]'));
              if (before) before.focus(); }"""
        )
        for _ in range(12):
            await page.keyboard.press("Tab")
            if await field.evaluate("(el) => el === document.activeElement"):
                break
    elif how == "click":
        await field.click(position={"x": 4, "y": 4})
    else:  # a script, after a click elsewhere (an error summary's link does the same)
        await page.locator("h1").click()
        await field.focus()
    ring: dict[str, Any] = await field.evaluate(_RING)
    assert await field.evaluate("(el) => el === document.activeElement"), (
        how,
        await page.evaluate("() => document.activeElement.outerHTML"),
        await field.evaluate("(el) => el.outerHTML"),
    )
    return ring


async def check(page: Page, where: str) -> list[Target]:
    """Standalone links and buttons ≥ 24 px high, focus rings on date and time fields,
    axe-core, and nothing scrolling sideways."""
    await page.wait_for_load_state("load")  # the style sheets are in
    targets = [Target(where, **t) for t in await page.evaluate(_STANDALONE)]
    MEASURED.extend(targets)
    small = [t for t in targets if t.height < MIN_HEIGHT]
    assert not small, f"{where}: standalone targets under {MIN_HEIGHT} px: {small}"
    fields = page.locator(DATE_AND_TIME)
    for index in range(await fields.count()):
        field = fields.nth(index)
        name = await field.get_attribute("id")
        await page.evaluate("() => document.activeElement && document.activeElement.blur()")
        before = await field.evaluate(_RING)
        for how in ("keyboard", "click", "script"):
            after = await _ring_after(page, field, how)
            assert after != before and _shows(after), (
                f"{where}: #{name} shows no focus ring ({how}): {before} then {after}"
            )
    await page.evaluate("() => document.activeElement && document.activeElement.blur()")
    await audit(page, "mobile", where)
    return targets


def _table() -> str:
    lines = [f"{'page':<34} {'height':>6}  {'why':<20} text"]
    for t in MEASURED:
        lines.append(f"{t.where:<34} {t.height:>6.1f}  {t.why:<20} <{t.tag}> {t.text[:60]}")
    return "\n".join(lines)


@pytest.fixture(autouse=True)
def _report() -> Any:
    MEASURED.clear()
    yield
    print("\n" + _table())


async def test_public_pages(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)
    page = await new_page("mobile")

    await page.goto(f"/i/{invited.token}")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Prenez votre rendez-vous")
    await check(page, "identity check")
    await page.get_by_label("Les 3 premières lettres de votre nom de famille").fill("DUP")
    await page.get_by_role("button", name="Continuer").click()
    await expect(page).to_have_url(re.compile(r"/rdv/creneaux"))
    await check(page, "slots")
    await shot(page, "slots")

    await page.locator("a[href*='/rdv/creneaux/confirmer']").first.click()
    await expect(page.get_by_role("button", name="Je confirme ce rendez-vous")).to_be_visible()
    await check(page, "confirm")
    await page.get_by_role("button", name="Je confirme ce rendez-vous").click()
    await expect(page).to_have_url(re.compile(r"/rdv/confirmation$"))
    await check(page, "confirmation")
    await shot(page, "confirmation")


async def test_office_pages(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    invited = await invited_person(db, clock, app)
    s = invited.s
    email = await set_password(db, clock, s.referent_ids[0])
    for name, by, locked in [
        ("Moreau", date(2026, 12, 20), False),
        ("Petit", date(2026, 12, 4), True),
        ("Roux", date(2026, 12, 22), True),
    ]:
        await add_journey(
            db,
            clock,
            territory_id=s.territory_id,
            cohort_id=invited.cohort_id,
            last_name=name,
            appointment_by_on=by,
            referent_id=s.referent_ids[0],
            locked=locked,
        )

    page = await new_page("mobile")
    await page.goto("/agent/connexion")
    await check(page, "login")
    await page.get_by_role("button", name="Se connecter").click()  # nothing typed
    await expect(page.locator(".error-summary li")).to_have_count(2)
    await check(page, "login: errors")
    await page.close()

    page = await log_in(new_page, email, "mobile")
    await check(page, "agenda")
    await page.get_by_role("link", name="Mon équipe").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Agenda de mon équipe")
    await check(page, "team agenda")

    await page.goto("/agent/disponibilites")
    await check(page, "rules and absences")
    await shot(page, "availability")
    await page.get_by_role("button", name="Ajouter la plage").click()  # nothing chosen
    await expect(page.locator(".error-summary li")).to_have_count(5)  # the start date is filled
    await check(page, "rules: errors")
    await shot(page, "availability-errors")
    await page.get_by_role("button", name="Ajouter l'absence").click()
    await expect(page.locator(".error-summary li")).to_have_count(2)
    await check(page, "absences: errors")

    await page.goto("/agent/prise-de-rdv")
    await expect(page.get_by_role("table")).to_contain_text("Camille Roux")
    await check(page, "booking: the people")
    await shot(page, "booking-people")
    await page.get_by_role("link", name="Choisir Camille Roux").click()  # locked: a notice
    await expect(page.locator("ul.slots a").first).to_be_visible()
    await check(page, "booking: the slots")
    await page.locator("ul.slots a").first.click()
    await expect(page.get_by_role("button", name="Confirmer le rendez-vous")).to_be_visible()
    await check(page, "booking: confirm")

    await page.goto("/agent/personnes")
    await expect(page.locator("main")).to_contain_text("Camille Petit")
    await check(page, "people to follow")

    await page.goto("/agent/calendrier")
    await page.get_by_role("button", name="Créer un nouveau lien").click()
    await expect(page.get_by_label("Lien à copier")).to_have_value(re.compile(r"^http"))
    await check(page, "personal feed")


async def test_team_pages(
    new_page: NewPage, shot: Shot, db: Database, clock: FrozenClock, app: Litestar
) -> None:
    """The territory team's office and the administration (the forms with their date and
    time fields)."""
    s = await sc.build(db, clock)
    await add_cohort(db, clock, s)
    email = await set_password(db, clock, s.admin_id)
    page = await log_in(new_page, email, "mobile", lands=COHORTS)
    await check(page, "cohorts")
    await page.get_by_role("link", name="Nouvelle cohorte").click()
    await check(page, "new cohort")
    await page.goto(office.COHORTS)
    await page.get_by_role("link", name="Jeunes 18-30 ans").click()
    await check(page, "cohort")
    await page.get_by_role("link", name="Importer des personnes").click()
    await check(page, "upload")
    await page.get_by_label("Fichier des personnes").set_input_files(
        {"name": "personnes.csv", "mimeType": "text/csv", "buffer": windows_1252_csv(CSV_ROWS)}
    )
    await page.get_by_role("button", name="Voir ce que l'import va faire").click()
    await expect(page.locator("table.import-counts")).to_be_visible()
    await check(page, "import preview")
    await shot(page, "import-preview")
    await page.get_by_role("button", name=re.compile(r"^Importer \d+ personnes?$")).click()
    run_id = uuid.UUID(page.url.rstrip("/").rsplit("/", 1)[-1])
    assert await imports.run(db=db, clock=clock, import_id=run_id) == "done"
    await page.goto(office.JOURNEYS)
    await check(page, "journeys")
    await page.get_by_role("link", name="Zoé Lefèvre").click()
    await check(page, "journey")
    await shot(page, "journey")
    await page.goto(office.INDICATORS)
    await check(page, "indicators")
    await page.goto(admin.ADMINISTRATION)
    await check(page, "administration")
    await page.goto(admin.AGENT_NEW)
    await check(page, "new agent")
    await page.goto(admin.TYPE_NEW)
    await check(page, "new appointment type")
