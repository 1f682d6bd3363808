"""Every booking step (the slots, the confirm page, the submission; to book and to move) passes
the same guard: a session past the identity check, booking only without an appointment,
moving only an appointment booked."""

from __future__ import annotations

import httpx
import pytest
from litestar import Litestar
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database

BOOK = "/rdv/creneaux"
MOVE = "/rdv/deplacer"


async def _steps(app: Litestar, client: httpx.AsyncClient, base: str) -> list[str | None]:
    """Where each step of ``base`` sends the browser (None: it answered a page)."""
    form = {"csrf_token": b.csrf_for(app, client), "debut": "", "lieu": "", "cle": "k" * 16}
    answers = [
        await client.get(base),
        await client.get(f"{base}/confirmer?debut=2026-12-07T08:00:00Z&lieu=x"),
        await client.post(f"{base}/confirmer", data=form),
    ]
    for r in answers:
        assert r.status_code in (200, 303, 422), r.text
    return [r.headers.get("location") for r in answers]


@pytest.fixture
async def invited(db: Database, clock: FrozenClock, app: Litestar) -> b.Invited:
    s = await sc.build(db, clock)
    return await b.invite(db, clock, app, s, await b.cohort(db, clock, s))


async def test_before_the_identity_check_every_step_goes_back_to_the_check(
    app: Litestar, client: httpx.AsyncClient, invited: b.Invited
) -> None:
    await b.open_link(client, invited.token)
    assert await _steps(app, client, BOOK) == ["/rdv"] * 3
    assert await _steps(app, client, MOVE) == ["/rdv"] * 3


async def test_without_an_appointment_no_step_moves_and_every_step_books(
    app: Litestar, client: httpx.AsyncClient, invited: b.Invited
) -> None:
    await b.verified(client, invited.token)
    assert await _steps(app, client, MOVE) == ["/rdv/confirmation"] * 3
    assert await _steps(app, client, BOOK) == [None] * 3  # the pages, no slot chosen: 422


async def test_with_an_appointment_no_step_books_and_every_step_moves(
    app: Litestar, client: httpx.AsyncClient, invited: b.Invited
) -> None:
    await b.verified(client, invited.token)
    # A week ahead: before the move cut-off.
    week = await client.get(f"{BOOK}?jour=2026-12-07")
    confirm = await client.get(b.slot_links(week.text)[0])
    done = await client.post(f"{BOOK}/confirmer", data=b.hidden_fields(confirm.text))
    assert done.headers["location"] == "/rdv/confirmation"
    assert await _steps(app, client, BOOK) == ["/rdv/confirmation"] * 3
    assert await _steps(app, client, MOVE) == [None] * 3
