"""The retention purge empties the free texts of an erased person's situation requests and
leaves the request itself (its dates and status) to the committee's history."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from tests.support.cto import Cto

from rdv_spie.committees.models import CtoRequest
from rdv_spie.people.models import Person
from rdv_spie.privacy import retention


async def test_an_erased_persons_requests_lose_their_texts(cto: Cto) -> None:
    first = (await cto.sessions())[0]
    erased, kept = await cto.add_people(2)
    old = await cto.submit(first["id"], erased, urgent=True, urgent_reason="Expulsion prévue")
    assert old.status_code == 201, old.text
    recent = await cto.submit(first["id"], kept)
    assert recent.status_code == 201, recent.text
    # Its request changed after the cut-off (acknowledged in June 2027): that person stays.
    cto.clock.set(datetime(2027, 6, 1, 8, tzinfo=UTC))
    acknowledged = await cto.client.post(
        f"/api/v1/cto-requests/{recent.json()['id']}/acknowledge", headers=cto.animator
    )
    assert acknowledged.status_code == 200, acknowledged.text
    cto.clock.set(datetime(2029, 1, 1, 9, tzinfo=UTC))
    assert await retention.purge(cto.db, cto.clock, keep_days=730) == 1
    async with cto.db.unit_of_work(clock=cto.clock, write=False) as uow:
        gone = await uow.session.get(CtoRequest, uuid.UUID(old.json()["id"]))
        still = await uow.session.get(CtoRequest, uuid.UUID(recent.json()["id"]))
        person = await uow.session.get(Person, erased)
        assert gone is not None and still is not None and person is not None
        assert (gone.summary, gone.already_tried, gone.urgent_reason) == ("", "", "")
        assert gone.decision is None and gone.urgent and gone.status == old.json()["status"]
        assert still.summary == recent.json()["summary"] != ""
        assert person.purged_at is not None and person.first_name == ""
