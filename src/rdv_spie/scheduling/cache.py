"""A cache of computed slots, kept per process and validated by the database.

Entries are keyed by the calendar counters of the type's territory (db/calendar_version.py),
which every transaction that changes something its slots depend on bumps; a cached result is
used only while the counters read in the searching transaction are unchanged, so two
processes never need to share anything, a stale entry is never served, and a write in one
territory leaves the others' entries in use. Entries are computed without "now" (no notice,
no horizon) and filtered by the clock on every read. Booking never reads the slots kept
here: it looks again, under locks.

The opening hours a search loaded are kept too (``SlotCache.rules``), keyed by the shared
counter and the territory's rules counter, which only the writes that can change them move:
a booking changes the slots' key, not the hours'. Bookings read them too.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any, Generic, TypeVar

from rdv_spie.scheduling import slots as engine

_Item = TypeVar("_Item")


class BoundedCache(Generic[_Item]):
    """An LRU of tuples keyed by what they were computed from, bounded by the total number of
    items held, an empty tuple counting as one (a caller choosing many distinct windows or
    unknown places cannot grow it without limit)."""

    def __init__(self, max_items: int) -> None:
        self.max_items = max_items
        self._held = 0
        self._entries: OrderedDict[Hashable, tuple[_Item, ...]] = OrderedDict()
        # Lookups answered and missed since the start (the bench prints the rate).
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[_Item, ...] | None:
        """The cached items, or None."""
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Iterable[_Item]) -> tuple[_Item, ...]:
        """Store and return ``value``; the least recently used entries go when full."""
        stored = tuple(value)
        if _weight(stored) > self.max_items:
            return stored
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._held -= _weight(previous)
        self._held += _weight(stored)
        self._entries[key] = stored
        while self._held > self.max_items:
            _, evicted = self._entries.popitem(last=False)
            self._held -= _weight(evicted)
        return stored


def _weight(entry: tuple[Any, ...]) -> int:
    return max(len(entry), 1)


# An opening hour as a search loaded it: the agent, their seat, the rule (search._load_rules).
LoadedRule = tuple[Any, engine.AttendeeRole, engine.WeeklyRule]


class SlotCache(BoundedCache[engine.Slot]):
    """Slot lists, bounded by the number of slots held; beside them (``rules``) the opening
    hours they were computed from, keyed by the counters those depend on, so the search after
    a booking (a new key for its slots) reads only what a booking changes."""

    def __init__(self, max_slots: int = 100_000, max_rules: int = 50_000) -> None:
        super().__init__(max_slots)
        self.rules: BoundedCache[LoadedRule] = BoundedCache(max_rules)
