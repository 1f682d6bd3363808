"""Planning what to send: invitations when slots exist, reminders while nothing is booked,
alerts to referents and animators. Writes invitation and outbox rows; never sends.

Runs as a cron job (arq) or in the web process's runner; idempotent, so two planners or a
rerun after a crash write nothing twice (idempotency keys, one invitation per journey and
channel, a per-cohort lock).
"""

from __future__ import annotations

import hashlib
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, exists, func, insert, or_, select, update

from rdv_spie.agents.models import Agent, Membership, Role
from rdv_spie.audit import service as audit
from rdv_spie.clock import Clock
from rdv_spie.db.base import Base
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.invitations.messages import (
    ANIMATOR_NO_SLOTS_ALERT,
    INVITATION,
    INVITATION_REMINDER,
    REFERENT_DEADLINE_ALERT,
)
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.localtime import end_of_local_day, local_day
from rdv_spie.notifications import outbox, tokens
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.notifications.policy import MIN_GAP_SAME_CHANNEL, SendingWindow
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling import search
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.territories.models import Organisation, Territory

BATCH = 500
MAX_BATCHES_PER_PASS = 200  # 100,000 journeys
_LIVE = (AppointmentStatus.BOOKED, AppointmentStatus.SEEN, AppointmentStatus.NOSHOW)
_INVITATION = Base.metadata.tables[Invitation.__tablename__]
_JOURNEY = Base.metadata.tables[Journey.__tablename__]


@dataclass(slots=True)
class PlanReport:
    """What one planning pass wrote (counts only)."""

    invited: int = 0
    waiting: int = 0
    reminders: int = 0
    deadline_alerts: int = 0
    no_slot_alerts: int = 0
    cohorts: list[uuid.UUID] = field(default_factory=list)


def window_of(cohort: Cohort, zone: ZoneInfo) -> SendingWindow:
    """The cohort's sending window in its territory's zone."""
    return SendingWindow(
        cohort.send_window_start, cohort.send_window_end, cohort.send_weekdays, zone
    )


async def plan(
    *, db: Database, clock: Clock, secret_key: bytes, grid_minutes: int = 15
) -> PlanReport:
    """One pass over every active cohort."""
    report = PlanReport()
    async with db.unit_of_work(clock=clock, write=False) as uow:
        cohort_ids = list(
            await uow.session.scalars(select(Cohort.id).where(Cohort.active.is_(True)))
        )
    for cohort_id in cohort_ids:
        # Batch after batch (one transaction each) while invitations go out, so a large
        # intake is planned in one pass instead of 500 people per cron run.
        for _ in range(MAX_BATCHES_PER_PASS):
            before = report.invited
            async with db.unit_of_work(clock=clock) as uow:
                await uow.lock(f"plan:{cohort_id}")
                await plan_cohort(
                    uow, cohort_id, secret_key=secret_key, grid_minutes=grid_minutes, report=report
                )
            if report.invited == before:
                break
        report.cohorts.append(cohort_id)
    return report


async def plan_cohort(
    uow: UnitOfWork,
    cohort_id: uuid.UUID,
    *,
    secret_key: bytes,
    grid_minutes: int,
    report: PlanReport,
) -> None:
    """Invitations, reminders and alerts of one cohort, in the caller's transaction."""
    cohort = await uow.session.get(Cohort, cohort_id)
    if cohort is None or not cohort.active:
        return
    territory = await uow.session.get(Territory, cohort.territory_id)
    assert territory is not None
    zone = ZoneInfo(territory.timezone)
    await _invite(uow, cohort, zone, secret_key, grid_minutes, report)
    await _remind(uow, cohort, zone, report)
    await _alert_deadlines(uow, cohort, zone, report)


# Up to BATCH open journeys of a cohort with no invitation and nothing booked, that a message
# can reach (built once: the cohort is a bound value).
_TO_INVITE = (
    select(
        Journey.id,
        Journey.person_id,
        Journey.appointment_by_on,
        Journey.waiting_for_slots_since,
        Person.sms_consent,
        Person.phone,
        Person.email_consent,
        Person.email,
    )
    .join(Person, Person.id == Journey.person_id)
    .where(
        Journey.cohort_id == bindparam("cohort_id"),
        Journey.closed_at.is_(None),
        ~exists().where(Invitation.journey_id == Journey.id),
        ~exists().where(and_(Appointment.journey_id == Journey.id, Appointment.status.in_(_LIVE))),
    )
    .where(  # people reached by phone only are the referent's (never re-read here)
        or_(
            and_(Person.sms_consent.is_(True), Person.phone.is_not(None)),
            and_(Person.email_consent.is_(True), Person.email.is_not(None)),
        )
    )
    # Fresh journeys first: the ones already waiting for slots must not hide them.
    .order_by(
        Journey.waiting_for_slots_since.is_not(None),
        Journey.appointment_by_on,
        Journey.entered_on,
    )
    .limit(BATCH)
)


async def _invite(
    uow: UnitOfWork,
    cohort: Cohort,
    zone: ZoneInfo,
    secret_key: bytes,
    grid_minutes: int,
    report: PlanReport,
) -> None:
    """Invite up to BATCH journeys: their invitations and messages as multi-row INSERTs (Core:
    the ORM's unit of work cost more than the statements), the journeys left waiting for slots
    noted in one UPDATE."""
    if cohort.appointment_type_id is None:
        return
    now = uow.clock.now()
    rows = (await uow.session.execute(_TO_INVITE, {"cohort_id": cohort.id})).all()
    if not rows:
        return
    window = window_of(cohort, zone)
    send_at = window.next_open(now)
    expires_at = send_at + timedelta(days=cohort.invitation_valid_days)
    has_slots: dict[date, bool] = {}
    waiting: list[_Waits] = []
    newly_waiting: list[uuid.UUID] = []
    no_longer_waiting: list[uuid.UUID] = []
    invitations: list[dict[str, Any]] = []
    messages: list[outbox.Message] = []
    for row in rows:
        journey_id, person_id, deadline, waiting_since, sms_ok, phone, email_ok, email = row
        channels = [
            c
            for c, ok in ((Channel.SMS, sms_ok and phone), (Channel.EMAIL, email_ok and email))
            if ok
        ]
        if not channels:
            continue  # reached by phone: the referent's list shows them
        if deadline not in has_slots:
            has_slots[deadline] = await _slots_before(
                uow, cohort.appointment_type_id, end_of_local_day(deadline, zone), grid_minutes
            )
        if not has_slots[deadline]:
            waiting.append(row)
            if waiting_since is None:
                newly_waiting.append(journey_id)
            continue
        for channel in channels:
            invitation_id = uuid.uuid4()
            invitations.append(
                {
                    "id": invitation_id,
                    "created_at": now,
                    "updated_at": now,
                    "journey_id": journey_id,
                    "channel": channel.value,
                    "token_hash": tokens.hash_token(tokens.derive(secret_key, invitation_id)),
                    "expires_at": expires_at,
                }
            )
            messages.append(
                outbox.Message(
                    territory_id=cohort.territory_id,
                    name=INVITATION,
                    channel=channel.value,
                    key=f"{INVITATION}:{invitation_id}",
                    not_before=send_at,
                    person_id=person_id,
                    journey_id=journey_id,
                    invitation_id=invitation_id,
                )
            )
        if waiting_since is not None:
            no_longer_waiting.append(journey_id)
        report.invited += 1
    if invitations:  # before the messages that point at them
        await uow.session.execute(insert(_INVITATION), invitations)
    await outbox.add_many(uow, messages)  # a few statements for the whole batch
    await _set_waiting(uow, no_longer_waiting, None)
    if waiting:
        await _set_waiting(uow, newly_waiting, now)
        report.waiting += len(waiting)
        report.no_slot_alerts += await alert_no_slots(uow, cohort, zone, waiting)


async def _set_waiting(uow: UnitOfWork, ids: list[uuid.UUID], since: datetime | None) -> None:
    """Note that these journeys wait for slots since ``since`` (None: no longer)."""
    if ids:
        now = uow.clock.now()
        await uow.session.execute(
            update(_JOURNEY)
            .where(_JOURNEY.c.id.in_(ids))
            .values(waiting_for_slots_since=since, updated_at=now)
        )


async def _slots_before(
    uow: UnitOfWork, type_id: uuid.UUID, deadline: datetime, grid_minutes: int
) -> bool:
    """Whether any slot of the type starts between now and the deadline."""
    now = uow.clock.now()
    windows = search.slots_by_window(
        uow=uow, now=now, type_id=type_id, start=now, end=deadline, grid_minutes=grid_minutes
    )
    async for found in windows:
        if found:
            return True
    return False


class _Waits(Protocol):
    """A journey waiting for slots (an ORM Journey or a row of its columns)."""

    @property
    def appointment_by_on(self) -> date: ...


async def alert_no_slots(
    uow: UnitOfWork, cohort: Cohort, zone: ZoneInfo, waiting: Sequence[_Waits]
) -> int:
    """At most one alert a day per cohort and animator: invitations wait for slots."""
    today = local_day(uow.clock.now(), zone)
    animators = await uow.session.scalars(
        select(Agent.id)
        .join(Membership, Membership.agent_id == Agent.id)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .where(
            Organisation.territory_id == cohort.territory_id,
            Membership.role == Role.ANIMATOR,
            Agent.active.is_(True),
        )
        .distinct()
    )
    total_waiting = await uow.session.scalar(
        select(func.count())
        .select_from(Journey)
        .where(Journey.cohort_id == cohort.id, Journey.closed_at.is_(None))
        .where(Journey.waiting_for_slots_since.is_not(None))
    )
    count = 0
    for agent_id in animators:
        added = await outbox.add(
            uow,
            territory_id=cohort.territory_id,
            name=ANIMATOR_NO_SLOTS_ALERT,
            channel="email",
            key=f"{ANIMATOR_NO_SLOTS_ALERT}:{cohort.id}:{today.isoformat()}:{agent_id}",
            not_before=uow.clock.now(),
            agent_id=agent_id,
            params={
                "cohort_id": str(cohort.id),
                "waiting_count": max(int(total_waiting or 0), len(waiting)),
                "appointment_by_first": min(j.appointment_by_on for j in waiting).isoformat(),
            },
        )
        count += added is not None
    return count


async def _remind(uow: UnitOfWork, cohort: Cohort, zone: ZoneInfo, report: PlanReport) -> None:
    """Reminders at D+n after the first invitation left, while nothing is booked and the link
    is valid; never the same channel twice within 24 h."""
    if not cohort.reminder_days:
        return
    now = uow.clock.now()
    first_due = now - timedelta(days=min(cohort.reminder_days))
    rows = (
        await uow.session.execute(
            select(
                Journey.id, Journey.person_id, Journey.invited_at, Invitation.id, Invitation.channel
            )
            .join(Invitation, Invitation.journey_id == Journey.id)
            .where(
                Journey.cohort_id == cohort.id,
                Journey.closed_at.is_(None),
                Journey.invited_at.is_not(None),
                Journey.invited_at <= first_due,
                Invitation.revoked_at.is_(None),
                Invitation.expires_at > now,
                ~exists().where(
                    and_(Appointment.journey_id == Journey.id, Appointment.status.in_(_LIVE))
                ),
            )
            .limit(BATCH * 2)
        )
    ).all()
    if not rows:
        return
    last_sent = await _last_sent(uow, [r[1] for r in rows])
    window = window_of(cohort, zone)
    for journey_id, person_id, invited_at, invitation_id, channel in rows:
        assert invited_at is not None
        for number, days in enumerate(sorted(cohort.reminder_days), start=1):
            if now < invited_at + timedelta(days=days):
                break
            key = f"{INVITATION_REMINDER}:{journey_id}:{days}:{channel}"
            earliest = now
            previous = last_sent.get((person_id, channel))
            if previous is not None:
                earliest = max(earliest, previous + MIN_GAP_SAME_CHANNEL)
            added = await outbox.add(
                uow,
                territory_id=cohort.territory_id,
                name=INVITATION_REMINDER,
                channel=channel,
                key=key,
                not_before=window.next_open(earliest),
                person_id=person_id,
                journey_id=journey_id,
                invitation_id=invitation_id,
                params={"reminder_number": number},
            )
            if added is not None:
                report.reminders += 1
                last_sent[(person_id, channel)] = window.next_open(earliest)


async def _last_sent(
    uow: UnitOfWork, person_ids: list[uuid.UUID]
) -> dict[tuple[uuid.UUID, str], datetime]:
    """When each person was last written to on each channel (sent or planned)."""
    rows = await uow.session.execute(
        select(
            Notification.person_id,
            Notification.channel,
            func.max(func.coalesce(Notification.sent_at, Notification.not_before)),
        )
        .where(
            Notification.person_id.in_(set(person_ids)),
            Notification.status.not_in([NotificationStatus.CANCELLED, NotificationStatus.FAILED]),
        )
        .group_by(Notification.person_id, Notification.channel)
    )
    result: dict[tuple[uuid.UUID, str], datetime] = {}
    for person_id, channel, at in rows:
        if at is not None and person_id is not None:
            result[(person_id, channel)] = at
    return result


async def _alert_deadlines(
    uow: UnitOfWork, cohort: Cohort, zone: ZoneInfo, report: PlanReport
) -> None:
    """Tell each referent, once per journey, that a deadline is near with nothing booked."""
    now = uow.clock.now()
    today = local_day(now, zone)
    journeys = list(
        await uow.session.scalars(
            select(Journey)
            .where(
                Journey.cohort_id == cohort.id,
                Journey.closed_at.is_(None),
                Journey.referent_id.is_not(None),
                Journey.deadline_alerted_at.is_(None),
                Journey.appointment_by_on <= today + timedelta(days=cohort.deadline_alert_days),
                Journey.appointment_by_on >= today,
                ~exists().where(
                    and_(Appointment.journey_id == Journey.id, Appointment.status.in_(_LIVE))
                ),
            )
            .limit(BATCH)
        )
    )
    by_referent: dict[uuid.UUID, list[Journey]] = defaultdict(list)
    for journey in journeys:
        assert journey.referent_id is not None
        by_referent[journey.referent_id].append(journey)
    for referent_id, group in by_referent.items():
        ids = sorted(str(j.id) for j in group)
        digest = hashlib.sha256(",".join(ids).encode()).hexdigest()[:32]
        new = await outbox.add(
            uow,
            territory_id=cohort.territory_id,
            name=REFERENT_DEADLINE_ALERT,
            channel="email",
            key=f"{REFERENT_DEADLINE_ALERT}:{referent_id}:{digest}",
            not_before=now,
            agent_id=referent_id,
            params={"journey_ids": ids},
        )
        if new is not None:  # the e-mail lists the people by name
            shown = (j.person_id for j in group)
            await audit.record(uow, referent_id, shown, audit.Read.EMAIL)
        for journey in group:
            journey.deadline_alerted_at = now
        report.deadline_alerts += 1
