"""Send one outbox row: claim it, compose and render it, hand it to a transport, record the
outcome. Used by the arq job and by the web process's in-process runner alike.

At most once: the claim is a compare-and-swap and each outcome is recorded only by the claim
that owns the row. Never lost: a transient failure goes back to pending with a backoff, and a
crash leaves a lease that ``outbox.recover`` moves on. Logs carry the notification id and
codes only: never an address, a phone number, a body or a link.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC

import structlog

from rdv_spie.calendars import ics
from rdv_spie.clock import Clock
from rdv_spie.db.uow import Database
from rdv_spie.invitations.policy import MAX_ATTEMPTS, retry_at
from rdv_spie.notifications import compose, outbox
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.notifications.render import Renderer
from rdv_spie.notifications.transports.base import (
    Attachment,
    OutgoingEmail,
    OutgoingSms,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from rdv_spie.notifications.transports.factory import Transports
from rdv_spie.settings import Settings

_log = structlog.get_logger(__name__)
S = NotificationStatus
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


@dataclass(slots=True)
class Deliverer:
    """What sending needs, built once per process (worker start-up or web lifespan)."""

    db: Database
    clock: Clock
    settings: Settings
    transports: Transports
    renderer: Renderer
    secret_key: bytes
    rng: random.Random = field(default_factory=random.SystemRandom)

    async def deliver(self, notification_id: uuid.UUID) -> str:
        """Try to send one message; returns what happened (for logs and tests)."""
        log = _log.bind(notification_id=str(notification_id))
        try:
            # Claim, compose and render in one transaction: a message that must not leave is
            # settled right there, and an SMS is marked handed to the provider when it
            # commits, just before the call.
            async with self.db.unit_of_work(clock=self.clock) as uow:
                n = await outbox.claim_row(uow, notification_id)
                if n is None:
                    return "not_claimed"
                attempt = n.attempts
                built = await compose.compose(
                    uow, n, public_url=self.settings.public_url, secret_key=self.secret_key
                )
                if isinstance(built, compose.Skip):
                    await outbox.record(
                        uow,
                        notification_id=notification_id,
                        attempt=attempt,
                        status=S(built.status),
                        error_code=built.code,
                    )
                    outgoing = None
                else:
                    outgoing = self._render(n, built)
                    if isinstance(outgoing, OutgoingSms):  # e-mail is resent after a crash
                        n.handed_at = self.clock.now()
        except Exception:
            # Nothing of that transaction stands: claim again to count the attempt.
            log.exception("compose_failed")
            return await self._settle_transient(notification_id, None, "compose_error", log)

        if outgoing is None:
            assert isinstance(built, compose.Skip)
            log.info("notification_skipped", code=built.code)
            return built.status

        try:
            if isinstance(outgoing, OutgoingSms):
                provider_id = await self.transports.sms.send_sms(outgoing)
            else:
                provider_id = await self.transports.email.send_email(outgoing)
        except TransientError as exc:
            return await self._settle_transient(notification_id, attempt, exc.code, log)
        except PermanentError as exc:
            async with self.db.unit_of_work(clock=self.clock) as uow:
                if await outbox.record(
                    uow,
                    notification_id=notification_id,
                    attempt=attempt,
                    status=S.FAILED,
                    error_code=exc.code,
                ):
                    await outbox.alert_referent(uow, n, exc.code)
            log.warning("notification_failed", code=exc.code, attempt=attempt)
            return "failed"
        except UnknownOutcome as exc:
            async with self.db.unit_of_work(clock=self.clock) as uow:
                await outbox.record(
                    uow,
                    notification_id=notification_id,
                    attempt=attempt,
                    status=S.UNKNOWN,
                    error_code=exc.code,
                )
            log.warning("notification_unknown", code=exc.code, attempt=attempt)
            return "unknown"

        async with self.db.unit_of_work(clock=self.clock) as uow:
            recorded = await outbox.record(
                uow,
                notification_id=notification_id,
                attempt=attempt,
                status=S.SENT,
                provider_id=provider_id,
            )
            # Also when a status callback overtook this answer and already moved the row on.
            await outbox.provider_accepted(uow, n, sent_at_recorded=recorded)
        log.info("notification_sent", channel=n.channel, name=n.name, attempt=attempt)
        return "sent"

    async def _settle_transient(
        self,
        notification_id: uuid.UUID,
        attempt: int | None,
        code: str,
        log: structlog.BoundLogger,
    ) -> str:
        """Back to pending with a backoff, or failed after the last attempt. ``attempt`` None:
        the claim did not stand (it rolled back with the compose), so claim again first."""
        async with self.db.unit_of_work(clock=self.clock) as uow:
            if attempt is None:
                claimed = await outbox.claim_row(uow, notification_id)
                if claimed is None:
                    return "not_claimed"
                attempt = claimed.attempts
            give_up = attempt >= MAX_ATTEMPTS
            recorded = await outbox.record(
                uow,
                notification_id=notification_id,
                attempt=attempt,
                status=S.FAILED if give_up else S.PENDING,
                error_code=code,
                not_before=None if give_up else retry_at(self.clock.now(), attempt, self.rng),
            )
            if recorded and give_up:
                n = await uow.session.get(Notification, notification_id)
                assert n is not None
                await outbox.alert_referent(uow, n, code)
        log.warning(
            "notification_retry" if not give_up else "notification_gave_up",
            code=code,
            attempt=attempt,
        )
        return "failed" if give_up else "retry"

    def _render(self, n: Notification, built: compose.Composed) -> OutgoingSms | OutgoingEmail:
        slug = built.territory.slug
        if n.channel == "sms":
            body = self.renderer.render_sms(n.name, built.context, territory_slug=slug)
            return OutgoingSms(
                to=built.address,
                body=body,
                sender=built.territory.sms_sender or self.settings.sms_sender,
                status_callback=status_callback_url(self.settings.public_url, n.id),
            )
        email = self.renderer.render_email(n.name, built.context, territory_slug=slug)
        attachments: tuple[Attachment, ...] = ()
        method = compose.ICS_METHOD.get(n.name)
        if method and built.appointment is not None:
            attachments = (self._ics(built, method),)
        organisation = built.organisation
        return OutgoingEmail(
            to=built.address,
            subject=email.subject,
            text=email.text,
            html=email.html,
            from_address=self.settings.email_from_address,
            from_name=organisation.name if organisation else self.settings.email_from_name,
            reply_to=organisation.email if organisation and organisation.email else None,
            message_id=compose.message_id(n.id, self.settings.public_url),
            attachments=attachments,
        )

    def _ics(self, built: compose.Composed, method: str) -> Attachment:
        appointment = built.appointment
        assert appointment is not None
        place = built.place
        location = None
        if place is not None:
            parts = [
                place.name,
                place.address,
                " ".join(p for p in (place.postcode, place.city) if p),
            ]
            location = ", ".join(p for p in parts if p)
        body = ics.appointment_calendar(
            method="CANCEL" if method == "CANCEL" else "REQUEST",
            uid=f"appointment-{appointment.id}@rdv-spie",
            sequence=appointment.sequence,
            starts_at=appointment.starts_at,
            ends_at=appointment.ends_at,
            tzid=built.territory.timezone,
            summary=built.appointment_type.name if built.appointment_type else "Rendez-vous",
            location=location,
            description=None,
            organizer_email=self.settings.email_from_address,
            organizer_name=built.organisation.name if built.organisation else built.territory.name,
            attendee_email=None,
            dtstamp=appointment.updated_at.astimezone(UTC),
            url=built.context.get("link"),
        )
        return Attachment(
            filename="rendez-vous.ics",
            content_type=f"text/calendar; method={method}; charset=utf-8",
            content=body,
        )


def status_callback_url(public_url: str, notification_id: uuid.UUID) -> str:
    """Where Twilio reports on a message; the id lets a callback settle a message whose SID we
    never learnt (a 500 or a crash after the request left)."""
    return f"{public_url.rstrip('/')}{STATUS_CALLBACK_PATH}?n={notification_id}"
