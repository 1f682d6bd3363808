"""Who goes on a frozen agenda: pure, so the rule can be tested on its own.

Urgent requests first, then first submitted first served (a carried-over request keeps its
original ``submitted_at``, so it comes first at the next session); the id breaks ties so the
order never depends on how the database returned the rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Candidate:
    """A request waiting for a session."""

    id: uuid.UUID
    urgent: bool
    submitted_at: datetime


def split(
    candidates: Iterable[Candidate], capacity: int
) -> tuple[list[uuid.UUID], list[uuid.UUID]]:
    """(agenda in order, carried over in order): at most ``capacity`` on the agenda, every
    candidate in exactly one of the two lists."""
    ordered = sorted(candidates, key=lambda c: (not c.urgent, c.submitted_at, c.id))
    keep = max(capacity, 0)
    return [c.id for c in ordered[:keep]], [c.id for c in ordered[keep:]]
