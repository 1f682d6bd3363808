"""The pure parts of the public pages: the identity answer, places by postcode, weeks, the
cancel and move cut-offs."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from rdv_spie.invitations import cutoffs, identity, places, week
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


def test_week_view() -> None:
    today = date(2026, 12, 1)
    slots = [
        _slot(datetime(2026, 12, 2, 8, tzinfo=UTC)),
        _slot(datetime(2026, 12, 2, 9, tzinfo=UTC)),
        _slot(datetime(2026, 12, 16, 8, tzinfo=UTC)),
    ]
    first = week.week_view(slots, PARIS, today=today, last_day=date(2026, 12, 18), asked=None)
    assert first.start == date(2026, 11, 30) and first.previous is None
    assert first.following == date(2026, 12, 7) and first.next_available is None
    assert [(d.day, len(d.slots)) for d in first.days] == [(date(2026, 12, 2), 2)]
    empty = week.week_view(
        slots, PARIS, today=today, last_day=date(2026, 12, 18), asked=date(2026, 12, 10)
    )
    assert empty.start == date(2026, 12, 7) and not empty.days
    assert empty.next_available == slots[2] and empty.previous == date(2026, 11, 30)
    clamped = week.week_view(
        slots, PARIS, today=today, last_day=date(2026, 12, 18), asked=date(2027, 1, 4)
    )
    assert clamped.start == date(2026, 12, 14) and clamped.following is None
    assert week.week_view([], PARIS, today=today, last_day=date(2026, 11, 1), asked=None).start == (
        date(2026, 11, 30)
    )


def test_local_day_of_a_late_slot() -> None:
    # 23:30 UTC on Sunday is Monday in Paris: the slot belongs to the next week.
    late = _slot(datetime(2026, 12, 6, 23, 30, tzinfo=UTC))
    view = week.week_view(
        [late], PARIS, today=date(2026, 12, 1), last_day=date(2026, 12, 18), asked=None
    )
    assert view.start == date(2026, 12, 7) and view.days[0].day == date(2026, 12, 7)


def test_instants_in_links() -> None:
    at = datetime(2026, 12, 2, 8, 15, tzinfo=UTC)
    assert week.format_instant(at) == "2026-12-02T08:15Z"
    assert week.parse_instant("2026-12-02T08:15Z") == at
    assert week.parse_instant("2026-12-02 08:15") is None
    assert week.parse_instant(None) is None
    assert query_uuid("nope") is None and week.parse_day("2026-13-01") is None


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
