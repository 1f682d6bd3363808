"""The calendar counters: what validates every process's cached slots and feed bodies.

Two kinds of counter, both bumped just before the COMMIT of a transaction that changes what a
slot search or a calendar feed shows:

- ``calendar_change``, one row per territory: bumped for each territory a write touches. A
  booking in one territory leaves another's caches warm, and two writers of two territories
  never queue on one row lock. Its second counter, ``rules_version``, moves only with the
  writes that can change the territory's opening hours as the slot engine reads them
  (``RULE_TABLES``): a search right after a booking computes its slots again but reuses the
  opening hours it had loaded (scheduling/search.py).
- ``calendar_version``, one row: bumped by the rare changes to the shape of the calendars
  (agents, memberships, structures, territories) and by any write whose territory cannot be
  told (a bulk statement that names none). It is part of every key, so a cached result never
  outlives such a change, and the set of territories a feed sums is fixed while it holds.

A search or a feed reads its counters in the same statement as its first row (``key_for`` and
``feed_key``) and keys its per-process cache on them: a changed counter means compute again,
so a stale result is never served and two processes never need to share anything.

What counts as a change is data, ``CALENDAR_TABLES``: the tables those searches and feeds read
(tests/integration/db/test_calendar_version.py compares it with the statements they run). A
row's territories come from its columns (``territory_id``; ``organisation_id``, through the
structure; ``agent_id``, through every structure the agent works for: an agent's appointment
in one territory takes time from their slots in every other). A transaction bumps when it
writes a row of a listed table, through a flush or through an UPDATE, DELETE or INSERT
statement given to the session (a statement may name its territories with the execution
option ``calendar_territories``; one that does not bumps the shape counter). Writes through a
bare connection bypass the session and are not counted: the outbox (no listed table) and the
people intake's bulk insert of new persons (who have no appointment yet, so no feed shows
them). A write made outside the application must bump the counters itself (README).

The unit of work (db/uow.py) calls ``watch`` on its session class; nothing else needs to know.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cache
from itertools import chain
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    ScalarSelect,
    Uuid,
    bindparam,
    column,
    event,
    func,
    inspect,
    literal,
    or_,
    select,
    table,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import (
    ORMExecuteState,
    QueryableAttribute,
    Session,
    SessionTransaction,
    UOWTransaction,
)

# The tables slot searches and feeds read (the counters themselves and the feed links, read on
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

# The shape of the calendars: a write here bumps the shared counter.
SHAPE_TABLES = frozenset({"agent", "membership", "organisation", "territory"})
# The others the rule query of a slot search reads (scheduling/queries.rules), and the type,
# which owns its places: a write here bumps the territory's rules counter too.
RULE_TABLES = frozenset(
    {
        "availability_rule",
        "availability_rule_type",
        "appointment_type",
        "appointment_type_place",
        "place",
    }
)
# How a row of the other listed tables names its territories, most precise first. The
# association tables change through their owner's collection, and the owner is flushed too.
_SCOPE_COLUMNS = ("territory_id", "organisation_id", "agent_id")
OPTION = "calendar_territories"
_Column = ColumnElement[Any] | QueryableAttribute[Any]
_CHANGED = "calendar_changed"

_territory = table("territory", column("id", Uuid))
_organisation = table("organisation", column("id", Uuid), column("territory_id", Uuid))
_membership = table("membership", column("agent_id", Uuid), column("organisation_id", Uuid))
_change = table(
    "calendar_change",
    column("territory_id", Uuid),
    column("version", BigInteger),
    column("rules_version", BigInteger),
)
_version = table("calendar_version", column("id", Integer), column("version", BigInteger))


@dataclass
class _Touched:
    """What a transaction changed, until its COMMIT."""

    shape: bool = False
    rules: bool = False  # a write to RULE_TABLES: bump the territories' rules counters too
    territories: set[uuid.UUID] = field(default_factory=set)
    organisations: set[uuid.UUID] = field(default_factory=set)
    agents: set[uuid.UUID] = field(default_factory=set)

    def __bool__(self) -> bool:
        return self.shape or bool(self.territories or self.organisations or self.agents)


def watch(session_class: type[Session]) -> None:
    """Count calendar changes in every session of ``session_class`` and bump the counters
    before its COMMIT (idempotent: a second call registers nothing more)."""
    for name, listener in (
        ("after_flush", _note_flush),
        ("do_orm_execute", _note_statement),
        ("before_commit", _bump),
        ("after_soft_rollback", _forget),
    ):
        if not event.contains(session_class, name, listener):
            event.listen(session_class, name, listener)


def shape_version() -> ScalarSelect[Any]:
    """The shared counter, as a scalar subquery."""
    return select(_version.c.version).where(_version.c.id == 1).scalar_subquery()


def territory_version(territory_id: _Column) -> ScalarSelect[Any]:
    """The counter of the territory ``territory_id`` (a column of the enclosing query), 0
    before its first change."""
    return (
        select(func.coalesce(func.max(_change.c.version), 0))
        .where(_change.c.territory_id == territory_id)
        .scalar_subquery()
    )


def changed_here(session: Session) -> bool:
    """Whether this session's transaction has flushed a calendar change not yet committed:
    what it reads then is not what the counters it reads stand for, so it must neither use
    nor fill a cache keyed by them."""
    return bool(session.info.get(_CHANGED))


def rules_version(territory_id: _Column) -> ScalarSelect[Any]:
    """The opening-hours counter of the territory ``territory_id``, 0 before its first
    change of them."""
    return (
        select(func.coalesce(func.max(_change.c.rules_version), 0))
        .where(_change.c.territory_id == territory_id)
        .scalar_subquery()
    )


def feed_version(subject_id: _Column) -> ScalarSelect[Any]:
    """The sum of the counters of the territories a feed's subject belongs to: the territory
    itself, an agent's structures' territories, a CTO series' or a member's series' territory.
    Ids are random UUIDs, so matching every kind at once never mixes two subjects. While the
    shared counter holds, the set summed is fixed and the sum grows with every change."""
    cto_series = table("cto_series", column("id", Uuid), column("territory_id", Uuid))
    cto_member = table("cto_member", column("id", Uuid), column("series_id", Uuid))
    territories = or_(
        _change.c.territory_id == subject_id,
        _change.c.territory_id.in_(
            select(_organisation.c.territory_id)
            .join(_membership, _membership.c.organisation_id == _organisation.c.id)
            .where(_membership.c.agent_id == subject_id)
            .correlate_except(_organisation, _membership)
        ),
        _change.c.territory_id.in_(
            select(cto_series.c.territory_id)
            .where(
                or_(
                    cto_series.c.id == subject_id,
                    cto_series.c.id.in_(
                        select(cto_member.c.series_id)
                        .where(cto_member.c.id == subject_id)
                        .correlate_except(cto_member)
                    ),
                )
            )
            .correlate_except(cto_series)
        ),
    )
    return (
        select(func.coalesce(func.sum(_change.c.version), 0)).where(territories).scalar_subquery()
    )


def _note_flush(session: Session, _ctx: UOWTransaction) -> None:
    """Remember the territories (or the shape) this flush changed."""
    touched: _Touched = session.info.setdefault(_CHANGED, _Touched())
    written = chain(
        session.new, session.deleted, (o for o in session.dirty if session.is_modified(o))
    )
    for obj in written:
        state = inspect(obj)
        names = {t.name for t in state.mapper.tables}
        if not names & CALENDAR_TABLES:
            continue
        if names & RULE_TABLES:
            touched.rules = True
        if names & SHAPE_TABLES:
            touched.shape = True
            continue
        _note_row(touched, state)


def _note_row(touched: _Touched, state: Any) -> None:
    """The territories of one written row, from its first scope column (and the value it
    had before this flush); the shape counter when the row's values are not at hand."""
    for name in _SCOPE_COLUMNS:
        if name not in state.mapper.columns:
            continue
        values = {state.dict.get(name), *state.attrs[name].history.deleted}
        values.discard(None)
        if not values:
            touched.shape = True
            return
        target = {
            "territory_id": touched.territories,
            "organisation_id": touched.organisations,
            "agent_id": touched.agents,
        }[name]
        target.update(values)
        return
    touched.shape = True


def _note_statement(state: ORMExecuteState) -> None:
    """Remember an UPDATE, DELETE or INSERT statement on a listed table: its territories when
    it names them, else the shape."""
    if state.is_update or state.is_delete or state.is_insert:
        name = getattr(getattr(state.statement, "table", None), "name", None)
        if name in CALENDAR_TABLES:
            touched: _Touched = state.session.info.setdefault(_CHANGED, _Touched())
            touched.rules |= name in RULE_TABLES
            named = state.execution_options.get(OPTION)
            if named is None:
                touched.shape = True
            else:
                touched.territories.update(named)


def _bump(session: Session) -> None:
    """Bump the counters last, just before COMMIT: their row locks are then never held while
    this transaction waits for anything else (advisory locks, constraint checks). Territories
    are bumped in the order of their ids, so two writers never deadlock."""
    session.flush()
    touched: _Touched | None = session.info.pop(_CHANGED, None)
    if not touched:
        return
    connection = session.connection()
    if touched.shape:
        connection.execute(_shape_bump())
    structures = bool(touched.organisations or touched.agents)
    if touched.territories or structures:
        statement = _upsert(
            connection.dialect.name, bool(touched.territories), structures, touched.rules
        )
        values = {
            "territories": list(touched.territories),
            "organisations": list(touched.organisations),
            "agents": list(touched.agents),
        }
        connection.execute(statement, values)


@cache
def _shape_bump() -> Any:
    return update(_version).where(_version.c.id == 1).values(version=_version.c.version + 1)


@cache
def _upsert(dialect: str, territories: bool, structures: bool, rules: bool) -> Any:
    """Built once per shape (every booking commits one): the territories named
    (``territories``), and (``structures``) those of the ``organisations`` and of the
    structures of the ``agents``, get their counter, and (``rules``) their rules counter,
    moved; the values are bound at execution."""
    conditions = []
    if territories:
        conditions.append(_territory.c.id.in_(bindparam("territories", expanding=True)))
    if structures:
        organisations = or_(
            _organisation.c.id.in_(bindparam("organisations", expanding=True)),
            _organisation.c.id.in_(
                select(_membership.c.organisation_id).where(
                    _membership.c.agent_id.in_(bindparam("agents", expanding=True))
                )
            ),
        )
        conditions.append(
            _territory.c.id.in_(select(_organisation.c.territory_id).where(organisations))
        )
    rows = (
        select(_territory.c.id, literal(1, BigInteger), literal(int(rules), BigInteger))
        .where(or_(*conditions))
        .order_by(_territory.c.id)
    )
    moved = {"version": _change.c.version + 1}
    if rules:
        moved["rules_version"] = _change.c.rules_version + 1
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(_change)
        .from_select(["territory_id", "version", "rules_version"], rows)
        .on_conflict_do_update(index_elements=["territory_id"], set_=moved)
    )


def _forget(session: Session, previous: SessionTransaction) -> None:
    """A rolled back transaction changed nothing. A savepoint's rollback keeps what the
    enclosing transaction wrote before it (and what it wrote itself, bumped for nothing)."""
    if not previous.nested:
        session.info.pop(_CHANGED, None)
