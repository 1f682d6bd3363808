"""An event's UID is written in ical/event.py only, and the README states it as it is."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from rdv_spie.ical.event import appointment_uid, session_uid

README = Path(__file__).resolve().parents[3] / "README.md"
_STATED = re.compile(r"`([a-z-]+)-<([a-z ]*?)id>@rdv-spie`")


def test_the_uids() -> None:
    some = uuid.UUID(int=42)
    assert appointment_uid(some) == f"appointment-{some}@rdv-spie"
    assert session_uid(some) == f"cto-session-{some}@rdv-spie"


def test_the_readme_states_the_uids_the_code_gives() -> None:
    some = uuid.UUID(int=42)
    stated = _STATED.findall(README.read_text(encoding="utf-8"))
    assert stated, "the README states no UID"
    given = {"appointment": appointment_uid(some), "session": session_uid(some)}
    for prefix, what in stated:
        written = f"{prefix}-{some}@rdv-spie"
        if what.strip():  # "<session id>": the UID of that kind of event
            assert written == given[what.strip()], (prefix, what)
        else:
            assert written in given.values(), prefix
