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
_BUMPED = "calendar_version_bumped"


class SlotCache:
    """A small LRU of slot lists keyed by what they were computed from."""

    def __init__(self, max_entries: int = 512) -> None:
        self.max_entries = max_entries
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
        self._entries[key] = stored
        self._entries.move_to_end(key)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)
        return stored


@event.listens_for(Session, "after_flush")
def _bump_calendar_version(session: Session, _ctx: object) -> None:
    """Invalidate every cached search when a flush touches what slots depend on."""
    if session.info.get(_BUMPED):
        return
    if any(isinstance(o, _WATCHED) for o in chain(session.new, session.dirty, session.deleted)):
        session.connection().execute(
            update(CalendarVersion).values(version=CalendarVersion.version + 1)
        )
        session.info[_BUMPED] = True


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _reset(session: Session) -> None:
    session.info.pop(_BUMPED, None)
