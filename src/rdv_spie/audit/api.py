"""JSON API of the audit room: who was shown a person's file."""

from __future__ import annotations

import uuid

from litestar import Controller, get
from litestar.params import FromPath

from rdv_spie.audit import service
from rdv_spie.audit.schemas import FileReadOut
from rdv_spie.deps import CurrentActor, Uow


class AuditController(Controller):
    path = "/people"
    tags = ["audit"]

    @get("/{person_id:uuid}/reads")
    async def reads(
        self, uow: Uow, actor: CurrentActor, person_id: FromPath[uuid.UUID]
    ) -> list[FileReadOut]:
        """Who was shown this person's file, newest first (at most 1,000 lines; admins and
        animators of a territory where the person has a journey). Rows are kept
        ``RDV_AUDIT_RETENTION_DAYS`` days."""
        return [
            FileReadOut(at=e.at, agent_id=e.agent_id, agent_name=e.agent_name, what=e.what)
            for e in await service.reads_of(uow, actor, person_id)
        ]
