"""JSON API of the audit room: who was shown a person's file."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromPath, QueryParameter

from rdv_spie.audit import service
from rdv_spie.audit.schemas import FileReadOut
from rdv_spie.deps import CurrentActor, Uow

Before = Annotated[
    datetime | None,
    QueryParameter(name="before", description="only lines before this instant (paging)"),
]


class AuditController(Controller):
    path = "/people"
    tags = ["audit"]

    @get("/{person_id:uuid}/reads")
    async def reads(
        self, uow: Uow, actor: CurrentActor, person_id: FromPath[uuid.UUID], before: Before = None
    ) -> list[FileReadOut]:
        """Who was shown this person's file, newest first, 1,000 lines at most (pass the last
        line's ``at`` as ``before`` for the next ones): for the admins and animators of the
        person's territory. Lines are kept ``RDV_AUDIT_RETENTION_DAYS`` days."""
        return [
            FileReadOut(at=e.at, agent_id=e.agent_id, agent_name=e.agent_name, what=e.what)
            for e in await service.reads_of(uow, actor, person_id, before=before)
        ]
