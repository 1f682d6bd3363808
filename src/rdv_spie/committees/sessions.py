"""A session that changes after it was planned: moved (a holiday…) or cancelled, its requests
carried to the next one and its members told.

Above series.py (the plan of sessions) and cycle.py (carrying requests, freeze, dispatch),
which both stay unaware of each other's callers.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from rdv_spie.agents.guards import Actor, require_territory_manager
from rdv_spie.committees import access, cycle, notices, recurrence
from rdv_spie.committees import series as series_service
from rdv_spie.committees.models import CtoSeries, CtoSession, SessionStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid


async def move_session(
    *,
    uow: UnitOfWork,
    actor: Actor,
    session_id: uuid.UUID,
    starts_at: datetime,
    reason: str | None = None,
) -> CtoSession:
    """Move one session (a holiday…): SEQUENCE + 1, its cycle follows, members are told (with
    the reason, when one is given)."""
    session = await access.session_for(uow, actor, session_id)
    await require_territory_manager(uow, actor, session.territory_id)
    await uow.lock(f"cto_session:{session.id}")
    await uow.session.refresh(session)
    if session.status == SessionStatus.CANCELLED:
        raise Conflict("the session is cancelled", field="session_id", code="session_cancelled")
    if starts_at <= uow.clock.now():
        raise Invalid("a session cannot move to the past", field="starts_at")
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    series_service.apply_cycle(
        session,
        recurrence.cycle(
            starts_at,
            series_service.timing(series),
            await series_service.zone_of(uow, series.territory_id),
        ),
    )
    session.status = SessionStatus.MOVED
    session.sequence += 1
    session.change_reason = _reason(reason)
    await uow.session.flush()
    await notices.session_changed(uow, series, session)
    return session


async def cancel_session(
    *, uow: UnitOfWork, actor: Actor, session_id: uuid.UUID, reason: str | None = None
) -> CtoSession:
    """Cancel one session: SEQUENCE + 1, members get a METHOD:CANCEL (with the reason, when
    one is given), its requests move to the next session and their referents are told."""
    session = await access.session_for(uow, actor, session_id)
    await require_territory_manager(uow, actor, session.territory_id)
    await uow.lock(f"cto_session:{session.id}")
    await uow.session.refresh(session)
    if session.status == SessionStatus.CANCELLED:
        return session
    series = await uow.session.get(CtoSeries, session.series_id)
    assert series is not None
    session.status = SessionStatus.CANCELLED
    session.sequence += 1
    session.change_reason = _reason(reason)
    await uow.session.flush()
    await cycle.carry_all(uow, series, session)
    await notices.session_changed(uow, series, session)
    return session


REASON_MAX = 500


def _reason(reason: str | None) -> str | None:
    """The reason as written, trimmed; at most REASON_MAX characters."""
    text = " ".join((reason or "").split())
    if len(text) > REASON_MAX:
        raise Invalid(f"at most {REASON_MAX} characters", field="reason")
    return text or None
