"""The calendar counter: one row, ``calendar_version``, that every transaction changing what a
slot search or a calendar feed shows bumps, just before its COMMIT.

Slot searches (scheduling/search.py) and feeds (calendars/feeds.py) keep their results per
process, keyed by the counter they read in the same statement as their first row: a changed
counter means compute again, so a stale result is never served and two processes never need
to share anything.

What counts as a change is data, ``CALENDAR_TABLES``: the tables those searches and feeds read
(tests/integration/db/test_calendar_version.py compares it with the statements they run). A
transaction bumps the counter when it writes a row of one of them, through a flush (rows added,
changed or deleted, a collection changed) or through an UPDATE, DELETE or INSERT statement
given to the session (the purge of people). Writes through a bare connection bypass the
session and are not counted: the outbox (no listed table) and the people intake's bulk insert
of new persons (who have no appointment yet, so no feed shows them). A write made outside the
application must bump the counter itself (README).

The unit of work (db/uow.py) calls ``watch`` on its session class; nothing else needs to know.
"""

from __future__ import annotations

from itertools import chain

from sqlalchemy import event, inspect, text
from sqlalchemy.orm import ORMExecuteState, Session, UOWTransaction

# The tables slot searches and feeds read (the counter itself and the feed links, read on
# every request and never cached, are the only ones they read that are not here).
CALENDAR_TABLES = frozenset(
    {
        # Slots: who is open where and when, and what is already taken.
        "absence",
        "agent",
        "appointment",
        "appointment_agent",
        "appointment_departure",
        "appointment_type",
        "appointment_type_place",
        "availability_rule",
        "availability_rule_type",
        "membership",
        "organisation",
        "place",
        "territory",
        # Feeds: people's initials in agent feeds, CTO sessions and their count of requests.
        "person",
        "cto_series",
        "cto_session",
        "cto_request",
    }
)

_BUMP = text("UPDATE calendar_version SET version = version + 1")
_CHANGED = "calendar_changed"


def watch(session_class: type[Session]) -> None:
    """Count calendar changes in every session of ``session_class`` and bump the counter
    before its COMMIT (idempotent: a second call registers nothing more)."""
    for name, listener in (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_statement),
        ("before_commit", _bump),
        ("after_rollback", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


def _note_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Remember that this flush wrote a row of a listed table."""
    if session.info.get(_CHANGED):
        return
    written = chain(
        session.new, session.deleted, (o for o in session.dirty if session.is_modified(o))
    )
    if any(
        table.name in CALENDAR_TABLES for obj in written for table in inspect(obj).mapper.tables
    ):
        session.info[_CHANGED] = True


def _note_statement(state: ORMExecuteState) -> None:
    """Remember an UPDATE, DELETE or INSERT statement on a listed table."""
    if state.is_update or state.is_delete or state.is_insert:
        table = getattr(state.statement, "table", None)
        if getattr(table, "name", None) in CALENDAR_TABLES:
            state.session.info[_CHANGED] = True


def _bump(session: Session) -> None:
    """Bump the counter last, just before COMMIT: its row lock is then never held while this
    transaction waits for anything else (advisory locks, constraint checks)."""
    session.flush()
    if session.info.pop(_CHANGED, False):
        session.connection().execute(_BUMP)


def _forget(session: Session) -> None:
    session.info.pop(_CHANGED, None)
