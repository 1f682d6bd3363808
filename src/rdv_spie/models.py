"""Every table, imported in one place for Alembic and the drift check."""

from rdv_spie.agents.models import Agent, ApiKey, Membership, SetupLink
from rdv_spie.audit.models import FileRead
from rdv_spie.calendars.models import CalendarFeed
from rdv_spie.committees.models import CtoMember, CtoRequest, CtoSeries, CtoSession
from rdv_spie.db.base import Base
from rdv_spie.invitations.models import Invitation
from rdv_spie.notifications.models import Notification
from rdv_spie.people.models import Cohort, ImportRun, Journey, Person
from rdv_spie.privacy.models import PersonErasure
from rdv_spie.scheduling.models import (
    Absence,
    Appointment,
    AppointmentAgent,
    AppointmentDeparture,
    AppointmentType,
    AvailabilityRule,
    CalendarChange,
    CalendarVersion,
)
from rdv_spie.territories.models import Organisation, Place, Territory
from rdv_spie.web.models import RateCounter, WebSession

__all__ = [
    "Absence",
    "Agent",
    "ApiKey",
    "Appointment",
    "AppointmentAgent",
    "AppointmentDeparture",
    "AppointmentType",
    "AvailabilityRule",
    "Base",
    "CalendarChange",
    "CalendarFeed",
    "CalendarVersion",
    "Cohort",
    "CtoMember",
    "CtoRequest",
    "CtoSeries",
    "CtoSession",
    "FileRead",
    "ImportRun",
    "Invitation",
    "Journey",
    "Membership",
    "Notification",
    "Organisation",
    "Person",
    "PersonErasure",
    "Place",
    "RateCounter",
    "SetupLink",
    "Territory",
    "WebSession",
]
