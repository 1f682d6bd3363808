"""The outbox: write messages in the caller's transaction, claim them, record outcomes.

Writing is idempotent (``INSERT … ON CONFLICT DO NOTHING`` on the idempotency key), claiming
is a compare-and-swap from ``pending`` to ``sending`` with a lease, and every outcome is
recorded only by the claim that owns the row (same status, same attempt number), so a worker
whose lease ran out can never overwrite what another one did.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import and_, bindparam, case, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite

from rdv_spie.audit import service as audit
from rdv_spie.clock import Clock
from rdv_spie.db.base import Base
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.notifications import alerts
from rdv_spie.notifications.messages import DELIVERY_FAILED_ALERT
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.people.models import Journey

S = NotificationStatus
LEASE = timedelta(minutes=2)
# A Twilio message whose outcome is unknown and that no status callback settled by then is
# shown as failed to the referent (a person decides to resend; we never resend blindly).
UNKNOWN_SETTLES_AFTER = timedelta(hours=6)
# Monotonic order: a status never moves to a lower rank (callbacks arrive late or twice).
RANK = {
    S.PENDING: 0,
    S.SENDING: 1,
    S.UNKNOWN: 2,
    S.SENT: 3,
    S.DELIVERED: 4,
    S.FAILED: 4,
    S.CANCELLED: 4,
}
FINAL = frozenset({S.DELIVERED, S.FAILED, S.CANCELLED})
_TABLE = Base.metadata.tables[Notification.__tablename__]


async def add(
    uow: UnitOfWork,
    *,
    territory_id: uuid.UUID,
    name: str,
    channel: str,
    key: str,
    not_before: datetime,
    person_id: uuid.UUID | None = None,
    agent_id: uuid.UUID | None = None,
    journey_id: uuid.UUID | None = None,
    appointment_id: uuid.UUID | None = None,
    invitation_id: uuid.UUID | None = None,
    params: dict[str, Any] | None = None,
) -> uuid.UUID | None:
    """Write one message in the caller's transaction; None when its key already exists."""
    message = Message(
        territory_id=territory_id,
        name=name,
        channel=channel,
        key=key,
        not_before=not_before,
        person_id=person_id,
        agent_id=agent_id,
        journey_id=journey_id,
        appointment_id=appointment_id,
        invitation_id=invitation_id,
        params=params,
    )
    added = await add_many(uow, [message])
    return added[0] if added else None


@dataclass(frozen=True, slots=True)
class Message:
    """One message to write (``add``'s arguments), for ``add_many``."""

    territory_id: uuid.UUID
    name: str
    channel: str
    key: str
    not_before: datetime
    person_id: uuid.UUID | None = None
    agent_id: uuid.UUID | None = None
    journey_id: uuid.UUID | None = None
    appointment_id: uuid.UUID | None = None
    invitation_id: uuid.UUID | None = None
    params: dict[str, Any] | None = None


# Built once: executed with a list of rows, SQLAlchemy sends them as multi-row INSERTs
# ("insertmanyvalues", within each engine's parameter limit) from one cached compilation; a
# VALUES clause built per call cost more to compile than the statement took to run.
_ADD = {
    dialect: insert(_TABLE)
    .on_conflict_do_nothing(index_elements=["idempotency_key"])
    .returning(_TABLE.c.id, _TABLE.c.not_before)
    for dialect, insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


async def add_many(uow: UnitOfWork, messages: Sequence[Message]) -> list[uuid.UUID]:
    """Write messages in the caller's transaction, a few hundred per statement (the planner
    writes thousands); those whose key already exists are left out. The ids written."""
    if not messages:
        return []
    now = uow.clock.now()
    pending = S.PENDING.value
    values = [
        {
            "id": uuid.uuid4(),
            "created_at": now,
            "updated_at": now,
            "territory_id": m.territory_id,
            "name": m.name,
            "channel": m.channel,
            "idempotency_key": m.key,
            "person_id": m.person_id,
            "agent_id": m.agent_id,
            "journey_id": m.journey_id,
            "appointment_id": m.appointment_id,
            "invitation_id": m.invitation_id,
            "params": m.params or {},
            "status": pending,
            "not_before": m.not_before,
            "attempts": 0,
        }
        for m in messages
    ]
    # Through the session (not its connection): a read unit of work still refuses it.
    stmt = _ADD["postgresql" if uow.is_postgres else "sqlite"]
    rows = (await uow.session.execute(stmt, values)).all()
    added: list[uuid.UUID] = []
    for new_id, not_before in rows:
        added.append(new_id)
        if _aware(not_before) <= now:
            uow.due_notifications.append(new_id)
    return added


def _aware(moment: datetime) -> datetime:
    """SQLite hands back naive UTC instants."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def cancel_pending(
    uow: UnitOfWork,
    *,
    appointment_id: uuid.UUID | None = None,
    journey_id: uuid.UUID | None = None,
    names: Sequence[str],
) -> int:
    """Cancel messages of these names not yet sent (e.g. reminders of a moved appointment)."""
    conditions = [Notification.status == S.PENDING, Notification.name.in_(names)]
    if appointment_id is not None:
        conditions.append(Notification.appointment_id == appointment_id)
    if journey_id is not None:
        conditions.append(Notification.journey_id == journey_id)
    result = await uow.session.execute(
        update(Notification)
        .where(*conditions)
        .values(status=S.CANCELLED, settled_at=uow.clock.now(), updated_at=uow.clock.now())
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


async def claim_row(uow: UnitOfWork, notification_id: uuid.UUID) -> Notification | None:
    """Take a due pending message (compare-and-swap) in the caller's transaction; the row as
    claimed (``attempts`` is this attempt's number), or None."""
    return (await claim_rows(uow, [notification_id])).get(notification_id)


def _claim_statement(*, hand_sms: bool) -> Any:
    """The claim's UPDATE … RETURNING, built once (building it cost more CPU than running it);
    ``ids``, ``now`` and ``lease_until`` are bound at execution."""
    now = bindparam("now", type_=_TABLE.c.updated_at.type)
    handed = {"handed_at": case((Notification.channel == "sms", now), else_=Notification.handed_at)}
    return (
        update(Notification)
        .where(
            Notification.id.in_(bindparam("ids", expanding=True)),
            Notification.status == S.PENDING,
            Notification.not_before <= now,
        )
        .values(
            status=S.SENDING,
            attempts=Notification.attempts + 1,
            lease_until=bindparam("lease_until", type_=_TABLE.c.lease_until.type),
            updated_at=now,
            **(handed if hand_sms else {}),
        )
        .returning(Notification)
        .execution_options(synchronize_session=False)
    )


_CLAIM = {hand_sms: _claim_statement(hand_sms=hand_sms) for hand_sms in (False, True)}


async def claim_rows(
    uow: UnitOfWork, ids: Sequence[uuid.UUID], *, hand_sms: bool = False
) -> dict[uuid.UUID, Notification]:
    """``claim_row`` for several messages in one statement: those claimed, by id.

    ``hand_sms``: the SMS claimed are also marked handed to the provider (``mark_handed_rows``
    in the same statement); whatever the caller then decides not to send must be recorded
    with ``handed=False`` (or back to pending) before its transaction commits."""
    now = uow.clock.now()
    claimed = await uow.session.scalars(
        _CLAIM[hand_sms], {"ids": list(ids), "now": now, "lease_until": now + LEASE}
    )
    return {n.id: n for n in claimed}


async def mark_handed_rows(uow: UnitOfWork, ids: Sequence[uuid.UUID]) -> None:
    """Note in the caller's transaction, which commits just before the calls, that these
    claimed messages are about to be handed to the provider."""
    if ids:
        connection = await uow.session.connection()
        await connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id.in_(ids), _TABLE.c.status == S.SENDING)
            .values(handed_at=uow.clock.now())
        )


async def record(
    uow: UnitOfWork,
    *,
    notification_id: uuid.UUID,
    attempt: int,
    status: NotificationStatus,
    provider_id: str | None = None,
    error_code: str | None = None,
    not_before: datetime | None = None,
    handed: bool = True,
) -> bool:
    """Record the outcome of the claim ``attempt``; False when that claim no longer owns
    the row (its lease ran out and the sweeper moved it on). ``handed=False``: the provider
    was never called (``handed_at`` cleared, as it always is back to pending)."""
    now = uow.clock.now()
    values: dict[str, Any] = {"status": status, "lease_until": None, "updated_at": now}
    if status is S.PENDING or not handed:
        values["handed_at"] = None
    if provider_id is not None:
        values["provider_id"] = provider_id
    if error_code is not None:
        values["error_code"] = error_code
    if status in (S.SENT, S.UNKNOWN):
        values["sent_at"] = now
    if status in FINAL:
        values["settled_at"] = now
    if not_before is not None:
        values["not_before"] = not_before
    # Core on the session's connection: the ORM's bulk-update machinery costs more than the
    # statement, and nothing in the session holds this row.
    connection = await uow.session.connection()
    result = await connection.execute(
        update(_TABLE)
        .where(
            _TABLE.c.id == notification_id,
            _TABLE.c.status == S.SENDING,
            _TABLE.c.attempts == attempt,
        )
        .values(**values)
    )
    return bool(result.rowcount)


async def provider_accepted(
    uow: UnitOfWork, n: Notification, *, sent_at_recorded: bool = False
) -> None:
    """The provider has the message, whichever told us first (its answer or its callback):
    note when it left and, for an invitation, that the person is invited."""
    now = uow.clock.now()
    connection = await uow.session.connection()
    if not sent_at_recorded:
        await connection.execute(
            update(_TABLE)
            .where(_TABLE.c.id == n.id, _TABLE.c.sent_at.is_(None))
            .values(sent_at=now)
        )
    if n.journey_id is not None and n.invitation_id is not None:  # an invitation or reminder
        journeys = Base.metadata.tables[Journey.__tablename__]
        await connection.execute(
            update(journeys)
            .where(journeys.c.id == n.journey_id, journeys.c.invited_at.is_(None))
            .values(invited_at=now, updated_at=now)
        )


# Every SMS or e-mail of a batch the provider accepted, in one statement (PostgreSQL): each
# recorded sent only by the claim that owns it (``record``), and, whoever recorded it, when it
# left and, for invitations, that the journey is invited (``provider_accepted``). A row claimed
# again by the same statement (``_CLAIM_TOO``) is noted there. Rows are found by
# primary key only: ``status || ''`` keeps PostgreSQL off the (status, not_before) index,
# whose entries for every row once pending or sending it would otherwise scan each time.
_ACCEPTED = """
WITH accepted AS (
    SELECT * FROM unnest(CAST(:ids AS uuid[]), CAST(:attempts AS integer[]),
                         CAST(:provider_ids AS text[])) AS a(id, attempt, provider_id)
), recorded AS (
    UPDATE notification AS n
    SET status = :sent, provider_id = COALESCE(a.provider_id, n.provider_id),
        lease_until = NULL, sent_at = :now, updated_at = :now
    FROM accepted AS a
    WHERE n.id = ANY(CAST(:ids AS uuid[])) AND n.id = a.id
      AND n.status || '' = :sending AND n.attempts = a.attempt
    RETURNING n.id
), overtaken AS (
    UPDATE notification SET sent_at = :now
    WHERE id = ANY(CAST(:ids AS uuid[])) AND id NOT IN (SELECT id FROM recorded)
      AND sent_at IS NULL AND id <> ALL(CAST(:claim_ids AS uuid[]))
), invited AS (
    UPDATE journey SET invited_at = :now, updated_at = :now
    WHERE id = ANY(CAST(:journey_ids AS uuid[])) AND invited_at IS NULL
)
"""
_RETURN_RECORDED = "SELECT id FROM recorded"
_RECORD_SENT = text(_ACCEPTED + _RETURN_RECORDED).columns(id=_TABLE.c.id.type)
# ``claim_rows(hand_sms=True)`` after the CTEs above: one round trip for a delivery batch.
_CLAIM_TOO = select(Notification).from_statement(
    text(
        _ACCEPTED
        + """UPDATE notification
SET status = :sending, attempts = attempts + 1, lease_until = :lease_until, updated_at = :now,
    handed_at = CASE WHEN channel = 'sms' THEN :now ELSE handed_at END,
    sent_at = CASE WHEN id = ANY(CAST(:ids AS uuid[])) THEN COALESCE(sent_at, :now)
              ELSE sent_at END
WHERE id = ANY(CAST(:claim_ids AS uuid[])) AND status || '' = :pending AND not_before <= :now
RETURNING """
        + ", ".join(c.name for c in _TABLE.c)
    ).columns(*_TABLE.c)
)


def _accepted(uow: UnitOfWork, accepted: Sequence[tuple[Notification, str | None]]) -> Any:
    return {
        "ids": [n.id for n, _ in accepted],
        "attempts": [n.attempts for n, _ in accepted],
        "provider_ids": [provider_id for _, provider_id in accepted],
        "journey_ids": [
            n.journey_id
            for n, _ in accepted
            if n.journey_id is not None and n.invitation_id is not None
        ],
        "now": uow.clock.now(),
        "sent": S.SENT.value,
        "sending": S.SENDING.value,
    }


async def record_sent(
    uow: UnitOfWork, accepted: Sequence[tuple[Notification, str | None]]
) -> set[uuid.UUID]:
    """``record`` then ``provider_accepted`` for messages the provider accepted (each with
    the id it gave): one statement on PostgreSQL, whatever their number. The ids recorded
    (the others' claims no longer owned their rows)."""
    if not accepted:
        return set()
    if not uow.is_postgres:  # no round trips to save
        recorded: set[uuid.UUID] = set()
        for n, provider_id in accepted:
            if await record(
                uow,
                notification_id=n.id,
                attempt=n.attempts,
                status=S.SENT,
                provider_id=provider_id,
            ):
                recorded.add(n.id)
            await provider_accepted(uow, n, sent_at_recorded=n.id in recorded)
        return recorded
    connection = await uow.session.connection()
    result = await connection.execute(_RECORD_SENT, {**_accepted(uow, accepted), "claim_ids": []})
    return set(result.scalars())


async def record_sent_then_claim(
    uow: UnitOfWork,
    accepted: Sequence[tuple[Notification, str | None]],
    ids: Sequence[uuid.UUID],
) -> dict[uuid.UUID, Notification]:
    """``record_sent(accepted)`` then ``claim_rows(ids, hand_sms=True)``: one statement on
    PostgreSQL."""
    if not (uow.is_postgres and ids):
        await record_sent(uow, accepted)
        return await claim_rows(uow, ids, hand_sms=True) if ids else {}
    now = uow.clock.now()
    params = {**_accepted(uow, accepted), "claim_ids": list(ids), "lease_until": now + LEASE}
    claimed = await uow.session.scalars(_CLAIM_TOO, {**params, "pending": S.PENDING.value})
    return {n.id: n for n in claimed}


async def recover(db: Database, *, clock: Clock) -> tuple[int, int, int]:
    """Move on what crashed or waited too long. An expired lease goes back to pending when the
    provider was never called, and for e-mail in any case (resent with the same Message-ID);
    an SMS handed to Twilio becomes unknown (never resent blindly); unknown SMS that no callback
    settled become failed. Returns (back to pending, unknown, failed)."""
    now = clock.now()
    async with db.unit_of_work(clock=clock) as uow:
        expired = and_(Notification.status == S.SENDING, Notification.lease_until < now)
        emails = await uow.session.execute(
            update(Notification)
            .where(expired, Notification.channel == "email")
            .values(status=S.PENDING, lease_until=None, not_before=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        unsent_sms = await uow.session.execute(
            update(Notification)
            .where(expired, Notification.channel == "sms", Notification.handed_at.is_(None))
            .values(status=S.PENDING, lease_until=None, not_before=now, updated_at=now)
            .execution_options(synchronize_session=False)
        )
        sms = await uow.session.execute(
            update(Notification)
            .where(expired, Notification.channel == "sms", Notification.handed_at.is_not(None))
            .values(
                status=S.UNKNOWN,
                lease_until=None,
                sent_at=now,
                error_code="worker_lost",
                updated_at=now,
            )
            .execution_options(synchronize_session=False)
        )
        stale = list(
            await uow.session.scalars(
                select(Notification).where(
                    Notification.status == S.UNKNOWN,
                    or_(
                        Notification.sent_at.is_(None),
                        Notification.sent_at < now - UNKNOWN_SETTLES_AFTER,
                    ),
                )
            )
        )
        for n in stale:  # no callback came: a person decides whether to send again
            n.status = S.FAILED
            n.error_code = "no_status_callback"
            n.settled_at = now
            await alert_referent(uow, n, "no_status_callback")
    counts = [int(getattr(r, "rowcount", 0) or 0) for r in (emails, unsent_sms, sms)]
    return counts[0] + counts[1], counts[2], len(stale)


async def due(db: Database, *, clock: Clock, limit: int = 500) -> list[tuple[uuid.UUID, int]]:
    """Pending messages whose time has come, oldest first, with their attempt count."""
    now = clock.now()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        rows = await uow.session.execute(
            select(Notification.id, Notification.attempts)
            .where(Notification.status == S.PENDING, Notification.not_before <= now)
            .order_by(Notification.not_before)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in rows]


async def alert_referent(uow: UnitOfWork, n: Notification, code: str) -> None:
    """Tell the journey's referent (else the agents ``alerts.recipients`` names) that a
    message to their person will not arrive."""
    for agent_id in await alerts.recipients(uow, n):
        assert n.person_id is not None and n.journey_id is not None
        new = await add(
            uow,
            territory_id=n.territory_id,
            name=DELIVERY_FAILED_ALERT,
            channel="email",
            key=f"{DELIVERY_FAILED_ALERT}:{n.id}:{agent_id}",
            not_before=uow.clock.now(),
            agent_id=agent_id,
            journey_id=n.journey_id,
            params={
                "person_id": str(n.person_id),
                "channel": n.channel,
                "reason_code": code,
                "message_name": n.name,
            },
        )
        if new is not None:  # the e-mail names the person
            await audit.record(uow, agent_id, [n.person_id], audit.Read.EMAIL)
