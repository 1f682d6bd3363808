"""HTTP shapes of the committees room (msgspec)."""

from __future__ import annotations

import uuid
from datetime import date, datetime, time
from typing import Annotated

import msgspec
from msgspec import UNSET, UnsetType

from rdv_spie.committees.models import DEFAULT_RRULE, Thematic
from rdv_spie.schemas import Patch, Text, TimeOfDay

Days = Annotated[int, msgspec.Meta(ge=0, le=60)]
Rule = Annotated[str, msgspec.Meta(min_length=6, max_length=200)]
Url = Annotated[str, msgspec.Meta(min_length=8, max_length=500, pattern=r"^https?://")]
Long = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]
Thematics = Annotated[list[Thematic], msgspec.Meta(min_length=1, max_length=10)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]  # why a request is urgent


class SeriesIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    territory_id: uuid.UUID
    name: Text
    starts_on: date
    organisation_id: uuid.UUID | None = None
    rrule: Rule = DEFAULT_RRULE
    start_time: TimeOfDay = time(8, 30)
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=600)] = 120
    place_id: uuid.UUID | None = None
    video_url: Url | None = None
    capacity: Annotated[int, msgspec.Meta(ge=1, le=100)] = 10
    deadline_days_before: Days = 3
    deadline_time: TimeOfDay = time(14)
    freeze_days_before: Days = 3
    dispatch_days_before: Days = 2
    dispatch_time: TimeOfDay = time(9)


class SeriesPatch(Patch):
    name: Text | UnsetType = UNSET
    organisation_id: uuid.UUID | UnsetType = UNSET
    rrule: Rule | UnsetType = UNSET
    start_time: TimeOfDay | UnsetType = UNSET
    duration_minutes: Annotated[int, msgspec.Meta(ge=15, le=600)] | UnsetType = UNSET
    place_id: uuid.UUID | UnsetType | None = UNSET
    video_url: Url | UnsetType | None = UNSET
    capacity: Annotated[int, msgspec.Meta(ge=1, le=100)] | UnsetType = UNSET
    deadline_days_before: Days | UnsetType = UNSET
    deadline_time: TimeOfDay | UnsetType = UNSET
    freeze_days_before: Days | UnsetType = UNSET
    dispatch_days_before: Days | UnsetType = UNSET
    dispatch_time: TimeOfDay | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class SeriesOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    territory_id: uuid.UUID
    organisation_id: uuid.UUID
    name: str
    rrule: str
    starts_on: date
    start_time: time
    duration_minutes: int
    place_id: uuid.UUID | None
    video_url: str | None
    capacity: int
    deadline_days_before: int
    deadline_time: time
    freeze_days_before: int
    dispatch_days_before: int
    dispatch_time: time
    active: bool


class SessionOut(msgspec.Struct, kw_only=True):
    id: uuid.UUID
    series_id: uuid.UUID
    occurs_on: date
    starts_at: datetime
    ends_at: datetime
    deadline_at: datetime
    freeze_at: datetime
    dispatch_at: datetime
    status: str
    sequence: int
    frozen_at: datetime | None
    dispatched_at: datetime | None


class MoveIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    starts_at: datetime
    # Told to the members with the new time.
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class CancelIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    # Told to the members with the cancellation.
    reason: Annotated[str, msgspec.Meta(max_length=500)] | None = None


class MemberIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    agent_id: uuid.UUID
    charter_accepted_on: date | None = None


class CharterIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    accepted_on: date


class MemberOut(msgspec.Struct, kw_only=True):
    agent_id: uuid.UUID
    charter_accepted_on: date | None


class RequestIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    session_id: uuid.UUID
    thematics: Thematics
    summary: Long
    consent: bool
    person_id: uuid.UUID | None = None
    journey_id: uuid.UUID | None = None
    organisation_id: uuid.UUID | None = None
    already_tried: Long | None = None
    urgent: bool = False
    urgent_reason: Reason | None = None


class RequestPatch(Patch):
    thematics: Thematics | UnsetType = UNSET
    summary: Long | UnsetType = UNSET
    already_tried: Long | UnsetType | None = UNSET
    urgent: bool | UnsetType = UNSET
    urgent_reason: Reason | UnsetType | None = UNSET


class DecisionIn(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    decision: Annotated[str, msgspec.Meta(min_length=1, max_length=4000)]
    next_steps: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)] | None = None


class RequestOut(msgspec.Struct, kw_only=True):
    """The full fiche: only for its structure, the territory's managers and sworn members."""

    id: uuid.UUID
    session_id: uuid.UUID
    referent_id: uuid.UUID
    organisation_id: uuid.UUID
    person_id: uuid.UUID
    journey_id: uuid.UUID | None
    thematics: list[str]
    summary: str
    already_tried: str | None
    consent: bool
    urgent: bool
    urgent_reason: str | None
    submitted_at: datetime
    status: str
    agenda_number: int | None
    carried_over_count: int
    acknowledged_at: datetime | None
    decision: str | None
    next_steps: str | None
    decided_at: datetime | None


class AgendaItemOut(RequestOut, kw_only=True):
    """A fiche on a frozen agenda, with whom it is about (sworn members and managers only)."""

    person_first_name: str
    person_last_name: str
    structure: str
