"""A refused booking on the public pages: the slots again with a notice, the chosen day and
place kept, through the recovery the back office shares (web/refused.py): a slot taken
meanwhile is a 409 "taken", a slot no longer offered a 422 "gone"."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest
from litestar import Litestar
from tests.integration.web_public import browsing as b
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.scheduling.models import Absence
from rdv_spie.web import refused as recovery

CHOSEN_DAY = "2026-12-08"


@pytest.fixture
def refusals(monkeypatch: pytest.MonkeyPatch) -> list[recovery.Refused]:
    """Every refusal the shared recovery turned into a notice, in order."""
    seen: list[recovery.Refused] = []
    original = recovery.refused

    def counted(exc: Conflict | Invalid) -> recovery.Refused:
        seen.append(original(exc))
        return seen[-1]

    monkeypatch.setattr(recovery, "refused", counted)
    return seen


def _kept(page: str, fields: dict[str, str]) -> None:
    """The slots page on the chosen day, the chosen place only, the refused slot not offered."""
    assert "Mardi 8 décembre</h2>" in page
    assert f'<input type="hidden" name="lieu" value="{fields["lieu"]}">' in page
    fresh = b.slot_choices(page)
    assert fresh and all(start.startswith(CHOSEN_DAY) for start, _ in fresh)
    assert all(place == fields["lieu"] for _, place in fresh)
    chosen = datetime.fromisoformat(fields["debut"].replace("Z", "+00:00"))
    assert all(datetime.fromisoformat(s.replace("Z", "+00:00")) != chosen for s, _ in fresh)


async def _choose(client: httpx.AsyncClient, token: str, letters: str) -> dict[str, str]:
    """Pass the check, open the chosen day, take its first slot to the confirm step."""
    await b.verified(client, token, letters)
    day = await client.get(f"/rdv/creneaux?jour={CHOSEN_DAY}")
    confirm = await client.get(b.slot_links(day.text)[0])
    return b.hidden_fields(confirm.text)


async def test_a_slot_taken_meanwhile_is_a_409_on_the_chosen_day(
    db: Database, clock: FrozenClock, app: Litestar, refusals: list[recovery.Refused]
) -> None:
    s = await sc.build(db, clock, referents=1)
    cohort = await b.cohort(db, clock, s)
    slow = await b.invite(db, clock, app, s, cohort)
    quick = await b.invite(db, clock, app, s, cohort, last_name="Martin")
    async with b.browser(app) as one, b.browser(app) as two:
        fields = await _choose(one, slow.token, "dup")
        quicker = await _choose(two, quick.token, "mar")
        assert quicker == {**fields, "cle": quicker["cle"], "csrf_token": quicker["csrf_token"]}
        assert (await two.post("/rdv/creneaux/confirmer", data=quicker)).status_code == 303
        lost = await one.post("/rdv/creneaux/confirmer", data=fields)
    assert lost.status_code == 409
    assert "Ce créneau vient d'être réservé. Choisissez un autre horaire." in lost.text
    _kept(lost.text, fields)
    assert [(r.notice, r.status, r.code) for r in refusals] == [("taken", 409, "slot_taken")]
    assert not await b.appointments(db, clock, slow.journey_id)


async def test_a_slot_no_longer_offered_is_a_422_on_the_chosen_day(
    db: Database, clock: FrozenClock, app: Litestar, refusals: list[recovery.Refused]
) -> None:
    s = await sc.build(db, clock)
    invited = await b.invite(db, clock, app, s, await b.cohort(db, clock, s))
    async with b.browser(app) as client:
        fields = await _choose(client, invited.token, "dup")
        starts = datetime.fromisoformat(fields["debut"].replace("Z", "+00:00"))
        async with db.unit_of_work(clock=clock) as uow:  # every referent away for that slot
            for referent in s.referent_ids:
                uow.session.add(
                    Absence(
                        agent_id=referent, starts_at=starts, ends_at=starts + timedelta(minutes=1)
                    )
                )
        refused = await client.post("/rdv/creneaux/confirmer", data=fields)
    assert refused.status_code == 422
    assert "Ce créneau n'est plus disponible. Choisissez un autre horaire." in refused.text
    _kept(refused.text, fields)
    assert [(r.notice, r.status, r.code) for r in refusals] == [
        ("gone", 422, "outside_availability")
    ]
    assert not await b.appointments(db, clock, invited.journey_id)
