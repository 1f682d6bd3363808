"""Real rows on top of the scenario builder that messages and reads of people's files need:
a person followed in a cohort, with an invitation, an appointment and a CTO request."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import timedelta

from tests.support import scenario as sc

from rdv_spie.agents.models import SetupLink
from rdv_spie.committees.models import CtoRequest, CtoSeries, CtoSession, RequestStatus
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.invitations.models import Channel, Invitation
from rdv_spie.notifications.tokens import hash_token
from rdv_spie.people.models import Cohort, Journey, Person
from rdv_spie.scheduling.models import Appointment, AppointmentAgent, AttendeeRole


@dataclass
class World:
    """A person with an open journey and an invitation, an appointment in a week on a second
    journey (so the invitation is still worth sending), a CTO series with sessions in two and
    four weeks, and a request on the first one's agenda, decided, submitted four days ago and
    never acknowledged (so it is overdue)."""

    s: sc.Scenario
    person_id: uuid.UUID
    journey_id: uuid.UUID
    cohort_id: uuid.UUID
    invitation_id: uuid.UUID
    appointment_id: uuid.UUID
    session_id: uuid.UUID
    next_session_id: uuid.UUID
    request_id: uuid.UUID
    setup_link_id: uuid.UUID  # the second referent's link to choose a password (72 h)


async def build(uow: UnitOfWork, s: sc.Scenario) -> World:
    """Write the rows in the caller's unit of work."""
    session, now = uow.session, uow.clock.now()
    today = now.date()
    person = Person(
        territory_id=s.territory_id,
        first_name="Léa",
        last_name="Martin",
        phone="+33612345678",
        email="lea@exemple.fr",
        sms_consent=True,
        email_consent=True,
    )
    cohort = Cohort(
        territory_id=s.territory_id,
        name="Jeunes 18-30 ans",
        organisation_id=s.organisation_id,
        appointment_type_id=s.single_type_id,
    )
    session.add_all([person, cohort])
    await session.flush()
    journeys = [
        Journey(
            territory_id=s.territory_id,
            person_id=person.id,
            cohort_id=cohort.id,
            referent_id=s.referent_ids[0],
            entered_on=today - timedelta(days=days_ago),
            invite_by_on=today + timedelta(days=3),
            appointment_by_on=today + timedelta(days=30),
        )
        for days_ago in (0, 1)
    ]
    session.add_all(journeys)
    await session.flush()
    invitation = Invitation(
        journey_id=journeys[0].id,
        channel=Channel.SMS,
        token_hash=hash_token("jeton"),
        expires_at=now + timedelta(days=10),
    )
    starts_at = now + timedelta(days=7)
    appointment = Appointment(
        territory_id=s.territory_id,
        acting_organisation_id=s.organisation_id,
        appointment_type_id=s.single_type_id,
        place_id=s.place_ids[0],
        person_id=person.id,
        journey_id=journeys[1].id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=45),
        busy_until=starts_at + timedelta(minutes=60),
    )
    series = CtoSeries(
        territory_id=s.territory_id,
        organisation_id=s.organisation_id,
        name="CTO Laon",
        starts_on=today,
        place_id=s.place_ids[0],
    )
    session.add_all([invitation, appointment, series])
    await session.flush()
    session.add(
        AppointmentAgent(
            appointment_id=appointment.id,
            agent_id=s.referent_ids[0],
            role=AttendeeRole.REFERENT,
            starts_at=appointment.starts_at,
            busy_until=appointment.busy_until,
        )
    )
    cto_sessions = [
        CtoSession(
            series_id=series.id,
            territory_id=s.territory_id,
            occurs_on=(now + timedelta(days=days)).date(),
            starts_at=now + timedelta(days=days),
            ends_at=now + timedelta(days=days, hours=2),
            deadline_at=now + timedelta(days=days - 3),
            freeze_at=now + timedelta(days=days - 3),
            dispatch_at=now + timedelta(days=days - 2),
        )
        for days in (14, 28)
    ]
    session.add_all(cto_sessions)
    await session.flush()
    request = CtoRequest(
        session_id=cto_sessions[0].id,
        territory_id=s.territory_id,
        referent_id=s.referent_ids[0],
        organisation_id=s.organisation_id,
        person_id=person.id,
        journey_id=journeys[0].id,
        thematics=["logement"],
        summary="Recherche un logement.",
        consent=True,
        submitted_at=now - timedelta(days=4),  # not acknowledged within 72 h: overdue
        status=RequestStatus.DECIDED,
        agenda_number=1,
        decision="Orientation vers le PLIE.",
        next_steps="Votre référente vous appelle lundi.",
        decided_at=now,
    )
    session.add(request)
    setup_link = SetupLink(
        agent_id=s.referent_ids[1],
        token_hash=hash_token("jeton-mot-de-passe"),
        created_by_agent_id=s.admin_id,
        expires_at=now + timedelta(hours=72),
    )
    session.add(setup_link)
    await session.flush()
    return World(
        s=s,
        person_id=person.id,
        journey_id=journeys[0].id,
        cohort_id=cohort.id,
        invitation_id=invitation.id,
        appointment_id=appointment.id,
        session_id=cto_sessions[0].id,
        next_session_id=cto_sessions[1].id,
        request_id=request.id,
        setup_link_id=setup_link.id,
    )
