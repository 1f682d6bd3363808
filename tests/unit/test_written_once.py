"""Rules written once: each pattern below is the hand-written form of a rule that has one home;
finding it anywhere else in src/ means a second copy has started (and will drift)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[2] / "src" / "rdv_spie"


def _where(pattern: str) -> set[str]:
    """The modules of src/rdv_spie (relative paths) whose text matches ``pattern``."""
    found = re.compile(pattern, re.MULTILINE)
    return {
        path.relative_to(SRC).as_posix()
        for path in SRC.rglob("*.py")
        if found.search(path.read_text(encoding="utf-8"))
    }


ONE_HOME = [
    # "Admin or animator of the territory" and "colleague, else not found": agents/guards.py.
    (
        r"def _?(territory_team|is_manager|require_manager|\w*territory_manager\w*"
        r"|manager_of_territory)\(",
        "agents/guards.py",
    ),
    (r"Forbidden\(\s*\"only an admin or (an? )?animator", "agents/guards.py"),
    (r"Role\.ADMIN, Role\.ANIMATOR", "agents/guards.py"),
    (r"not in await colleague_ids\(", "agents/guards.py"),
    # Paging a slot search through the search window: scheduling/search.py.
    (r"\bMAX_WINDOW\b", "scheduling/search.py"),
    # A place as one line and as a template dict: territories/places.py.
    (r"join\(\s*p for p in \(\s*(place\.)?postcode", "territories/places.py"),
    (r"\"city\":", "territories/places.py"),
    # An event's UID and its .ics: ical/event.py and ical/ics.py.
    (r"@rdv-spie\"", "ical/event.py"),
    (r"appointment_calendar\(", "ical/ics.py"),
    # Opening the database for a command, and the clock of the settings: db/uow.py (the
    # worker's job context, which outlives any block, builds its own from the same engine).
    (r"SystemClock\(", "db/uow.py"),
    (r"Database\(create_engine\(", "db/uow.py|worker/context.py"),
]


@pytest.mark.parametrize(("pattern", "home"), ONE_HOME)
def test_the_rule_is_written_in_its_home_only(pattern: str, home: str) -> None:
    assert _where(pattern) == set(home.split("|"))


def test_the_search_finds_a_second_copy(tmp_path: Path) -> None:
    """Positive control: the patterns do match the forms they are meant to catch."""
    copies = {
        ONE_HOME[0][0]: "async def _manager_of_territory(uow, actor, t):",
        r"Forbidden\(\s*\"only an admin or (an? )?animator": (
            'raise Forbidden(\n    "only an admin or an animator of the territory can"'
        ),
        r"not in await colleague_ids\(": "if agent_id not in await colleague_ids(uow, actor):",
    }
    for pattern, text in copies.items():
        assert re.search(pattern, text, re.MULTILINE)
