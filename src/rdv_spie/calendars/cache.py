"""Rendered feeds kept per process, keyed by what they were rendered from.

The key holds the ``calendar_version`` counter (scheduling/cache.py), read with the token on
every request: every transaction that touches appointments, types, places, territories,
organisations, agents or memberships bumps it, and so (below) does one that touches a person,
whose initials an agent feed shows. A stale body is never served and two processes never need
to share anything; a write made outside the application must bump the counter (README).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable
from itertools import chain

from sqlalchemy import event
from sqlalchemy.orm import Session

from rdv_spie.people.models import Person
from rdv_spie.scheduling.cache import note_calendar_change


@event.listens_for(Session, "after_flush")
def _note_person_change(session: Session, _ctx: object) -> None:
    """A person's name shows (as initials) in agent feeds."""
    touched = chain(
        session.new, session.deleted, (o for o in session.dirty if session.is_modified(o))
    )
    if any(isinstance(o, Person) for o in touched):
        note_calendar_change(session)


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
