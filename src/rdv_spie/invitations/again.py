"""Inviting a person again now, at the territory team's request (the office's "Relancer
maintenant"): the invitation message once more on every channel the person agreed to, inside
the cohort's sending window. Writes invitation and outbox rows; never sends.

The link stays the invitation's own (one invitation per journey and channel): a missing one is
created as the planner does, an expired one is valid again for the cohort's validity. At most
one such message a day per channel (the idempotency key), so a double click sends once.
"""

from __future__ import annotations

import uuid
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from rdv_spie.agents.guards import Actor
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.errors import Conflict, Invalid
from rdv_spie.invitations.messages import INVITATION
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.invitations.service import window_of
from rdv_spie.localtime import local_day
from rdv_spie.notifications import outbox, tokens
from rdv_spie.people import closing
from rdv_spie.people.models import Cohort, Person
from rdv_spie.scheduling.models import Appointment, AppointmentStatus
from rdv_spie.territories.models import Territory


async def invite_again(
    uow: UnitOfWork, actor: Actor, journey_id: uuid.UUID, *, secret_key: bytes
) -> int:
    """Write the invitation message again on each consented channel; the number written.

    Refused (nothing written): a closed journey (``journey_closed``), an appointment to come
    (``already_booked``), a cohort without a first-appointment type (``no_appointment_type``),
    no channel the person agreed to (``no_channel``), already done today
    (``already_invited_today``)."""
    journey = await closing.team_journey(uow, actor, journey_id)
    if journey.closed_at is not None:
        raise Conflict("the journey is closed", field="journey_id", code="journey_closed")
    now = uow.clock.now()
    upcoming = await uow.session.scalar(
        select(Appointment.id)
        .where(
            Appointment.journey_id == journey.id,
            Appointment.status == AppointmentStatus.BOOKED,
            Appointment.starts_at > now,
        )
        .limit(1)
    )
    if upcoming is not None:
        raise Conflict("an appointment is booked", field="journey_id", code="already_booked")
    cohort = await uow.session.get(Cohort, journey.cohort_id)
    person = await uow.session.get(Person, journey.person_id)
    territory = await uow.session.get(Territory, journey.territory_id)
    assert cohort is not None and person is not None and territory is not None
    if cohort.appointment_type_id is None:
        raise Invalid(
            "the cohort has no first-appointment type",
            field="journey_id",
            code="no_appointment_type",
        )
    existing = {
        i.channel: i
        for i in await uow.session.scalars(
            select(Invitation).where(Invitation.journey_id == journey.id)
        )
    }
    channels = [
        c
        for c, ok in (
            (Channel.SMS, person.sms_consent and person.phone),
            (Channel.EMAIL, person.email_consent and person.email),
        )
        if ok and (c not in existing or existing[c].revoked_at is None)
    ]
    if not channels:
        raise Invalid("no channel the person agreed to", field="journey_id", code="no_channel")
    zone = ZoneInfo(territory.timezone)
    send_at = window_of(cohort, zone).next_open(now)
    valid_until = send_at + timedelta(days=cohort.invitation_valid_days)
    today = local_day(now, zone)
    planned: list[Invitation] = []
    for channel in channels:
        invitation = existing.get(channel)
        if invitation is None:
            invitation = Invitation(
                id=uuid.uuid4(), journey_id=journey.id, channel=channel, expires_at=valid_until
            )
            invitation.token_hash = tokens.hash_token(tokens.derive(secret_key, invitation.id))
            uow.session.add(invitation)
        planned.append(invitation)
    await uow.session.flush()  # the invitations, before the messages that point at them
    written = 0
    for invitation in planned:
        added = await outbox.add(
            uow,
            territory_id=journey.territory_id,
            name=INVITATION,
            channel=invitation.channel,
            key=f"{INVITATION}:{invitation.id}:again:{today.isoformat()}",
            not_before=send_at,
            person_id=journey.person_id,
            journey_id=journey.id,
            invitation_id=invitation.id,
        )
        if added is not None:
            invitation.expires_at = max(invitation.expires_at, valid_until)
            written += 1
    if not written:
        raise Conflict(
            "the person was already invited again today",
            field="journey_id",
            code="already_invited_today",
        )
    return written
