"""Request-scoped dependencies: the unit of work (commits before the response) and the actor."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

from litestar import Request
from litestar.datastructures import State
from litestar.di import NamedDependency

from rdv_spie.agents import api_keys
from rdv_spie.agents.guards import Actor
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.errors import Unauthorized
from rdv_spie.settings import Settings

_SAFE = frozenset({"GET", "HEAD", "OPTIONS"})
KEY_USED = "api_key_used"  # request.state: an API key whose last use to stamp
# Handler option of API reads that show people's files (and so write the audit trail).
READS_PEOPLE: dict[str, object] = {"reads_people": True}


async def provide_uow(
    state: State, request: Request[Any, Any, Any]
) -> AsyncGenerator[UnitOfWork, None]:
    """One transaction per request; committed after the handler and before the response, so
    a failed commit is an error response and never a false success."""
    # Handlers that write in their own batches (imports) read here: opt={"own_writes": True}.
    # Pages write on GET too (a session's last activity, a link opened), and so do API reads
    # of people's files (the audit trail, opt={"reads_people": True}): on SQLite a read
    # transaction that later writes fails at once when another writer committed meanwhile,
    # so these take the write lock up front (on PostgreSQL this changes nothing).
    opt = request.route_handler.opt
    write = (
        request.method not in _SAFE or wants_html(request) or bool(opt.get("reads_people"))
    ) and not opt.get("own_writes")
    async with state.db.unit_of_work(clock=state.clock, write=write) as uow:
        yield uow


async def provide_actor(request: Request[Any, Any, Any], uow: Uow) -> Actor:
    """The agent behind ``Authorization: Bearer <API key>`` (or ``X-API-Key``)."""
    header = request.headers.get("authorization", "")
    secret = header[7:].strip() if header[:7].lower() == "bearer " else ""
    secret = secret or request.headers.get("x-api-key", "").strip()
    if not secret:
        raise Unauthorized("missing API key: send 'Authorization: Bearer <key>'")
    identified = await api_keys.authenticate(uow=uow, secret=secret)
    if identified.use_to_record is not None:
        request.state[KEY_USED] = identified.use_to_record  # see record_key_use
    return identified.actor


async def record_key_use(request: Request[Any, Any, Any]) -> None:
    """After the response: stamp the last use of the API key that authenticated the request
    (its own short transaction, so a read request stays a read)."""
    key_id = request.state.get(KEY_USED)
    if key_id is not None:
        state = request.app.state
        await api_keys.record_use(state.db, state.clock, key_id)


def provide_database(state: State) -> Database:
    """The database, for handlers that open their own transactions."""
    db: Database = state.db
    return db


def provide_clock(state: State) -> Clock:
    """The service clock."""
    clock: Clock = state.clock
    return clock


def provide_settings(state: State) -> Settings:
    """The application's settings."""
    settings: Settings = state.settings
    return settings


def wants_html(request: Request[Any, Any, Any]) -> bool:
    """Whether an error on this request is shown as a page (not problem details)."""
    path = request.url.path
    return not path.startswith(("/api/", "/webhooks/", "/feeds/", "/healthz", "/readyz"))


# Handler parameters name their dependency explicitly (Litestar 3 drops inferred ones).
Uow = NamedDependency[UnitOfWork]
CurrentActor = NamedDependency[Actor]
AppSettings = NamedDependency[Settings]
Db = NamedDependency[Database]
AppClock = NamedDependency[Clock]
