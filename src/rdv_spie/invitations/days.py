"""How the public pages lay out the slots so a page stays short on a phone: the soonest few
(one per day and place first, nearest places first), the days that have slots, one day's
slots with its neighbours, and the link format of a slot (pure)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from rdv_spie.scheduling.slots import Slot

_INSTANT = "%Y-%m-%dT%H:%MZ"
SOONEST = 5  # slots offered first, before the choice of a day or a place


def parse_day(value: str | None) -> date | None:
    """A ``YYYY-MM-DD`` query value, or None when absent or malformed."""
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        return None


def format_instant(at: datetime) -> str:
    """A slot start as it travels in a link: ``2026-12-02T08:00Z`` (UTC)."""
    return at.astimezone(UTC).strftime(_INSTANT)


def parse_instant(value: str | None) -> datetime | None:
    """The inverse of ``format_instant``; None when malformed."""
    try:
        return datetime.strptime(value or "", _INSTANT).replace(tzinfo=UTC)
    except ValueError:
        return None


def local_day(slot: Slot, zone: ZoneInfo) -> date:
    """The territory's calendar day a slot starts on."""
    return slot.starts_at.astimezone(zone).date()


def days_with_slots(slots: Sequence[Slot], zone: ZoneInfo) -> list[date]:
    """The local days that have at least one slot, in order."""
    return sorted({local_day(s, zone) for s in slots})


def soonest(
    slots: Sequence[Slot],
    zone: ZoneInfo,
    rank: Mapping[uuid.UUID, int],
    *,
    limit: int = SOONEST,
) -> list[Slot]:
    """Up to ``limit`` slots to offer first, taken in turn from each place (nearest first):
    each place gives its first slot of each day before a second slot of one day, so the
    few slots shown span several days; ordered by place rank, then time.

    ``slots`` are in time order; a place missing from ``rank`` comes last.
    """
    firsts: dict[uuid.UUID, list[Slot]] = {}
    others: dict[uuid.UUID, list[Slot]] = {}
    seen: set[tuple[uuid.UUID, date]] = set()
    for slot in slots:
        key = (slot.place_id, local_day(slot, zone))
        (others if key in seen else firsts).setdefault(slot.place_id, []).append(slot)
        seen.add(key)
    last = len(rank)
    order = sorted({*firsts, *others}, key=lambda p: (rank.get(p, last), str(p)))
    queues = {p: [*firsts.get(p, []), *others.get(p, [])] for p in order}
    picked: list[Slot] = []
    depth = 0
    while len(picked) < limit and any(depth < len(q) for q in queues.values()):
        for place_id in order:
            if depth < len(queues[place_id]) and len(picked) < limit:
                picked.append(queues[place_id][depth])
        depth += 1
    return sorted(picked, key=lambda s: (rank.get(s.place_id, last), s.starts_at))


@dataclass(frozen=True, slots=True)
class DayView:
    """One local day: its slots in time order, the nearest days before and after it that
    have slots (None when there is none), and, when this day has none, the first slot after
    it."""

    day: date
    slots: list[Slot]
    previous: date | None
    following: date | None
    next_available: Slot | None


def day_view(
    slots: Sequence[Slot], zone: ZoneInfo, *, today: date, last_day: date, asked: date
) -> DayView:
    """The day ``asked``, kept between ``today`` and ``last_day``; ``slots`` in time order."""
    day = min(max(asked, today), max(today, last_day))
    mine = [s for s in slots if local_day(s, zone) == day]
    days = days_with_slots(slots, zone)
    before = [d for d in days if d < day]
    after = [s for s in slots if local_day(s, zone) > day]
    return DayView(
        day=day,
        slots=mine,
        previous=before[-1] if before else None,
        following=local_day(after[0], zone) if after else None,
        next_available=after[0] if after and not mine else None,
    )
