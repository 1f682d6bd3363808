"""No personal data where it does not belong (issue 18 item 6), on both engines: a person with
canary names, phone and e-mail is invited and booked through the API, then requests that fail
(404, 422) are made with the canaries in them; no log record at any level, no redirect Location
and no error body carries a canary."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import httpx
import pytest
import structlog.testing
from litestar import Litestar
from tests.integration.web_office.office_support import Office
from tests.integration.web_public import browsing as b

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

LAST = "Canaryzygomorphe"
PHONE = "+33677665599"
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
CANARIES = (LAST, PHONE, "677665599")


def _clean(text: str) -> None:
    for canary in CANARIES:
        assert canary not in text


async def test_no_canary_in_logs_locations_or_error_bodies(
    client: httpx.AsyncClient,
    db: Database,
    clock: FrozenClock,
    app: Litestar,
    office: Office,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    s = office.s
    invited = await b.invite(db, clock, app, s, office.cohort_id, last_name=LAST, phone=PHONE)
    booked = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": WED_0900.isoformat(),
            "journey_id": str(invited.journey_id),
        },
    )
    assert booked.status_code == 201, booked.text
    # The export does carry them: the canaries are really held, so their absence below counts.
    exported = await client.get(f"/api/v1/people/{invited.person_id}/export", headers=s.auth())
    assert LAST in exported.text

    with structlog.testing.capture_logs() as events:
        missing = await client.get(f"/api/v1/people/{LAST}/export", headers=s.auth())
        assert missing.status_code in (400, 404, 422)
        _clean(missing.text)
        bad = await client.post(
            "/api/v1/appointments",
            headers=s.auth(),
            json={"journey_id": LAST, "starts_at": PHONE},
        )
        assert bad.status_code in (400, 422)
        _clean(bad.text)
        page = await client.get(f"/back-office/{LAST}?q={PHONE}")
        assert page.status_code in (302, 303, 401, 404)
        _clean(page.text)
        _clean(page.headers.get("location", ""))

    # The service's own loggers (not the test client's httpx lines, which echo our own URLs,
    # nor the database driver's statement echo).
    ours = [r for r in caplog.records if r.name.split(".")[0] in ("rdv_spie", "litestar", "arq")]
    for record in ours:
        _clean(record.getMessage())
        _clean(repr(record.__dict__))
    # structlog's events (the access line of each request, the errors): the failing requests
    # above were logged, with no canary.
    assert events, "nothing was logged: the test would prove nothing"
    _clean(repr(events))
