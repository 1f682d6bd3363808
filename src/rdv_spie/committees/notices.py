"""The messages of the committee cycle, written to the outbox in the caller's transaction.

Rows carry ids and numbers only; ``messages.py`` reads the rest when the message is composed.
Partners (members) only ever get messages about sessions, never about a person.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select

from rdv_spie.audit import service as audit
from rdv_spie.committees.messages import (
    ACKNOWLEDGED,
    AGENDA,
    CARRIED_OVER,
    DECISION,
    SESSION_CANCELLED,
    SESSION_MOVED,
)
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSeries, CtoSession, SessionStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.notifications import outbox
from rdv_spie.people.models import Person


async def sworn_members(uow: UnitOfWork, series: CtoSeries) -> list[CtoMember]:
    """Members who accepted the confidentiality charter (any version: these messages name no
    person; reading fiches needs the current one, access.is_sworn_member), in a stable order."""
    return list(
        await uow.session.scalars(
            select(CtoMember)
            .where(CtoMember.series_id == series.id, CtoMember.charter_accepted_on.is_not(None))
            .order_by(CtoMember.agent_id)
        )
    )


async def session_changed(uow: UnitOfWork, series: CtoSeries, session: CtoSession) -> None:
    """Each sworn member: the new time (METHOD:REQUEST) or the cancellation (METHOD:CANCEL)."""
    name = SESSION_CANCELLED if session.status == SessionStatus.CANCELLED else SESSION_MOVED
    for member in await sworn_members(uow, series):
        await outbox.add(
            uow,
            territory_id=session.territory_id,
            name=name,
            channel="email",
            key=f"{name}:{session.id}:{member.agent_id}:{session.sequence}",
            not_before=uow.clock.now(),
            agent_id=member.agent_id,
            params={"session_id": str(session.id), "sequence": session.sequence},
        )


async def agenda(uow: UnitOfWork, series: CtoSeries, session: CtoSession) -> int:
    """Each sworn member: the frozen agenda with an .ics; one per session, member and
    SEQUENCE. Returns how many were written."""
    written = 0
    for member in await sworn_members(uow, series):
        new = await outbox.add(
            uow,
            territory_id=session.territory_id,
            name=AGENDA,
            channel="email",
            key=f"{AGENDA}:{session.id}:{member.agent_id}:{session.sequence}",
            not_before=uow.clock.now(),
            agent_id=member.agent_id,
            params={"session_id": str(session.id), "sequence": session.sequence},
        )
        written += new is not None
    return written


async def acknowledged(uow: UnitOfWork, request: CtoRequest) -> None:
    """The referent: the SPIE team has the request."""
    new = await outbox.add(
        uow,
        territory_id=request.territory_id,
        name=ACKNOWLEDGED,
        channel="email",
        key=f"{ACKNOWLEDGED}:{request.id}",
        not_before=uow.clock.now(),
        agent_id=request.referent_id,
        params={"request_id": str(request.id)},
    )
    await _names(uow, new, request)


async def carried_over(
    uow: UnitOfWork, request: CtoRequest, from_session: CtoSession, to_session: CtoSession | None
) -> None:
    """The referent: the request moves to a later session (or waits for one)."""
    new = await outbox.add(
        uow,
        territory_id=request.territory_id,
        name=CARRIED_OVER,
        channel="email",
        key=f"{CARRIED_OVER}:{request.id}:{from_session.id}",
        not_before=uow.clock.now(),
        agent_id=request.referent_id,
        params={
            "request_id": str(request.id),
            "from_session_id": str(from_session.id),
            "to_session_id": str(to_session.id) if to_session else None,
            "reason": "cancelled" if from_session.status == SessionStatus.CANCELLED else "full",
        },
    )
    await _names(uow, new, request)


async def _names(uow: UnitOfWork, new: uuid.UUID | None, request: CtoRequest) -> None:
    """The referent's e-mail names the person: a line in the audit trail when it is new."""
    if new is not None:
        await audit.record(uow, request.referent_id, [request.person_id], audit.Read.EMAIL)


async def decision(uow: UnitOfWork, request: CtoRequest) -> int:
    """The person, on each channel they accepted: their situation was studied, what comes
    next (generic words: no thematic, no summary). Returns how many were written."""
    person = await uow.session.get(Person, request.person_id)
    if person is None:
        return 0
    channels = [
        c
        for c, ok in (
            ("sms", person.sms_consent and person.phone),
            ("email", person.email_consent and person.email),
        )
        if ok
    ]
    for channel in channels:
        await outbox.add(
            uow,
            territory_id=request.territory_id,
            name=DECISION,
            channel=channel,
            key=f"{DECISION}:{request.id}:{channel}",
            not_before=uow.clock.now(),
            person_id=person.id,
            journey_id=request.journey_id,
            params={"request_id": str(request.id)},
        )
    return len(channels)
