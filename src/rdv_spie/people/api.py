"""JSON API of the people room: cohorts, intake (CSV upload and JSON batch), journeys (their
status, unlocking a person's identity check, closing with a reason)."""

from __future__ import annotations

import asyncio
import uuid
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from rdv_spie.deps import READS_PEOPLE, AppClock, CurrentActor, Db, Uow
from rdv_spie.people import closing, followup, intake, service
from rdv_spie.people.schemas import (
    CohortIn,
    CohortOut,
    CohortPatch,
    ImportOut,
    JourneyOut,
    PeopleBatchIn,
)
from rdv_spie.schemas import sent

MAX_CSV_BYTES = 64 * 1024 * 1024  # 100,000 rows of a département export fit well inside


class JourneyCloseIn(msgspec.Struct, kw_only=True):
    """Why the journey ends: emploi_formation (found work or training), demenagement (moved
    away), refus (refused), doublon (duplicate)."""

    reason: str


def _cohort(c: object) -> CohortOut:
    return msgspec.convert(c, CohortOut, from_attributes=True)


class CohortController(Controller):
    path = "/cohorts"
    tags = ["people"]

    @get("/")
    async def list_cohorts(self, uow: Uow, actor: CurrentActor) -> list[CohortOut]:
        """Cohorts of your territories."""
        return [_cohort(c) for c in await service.list_cohorts(uow=uow, actor=actor)]

    @post("/")
    async def create_cohort(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[CohortIn]
    ) -> CohortOut:
        """Create a cohort (admin or animator of the territory)."""
        values = msgspec.structs.asdict(data)
        return _cohort(await service.create_cohort(uow=uow, actor=actor, values=values))

    @get("/{cohort_id:uuid}")
    async def get_cohort(
        self, uow: Uow, actor: CurrentActor, cohort_id: FromPath[uuid.UUID]
    ) -> CohortOut:
        """One cohort."""
        return _cohort(await service.get_cohort(uow=uow, actor=actor, cohort_id=cohort_id))

    @patch("/{cohort_id:uuid}")
    async def update_cohort(
        self,
        uow: Uow,
        actor: CurrentActor,
        cohort_id: FromPath[uuid.UUID],
        data: JSONBody[CohortPatch],
    ) -> CohortOut:
        """Change a cohort's delay or invitation settings (open journeys keep theirs)."""
        values = sent(data)
        return _cohort(
            await service.update_cohort(uow=uow, actor=actor, cohort_id=cohort_id, values=values)
        )

    @post(
        "/{cohort_id:uuid}/imports",
        opt={"own_writes": True},
        request_max_body_size=MAX_CSV_BYTES,
        status_code=200,
    )
    async def import_csv(
        self,
        request: Request[Any, Any, Any],
        uow: Uow,
        actor: CurrentActor,
        database: Db,
        clock: AppClock,
        cohort_id: FromPath[uuid.UUID],
    ) -> ImportOut:
        """Import a CSV file (body: the file, UTF-8 or Windows-1252, ';' or ',') or a
        spreadsheet (.xlsx, .ods, .xls: its first sheet). Good rows go in, bad rows are listed
        with their line and column; importing twice changes nothing."""
        into = await intake.target(uow, cohort_id, actor)
        await uow.session.rollback()  # release the read snapshot before writing batches
        today = clock.now().astimezone(into.zone).date()
        rows = await asyncio.to_thread(
            intake.parse_all, await request.body(), region=into.region, today=today
        )
        report = await intake.import_rows(db=database, clock=clock, into=into, rows=rows)
        return ImportOut.of(report)

    @post("/{cohort_id:uuid}/people", opt={"own_writes": True}, status_code=200)
    async def import_batch(
        self,
        uow: Uow,
        actor: CurrentActor,
        database: Db,
        clock: AppClock,
        cohort_id: FromPath[uuid.UUID],
        data: JSONBody[PeopleBatchIn],
    ) -> ImportOut:
        """Push newly eligible people as JSON (other information systems); same rules and
        report as a CSV import, ``line`` being the position in ``people`` (1-based)."""
        into = await intake.target(uow, cohort_id, actor)
        await uow.session.rollback()
        today = clock.now().astimezone(into.zone).date()
        people = [msgspec.to_builtins(p) for p in data.people]
        rows = service.rows_from_json(people, region=into.region, today=today)
        report = await intake.import_rows(db=database, clock=clock, into=into, rows=rows)
        return ImportOut.of(report)

    @get("/{cohort_id:uuid}/journeys", opt=READS_PEOPLE)
    async def list_journeys(
        self,
        uow: Uow,
        actor: CurrentActor,
        cohort_id: FromPath[uuid.UUID],
        status: Annotated[str | None, QueryParameter(name="status")] = None,
    ) -> list[JourneyOut]:
        """Journeys of a cohort with their status (derived from facts), deadline first;
        ``identity_locked``: too many wrong answers locked the person's link (see unlock)."""
        pairs = await service.list_journeys(
            uow=uow, actor=actor, cohort_id=cohort_id, status=status
        )
        return [
            JourneyOut(
                id=j.id,
                person_id=j.person_id,
                cohort_id=j.cohort_id,
                referent_id=j.referent_id,
                entered_on=j.entered_on,
                invite_by_on=j.invite_by_on,
                appointment_by_on=j.appointment_by_on,
                status=str(s),
                identity_locked=j.identity_locked_at is not None,
            )
            for j, s in pairs
        ]


class JourneyController(Controller):
    path = "/journeys"
    tags = ["people"]

    @post("/{journey_id:uuid}/unlock", status_code=204)
    async def unlock(self, uow: Uow, actor: CurrentActor, journey_id: FromPath[uuid.UUID]) -> None:
        """Let the person answer the identity check of their link again after too many wrong
        answers (a journey you follow; any other is not found)."""
        await followup.unlock(uow, actor, journey_id)

    @post("/{journey_id:uuid}/close", status_code=200)
    async def close(
        self,
        uow: Uow,
        actor: CurrentActor,
        journey_id: FromPath[uuid.UUID],
        data: JSONBody[JourneyCloseIn],
    ) -> JourneyOut:
        """Close a journey with a reason (the territory team: its admins and animators): it
        leaves the lists, its queued invitations and reminders are cancelled, its link no
        longer opens. Closing a closed journey is a 409 already_closed."""
        j = await closing.close_journey(uow, actor, journey_id, data.reason)
        return JourneyOut(
            id=j.id,
            person_id=j.person_id,
            cohort_id=j.cohort_id,
            referent_id=j.referent_id,
            entered_on=j.entered_on,
            invite_by_on=j.invite_by_on,
            appointment_by_on=j.appointment_by_on,
            status="closed",
            identity_locked=j.identity_locked_at is not None,
        )
