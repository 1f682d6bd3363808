"""A refused booking in the back office: the week's slots again with a notice, the person,
type, place and week kept, through the recovery the public pages share (web/refused.py): a
slot taken meanwhile is a 409, a slot no longer offered a 422."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta

import httpx
import pytest
from tests.integration.web_office.office_support import Office, body, login, office_journey

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.scheduling.models import Absence
from rdv_spie.web import refused as recovery

BOOK = "/agent/prise-de-rdv"
WEEK = "2026-12-14"  # not the week the page opens on
_SLOT = re.compile(r'href="(/agent/prise-de-rdv\?parcours=[^"]+&amp;debut=[^"]+)"')
_HIDDEN = re.compile(r'<input type="hidden" name="(\w+)" value="([^"]*)">')


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


async def _choose(
    client: httpx.AsyncClient, office: Office, db: Database, clock: FrozenClock
) -> dict[str, str]:
    """A person to book for, the first slot of the chosen week, to the confirm step."""
    journey = await office_journey(
        db, clock, office, last_name="Roussel", appointment_by_on=date(2026, 12, 20)
    )
    await login(client, office.email)
    week = await client.get(f"{BOOK}?parcours={journey}&semaine={WEEK}")
    confirm = await client.get(_SLOT.findall(week.text)[0].replace("&amp;", "&"))
    fields = dict(_HIDDEN.findall(confirm.text))
    assert fields["semaine"] == WEEK
    return fields


def _kept(page: str, fields: dict[str, str]) -> None:
    """The same person, type, place and week; the refused slot not offered."""
    assert f'<input type="hidden" name="parcours" value="{fields["parcours"]}">' in page
    assert f'<option value="{fields["motif"]}" selected>' in page
    assert f'<option value="{fields["lieu"]}" selected>' in page
    assert f'name="semaine" value="{WEEK}"' in page
    fresh = [link.replace("&amp;", "&") for link in _SLOT.findall(page)]
    assert fresh and all(f"&semaine={WEEK}&" in link for link in fresh)
    assert all(f"&lieu={fields['lieu']}&" in link for link in fresh)
    assert not [link for link in fresh if fields["debut"].replace("+", "%2B") in link]


async def test_a_slot_taken_meanwhile_is_a_409_in_the_same_week(
    client: httpx.AsyncClient,
    office: Office,
    db: Database,
    clock: FrozenClock,
    refusals: list[recovery.Refused],
) -> None:
    fields = await _choose(client, office, db, clock)
    for referent in office.s.referent_ids:  # every referent gets booked at that time
        taken = await client.post(
            "/api/v1/appointments/",
            json={
                "appointment_type_id": fields["motif"],
                "place_id": fields["lieu"],
                "starts_at": fields["debut"],
                "referent_id": str(referent),
                "person": {"first_name": "Autre", "last_name": "Personne"},
            },
            headers=office.s.auth(),
        )
        assert taken.status_code == 201, taken.text
    lost = await client.post(BOOK, data=fields)
    assert lost.status_code == 409
    assert "Ce créneau vient d'être réservé" in body(lost)
    _kept(lost.text, fields)
    assert [(r.notice, r.status, r.code) for r in refusals] == [("taken", 409, "slot_taken")]


async def test_a_slot_no_longer_offered_is_a_422_in_the_same_week(
    client: httpx.AsyncClient,
    office: Office,
    db: Database,
    clock: FrozenClock,
    refusals: list[recovery.Refused],
) -> None:
    fields = await _choose(client, office, db, clock)
    starts = datetime.fromisoformat(fields["debut"])
    async with db.unit_of_work(clock=clock) as uow:  # every referent away for that slot
        for referent in office.s.referent_ids:
            uow.session.add(
                Absence(agent_id=referent, starts_at=starts, ends_at=starts + timedelta(minutes=1))
            )
    refused = await client.post(BOOK, data=fields)
    assert refused.status_code == 422
    assert "Ce créneau n'est plus proposé" in body(refused)
    _kept(refused.text, fields)
    assert [(r.notice, r.status, r.code) for r in refusals] == [
        ("gone", 422, "outside_availability")
    ]
