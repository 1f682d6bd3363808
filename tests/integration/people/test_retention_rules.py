"""What keeps a person from the retention purge, clause by clause; activity written after a
batch was chosen; what the purge does around an erased person (fields, waiting messages,
browser sessions, message files) and what it leaves to the others."""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from tests.integration.web_office.office_support import add_cohort
from tests.support import scenario as sc

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications import outbox
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Journey, Person
from rdv_spie.privacy import retention
from rdv_spie.scheduling.models import Appointment
from rdv_spie.web.models import SessionKind, WebSession

KEEP = 730
LATER = datetime(2029, 1, 1, 9, 0, tzinfo=UTC)  # cut-off: 2027-01-01 09:00 UTC
AFTER_CUTOFF = datetime(2027, 6, 1, 8, 0, tzinfo=UTC)


@dataclass
class Someone:
    person: uuid.UUID
    journey: uuid.UUID


async def _someone(
    db: Database, clock: FrozenClock, s: sc.Scenario, cohort: uuid.UUID, n: int
) -> Someone:
    """A person with every field filled and a journey of November 2026 (due 1 December)."""
    async with db.unit_of_work(clock=clock) as uow:
        person = Person(
            territory_id=s.territory_id,
            first_name="Camille",
            last_name=f"Nom{n}",
            birth_on=date(1990, 5, 17),
            phone=f"+3361234560{n}",
            email=f"nom{n}@exemple.fr",
            caf_number=f"CAF{n}",
            france_travail_id=f"FT{n}",
            departement_id=f"D{n}",
            postcode="02000",
            sms_consent=True,
            email_consent=True,
        )
        uow.session.add(person)
        await uow.session.flush()
        journey = Journey(
            territory_id=s.territory_id,
            person_id=person.id,
            cohort_id=cohort,
            entered_on=date(2026, 11, 1),
            invite_by_on=date(2026, 11, 4),
            appointment_by_on=date(2026, 12, 1),
        )
        uow.session.add(journey)
        await uow.session.flush()
        return Someone(person.id, journey.id)


async def _activity(db: Database, s: sc.Scenario, who: Someone, kind: str) -> None:
    """One kind of activity after the cut-off (written with a clock of June 2027)."""
    async with db.unit_of_work(clock=FrozenClock(AFTER_CUTOFF)) as uow:
        journey = await uow.session.get(Journey, who.journey)
        person = await uow.session.get(Person, who.person)
        assert journey is not None and person is not None
        if kind == "row":
            person.postcode = "02100"
        elif kind == "due":  # a later deadline, written without stamping the row
            await uow.session.execute(
                update(Journey)
                .where(Journey.id == journey.id)
                .values(appointment_by_on=date(2027, 2, 1))
            )
        elif kind == "journey_changed":
            journey.deadline_alerted_at = AFTER_CUTOFF
        elif kind == "entered":
            uow.session.add(
                Journey(
                    territory_id=s.territory_id,
                    person_id=person.id,
                    cohort_id=journey.cohort_id,
                    entered_on=date(2028, 12, 1),
                    invite_by_on=date(2028, 12, 4),
                    appointment_by_on=date(2028, 12, 31),
                )
            )
        elif kind == "appointment":
            uow.session.add(
                Appointment(
                    territory_id=s.territory_id,
                    acting_organisation_id=s.organisation_id,
                    appointment_type_id=s.single_type_id,
                    place_id=s.place_ids[0],
                    person_id=person.id,
                    journey_id=journey.id,
                    starts_at=AFTER_CUTOFF,
                    ends_at=AFTER_CUTOFF + timedelta(minutes=45),
                    busy_until=AFTER_CUTOFF + timedelta(minutes=45),
                    status="seen",
                )
            )


@pytest.mark.parametrize("kind", ["row", "due", "journey_changed", "entered", "appointment"])
async def test_each_kind_of_activity_keeps_the_person(
    db: Database, clock: FrozenClock, kind: str
) -> None:
    s = await sc.build(db, clock, slug="laon")
    cohort = await add_cohort(db, clock, s)
    quiet = await _someone(db, clock, s, cohort, 1)
    active = await _someone(db, clock, s, cohort, 2)
    await _activity(db, s, active, kind)
    clock.set(LATER)
    assert await retention.purge(db, clock, keep_days=KEEP) == 1
    async with db.unit_of_work(clock=clock, write=False) as uow:
        erased = await uow.session.get(Person, quiet.person)
        kept = await uow.session.get(Person, active.person)
    assert erased is not None and kept is not None
    assert kept.purged_at is None and kept.caf_number == "CAF2" and kept.last_name == "Nom2"
    assert erased.purged_at == LATER
    assert (erased.first_name, erased.last_name, erased.birth_on) == ("", "", None)
    assert (erased.phone, erased.email, erased.postcode) == (None, None, None)
    assert (erased.caf_number, erased.france_travail_id, erased.departement_id) == (None,) * 3
    assert not (erased.sms_consent or erased.email_consent or erased.prefers_call)


async def test_activity_written_after_the_batch_was_chosen_keeps_the_person(
    db: Database, clock: FrozenClock
) -> None:
    s = await sc.build(db, clock, slug="laon")
    cohort = await add_cohort(db, clock, s)
    who = await _someone(db, clock, s, cohort, 1)
    clock.set(LATER)
    cutoff = LATER - timedelta(days=KEEP)
    async with db.unit_of_work(clock=clock) as uow:
        chosen = await retention.candidates(uow, s.territory_id, cutoff)
        assert chosen == [who.person]
        # An import of this very moment opens a new journey for them.
        uow.session.add(
            Journey(
                territory_id=s.territory_id,
                person_id=who.person,
                cohort_id=cohort,
                entered_on=LATER.date(),
                invite_by_on=LATER.date() + timedelta(days=3),
                appointment_by_on=LATER.date() + timedelta(days=30),
            )
        )
        await uow.session.flush()
        assert await retention.erase(uow, chosen, cutoff) == []
    async with db.unit_of_work(clock=clock, write=False) as uow:
        person = await uow.session.get(Person, who.person)
        assert person is not None and person.purged_at is None and person.last_name == "Nom1"


async def test_around_an_erased_person(
    client: httpx.AsyncClient, db: Database, clock: FrozenClock, tmp_path: Path
) -> None:
    s = await sc.build(db, clock, slug="laon")
    cohort = await add_cohort(db, clock, s)
    gone = await _someone(db, clock, s, cohort, 1)
    kept = await _someone(db, clock, s, cohort, 2)
    await _activity(db, s, kept, "appointment")
    clock.set(LATER)
    async with db.unit_of_work(clock=clock) as uow:
        for who in (gone, kept):
            await outbox.add(
                uow,
                territory_id=s.territory_id,
                name="appointment_reminder",
                channel="sms",
                key=f"test:{who.person}",
                not_before=LATER + timedelta(days=1),
                person_id=who.person,
                journey_id=who.journey,
            )
            uow.session.add(
                WebSession(
                    token_hash=who.person.hex * 2,
                    kind=SessionKind.PERSON,
                    journey_id=who.journey,
                    last_seen_at=LATER,
                    expires_at=LATER + timedelta(hours=2),
                )
            )
    # Without a relay the messages are files: those older than the cut-off go.
    old_file, new_file = tmp_path / "old.eml", tmp_path / "new.eml"
    for file, at in ((old_file, datetime(2026, 12, 1, tzinfo=UTC)), (new_file, LATER)):
        file.write_text("Bonjour Camille Nom1")
        os.utime(file, (at.timestamp(), at.timestamp()))
    assert await retention.purge(db, clock, keep_days=KEEP, outbox_dir=tmp_path) == 1
    assert not old_file.exists() and new_file.exists()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        messages = {
            n.person_id: (n.status, n.error_code)
            for n in await uow.session.scalars(select(Notification))
        }
        sessions = set(await uow.session.scalars(select(WebSession.journey_id)))
    assert messages == {gone.person: ("cancelled", "person_erased"), kept.person: ("pending", None)}
    assert sessions == {kept.journey}
    # An erased person is the same 404 as an unknown one for a booking.
    booked = await client.post(
        "/api/v1/appointments",
        headers=s.auth(),
        json={
            "appointment_type_id": str(s.single_type_id),
            "place_id": str(s.place_ids[0]),
            "starts_at": "2029-01-03T08:00:00Z",
            "person_id": str(gone.person),
        },
    )
    assert booked.status_code == 404 and booked.json()["field"] == "person_id"
