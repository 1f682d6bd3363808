"""SQLite through aiosqlite, sending to the driver's thread only what may wait.

aiosqlite runs each connection's calls on a thread of its own, and SQLAlchemy's adapter makes
four trips there for a SELECT (open a cursor, execute, fetch, close). Each trip hands the GIL
to that thread and back through the event loop. With 8 requests in flight the statements
themselves took 35 us alone but waited about 1.6 ms each for the GIL (timed in the driver's
thread), and a slot search answered from the cache made 13 trips.

Here a statement runs whole (open a cursor, execute, fetch every row, close), and, in WAL
mode (engine.py checks it on connecting), on the event loop's own thread when it does not
wait for another connection:

- plain ``BEGIN``, ``SELECT``, and the ``COMMIT`` of a transaction that only read: readers
  do not wait for a writer. (Two rare exceptions: another process recovering the WAL index
  after a crash, and readers retrying for a read slot; both last moments.);
- every statement while this connection holds the write lock, taken by ``BEGIN IMMEDIATE``
  (engine.py): nobody else can hold it;
- ``ROLLBACK``, which waits for nobody.

What may wait goes to the driver's thread, in one trip, so the loop keeps serving meanwhile:
connecting, ``BEGIN IMMEDIATE`` (another process's writer holds the lock; the busy timeout
waits for it), the ``COMMIT`` of a transaction that wrote (a checkpoint may copy the WAL back
and sync), and any other statement outside a write transaction (a write there takes the lock
lazily). A slot search answered from the cache no longer leaves the loop's thread; a booking
goes to the driver's thread twice (its BEGIN IMMEDIATE and its COMMIT). Server-side cursors
(``stream``) go to the driver's thread as in SQLAlchemy's adapter.

"Does not wait" is not "is short": a long statement on the loop holds every request of the
process for its duration (a 2,000-row insert: about 10 ms, measured in review). That is the
price on the embedded database; PostgreSQL is the production one.

If a task is cancelled while its statement runs in the driver's thread, SQLAlchemy
invalidates the connection (it treats cancellation as an exit), so the loop's thread never
uses it while the driver's thread still does.

``aiosqlite.Connection._execute`` (queue a function for the thread) is private to aiosqlite,
as is the queue SQLAlchemy's own adapter uses; pyproject pins the versions checked.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Sequence
from typing import Any, cast

import aiosqlite
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
    AsyncAdapt_aiosqlite_ss_cursor,
)
from sqlalchemy.util import EMPTY_DICT
from sqlalchemy.util.concurrency import await_

# What a statement leaves behind: description, rows (None without a description), rowcount,
# lastrowid.
_Outcome = tuple[Any, list[Any] | None, int, int | None]
_NOTHING: _Outcome = (None, None, -1, None)


def _run(driver: aiosqlite.Connection, operation: str, parameters: Any) -> _Outcome:
    """The whole statement, in whichever thread calls it."""
    cursor = driver._conn.cursor()
    try:
        if parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


def _run_many(driver: aiosqlite.Connection, operation: str, seq: Sequence[Any]) -> _Outcome:
    """One statement for each set of parameters, in whichever thread calls it."""
    cursor = driver._conn.cursor()
    try:
        cursor.executemany(operation, seq)
        return None, None, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


async def _in_thread(driver: aiosqlite.Connection, run: Any, *args: Any) -> _Outcome:
    """``run(driver, *args)`` in the driver's thread (aiosqlite's queue), awaited."""
    outcome: _Outcome = await driver._execute(run, driver, *args)  # type: ignore[no-untyped-call]
    return outcome


def _head(operation: str) -> str:
    """The statement's first words, enough to tell a read and a BEGIN IMMEDIATE."""
    return operation.lstrip()[:16].upper().rstrip(" ;")


def _only_reads(head: str) -> bool:
    """A statement that waits for no other connection, even outside a write transaction."""
    return head.startswith("SELECT") or head == "BEGIN"


class WholeStatementCursor(AsyncAdapt_aiosqlite_cursor):
    """A client-side cursor holding the outcome of its last statement, run whole."""

    __slots__ = ("_arraysize", "_outcome_description", "_outcome_lastrowid", "_outcome_rowcount")

    def __init__(self, adapt_connection: WholeStatementConnection) -> None:
        # No driver cursor is opened here: each statement opens and closes its own.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = collections.deque()
        self._arraysize = 1
        self._outcome_description: Any = None
        self._outcome_rowcount = -1
        self._outcome_lastrowid: int | None = None

    @property
    def description(self) -> Any:
        return self._outcome_description

    @property
    def rowcount(self) -> int:
        return self._outcome_rowcount

    @property
    def lastrowid(self) -> int:
        return self._outcome_lastrowid  # type: ignore[return-value]

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    def _keep(self, outcome: _Outcome) -> None:
        self._outcome_description, rows, self._outcome_rowcount, self._outcome_lastrowid = outcome
        self._rows = collections.deque(rows or ())

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        await self._statement(_run, operation, parameters, _head(operation))

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        await self._statement(_run_many, operation, seq_of_parameters, head="")

    async def _statement(self, run: Any, operation: str, parameters: Any, head: str) -> None:
        owner = cast(WholeStatementConnection, self._adapt_connection)
        driver, reads = owner.driver, _only_reads(head)
        self._keep(_NOTHING)  # a failed statement leaves no outcome of the one before
        async with owner._execute_mutex:
            owner.wrote |= not reads
            try:
                if owner.wal and (reads or owner.holds_write_lock):
                    self._keep(run(driver, operation, parameters))
                    return
                self._keep(await _in_thread(driver, run, operation, parameters))
                owner.holds_write_lock |= head == "BEGIN IMMEDIATE"
            finally:
                owner.settle()

    async def _async_soft_close(self) -> None:
        """Nothing to close: the driver's cursor closed with its statement."""

    def close(self) -> None:
        self._rows.clear()


class StreamingCursor(AsyncAdapt_aiosqlite_ss_cursor):
    """SQLAlchemy's server-side cursor (``stream``), in the driver's thread as before; a
    statement other than a read marks the transaction as having written, so its COMMIT
    goes to the driver's thread too."""

    __slots__ = ()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        owner = cast(WholeStatementConnection, self._adapt_connection)
        owner.wrote |= not _only_reads(_head(operation))
        try:
            return await super()._execute_async(operation, parameters)
        finally:
            owner.settle()


class WholeStatementConnection(AsyncAdapt_aiosqlite_connection):
    __slots__ = ("driver", "holds_write_lock", "wal", "wrote")
    _cursor_cls = WholeStatementCursor  # type: ignore[assignment]
    _ss_cursor_cls = StreamingCursor

    def __init__(self, dbapi: Any, connection: aiosqlite.Connection) -> None:
        super().__init__(dbapi, cast(Any, connection))
        self.driver = connection
        # Whether readers never wait for a writer (journal_mode=WAL, engine.py checks it on
        # connecting): until then, and without it, everything goes to the driver's thread.
        self.wal = False
        # While a transaction is open (settle): since its BEGIN IMMEDIATE; since a statement
        # other than a read.
        self.holds_write_lock = False
        self.wrote = False

    def settle(self) -> None:
        """Forget the transaction's state once none is open: SQLite may have ended it itself
        (INSERT OR ROLLBACK, RAISE(ROLLBACK), a full disk), and after a statement outside a
        transaction there was none."""
        connection = self.driver._connection
        if connection is None or not connection.in_transaction:
            self.holds_write_lock = self.wrote = False

    def _on_loop(self, end: str) -> None:
        if self.driver._connection is None:  # closed
            return
        try:
            getattr(self.driver._conn, end)()
        except Exception as error:  # SQLAlchemy translates it
            self._handle_exception(error)

    def rollback(self) -> None:
        """On the loop's thread in WAL mode: a rollback waits for no other connection."""
        self.holds_write_lock = self.wrote = False
        if self.wal:
            self._on_loop("rollback")
        else:
            super().rollback()

    def commit(self) -> None:
        """After a write, in the driver's thread (a checkpoint may follow); ending a read
        in WAL mode waits for nothing and runs on the loop's thread."""
        wrote, self.holds_write_lock, self.wrote = self.wrote, False, False
        if wrote or not self.wal:
            super().commit()
        else:
            self._on_loop("commit")


class WholeStatementDbapi(AsyncAdapt_aiosqlite_dbapi):
    """The DB-API module SQLAlchemy's aiosqlite dialect is given (``create_engine(module=)``)."""

    def connect(self, *arg: Any, **kw: Any) -> WholeStatementConnection:
        # The connection is opened in the driver's thread and used from the loop's as well,
        # one statement at a time (the adapter's mutex; SQLite is built serialized).
        kw["check_same_thread"] = False
        connection = self.aiosqlite.connect(*arg, **kw)
        connection._thread.daemon = True
        return WholeStatementConnection(self, await_(connection))


def dbapi() -> WholeStatementDbapi:
    return WholeStatementDbapi(aiosqlite, sqlite3)
