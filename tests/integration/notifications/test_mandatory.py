"""A mandatory appointment type (set through the API) makes the invitation say the person is
required to come; an ordinary one does not."""

from __future__ import annotations

from datetime import date

import httpx
import pytest
from tests.integration.web_office.office_support import add_journey
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc
from tests.support.smtp_server import SmtpServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner

pytestmark = pytest.mark.slow


@pytest.mark.parametrize("mandatory", [True, False])
async def test_the_invitation_says_a_mandatory_appointment_is_mandatory(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    jobs: JobContext,
    smtp: SmtpServer,
    mandatory: bool,
) -> None:
    s = await sc.build(db, clock)
    changed = await client.patch(
        f"/api/v1/appointment-types/{s.single_type_id}",
        headers=s.auth(),
        json={"mandatory": mandatory},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["mandatory"] is mandatory
    listed = await client.get("/api/v1/appointment-types", headers=s.auth())
    assert {t["id"]: t["mandatory"] for t in listed.json()}[str(s.single_type_id)] is mandatory
    cohort = await b.cohort(db, clock, s)
    await add_journey(
        db,
        clock,
        territory_id=s.territory_id,
        cohort_id=cohort,
        last_name="Oblige",
        appointment_by_on=date(2026, 12, 28),
    )
    await InProcessRunner(jobs, sweep_seconds=60).run_once()
    [mail] = [m.message for m in smtp.messages]
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    assert ("Ce rendez-vous est obligatoire." in text) is mandatory
    assert ("<strong>Ce rendez-vous est obligatoire.</strong>" in html) is mandatory
