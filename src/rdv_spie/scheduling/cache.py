"""A cache of computed slots, kept per process and validated by the database.

Every transaction that changes something slots depend on (appointments, rules, absences,
types, places, agents, memberships, territories) bumps one counter row in the same
transaction; a cached result is used only while the counter read in the searching transaction
is unchanged, so two processes never need to share anything and a stale entry is never served.
Entries are computed without "now" (no notice, no horizon) and filtered by the clock on every
read. Booking never reads this cache: it re-checks under locks.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable, Iterable
from itertools import chain

from sqlalchemy import event, update
from sqlalchemy.orm import Session

from rdv_spie.agents.models import Agent, Membership
from rdv_spie.scheduling import slots as engine
from rdv_spie.scheduling.models import (
    Absence,
    Appointment,
    AppointmentAgent,
    AppointmentType,
    AvailabilityRule,
    CalendarVersion,
)
from rdv_spie.territories.models import Organisation, Place, Territory

_WATCHED = (
    Absence,
    Agent,
    Appointment,
    AppointmentAgent,
    AppointmentType,
    AvailabilityRule,
    Membership,
    Organisation,
    Place,
    Territory,
)
_CHANGED = "calendar_changed"


class SlotCache:
    """An LRU of slot lists keyed by what they were computed from, bounded by the total number
    of slots held (a caller choosing many distinct windows cannot grow it without limit)."""

    def __init__(self, max_slots: int = 100_000) -> None:
        self.max_slots = max_slots
        self._held = 0
        self._entries: OrderedDict[Hashable, tuple[engine.Slot, ...]] = OrderedDict()

    def get(self, key: Hashable) -> tuple[engine.Slot, ...] | None:
        """The cached slots, or None."""
        found = self._entries.get(key)
        if found is not None:
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


def note_calendar_change(session: Session) -> None:
    """Count this transaction as a calendar change (for rows another room watches: calendar
    feeds also show people's initials)."""
    session.info[_CHANGED] = True


@event.listens_for(Session, "after_flush")
def _note_calendar_change(session: Session, _ctx: object) -> None:
    """Remember that this transaction touched what slots depend on."""
    if session.info.get(_CHANGED):
        return
    touched = chain(
        session.new, session.deleted, (o for o in session.dirty if session.is_modified(o))
    )
    if any(isinstance(o, _WATCHED) for o in touched):
        session.info[_CHANGED] = True


@event.listens_for(Session, "before_commit")
def _bump_calendar_version(session: Session) -> None:
    """Bump the counter last, just before COMMIT: the row lock it takes is then never held
    while this transaction waits for anything else (advisory locks, constraint checks)."""
    session.flush()
    if session.info.pop(_CHANGED, False):
        session.connection().execute(
            update(CalendarVersion).values(version=CalendarVersion.version + 1)
        )


@event.listens_for(Session, "after_rollback")
def _reset(session: Session) -> None:
    session.info.pop(_CHANGED, None)
