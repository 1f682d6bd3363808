"""What the flow and accessibility tests share: the page width seen by the browser (through
DevTools, so it works with JavaScript disabled too), the check made on every page at 320 px,
the scenario of a person invited on a territory (the seeding helpers of the public page
tests, tests/integration/web_public/browsing.py), and an agent logging in."""

from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from litestar import Litestar
from playwright.async_api import Page, expect
from tests.e2e.axe import assert_no_violations, axe
from tests.e2e.browser import Mode, NewPage
from tests.integration.web_office.office_support import PASSWORD
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

PARIS = ZoneInfo("Europe/Paris")
PHONE_WIDTH = 320


def paris(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """A Paris wall-clock time as a UTC instant."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS).astimezone(UTC)


async def scroll_width(page: Page) -> int:
    """document.documentElement.scrollWidth, read through DevTools (``page.evaluate`` never
    returns in a context without JavaScript)."""
    cdp = await page.context.new_cdp_session(page)
    try:
        answer = await cdp.send(
            "Runtime.evaluate",
            {"expression": "document.documentElement.scrollWidth", "returnByValue": True},
        )
    finally:
        await cdp.detach()
    return int(answer["result"]["value"])


async def assert_fits_the_phone(page: Page, mode: Mode) -> None:
    """At 320 px, nothing makes the page scroll sideways (WCAG 1.4.10 reflow)."""
    if mode == "mobile":
        width = await scroll_width(page)
        assert width <= PHONE_WIDTH, f"{page.url} scrolls sideways at 320 px ({width} px wide)"


async def audit(page: Page, mode: Mode, where: str) -> None:
    """axe-core finds nothing, and at 320 px the page does not scroll sideways."""
    # After a click, the text may be there before the stylesheets: measure the styled page.
    await page.wait_for_load_state("load")
    await assert_fits_the_phone(page, mode)
    assert_no_violations(await axe(page), where=f"{where} ({mode}, {page.url})")


async def invited_person(
    db: Database, clock: FrozenClock, app: Litestar, *, slug: str = "test", referents: int = 1
) -> b.Invited:
    """A territory (referents open 9h–12h on weekdays at one place), a cohort, and Camille
    Dupré invited to book before Friday 18 December."""
    s = await sc.build(db, clock, slug=slug, referents=referents)
    return await b.invite(db, clock, app, s, await b.cohort(db, clock, s))


AGENDA = re.compile(r"/agent/agenda$")
COHORTS = re.compile(r"/agent/cohortes$")  # where the territory team lands
PORTAL = re.compile(r"/agent/partenaire$")  # where a partner lands


async def log_in(
    new_page: NewPage,
    email: str,
    mode: Mode = "js",
    *,
    password: str = PASSWORD,
    lands: re.Pattern[str] = AGENDA,
) -> Page:
    """A new browser whose agent logged in through the form; a referent lands on the agenda,
    the territory team (``lands=COHORTS``) on the cohorts."""
    page = await new_page(mode)
    await page.goto("/agent/connexion")
    await page.get_by_label("Adresse e-mail").fill(email)
    await page.get_by_label("Mot de passe").fill(password)
    await page.get_by_role("button", name="Se connecter").click()
    await expect(page).to_have_url(lands)
    return page


async def heading(page: Page, text: str | re.Pattern[str]) -> None:
    """The page's one level-1 heading says ``text``."""
    await expect(page.get_by_role("heading", level=1)).to_have_text(text)


# Exported by Excel in Windows-1252 with ';': accents in names and headers, a phone column
# whose header no synonym knows ("Numéro à joindre"), and two bad rows (line 4: no first
# name; line 5: a birth date that does not exist).
CSV_ROWS = [
    ["Nom", "Prénom", "Date de naissance", "Numéro à joindre", "E-mail", "Accord SMS"],
    ["Dupré", "Hélène", "12/03/1990", "06 12 34 56 78", "", "oui"],
    ["Lefèvre", "Zoé", "01/02/1995", "06 98 76 54 32", "zoe@exemple.fr", "oui"],
    ["Garnier", "", "05/06/1988", "06 11 22 33 44", "garnier@exemple.fr", "oui"],
    ["Müller", "Jürgen", "31/02/1990", "06 55 44 33 22", "jurgen@exemple.fr", "oui"],
]


def windows_1252_csv(rows: list[list[str]]) -> bytes:
    """The rows as Excel's "CSV (séparateur : point-virgule)" writes them on Windows."""
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=";", lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode("cp1252")
