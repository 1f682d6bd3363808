"""HTTP shapes of the people room (msgspec)."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from rdv_spie.people.intake import ImportReport
from rdv_spie.people.rows import RowError
from rdv_spie.schemas import Name, Patch, Phone, Postcode, Text, TimeOfDay

ExternalId = Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
Days = Annotated[int, msgspec.Meta(ge=1, le=365)]


class CohortIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    territory_id: uuid.UUID
    name: Text
    appointment_type_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    entry_delay_days: Days = 30
    invite_within_days: Days = 3
    invitation_valid_days: Days = 10
    reminder_days: Annotated[list[Days], msgspec.Meta(max_length=5)] = msgspec.field(
        default_factory=lambda: [3, 7]
    )
    deadline_alert_days: Days = 7
    send_window_start: TimeOfDay = time(9)
    send_window_end: TimeOfDay = time(19)
    send_weekdays: Annotated[int, msgspec.Meta(ge=1, le=127)] = 0b0111111


class CohortPatch(Patch):
    name: Text | UnsetType = UNSET
    appointment_type_id: uuid.UUID | UnsetType | None = UNSET
    organisation_id: uuid.UUID | UnsetType | None = UNSET
    entry_delay_days: Days | UnsetType = UNSET
    invite_within_days: Days | UnsetType = UNSET
    invitation_valid_days: Days | UnsetType = UNSET
    reminder_days: Annotated[list[Days], msgspec.Meta(max_length=5)] | UnsetType = UNSET
    deadline_alert_days: Days | UnsetType = UNSET
    send_window_start: TimeOfDay | UnsetType = UNSET
    send_window_end: TimeOfDay | UnsetType = UNSET
    send_weekdays: Annotated[int, msgspec.Meta(ge=1, le=127)] | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class CohortOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    territory_id: uuid.UUID
    name: str
    appointment_type_id: uuid.UUID | None
    organisation_id: uuid.UUID | None
    entry_delay_days: int
    invite_within_days: int
    invitation_valid_days: int
    reminder_days: list[int]
    deadline_alert_days: int
    send_window_start: time
    send_window_end: time
    send_weekdays: int
    active: bool


class PersonIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One newly eligible person pushed by another information system."""

    first_name: Name
    last_name: Name
    birth_date: date | None = None
    phone: Phone | None = None
    email: Text | None = None
    caf_number: ExternalId | None = None
    france_travail_id: ExternalId | None = None
    departement_id: ExternalId | None = None
    postcode: Postcode | None = None
    entry_date: date | None = None
    sms_consent: bool | None = None
    email_consent: bool | None = None
    prefers_call: bool = False


class PeopleBatchIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    people: Annotated[list[PersonIn], msgspec.Meta(min_length=1, max_length=5000)]


class RowErrorOut(msgspec.Struct, kw_only=True):
    line: int
    column: int | None
    header: str | None
    field: str | None
    code: str
    detail: str

    @classmethod
    def of(cls, e: RowError) -> RowErrorOut:
        return cls(
            line=e.line,
            column=e.column,
            header=e.header,
            field=e.field,
            code=e.code,
            detail=e.detail,
        )


class ImportOut(msgspec.Struct, kw_only=True):
    rows: int
    created: int
    updated: int
    unchanged: int
    journeys_opened: int
    rejected_rows: int
    rejected: list[RowErrorOut]

    @classmethod
    def of(cls, r: ImportReport) -> ImportOut:
        return cls(
            rows=r.rows,
            created=r.created,
            updated=r.updated,
            unchanged=r.unchanged,
            journeys_opened=r.journeys_opened,
            rejected_rows=r.rejected_rows,
            rejected=[RowErrorOut.of(e) for e in r.rejected],
        )


class JourneyOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    person_id: uuid.UUID
    cohort_id: uuid.UUID
    referent_id: uuid.UUID | None
    entered_on: date
    invite_by_on: date
    appointment_by_on: date
    status: str
    identity_locked: bool  # the link refuses answers until someone unlocks it
