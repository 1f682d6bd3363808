"""A cache of computed slots, kept per process and validated by the database.

Entries are keyed by the calendar counters of the type's territory (db/calendar_version.py),
which every transaction that changes something its slots depend on bumps; a cached result is
used only while the counters read in the searching transaction are unchanged, so two
processes never need to share anything, a stale entry is never served, and a write in one
territory leaves the others' entries in use. Entries are computed without "now" (no notice,
no horizon) and filtered by the clock on every read. Booking never reads this cache: it
re-checks under locks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable

from rdv_spie.scheduling import slots as engine


class SlotCache:
    """An LRU of slot lists keyed by what they were computed from, bounded by the total number
    of slots held (a caller choosing many distinct windows cannot grow it without limit)."""

    def __init__(self, max_slots: int = 100_000) -> None:
        self.max_slots = max_slots
        self._held = 0
        self._entries: OrderedDict[Hashable, tuple[engine.Slot, ...]] = OrderedDict()
        # Lookups answered and missed since the start (the bench prints the rate).
        self.hits = 0
        self.misses = 0

    def get(self, key: Hashable) -> tuple[engine.Slot, ...] | None:
        """The cached slots, or None."""
        found = self._entries.get(key)
        if found is None:
            self.misses += 1
        else:
            self.hits += 1
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, value: Iterable[engine.Slot]) -> tuple[engine.Slot, ...]:
        """Store and return ``value``; the least recently used entry goes when full."""
        stored = tuple(value)
        if len(stored) > self.max_slots:
            return stored
        previous = self._entries.pop(key, ())
        self._held += len(stored) - len(previous)
        self._entries[key] = stored
        while self._held > self.max_slots:
            _, evicted = self._entries.popitem(last=False)
            self._held -= len(evicted)
        return stored
