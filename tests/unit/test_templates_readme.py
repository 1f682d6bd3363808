"""templates/README.md's table of messages is the registry: every message once, with its
channels and its .ics method."""

from __future__ import annotations

import re
from pathlib import Path

from rdv_spie.messages import MESSAGES

README = Path(__file__).resolve().parents[2] / "templates" / "README.md"
# | `name` | sms, email (+ .ics REQUEST) | to | when | context |
_ROW = re.compile(
    r"^\| `(?P<name>[a-z_]+)` \| (?P<channels>[a-z, ]+?)(?: \(\+ \.ics (?P<ics>\w+)\))? \|"
)


def test_the_readme_describes_every_message_with_its_channels_and_ics() -> None:
    rows = [
        m for line in README.read_text(encoding="utf-8").splitlines() if (m := _ROW.match(line))
    ]
    described = [
        (m["name"], tuple(c.strip() for c in m["channels"].split(",")), m["ics"]) for m in rows
    ]
    declared = [(kind.name, kind.channels, kind.ics) for kind in MESSAGES]
    assert len(described) == len({name for name, _, _ in described}), "a message described twice"
    assert sorted(described) == sorted(declared)
