"""Every form of every page, every field broken (issue 18, item 3): missing, far too long, of
the wrong type. The pages are those of the authorization matrix (tests/integration/authz), opened
by the actors who may open them (an admin, an animator and a referent of A, a partner, and a
person holding a link); each form found is sent back with one field changed at a time, the
others at the values the page gave them. A broken field must get an answer that says so (a
4xx, the form again, or a redirect), never a 5xx.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from litestar import Litestar
from tests.integration.authz import authz_world
from tests.integration.authz.authz_rows import all_rows
from tests.integration.authz.authz_world import HOLDER, Call, World

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings

pytestmark = pytest.mark.slow

ACTORS = ("admin_a", "anim_a", "ref_a", "partner_a", HOLDER)
LONG = "é" * 20_000
LONG_IN_URL = "é" * 1_000  # a query string stays within what browsers send
# Forms whose sending ends what the rest of the run needs (the actor's session, the person's
# data, keys); they are left out.
SKIP_ACTIONS = re.compile(r"deconnexion|logout|effacer|erase|cles-api/.+/revoquer|/quitter")
MAX_SUBMISSIONS = 1_500


@dataclass
class Form:
    action: str
    method: str
    fields: list[tuple[str, str, str, list[str]]] = field(default_factory=list)
    # (name, kind, value, options): kind is the input type, "select" or "textarea"


class Forms(HTMLParser):
    """The forms of a page, with their fields and the values the page gives them."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.url = url
        self.forms: list[Form] = []
        self._select: tuple[str, list[str], str] | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            action = urljoin(self.url, a.get("action") or self.url)
            self.forms.append(Form(action, (a.get("method") or "get").lower()))
        elif not self.forms or "name" not in a:
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "image", "reset", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                if kind == "radio" and not any(f[0] == a["name"] for f in self.forms[-1].fields):
                    self.forms[-1].fields.append((a["name"], kind, a.get("value", "on"), []))
                return
            self.forms[-1].fields.append((a["name"], kind, a.get("value", ""), []))
        elif tag == "select":
            self._select = (a["name"], [], "")
        elif tag == "textarea":
            self._textarea = a["name"]
            self.forms[-1].fields.append((a["name"], "textarea", "", []))

    def handle_data(self, data: str) -> None:
        if self._textarea and self.forms:
            name, kind, value, options = self.forms[-1].fields[-1]
            self.forms[-1].fields[-1] = (name, kind, value + data, options)

    def handle_endtag(self, tag: str) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select" and self._select and self.forms:
            name, options, chosen = self._select
            self.forms[-1].fields.append((name, "select", chosen or (options or [""])[0], options))
            self._select = None

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)


class _Options(Forms):
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "option" and self._select is not None:
            a = {k: v or "" for k, v in attrs}
            name, options, chosen = self._select
            options.append(a.get("value", ""))
            if "selected" in a:
                chosen = a.get("value", "")
            self._select = (name, options, chosen)
            return
        super().handle_starttag(tag, attrs)


def broken_values(kind: str) -> list[tuple[str, str | None]]:
    """(what, value) for one field: None means the field is left out."""
    wrong = {
        "number": "douze",
        "date": "31/02/2026",
        "time": "25:61",
        "datetime-local": "demain matin",
        "email": "pas-un-courriel",
        "tel": "0 1",
        "select": "inconnu-" + "0" * 8,
        "checkbox": "peut-être",
        "radio": "aucun-de-ceux-la",
        "hidden": "pas-un-identifiant",
    }.get(kind, "\x00")
    return [("missing", None), ("too long", LONG), ("wrong type", wrong)]


def same_form(form: Form) -> str:
    """Forms of one action whatever ids its path holds (one appointment's, another's)."""
    path = urlsplit(form.action).path
    return form.method + " " + re.sub(r"[0-9a-f]{8}-[0-9a-f-]{27}", "{id}", path)


async def pages(w: World) -> list[tuple[str, str, str, str | None]]:
    """(kind, actor, url, person's cookie) of every page of the matrix, for ACTORS."""
    found = []
    for row in all_rows():
        if row.method != "GET" or row.kind not in ("office", "public"):
            continue
        target = await row.target(w) if row.target else None
        for actor in ACTORS:
            if (row.kind == "public") != (actor == HOLDER):
                continue
            call = row.call(w, target, actor)
            found.append((row.kind, actor, call.url, call.person_cookie))
    return found


async def test_every_form_field_broken_gets_an_answer_never_a_500(
    authz_app: Litestar,
    authz_client: httpx.AsyncClient,
    authz_settings: Settings,
    db: Database,
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    started = time.monotonic()
    w = await authz_world.build(authz_app, authz_client, db, clock, authz_settings)
    seen: set[str] = set()
    answers: Counter[int] = Counter()
    failures: list[str] = []
    forms_tried = 0
    nul_pages = 0  # NUL characters refused with the French page that says so
    for kind, actor, url, cookie in await pages(w):
        page = await w.send(kind, actor, "GET", Call(url, person_cookie=cookie))
        if page.status_code != 200 or "text/html" not in page.headers.get("content-type", ""):
            continue
        parser = _Options(str(page.request.url))
        parser.feed(page.text)
        for form in parser.forms:
            key = f"{actor} {same_form(form)}"
            if key in seen or SKIP_ACTIONS.search(form.action) or not form.fields:
                continue
            seen.add(key)
            forms_tried += 1
            base = {name: value for name, _, value, _ in form.fields}
            for name, field_kind, _, _ in form.fields:
                if name == "_csrf" or name.startswith("csrf"):
                    continue
                for what, value in broken_values(field_kind):
                    data = {k: v for k, v in base.items() if k != name}
                    if value is not None:
                        data[name] = value
                    target = urlsplit(form.action)
                    path = target.path + (f"?{target.query}" if target.query else "")
                    if form.method == "post":
                        call = Call(path, data=data, person_cookie=cookie)
                    else:
                        if value == LONG:
                            data[name] = LONG_IN_URL
                        call = Call(target.path, params=data, person_cookie=cookie)
                    r = await w.send(kind, actor, form.method.upper(), call)
                    answers[r.status_code] += 1
                    if value == "\x00" and "caractère invisible" in r.text:
                        nul_pages += 1
                    if r.status_code >= 500:
                        failures.append(
                            f"{actor} {form.method.upper()} {path} field {name!r} ({field_kind}) "
                            f"{what}: {r.status_code}"
                        )
                    assert sum(answers.values()) < MAX_SUBMISSIONS, "too many submissions"
    seconds = time.monotonic() - started
    with capsys.disabled():
        print(
            f"\nforms: {forms_tried} forms ({len(seen)} by actor), "
            f"{sum(answers.values())} submissions with one field broken, "
            f"answers {dict(sorted(answers.items()))}, {nul_pages} NUL characters refused "
            f"with the page that says so, {seconds:.0f} s"
        )
    assert forms_tried >= 20, f"only {forms_tried} forms found: the page walk is broken"
    assert not failures, "\n".join(failures)
    assert nul_pages > 0, "a NUL character in a text field is refused with its French page"
