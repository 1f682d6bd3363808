"""JSON API of the privacy room: a person's data on request (export, erasure), for the admins
of the person's territory."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, post
from litestar.params import FromPath, JSONBody

from rdv_spie.deps import READS_PEOPLE, CurrentActor, Uow
from rdv_spie.privacy import erasure, record


class ErasureIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Why (the person's request and its date…), kept in the trail: no other person's data.
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=erasure.REASON_MAX)]


class ErasureOut(msgspec.Struct, kw_only=True):
    person_id: uuid.UUID
    at: datetime
    agent_id: uuid.UUID
    reason: str


class PrivacyController(Controller):
    path = "/people"
    tags = ["privacy"]

    @get("/{person_id:uuid}/export", opt=READS_PEOPLE)
    async def export(
        self, uow: Uow, actor: CurrentActor, person_id: FromPath[uuid.UUID]
    ) -> dict[str, Any]:
        """Everything held about the person (identity, contact, consents, journeys,
        appointments, messages, committee requests, who read their file, an erasure): for the
        admins of the person's territory; the export is written to the read trail."""
        person = await record.person_for_admin(uow, actor, person_id)
        return await record.person_record(uow, actor, person)

    @post("/{person_id:uuid}/erase", status_code=200)
    async def erase(
        self,
        uow: Uow,
        actor: CurrentActor,
        person_id: FromPath[uuid.UUID],
        data: JSONBody[ErasureIn],
    ) -> ErasureOut:
        """Erase the person's data on request, as the retention purge does (their coming
        appointments are revoked first); who, when and why are kept. 409 when already erased."""
        line = await erasure.erase_on_request(uow, actor, person_id, data.reason)
        return ErasureOut(
            person_id=line.person_id, at=line.at, agent_id=line.agent_id, reason=line.reason
        )
