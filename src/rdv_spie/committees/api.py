"""JSON API of the committees room: series, members, sessions, situation requests."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, TypeVar

import msgspec
from litestar import Controller, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.status_codes import HTTP_201_CREATED
from sqlalchemy import select

from rdv_spie.committees import access, requests, series, sessions
from rdv_spie.committees.models import CtoSeries, RequestStatus
from rdv_spie.committees.schemas import (
    AgendaItemOut,
    CancelIn,
    CharterIn,
    DecisionIn,
    MemberIn,
    MemberOut,
    MoveIn,
    RequestIn,
    RequestOut,
    RequestPatch,
    SeriesIn,
    SeriesOut,
    SeriesPatch,
    SessionOut,
)
from rdv_spie.deps import READS_PEOPLE, CurrentActor, Uow
from rdv_spie.errors import Invalid
from rdv_spie.schemas import sent

_T = TypeVar("_T")


def _out(obj: object, shape: type[_T]) -> _T:
    return msgspec.convert(obj, shape, from_attributes=True)


class SeriesController(Controller):
    path = "/cto-series"
    tags = ["committees"]

    @get("/")
    async def list_series(
        self,
        uow: Uow,
        actor: CurrentActor,
        territory_id: Annotated[uuid.UUID | None, QueryParameter(name="territory_id")] = None,
    ) -> list[SeriesOut]:
        """CTO series of your territories."""
        ids = actor.territory_ids if territory_id is None else actor.territory_ids & {territory_id}
        found = await uow.session.scalars(
            select(CtoSeries).where(CtoSeries.territory_id.in_(ids)).order_by(CtoSeries.name)
        )
        return [_out(s, SeriesOut) for s in found]

    @post("/", status_code=HTTP_201_CREATED)
    async def create_series(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[SeriesIn]
    ) -> SeriesOut:
        """Create a series (admin or animator of the territory); its sessions follow."""
        values = msgspec.structs.asdict(data)
        return _out(await series.create_series(uow=uow, actor=actor, values=values), SeriesOut)

    @get("/{series_id:uuid}")
    async def get_series(
        self, uow: Uow, actor: CurrentActor, series_id: FromPath[uuid.UUID]
    ) -> SeriesOut:
        """One series."""
        return _out(await access.series_for(uow, actor, series_id), SeriesOut)

    @patch("/{series_id:uuid}")
    async def update_series(
        self,
        uow: Uow,
        actor: CurrentActor,
        series_id: FromPath[uuid.UUID],
        data: JSONBody[SeriesPatch],
    ) -> SeriesOut:
        """Change a series (deadlines of sessions not yet frozen follow)."""
        values = sent(data)
        updated = await series.update_series(
            uow=uow, actor=actor, series_id=series_id, values=values
        )
        return _out(updated, SeriesOut)

    @get("/{series_id:uuid}/sessions")
    async def list_sessions(
        self,
        uow: Uow,
        actor: CurrentActor,
        series_id: FromPath[uuid.UUID],
        since: Annotated[datetime | None, QueryParameter(name="from")] = None,
    ) -> list[SessionOut]:
        """Sessions of a series not yet over (or from ``from``), in order."""
        found = await series.list_sessions(uow=uow, actor=actor, series_id=series_id, since=since)
        return [_out(s, SessionOut) for s in found]

    @get("/{series_id:uuid}/members")
    async def list_members(
        self, uow: Uow, actor: CurrentActor, series_id: FromPath[uuid.UUID]
    ) -> list[MemberOut]:
        """Members and when they accepted the charter."""
        found = await series.list_members(uow=uow, actor=actor, series_id=series_id)
        return [_out(m, MemberOut) for m in found]

    @post("/{series_id:uuid}/members", status_code=HTTP_201_CREATED)
    async def add_member(
        self,
        uow: Uow,
        actor: CurrentActor,
        series_id: FromPath[uuid.UUID],
        data: JSONBody[MemberIn],
    ) -> MemberOut:
        """Add an agent of the territory; agendas go only to members who accepted the charter."""
        member = await series.add_member(
            uow=uow,
            actor=actor,
            series_id=series_id,
            agent_id=data.agent_id,
            charter_accepted_on=data.charter_accepted_on,
        )
        return _out(member, MemberOut)

    @post("/{series_id:uuid}/members/{agent_id:uuid}/charter", status_code=200)
    async def accept_charter(
        self,
        uow: Uow,
        actor: CurrentActor,
        series_id: FromPath[uuid.UUID],
        agent_id: FromPath[uuid.UUID],
        data: JSONBody[CharterIn],
    ) -> MemberOut:
        """Record the date a member accepted the confidentiality charter."""
        member = await series.add_member(
            uow=uow,
            actor=actor,
            series_id=series_id,
            agent_id=agent_id,
            charter_accepted_on=data.accepted_on,
        )
        return _out(member, MemberOut)

    @delete("/{series_id:uuid}/members/{agent_id:uuid}")
    async def remove_member(
        self,
        uow: Uow,
        actor: CurrentActor,
        series_id: FromPath[uuid.UUID],
        agent_id: FromPath[uuid.UUID],
    ) -> None:
        """Take a member off the series."""
        await series.remove_member(uow=uow, actor=actor, series_id=series_id, agent_id=agent_id)


class SessionController(Controller):
    path = "/cto-sessions"
    tags = ["committees"]

    @get("/{session_id:uuid}")
    async def get_session(
        self, uow: Uow, actor: CurrentActor, session_id: FromPath[uuid.UUID]
    ) -> SessionOut:
        """One session."""
        return _out(await access.session_for(uow, actor, session_id), SessionOut)

    @post("/{session_id:uuid}/move", status_code=200)
    async def move_session(
        self,
        uow: Uow,
        actor: CurrentActor,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
    ) -> SessionOut:
        """Move a session (SEQUENCE + 1; members get the new time with an .ics)."""
        if data.starts_at.tzinfo is None:
            raise Invalid("starts_at needs an offset", field="starts_at")
        moved = await sessions.move_session(
            uow=uow,
            actor=actor,
            session_id=session_id,
            starts_at=data.starts_at,
            reason=data.reason,
        )
        return _out(moved, SessionOut)

    @post("/{session_id:uuid}/cancel", status_code=200)
    async def cancel_session(
        self,
        uow: Uow,
        actor: CurrentActor,
        session_id: FromPath[uuid.UUID],
        data: JSONBody[CancelIn | None] = None,
    ) -> SessionOut:
        """Cancel a session (METHOD:CANCEL to members; its requests go to the next one). The
        body is optional: ``{"reason": "…"}`` is told to the members."""
        cancelled = await sessions.cancel_session(
            uow=uow,
            actor=actor,
            session_id=session_id,
            reason=data.reason if data is not None else None,
        )
        return _out(cancelled, SessionOut)

    @get("/{session_id:uuid}/agenda", opt=READS_PEOPLE)
    async def agenda(
        self, uow: Uow, actor: CurrentActor, session_id: FromPath[uuid.UUID]
    ) -> list[AgendaItemOut]:
        """The agenda's full fiches, in order (members who accepted the charter, managers)."""
        found = await requests.agenda(uow=uow, actor=actor, session_id=session_id)
        return [
            AgendaItemOut(
                **msgspec.structs.asdict(_out(r, RequestOut)),
                person_first_name=person.first_name,
                person_last_name=person.last_name,
                structure=structure,
            )
            for r, person, structure in found
        ]


class RequestController(Controller):
    path = "/cto-requests"
    tags = ["committees"]

    @get("/", opt=READS_PEOPLE)
    async def list_requests(
        self,
        uow: Uow,
        actor: CurrentActor,
        session_id: Annotated[uuid.UUID | None, QueryParameter(name="session_id")] = None,
        status: Annotated[RequestStatus | None, QueryParameter(name="status")] = None,
    ) -> list[RequestOut]:
        """Requests of your structures (all of a territory's for its managers)."""
        found = await requests.list_requests(
            uow=uow, actor=actor, session_id=session_id, status=status
        )
        return [_out(r, RequestOut) for r in found]

    @get("/overdue", opt=READS_PEOPLE)
    async def overdue(
        self,
        uow: Uow,
        actor: CurrentActor,
        territory_id: Annotated[uuid.UUID, QueryParameter(name="territory_id")],
    ) -> list[RequestOut]:
        """Requests not acknowledged within 72 h (managers), oldest first."""
        found = await requests.overdue(uow=uow, actor=actor, territory_id=territory_id)
        return [_out(r, RequestOut) for r in found]

    @post("/", status_code=HTTP_201_CREATED)
    async def submit(self, uow: Uow, actor: CurrentActor, data: JSONBody[RequestIn]) -> RequestOut:
        """Submit a situation for a session, before its deadline (409 after it, naming the
        next session open to requests)."""
        values = msgspec.structs.asdict(data)
        return _out(await requests.submit(uow=uow, actor=actor, values=values), RequestOut)

    @get("/{request_id:uuid}", opt=READS_PEOPLE)
    async def get_request(
        self, uow: Uow, actor: CurrentActor, request_id: FromPath[uuid.UUID]
    ) -> RequestOut:
        """One request (its structure, or the territory's managers)."""
        return _out(await access.request_for(uow, actor, request_id), RequestOut)

    @patch("/{request_id:uuid}")
    async def edit(
        self,
        uow: Uow,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[RequestPatch],
    ) -> RequestOut:
        """Change a request before its session's deadline."""
        values = sent(data)
        if "thematics" in values:
            values["thematics"] = [str(t) for t in values["thematics"]]
        edited = await requests.edit(uow=uow, actor=actor, request_id=request_id, values=values)
        return _out(edited, RequestOut)

    @post("/{request_id:uuid}/withdraw", status_code=200)
    async def withdraw(
        self, uow: Uow, actor: CurrentActor, request_id: FromPath[uuid.UUID]
    ) -> RequestOut:
        """Withdraw a request before its session's deadline."""
        return _out(
            await requests.withdraw(uow=uow, actor=actor, request_id=request_id), RequestOut
        )

    @post("/{request_id:uuid}/acknowledge", status_code=200)
    async def acknowledge(
        self, uow: Uow, actor: CurrentActor, request_id: FromPath[uuid.UUID]
    ) -> RequestOut:
        """Acknowledge a request (managers); the referent is e-mailed."""
        done = await requests.acknowledge(uow=uow, actor=actor, request_id=request_id)
        return _out(done, RequestOut)

    @post("/{request_id:uuid}/decision", status_code=200)
    async def decide(
        self,
        uow: Uow,
        actor: CurrentActor,
        request_id: FromPath[uuid.UUID],
        data: JSONBody[DecisionIn],
    ) -> RequestOut:
        """Record the committee's decision after the session; the person is told the next
        steps on the channels they accepted."""
        decided = await requests.decide(
            uow=uow,
            actor=actor,
            request_id=request_id,
            decision=data.decision,
            next_steps=data.next_steps,
        )
        return _out(decided, RequestOut)
