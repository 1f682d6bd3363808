"""The pure parts of the public pages: the identity answer, places by postcode, the soonest
slots and the day view, the cancel and move cut-offs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rdv_spie.invitations import cutoffs, days, identity, places
from rdv_spie.scheduling.models import Appointment, AppointmentStatus, AppointmentType
from rdv_spie.scheduling.slots import Slot
from rdv_spie.territories.models import Place, PlaceKind
from rdv_spie.web.pages import query_uuid

PARIS = ZoneInfo("Europe/Paris")


@pytest.mark.parametrize(
    ("answer", "last_name", "ok"),
    [
        ("DUP", "Dupré", True),
        ("dup", "DUPRÉ", True),
        (" d u p ", "Dupré", True),
        ("dupré", "Dupré", True),  # the whole name is fine
        ("dupre", "Dupré", True),
        ("éli", "Eliot", True),
        ("leg", "Le Gall", True),
        ("dar", "D'Arcy", True),
        ("oeu", "Œuvrard", True),
        ("le", "Lé", True),  # shorter than three letters: the whole name
        ("l", "Lé", False),
        ("du", "Dupré", False),  # too short
        ("dur", "Dupré", False),
        ("dupont", "Dupré", False),  # more letters, but not the name's
        ("", "Dupré", False),
        ("---", "Dupré", False),
        ("abc", "", False),  # a person without a last name never passes
        ("yil", "Yıldız", True),  # the dotless i is typed as i
        ("YIL", "YILDIZ", True),
        ("SMI", "℠ith", True),  # compatibility forms fold to upper case before casefold
    ],
)
def test_matches(answer: str, last_name: str, ok: bool) -> None:
    assert identity.matches(answer, last_name) is ok


@given(st.text(min_size=1, max_size=30))
@example("℠")  # NFKD gives upper-case letters: found by CI
@example("ı")
def test_the_expected_answer_always_matches(last_name: str) -> None:
    want = identity.expected(last_name)
    assert identity.matches(want, last_name) is bool(want)
    assert identity.matches(want.upper(), last_name) is bool(want)


def _place(name: str, postcode: str | None, kind: PlaceKind = PlaceKind.ADDRESS) -> Place:
    return Place(id=uuid.uuid4(), name=name, postcode=postcode, kind=kind)


def test_places_by_postcode_then_departement() -> None:
    rows = [
        _place("Amiens", "80000"),
        _place("Visio", None, PlaceKind.VIDEO),
        _place("Chauny", "02300"),
        _place("Laon", "02000"),
        _place("Ajaccio", "20000"),
    ]
    assert [p.name for p in places.nearest_first(rows, "02000")] == [
        "Laon",
        "Chauny",
        "Ajaccio",
        "Amiens",
        "Visio",
    ]
    assert [p.name for p in places.nearest_first(rows, None)] == [
        "Ajaccio",
        "Amiens",
        "Chauny",
        "Laon",
        "Visio",
    ]


def test_overseas_departements_have_three_digits() -> None:
    assert places.departement("97300") == "973"
    assert places.departement("97400") == "974"
    assert places.departement("02 000") == "02"
    assert places.departement("2A004") is None
    rows = [_place("Saint-Denis", "97400"), _place("Cayenne", "97300")]
    assert [p.name for p in places.nearest_first(rows, "97310")] == ["Cayenne", "Saint-Denis"]


def _slot(at: datetime) -> Slot:
    return Slot(at, at + timedelta(minutes=45), uuid.uuid4(), (uuid.uuid4(),), ())


def test_day_view() -> None:
    today = date(2026, 12, 1)
    slots = [
        _slot(datetime(2026, 12, 2, 8, tzinfo=UTC)),
        _slot(datetime(2026, 12, 2, 9, tzinfo=UTC)),
        _slot(datetime(2026, 12, 16, 8, tzinfo=UTC)),
    ]
    last = date(2026, 12, 18)
    wednesday = days.day_view(slots, PARIS, today=today, last_day=last, asked=date(2026, 12, 2))
    assert wednesday.day == date(2026, 12, 2) and wednesday.slots == slots[:2]
    assert wednesday.previous is None and wednesday.following == date(2026, 12, 16)
    assert wednesday.next_available is None
    empty = days.day_view(slots, PARIS, today=today, last_day=last, asked=date(2026, 12, 10))
    assert not empty.slots and empty.next_available == slots[2]
    assert empty.previous == date(2026, 12, 2) and empty.following == date(2026, 12, 16)
    clamped = days.day_view(slots, PARIS, today=today, last_day=last, asked=date(2027, 1, 4))
    assert clamped.day == last and clamped.following is None and clamped.next_available is None
    early = days.day_view(slots, PARIS, today=today, last_day=last, asked=date(2026, 1, 4))
    assert early.day == today
    assert days.days_with_slots(slots, PARIS) == [date(2026, 12, 2), date(2026, 12, 16)]


def test_soonest_spans_days_and_places() -> None:
    near, far = uuid.uuid4(), uuid.uuid4()

    def at(place: uuid.UUID, day: int, hour: int) -> Slot:
        start = datetime(2026, 12, day, hour, tzinfo=UTC)
        return Slot(start, start + timedelta(minutes=45), place, (uuid.uuid4(),), ())

    slots = [at(far, 1, 8), at(far, 1, 9), at(near, 2, 8), at(near, 2, 9), at(near, 3, 8)]
    slots += [at(far, 4, 8), at(near, 7, 8)]
    rank = {near: 0, far: 1}
    picked = days.soonest(slots, PARIS, rank, limit=4)
    # In turn, nearest first; a place's first slot of each day before a second one that day.
    assert [(s.place_id, s.starts_at.day, s.starts_at.hour) for s in picked] == [
        (near, 2, 8),
        (near, 3, 8),
        (far, 1, 8),
        (far, 4, 8),
    ]
    # All on one day: the following slots of that day fill in.
    one_day = [at(near, 2, 8), at(near, 2, 9), at(near, 2, 10)]
    assert days.soonest(one_day, PARIS, rank) == one_day
    assert days.soonest([], PARIS, rank) == []


def test_local_day_of_a_late_slot() -> None:
    # 23:30 UTC on Sunday is Monday in Paris: the slot belongs to Monday.
    late = _slot(datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    view = days.day_view(
        [late], PARIS, today=date(2026, 12, 1), last_day=date(2026, 12, 18), asked=date(2026, 12, 7)
    )
    assert view.slots == [late] and days.days_with_slots([late], PARIS) == [date(2026, 12, 7)]


def test_instants_in_links() -> None:
    at = datetime(2026, 12, 2, 8, 15, tzinfo=UTC)
    assert days.format_instant(at) == "2026-12-02T08:15Z"
    assert days.parse_instant("2026-12-02T08:15Z") == at
    assert days.parse_instant("2026-12-02 08:15") is None
    assert days.parse_instant(None) is None
    assert query_uuid("nope") is None and days.parse_day("2026-13-01") is None


@pytest.mark.parametrize(
    ("before", "online", "cancel", "move"),
    [
        (timedelta(hours=49), True, True, True),
        (timedelta(hours=47), True, True, False),
        (timedelta(hours=4, minutes=1), True, True, False),
        (timedelta(hours=4), True, False, False),  # the cut-off instant itself is too late
        (timedelta(hours=49), False, False, True),
    ],
)
def test_cut_offs(before: timedelta, online: bool, cancel: bool, move: bool) -> None:
    starts = datetime(2026, 12, 7, 8, tzinfo=UTC)
    appointment = Appointment(starts_at=starts, status=AppointmentStatus.BOOKED)
    type_ = AppointmentType(
        online_cancel=online, cancel_cutoff_minutes=240, move_cutoff_minutes=2880
    )
    now = starts - before
    assert cutoffs.can_cancel(appointment, type_, now) is cancel
    assert cutoffs.can_move(appointment, type_, now) is move
    appointment.status = AppointmentStatus.CANCELLED
    assert not cutoffs.can_cancel(appointment, type_, now)
    assert not cutoffs.can_move(appointment, type_, now)
