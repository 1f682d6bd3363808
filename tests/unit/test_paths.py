"""Page paths and page modules, one way everywhere: a path under /rdv or /agent is written only
in a ``paths.py`` (the room's, or web/paths.py for the back office's sections), and a room's
page handlers live in ``pages.py`` or ``pages_<topic>.py``, gathered by ``pages.ROUTES``."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import re
from pathlib import Path
from types import ModuleType

from litestar.handlers import HTTPRouteHandler

import rdv_spie
from rdv_spie import app

SRC = Path(__file__).resolve().parents[2] / "src" / "rdv_spie"
# "/rdv", "/rdv/creneaux", "/agent?x", "/agent/agenda": not "/agents" (an API path) nor "/rdvx".
PAGE_PATH = re.compile(r"^/(rdv|agent)([/?#]|$)")


def path_literals(source: str) -> list[tuple[int, str]]:
    """The string constants of ``source`` (f-strings' fixed parts included) that start with
    a public or back-office page path, with their line."""
    return sorted(
        (node.lineno, node.value)
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and PAGE_PATH.match(node.value)
    )


def test_page_paths_are_written_only_in_paths_modules() -> None:
    found = {
        f"{path.relative_to(SRC).as_posix()}:{line}": value
        for path in SRC.rglob("*.py")
        if path.name != "paths.py"
        for line, value in path_literals(path.read_text(encoding="utf-8"))
    }
    assert found == {}


def test_the_walk_finds_a_path_written_by_hand() -> None:
    """Positive control: the forms a page module would write are caught, others are not."""
    source = (
        'redirect("/rdv")\n'
        'post("/agent/rendez-vous/{id:uuid}/statut")\n'
        'x = f"/agent/agenda?semaine={monday}"\n'
        'y = "/rdv?x=1"\n'
        'api = "/agents"\n'
        'other = "/rdvs"\n'
        'doc = "see /rdv"\n'
    )
    assert [line for line, _ in path_literals(source)] == [1, 2, 3, 4]


def _modules() -> list[ModuleType]:
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(rdv_spie.__path__, "rdv_spie.")
    ]


def _page_handlers(module: ModuleType) -> list[HTTPRouteHandler]:
    """The handlers a module defines for a page: a path under /rdv or /agent, or the
    invitation link (not the API, nor the calendar feeds)."""
    return [
        value
        for value in vars(module).values()
        if isinstance(value, HTTPRouteHandler)
        and value.fn.__module__ == module.__name__
        and any(PAGE_PATH.match(path) or path.startswith("/i/") for path in value.paths)
    ]


def test_room_pages_live_in_pages_modules_gathered_by_pages_routes() -> None:
    """In every room (web/, the kit, and the entry points aside), a module holding route
    handlers is ``pages`` or ``pages_<topic>``; each topic's ROUTES is in the room's
    ``pages.ROUTES``, and every ``pages.ROUTES`` is in the application's pages."""
    rooms: dict[str, list[ModuleType]] = {}
    for module in _modules():
        parts = module.__name__.split(".")
        if len(parts) != 3 or parts[1] == "web" or not _page_handlers(module):
            continue
        rooms.setdefault(parts[1], []).append(module)
    assert {"invitations", "scheduling", "people", "calendars"} <= rooms.keys()
    served = {id(handler) for handler in app.PAGES}
    for room, modules in rooms.items():
        names = {m.__name__.rsplit(".", 1)[1] for m in modules}
        assert all(n == "pages" or n.startswith("pages_") for n in names), (room, names)
        gathered = importlib.import_module(f"rdv_spie.{room}.pages").ROUTES
        for module in modules:
            assert set(map(id, module.ROUTES)) <= set(map(id, gathered)), module.__name__
            assert set(map(id, _page_handlers(module))) <= set(map(id, module.ROUTES))
        assert {id(h) for h in gathered} <= served, room
