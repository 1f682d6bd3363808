"""A journey's status derived from hand-built facts: every status, their precedence (closed wins,
a held appointment stays seen), and property tests over arbitrary facts."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from rdv_spie.people.status import (
    AppointmentFact,
    JourneyFacts,
    JourneyStatus,
    derive,
    first_held,
)
from rdv_spie.scheduling.models import AppointmentStatus

NOW = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
TODAY = date(2026, 12, 1)
DEADLINE = date(2026, 12, 20)  # appointment_by_on, still ahead
PAST = NOW - timedelta(days=2)
FUTURE = NOW + timedelta(days=5)
S = JourneyStatus


def facts(
    *,
    appointment_by_on: date = DEADLINE,
    closed: bool = False,
    expiries: tuple[datetime, ...] = (),
    appointments: tuple[tuple[str, datetime], ...] = (),
) -> JourneyFacts:
    return JourneyFacts(
        appointment_by_on=appointment_by_on,
        closed=closed,
        invitation_expiries=expiries,
        appointments=tuple(AppointmentFact(status=s, starts_at=at) for s, at in appointments),
    )


def status(f: JourneyFacts, *, now: datetime = NOW, today: date = TODAY) -> JourneyStatus:
    return derive(f, now=now, today=today)


def test_nothing_yet_is_to_invite() -> None:
    assert status(facts()) is S.TO_INVITE


def test_an_invitation_still_valid_is_invited() -> None:
    assert status(facts(expiries=(FUTURE,))) is S.INVITED
    # One valid invitation among expired ones is enough (the SMS expired, the e-mail did not).
    assert status(facts(expiries=(PAST, FUTURE))) is S.INVITED


def test_all_invitations_expired_is_invitation_expired() -> None:
    assert status(facts(expiries=(PAST,))) is S.INVITATION_EXPIRED
    assert status(facts(expiries=(PAST, PAST - timedelta(days=1)))) is S.INVITATION_EXPIRED
    # Expiry is inclusive: at the very instant, the link no longer works.
    assert status(facts(expiries=(NOW,))) is S.INVITATION_EXPIRED
    assert status(facts(expiries=(NOW + timedelta(microseconds=1),))) is S.INVITED


def test_a_booked_appointment_is_booked() -> None:
    assert status(facts(expiries=(FUTURE,), appointments=(("booked", FUTURE),))) is S.BOOKED
    # Booked even after the invitations expired, and even past the deadline.
    late = facts(
        appointment_by_on=TODAY - timedelta(days=1),
        expiries=(PAST,),
        appointments=(("booked", FUTURE),),
    )
    assert status(late) is S.BOOKED


def test_seen_once_stays_seen() -> None:
    assert status(facts(appointments=(("seen", PAST),))) is S.SEEN
    # A follow-up booked later, or a no-show at a later appointment, changes nothing.
    assert status(facts(appointments=(("seen", PAST), ("booked", FUTURE)))) is S.SEEN
    assert status(facts(appointments=(("noshow", NOW), ("seen", PAST)))) is S.SEEN
    assert (
        status(facts(appointments=(("seen", PAST), ("noshow", PAST + timedelta(days=1))))) is S.SEEN
    )
    # Even after the deadline and with expired invitations.
    assert (
        status(
            facts(
                appointment_by_on=TODAY - timedelta(days=30),
                expiries=(PAST,),
                appointments=(("seen", PAST), ("cancelled", FUTURE)),
            )
        )
        is S.SEEN
    )


def test_a_noshow_with_nothing_booked_is_noshow() -> None:
    assert status(facts(expiries=(PAST,), appointments=(("noshow", PAST),))) is S.NOSHOW
    # Past the deadline, the no-show is still what the referent needs to know.
    overdue = facts(appointment_by_on=TODAY - timedelta(days=3), appointments=(("noshow", PAST),))
    assert status(overdue) is S.NOSHOW
    # Booked again after a no-show: booked.
    assert status(facts(appointments=(("noshow", PAST), ("booked", FUTURE)))) is S.BOOKED


def test_past_the_deadline_with_nothing_booked_is_late() -> None:
    yesterday = TODAY - timedelta(days=1)
    assert status(facts(appointment_by_on=yesterday)) is S.LATE
    assert status(facts(appointment_by_on=yesterday, expiries=(FUTURE,))) is S.LATE
    assert status(facts(appointment_by_on=yesterday, expiries=(PAST,))) is S.LATE
    # Cancelled, excused or revoked appointments do not count as booked.
    for gone in ("cancelled", "excused", "revoked"):
        assert status(facts(appointment_by_on=yesterday, appointments=((gone, PAST),))) is S.LATE
    # The deadline day itself is not late yet.
    assert status(facts(appointment_by_on=TODAY, expiries=(FUTURE,))) is S.INVITED


def test_late_follows_the_local_date_not_the_utc_one() -> None:
    # 23:30 UTC on 1 December is already 2 December in Paris: the caller gives the local day.
    evening = datetime(2026, 12, 1, 23, 30, tzinfo=UTC)
    f = facts(appointment_by_on=TODAY, expiries=(FUTURE,))
    assert status(f, now=evening, today=date(2026, 12, 2)) is S.LATE
    assert status(f, now=evening, today=TODAY) is S.INVITED


@pytest.mark.parametrize(
    "appointments",
    [(), (("seen", PAST),), (("booked", FUTURE),), (("noshow", PAST),), (("seen", PAST),) * 2],
)
def test_closed_wins_over_everything(appointments: tuple[tuple[str, datetime], ...]) -> None:
    for expiries in ((), (PAST,), (FUTURE,)):
        for deadline in (TODAY - timedelta(days=10), DEADLINE):
            f = facts(
                closed=True,
                appointment_by_on=deadline,
                expiries=expiries,
                appointments=appointments,
            )
            assert status(f) is S.CLOSED


def test_cancelled_appointments_leave_the_invitation_status() -> None:
    assert status(facts(expiries=(FUTURE,), appointments=(("cancelled", PAST),))) is S.INVITED
    assert status(facts(appointments=(("revoked", PAST), ("excused", PAST)))) is S.TO_INVITE


def test_first_held_is_the_earliest_seen_appointment() -> None:
    early, later = PAST - timedelta(days=3), PAST
    apps = (
        AppointmentFact("seen", later),
        AppointmentFact("noshow", early - timedelta(days=1)),
        AppointmentFact("seen", early),
        AppointmentFact("booked", FUTURE),
    )
    assert first_held(apps) == AppointmentFact("seen", early)
    assert first_held([AppointmentFact("booked", FUTURE)]) is None
    assert first_held([]) is None


# Properties

INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
DATES = st.dates(min_value=date(2026, 1, 1), max_value=date(2028, 12, 31))
APPOINTMENT_FACTS = st.builds(
    AppointmentFact, status=st.sampled_from([str(s) for s in AppointmentStatus]), starts_at=INSTANTS
)
ANY_FACTS = st.builds(
    JourneyFacts,
    appointment_by_on=DATES,
    closed=st.booleans(),
    invitation_expiries=st.lists(INSTANTS, max_size=4).map(tuple),
    appointments=st.lists(APPOINTMENT_FACTS, max_size=5).map(tuple),
)


@given(f=ANY_FACTS, now=INSTANTS, today=DATES)
def test_always_exactly_one_status(f: JourneyFacts, now: datetime, today: date) -> None:
    result = derive(f, now=now, today=today)
    assert isinstance(result, JourneyStatus) and result in set(JourneyStatus)
    assert (result is S.CLOSED) == f.closed


@given(f=ANY_FACTS, seen_at=INSTANTS, position=st.integers(0, 5), now=INSTANTS, today=DATES)
def test_a_seen_appointment_always_makes_an_open_journey_seen(
    f: JourneyFacts, seen_at: datetime, position: int, now: datetime, today: date
) -> None:
    appointments = list(f.appointments)
    appointments.insert(position, AppointmentFact("seen", seen_at))
    open_facts = JourneyFacts(
        appointment_by_on=f.appointment_by_on,
        closed=False,
        invitation_expiries=f.invitation_expiries,
        appointments=tuple(appointments),
    )
    assert derive(open_facts, now=now, today=today) is S.SEEN


@given(f=ANY_FACTS, now=INSTANTS, today=DATES)
def test_the_order_of_facts_does_not_matter(f: JourneyFacts, now: datetime, today: date) -> None:
    reversed_facts = JourneyFacts(
        appointment_by_on=f.appointment_by_on,
        closed=f.closed,
        invitation_expiries=f.invitation_expiries[::-1],
        appointments=f.appointments[::-1],
    )
    assert derive(reversed_facts, now=now, today=today) is derive(f, now=now, today=today)
