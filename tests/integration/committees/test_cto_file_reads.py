"""Reading situation requests and a frozen agenda writes the audit trail."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from tests.support.cto import Cto

from rdv_spie.audit.models import FileRead


async def _lines(cto: Cto) -> list[tuple[uuid.UUID, uuid.UUID, str]]:
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        rows = await uow.session.execute(
            select(FileRead.agent_id, FileRead.person_id, FileRead.what).order_by(
                FileRead.what, FileRead.agent_id
            )
        )
        return [(a, p, w) for a, p, w in rows]


async def test_reading_requests_is_in_the_trail(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    person, untouched = await cto.add_people(2)
    submitted = await cto.submit(first["id"], person)
    assert submitted.status_code == 201, submitted.text
    assert await _lines(cto) == []  # the referent wrote it: submitting is not reading
    request_id = submitted.json()["id"]
    me = cto.s.referent_ids[0]
    one = await cto.client.get(f"/api/v1/cto-requests/{request_id}", headers=cto.auth(me))
    assert one.status_code == 200
    listed = await cto.client.get("/api/v1/cto-requests", headers=cto.animator)
    assert [r["id"] for r in listed.json()] == [request_id]
    # A partner who is not a manager gets the same 404 as for an unknown request: no line.
    partner = cto.auth(cto.partner_ids[2])
    assert (
        await cto.client.get(f"/api/v1/cto-requests/{request_id}", headers=partner)
    ).status_code == 404
    assert await _lines(cto) == [
        (me, person, "cto_request"),
        (cto.s.animator_id, person, "cto_requests"),
    ]
    assert untouched not in {p for _, p, _ in await _lines(cto)}
