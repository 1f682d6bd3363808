"""Rendered feeds kept per process, keyed by what they were rendered from.

The key holds the calendar counter (db/calendar_version.py), read with the token on every
request: every transaction that writes a row a feed shows (appointments, types, places,
territories, organisations, agents, memberships, people for their initials, CTO series,
sessions and requests) bumps it. A stale body is never served and two processes never need to
share anything; a write made outside the application must bump the counter (README).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable


class FeedCache:
    """Rendered feeds by (subject, window, fingerprint), least recently used out first,
    bounded by the bytes held."""

    def __init__(self, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_bytes = max_bytes
        self._held = 0
        self._entries: OrderedDict[Hashable, tuple[str, bytes]] = OrderedDict()

    def get(self, key: Hashable) -> tuple[str, bytes] | None:
        """(etag, body), or None."""
        found = self._entries.get(key)
        if found is not None:
            self._entries.move_to_end(key)
        return found

    def put(self, key: Hashable, etag: str, body: bytes) -> tuple[str, bytes]:
        """Store and return (etag, body)."""
        if len(body) > self.max_bytes:
            return etag, body
        previous = self._entries.pop(key, None)
        if previous is not None:
            self._held -= len(previous[1])
        self._entries[key] = (etag, body)
        self._held += len(body)
        while self._held > self.max_bytes:
            _, (_, evicted) = self._entries.popitem(last=False)
            self._held -= len(evicted)
        return etag, body
