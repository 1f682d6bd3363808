"""Issue 13, item 2: one table-driven test walks every route of the application (from the
built app's route list) for every actor, and compares what happens with the policy's table
(authz_expected.py). The matrix is printed whether it passes or not; a route without a row,
or a row without a route, fails the test by name."""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass

import httpx
import pytest
from litestar import Litestar, get
from litestar.routes import HTTPRoute
from tests.integration.authz import authz_world
from tests.integration.authz.authz_expected import (
    PENDING,
    SKIPPED_METHODS,
    SKIPPED_PATHS,
    SKIPPED_PREFIXES,
    WORDS,
    parse,
    route_of,
)
from tests.integration.authz.authz_rows import FEED_PERSONAL, Row, all_rows
from tests.integration.authz.authz_world import ACTORS, SHORT, World

from rdv_spie.app import create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings

_LETTER = {word: letter for letter, word in WORDS.items()}


def app_routes(app: Litestar) -> tuple[set[str], list[str]]:
    """``METHOD path`` of every route of the app, and the infrastructure ones left out."""
    found: set[str] = set()
    skipped: list[str] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for method in route.route_handler_map:
            key = f"{method} {route.path}"
            if (
                method in SKIPPED_METHODS
                or route.path in SKIPPED_PATHS
                or route.path.startswith(SKIPPED_PREFIXES)
            ):
                skipped.append(key)
            else:
                found.add(key)
    return found, sorted(skipped)


def coverage_problems(
    routes: Iterable[str], expected: Iterable[str], rows: Iterable[str]
) -> list[str]:
    """Routes without a row of the table, rows of the table without a route (unless the route
    is being added) and rows without the code that tries them."""
    routes, expected, rows = set(routes), set(expected), set(rows)
    covered = {route_of(k) for k in expected}
    problems = [f"route without a row in authz_expected.py: {r}" for r in sorted(routes - covered)]
    problems += [
        f"row for a route the app does not have: {k}"
        for k in sorted(expected)
        if route_of(k) not in routes and route_of(k) not in PENDING
    ]
    problems += [
        f"row without a way to try it (authz_rows.py): {k}" for k in sorted(expected - rows)
    ]
    problems += [f"tried but not in the table: {k}" for k in sorted(rows - expected)]
    return problems


@dataclass
class Cell:
    expected: str  # a letter of the table
    observed: str  # a word (read, change, refused, login, open) or what happened instead
    note: str = ""

    @property
    def differs(self) -> bool:
        return self.expected != "-" and WORDS[self.expected] != self.observed

    @property
    def shown(self) -> str:
        if self.expected == "-":
            return "·"
        letter = _LETTER.get(self.observed, self.observed.split()[0])
        return letter + ("*" if self.differs else "")


async def classify(w: World, row: Row, target: object, actor: str, r: httpx.Response) -> str:
    status = r.status_code
    location = r.headers.get("location", "")
    if row.read is None and row.changed is None:  # a page anyone may open
        return "open" if status < 400 else f"{status}"
    if status == 401:
        return "login"
    if status in (302, 303, 307) and location.startswith("/agent/connexion"):
        return "login"
    if status in row.refusals:
        return "refused"
    if status >= 400:
        return f"{status}"
    if row.method == "GET":
        assert row.read is not None
        if row.read(w, target, r, actor):
            if row.kind == "feed" and any(p in r.text for p in FEED_PERSONAL):
                return "leak"
            return "read"
        # A list or page answering without any of A's objects refuses them.
        return "refused" if status < 300 else f"{status}"
    assert row.changed is not None
    return "change" if await row.changed(w, target, actor) else f"{status}-nochange"


async def run_row(w: World, row: Row, expected: dict[str, str]) -> dict[str, Cell]:
    cells: dict[str, Cell] = {}
    target: object = None
    stale = True
    for actor in ACTORS:
        letter = expected[SHORT[actor]]
        if letter == "-":
            cells[actor] = Cell(letter, "-")
            continue
        try:
            if row.target is not None and (stale or row.fresh == "always"):
                target = await row.target(w)
                stale = False
            response = await w.send(row.kind, actor, row.method, row.call(w, target, actor))
            observed = await classify(w, row, target, actor, response)
            note = response.text[:160] if observed not in WORDS.values() else ""
            if row.method != "GET" and response.status_code < 400:
                stale = True  # a write went through: the next actor gets a fresh target
        except Exception as exc:  # one broken cell must not hide the others
            observed, note, stale = "error", f"{type(exc).__name__}: {exc}"[:300], True
        cells[actor] = Cell(letter, observed, note)
    return cells


def render(matrix: dict[str, dict[str, Cell]], engine: str, seconds: float) -> str:
    width = max(len(k) for k in matrix) + 1
    head = "".join(f"{SHORT[a]:>6}" for a in ACTORS)
    lines = [
        f"Authorization matrix on {engine} ({seconds:.1f} s): observed outcome, "
        "R read, C change, X refused, L login, O open, a status code otherwise; "
        "* where it differs from the policy, · not tried",
        f"{'route':<{width}}{head}",
    ]
    for key, cells in matrix.items():
        lines.append(f"{key:<{width}}" + "".join(f"{cells[a].shown:>6}" for a in ACTORS))
    return "\n".join(lines)


async def test_every_route_for_every_actor(
    authz_app: Litestar,
    authz_client: httpx.AsyncClient,
    authz_settings: Settings,
    db: Database,
    clock: FrozenClock,
    capsys: pytest.CaptureFixture[str],
) -> None:
    expected = parse()
    rows = all_rows()
    routes, skipped = app_routes(authz_app)
    problems = coverage_problems(routes, expected, [r.key for r in rows])
    started = time.monotonic()
    w = await authz_world.build(authz_app, authz_client, db, clock, authz_settings)
    matrix: dict[str, dict[str, Cell]] = {}
    for row in rows:
        if row.key not in expected or route_of(row.key) not in routes:
            continue  # reported above (or the route is still being added)
        matrix[row.key] = await run_row(w, row, expected[row.key])
    seconds = time.monotonic() - started
    engine = db.engine.dialect.name
    differing = [
        f"{key} | {SHORT[actor]} | expected {WORDS[cell.expected]} | observed {cell.observed}"
        + (f" | {cell.note}" if cell.note else "")
        for key, cells in matrix.items()
        for actor, cell in cells.items()
        if cell.differs
    ]
    with capsys.disabled():
        print("\n" + render(matrix, engine, seconds))
        shown = [k for k in skipped if k.split()[0] not in SKIPPED_METHODS]
        print("Skipped: HEAD and OPTIONS of every route; infrastructure: " + ", ".join(shown))
        pending = sorted(PENDING - routes)
        if pending:
            print("Rows waiting for their route: " + ", ".join(pending))
        print(f"{len(differing)} cell(s) differ from the policy")
        for line in differing:
            print("  " + line)
    assert not problems, "\n".join(problems)
    assert not differing, f"{len(differing)} cell(s) differ from the policy:\n" + "\n".join(
        differing
    )


def test_a_new_route_without_a_row_fails(tmp_path_factory: pytest.TempPathFactory) -> None:
    """A route added to the application and missing from the table is named."""

    @get("/api/v1/dummy-export", sync_to_thread=False)
    def dummy_export() -> str:
        return "nothing"

    path = tmp_path_factory.mktemp("authz") / "unused.sqlite3"
    app = create_app(Settings(database_url=f"sqlite+aiosqlite:///{path}", secret_key="k" * 40))
    app.register(dummy_export)
    routes, _ = app_routes(app)
    expected = parse()
    rows = [r.key for r in all_rows()]
    assert "GET /api/v1/dummy-export" in routes
    assert coverage_problems(routes, expected, rows) == [
        "route without a row in authz_expected.py: GET /api/v1/dummy-export"
    ]
    # and a row left behind by a removed route is named too
    routes.discard("GET /api/v1/slots")
    assert "row for a route the app does not have: GET /api/v1/slots" in coverage_problems(
        routes, expected, rows
    )
