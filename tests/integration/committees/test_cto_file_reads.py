"""Reading situation requests, changing one (its fiche comes back) and the referent's
follow-up e-mail write the audit trail; a refused read does not."""

from __future__ import annotations

import uuid
from collections import Counter
from datetime import timedelta

from sqlalchemy import select
from tests.support.cto import Cto

from rdv_spie.audit.models import FileRead

Line = tuple[uuid.UUID, uuid.UUID, str]


async def _lines(cto: Cto) -> Counter[Line]:
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        rows = await uow.session.execute(
            select(FileRead.agent_id, FileRead.person_id, FileRead.what)
        )
        return Counter((a, p, w) for a, p, w in rows)


async def test_reading_requests_is_in_the_trail(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    person, _ = await cto.add_people(2)
    submitted = await cto.submit(first["id"], person)
    assert submitted.status_code == 201, submitted.text
    assert await _lines(cto) == Counter()  # the referent wrote it: submitting is not reading
    request_id = submitted.json()["id"]
    me, animator = cto.s.referent_ids[0], cto.s.animator_id

    async def step(method: str, path: str, headers: dict[str, str], status: int) -> Counter[Line]:
        before = await _lines(cto)
        r = await cto.client.request(method, f"/api/v1/{path}", headers=headers)
        assert r.status_code == status, r.text
        return await _lines(cto) - before

    one = await step("GET", f"cto-requests/{request_id}", cto.auth(me), 200)
    assert one == Counter({(me, person, "cto_request"): 1})
    listed = await step("GET", "cto-requests", cto.animator, 200)
    assert listed == Counter({(animator, person, "cto_requests"): 1})
    # A partner who does not run the territory: the same 404 as an unknown request, no line.
    assert await step("GET", f"cto-requests/{request_id}", cto.auth(cto.partner_ids[2]), 404) == (
        Counter()
    )
    cto.clock.advance(timedelta(hours=73))
    overdue = await step(
        "GET", f"cto-requests/overdue?territory_id={cto.s.territory_id}", cto.animator, 200
    )
    assert overdue == Counter({(animator, person, "cto_requests"): 1})
    # Acknowledging returns the fiche to the animator and e-mails the referent by name.
    acknowledged = await step("POST", f"cto-requests/{request_id}/acknowledge", cto.animator, 200)
    assert acknowledged == Counter({(animator, person, "cto_request"): 1, (me, person, "email"): 1})
    # Twice is once for the e-mail; the fiche is shown again.
    again = await step("POST", f"cto-requests/{request_id}/acknowledge", cto.animator, 200)
    assert again == Counter({(animator, person, "cto_request"): 1})
