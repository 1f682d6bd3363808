"""JSON API of the scheduling room: appointment types, availability rules, absences, slots,
appointments."""

from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Annotated, Any

import msgspec
from litestar import Controller, Response, delete, get, patch, post, put
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter
from litestar.status_codes import HTTP_200_OK, HTTP_201_CREATED
from sqlalchemy import Select, or_, select

from rdv_spie.agents.guards import Actor, require_colleague
from rdv_spie.audit import service as audit
from rdv_spie.db.uow import UnitOfWork
from rdv_spie.deps import READS_PEOPLE, AppSettings, CurrentActor, Uow
from rdv_spie.errors import Invalid
from rdv_spie.localtime import zone
from rdv_spie.people import followup
from rdv_spie.scheduling import booking, search, service
from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.models import Appointment, AppointmentAgent, AvailabilityRule
from rdv_spie.scheduling.schemas import (
    AbsenceIn,
    AbsenceOut,
    AppointmentOut,
    AppointmentTypeIn,
    AppointmentTypeOut,
    AppointmentTypePatch,
    BookingIn,
    CancelIn,
    MoveIn,
    RuleIn,
    RuleOut,
    SlotOut,
    StatusIn,
)
from rdv_spie.schemas import sent
from rdv_spie.territories.models import Territory

From = Annotated[datetime, QueryParameter(name="from", description="RFC 3339 instant with offset")]
To = Annotated[datetime, QueryParameter(name="to", description="RFC 3339 instant with offset")]


class AppointmentTypeController(Controller):
    path = "/appointment-types"
    tags = ["appointment types"]

    @get("/")
    async def list_types(
        self, uow: Uow, actor: CurrentActor, territory_id: FromQuery[uuid.UUID | None] = None
    ) -> list[AppointmentTypeOut]:
        """Appointment types of your territories."""
        found = await service.list_types(uow=uow, actor=actor, territory_id=territory_id)
        return [AppointmentTypeOut.of(t) for t in found]

    @get("/{type_id:uuid}")
    async def get_type(
        self, uow: Uow, actor: CurrentActor, type_id: FromPath[uuid.UUID]
    ) -> AppointmentTypeOut:
        """One appointment type."""
        return AppointmentTypeOut.of(await service.get_type(uow=uow, actor=actor, type_id=type_id))

    @post("/")
    async def create_type(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[AppointmentTypeIn]
    ) -> AppointmentTypeOut:
        """Add an appointment type (admins and animators of the territory)."""
        fields = msgspec.structs.asdict(data)
        created = await service.create_type(
            uow=uow,
            actor=actor,
            territory_id=fields.pop("territory_id"),
            place_ids=fields.pop("place_ids"),
            **fields,
        )
        return AppointmentTypeOut.of(created)

    @patch("/{type_id:uuid}")
    async def update_type(
        self,
        uow: Uow,
        actor: CurrentActor,
        type_id: FromPath[uuid.UUID],
        data: JSONBody[AppointmentTypePatch],
    ) -> AppointmentTypeOut:
        """Change an appointment type (only the fields you send)."""
        changes = sent(data)
        updated = await service.update_type(
            uow=uow,
            actor=actor,
            type_id=type_id,
            place_ids=changes.pop("place_ids", None),
            **changes,
        )
        return AppointmentTypeOut.of(updated)


class RuleController(Controller):
    path = "/availability-rules"
    tags = ["availability rules"]

    @get("/")
    async def list_rules(
        self, uow: Uow, actor: CurrentActor, agent_id: FromQuery[uuid.UUID | None] = None
    ) -> list[RuleOut]:
        """Weekly availability rules of your colleagues."""
        return [
            RuleOut.of(r) for r in await service.list_rules(uow=uow, actor=actor, agent_id=agent_id)
        ]

    @get("/{rule_id:uuid}")
    async def get_rule(
        self, uow: Uow, actor: CurrentActor, rule_id: FromPath[uuid.UUID]
    ) -> RuleOut:
        """One rule."""
        return RuleOut.of(await service.get_rule(uow=uow, actor=actor, rule_id=rule_id))

    @post("/")
    async def create_rule(self, uow: Uow, actor: CurrentActor, data: JSONBody[RuleIn]) -> RuleOut:
        """Open weekly availability for yourself or an agent you manage."""
        return RuleOut.of(await _save_rule(uow, actor, None, data))

    @put("/{rule_id:uuid}")
    async def replace_rule(
        self, uow: Uow, actor: CurrentActor, rule_id: FromPath[uuid.UUID], data: JSONBody[RuleIn]
    ) -> RuleOut:
        """Replace a rule."""
        rule = await service.get_rule(uow=uow, actor=actor, rule_id=rule_id)
        return RuleOut.of(await _save_rule(uow, actor, rule, data, default_agent=rule.agent_id))

    @delete("/{rule_id:uuid}")
    async def delete_rule(
        self, uow: Uow, actor: CurrentActor, rule_id: FromPath[uuid.UUID]
    ) -> None:
        """Remove a rule; booked appointments stay booked."""
        await service.delete_rule(uow=uow, actor=actor, rule_id=rule_id)


async def _save_rule(
    uow: UnitOfWork,
    actor: Actor,
    rule: AvailabilityRule | None,
    data: RuleIn,
    default_agent: uuid.UUID | None = None,
) -> AvailabilityRule:
    return await service.save_rule(
        uow=uow,
        actor=actor,
        rule=rule,
        agent_id=data.agent_id or default_agent or actor.agent_id,
        place_id=data.place_id,
        weekdays=data.weekdays,
        start_time=data.start_time,
        end_time=data.end_time,
        valid_from=data.valid_from,
        valid_until=data.valid_until,
        appointment_type_ids=data.appointment_type_ids,
        organisation_id=data.organisation_id,
    )


class AbsenceController(Controller):
    path = "/absences"
    tags = ["absences"]

    @get("/")
    async def list_absences(
        self, uow: Uow, actor: CurrentActor, agent_id: FromQuery[uuid.UUID | None] = None
    ) -> list[AbsenceOut]:
        """Absences of your colleagues."""
        return [
            AbsenceOut.of(a)
            for a in await service.list_absences(uow=uow, actor=actor, agent_id=agent_id)
        ]

    @post("/")
    async def create_absence(
        self, uow: Uow, actor: CurrentActor, data: JSONBody[AbsenceIn]
    ) -> AbsenceOut:
        """Mark yourself (or an agent you manage) unavailable."""
        absence = await service.create_absence(
            uow=uow,
            actor=actor,
            agent_id=data.agent_id or actor.agent_id,
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            title=data.title,
        )
        return AbsenceOut.of(absence)

    @delete("/{absence_id:uuid}")
    async def delete_absence(
        self, uow: Uow, actor: CurrentActor, absence_id: FromPath[uuid.UUID]
    ) -> None:
        """Remove an absence."""
        await service.delete_absence(uow=uow, actor=actor, absence_id=absence_id)


class SlotController(Controller):
    path = "/slots"
    tags = ["slots"]

    @get("/")
    async def search_slots(
        self,
        uow: Uow,
        actor: CurrentActor,
        settings: AppSettings,
        slot_cache: NamedDependency[SlotCache],
        appointment_type_id: FromQuery[uuid.UUID],
        window_start: From,
        window_end: To,
        territory_id: FromQuery[uuid.UUID | None] = None,
        place_id: Annotated[list[uuid.UUID] | None, QueryParameter(name="place_id")] = None,
        organisation_id: Annotated[
            list[uuid.UUID] | None, QueryParameter(name="organisation_id")
        ] = None,
        journey_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[SlotOut]:
        """Bookable slots of an appointment type starting in [from, to), one per start and
        place. ``organisation_id`` (repeatable) keeps the hours opened for these structures;
        ``journey_id`` keeps those of the structures following the journey, exactly the slots
        a booking for it accepts."""
        among = frozenset(organisation_id) if organisation_id else None
        if journey_id is not None:
            following = await followup.following_organisations(
                uow, await followup.visible_journey(uow, actor, journey_id)
            )
            if following is not None:
                among = following if among is None else among & following

        def visible(territory: Territory) -> None:
            actor.require_territory(territory.id, what="appointment_type")
            if territory_id is not None and territory_id != territory.id:
                raise Invalid(
                    "the appointment type belongs to another territory", field="territory_id"
                )

        territory, found = await search.find_slots(
            uow=uow,
            now=uow.clock.now(),
            type_id=appointment_type_id,
            window_start=window_start,
            window_end=window_end,
            place_ids=frozenset(place_id) if place_id else None,
            grid_minutes=settings.slot_grid_minutes,
            cache=slot_cache,
            visible=visible,
            organisation_ids=among,
        )
        timezone = territory.timezone  # once: an ORM attribute read costs per slot
        return [
            SlotOut(
                starts_at=s.starts_at,
                ends_at=s.ends_at,
                local_start=_local_start(s.starts_at, timezone),
                place_id=s.place_id,
                free_referents=len(s.referent_ids),
            )
            for s in found
        ]


@lru_cache(maxsize=32_768)
def _local_start(starts_at: datetime, timezone: str) -> str:
    """A slot's wall time with its offset. Remembered: every search answer repeats the starts
    of the cached slots, and converting them was a fifth of a search's CPU in the profile."""
    return starts_at.astimezone(zone(timezone)).isoformat()


def _attended_by(agent_id: uuid.UUID) -> Select[Any]:
    return select(AppointmentAgent.appointment_id).where(AppointmentAgent.agent_id == agent_id)


class AppointmentController(Controller):
    path = "/appointments"
    tags = ["appointments"]

    @post("/", status_code=HTTP_201_CREATED)
    async def book(
        self,
        uow: Uow,
        actor: CurrentActor,
        settings: AppSettings,
        slot_cache: NamedDependency[SlotCache],
        data: JSONBody[BookingIn],
        idempotency_key: Annotated[
            str | None,
            HeaderParameter(
                name="Idempotency-Key",
                max_length=200,
                description="Send the same key again to get the first booking back",
            ),
        ] = None,
    ) -> Response[AppointmentOut]:
        """Book a slot. A repeated request with the same Idempotency-Key returns the first
        booking (200); a slot taken meanwhile is a 409."""
        result = await booking.book_appointment(
            uow=uow,
            actor=actor,
            appointment_type_id=data.appointment_type_id,
            place_id=data.place_id,
            starts_at=data.starts_at,
            person_id=data.person_id,
            new_person=booking.NewPerson(**msgspec.structs.asdict(data.person))
            if data.person
            else None,
            journey_id=data.journey_id,
            referent_id=data.referent_id,
            organisation_id=data.organisation_id,
            submission_key=idempotency_key,
            grid_minutes=settings.slot_grid_minutes,
            cache=slot_cache,
        )
        return Response(
            AppointmentOut.of(result.appointment),
            status_code=HTTP_201_CREATED if result.created else HTTP_200_OK,
        )

    @get("/", opt=READS_PEOPLE)
    async def list_appointments(
        self,
        uow: Uow,
        actor: CurrentActor,
        window_start: From,
        window_end: To,
        agent_id: FromQuery[uuid.UUID | None] = None,
    ) -> list[AppointmentOut]:
        """Appointments held for your organisations, or that you attend, starting in
        [from, to) (``agent_id``: only those a colleague attends)."""
        search.check_window(window_start, window_end)
        query = select(Appointment).where(
            or_(
                Appointment.acting_organisation_id.in_(actor.staff_organisation_ids),
                Appointment.id.in_(_attended_by(actor.agent_id)),
            ),
            Appointment.starts_at >= window_start,
            Appointment.starts_at < window_end,
        )
        if agent_id is not None:
            await require_colleague(uow, actor, agent_id)
            query = query.where(Appointment.id.in_(_attended_by(agent_id)))
        rows = await uow.session.scalars(query.order_by(Appointment.starts_at))
        found = list(rows)
        await audit.record(uow, actor, (a.person_id for a in found), audit.Read.APPOINTMENTS)
        return [AppointmentOut.of(a) for a in found]

    @get("/{appointment_id:uuid}", opt=READS_PEOPLE)
    async def read(
        self, uow: Uow, actor: CurrentActor, appointment_id: FromPath[uuid.UUID]
    ) -> AppointmentOut:
        """One appointment."""
        found = await booking.get_appointment(uow=uow, actor=actor, appointment_id=appointment_id)
        await audit.record(uow, actor, [found.person_id], audit.Read.APPOINTMENT)
        return AppointmentOut.of(found)

    @post("/{appointment_id:uuid}/cancel", status_code=HTTP_200_OK)
    async def cancel(
        self,
        uow: Uow,
        actor: CurrentActor,
        appointment_id: FromPath[uuid.UUID],
        data: JSONBody[CancelIn | None] = None,
    ) -> AppointmentOut:
        """Cancel: by the service (revoked, default) or on the person's behalf (cancelled)."""
        by = (data or CancelIn()).by
        if by not in ("service", "person"):
            raise Invalid("'by' must be 'service' or 'person'", field="by")
        return AppointmentOut.of(
            await booking.cancel_appointment(
                uow=uow, actor=actor, appointment_id=appointment_id, by_service=by == "service"
            )
        )

    @post("/{appointment_id:uuid}/move", status_code=HTTP_200_OK)
    async def move(
        self,
        uow: Uow,
        actor: CurrentActor,
        settings: AppSettings,
        slot_cache: NamedDependency[SlotCache],
        appointment_id: FromPath[uuid.UUID],
        data: JSONBody[MoveIn],
    ) -> AppointmentOut:
        """Move to another free slot; the appointment keeps its id."""
        return AppointmentOut.of(
            await booking.move_appointment(
                uow=uow,
                actor=actor,
                appointment_id=appointment_id,
                starts_at=data.starts_at,
                place_id=data.place_id,
                grid_minutes=settings.slot_grid_minutes,
                cache=slot_cache,
            )
        )

    @post("/{appointment_id:uuid}/status", status_code=HTTP_200_OK)
    async def set_status(
        self,
        uow: Uow,
        actor: CurrentActor,
        appointment_id: FromPath[uuid.UUID],
        data: JSONBody[StatusIn],
    ) -> AppointmentOut:
        """Mark seen, excused, no-show, or revoked."""
        return AppointmentOut.of(
            await booking.set_status(
                uow=uow, actor=actor, appointment_id=appointment_id, status=data.status
            )
        )
