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

import structlog

from rdv_spie.clock import Clock
from rdv_spie.db.engine import is_database_busy
from rdv_spie.db.uow import Database, UnitOfWork
from rdv_spie.ical import ics
from rdv_spie.ical.event import CalendarEvent
from rdv_spie.notifications import compose, outbox
from rdv_spie.notifications.batching import Coalescer
from rdv_spie.notifications.models import Notification, NotificationStatus
from rdv_spie.notifications.policy import MAX_ATTEMPTS, retry_at
from rdv_spie.notifications.registry import MessageKind, Registry
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
from rdv_spie.templating.render import Renderer

_log = structlog.get_logger(__name__)
S = NotificationStatus
STATUS_CALLBACK_PATH = "/webhooks/twilio/status"


BATCH = 50  # messages claimed, or outcomes recorded, in one transaction at most


@dataclass(frozen=True, slots=True)
class _Ready:
    """A claimed message, composed and rendered, to hand to its transport."""

    n: Notification
    outgoing: OutgoingSms | OutgoingEmail


@dataclass(frozen=True, slots=True)
class _Outcome:
    """What the transport said about one attempt, to record."""

    n: Notification
    status: NotificationStatus
    provider_id: str | None = None
    error_code: str | None = None
    alert: bool = False  # a person will not get it: tell their referent
    handed: bool = True  # False: the provider was never called (handed_at cleared)


@dataclass(slots=True)
class Deliverer:
    """What sending needs, built once per process (worker start-up or web lifespan).

    Concurrent ``deliver`` calls share transactions: the claims and the outcomes submitted
    while a batch runs go into the next one, one transaction for both (``batching.Coalescer``).
    Each call still returns only once its claim, then its outcome, is committed.
    """

    db: Database
    clock: Clock
    settings: Settings
    transports: Transports
    renderer: Renderer
    secret_key: bytes
    messages: Registry  # every room's kinds (rdv_spie/messages.py)
    rng: random.Random = field(default_factory=random.SystemRandom)
    _batches: Coalescer[uuid.UUID | _Outcome, _Ready | str | bool] = field(init=False)

    def __post_init__(self) -> None:
        self._batches = Coalescer(self._batch, limit=BATCH, orphan=self._release)

    async def _claim(self, notification_id: uuid.UUID) -> _Ready | str:
        claimed = await self._batches.submit(notification_id)
        assert not isinstance(claimed, bool)
        return claimed

    async def _record(self, outcome: _Outcome) -> None:
        await self._batches.submit(outcome)

    async def deliver(self, notification_id: uuid.UUID) -> str:
        """Try to send one message; returns what happened (for logs and tests)."""
        try:
            ready = await self._claim(notification_id)
        except Exception as exc:
            if is_database_busy(exc):  # SQLite's write lock: nothing claimed, still pending
                raise
            # Its batch failed, then it failed alone: a database error while composing it.
            # Nothing of that transaction stands; claim it again to count the attempt.
            _log.exception("compose_failed", notification_id=str(notification_id))
            async with self.db.unit_of_work(clock=self.clock) as uow:
                n = await outbox.claim_row(uow, notification_id)
                if n is None:
                    return "not_claimed"
                failed = _Outcome(n, S.PENDING, error_code="compose_error", handed=False)
                return await self._settle(uow, failed)
        if isinstance(ready, str):  # not claimed, or settled without sending
            return ready
        n, outgoing = ready.n, ready.outgoing
        log = _log.bind(notification_id=str(n.id))
        try:
            if isinstance(outgoing, OutgoingSms):
                provider_id = await self.transports.sms.send_sms(outgoing)
            else:
                provider_id = await self.transports.email.send_email(outgoing)
        except TransientError as exc:
            give_up = n.attempts >= MAX_ATTEMPTS
            await self._record(_Outcome(n, S.PENDING, error_code=exc.code))
            log.warning(
                "notification_gave_up" if give_up else "notification_retry",
                code=exc.code,
                attempt=n.attempts,
            )
            return "failed" if give_up else "retry"
        except PermanentError as exc:
            await self._record(_Outcome(n, S.FAILED, error_code=exc.code, alert=True))
            log.warning("notification_failed", code=exc.code, attempt=n.attempts)
            return "failed"
        except UnknownOutcome as exc:
            await self._record(_Outcome(n, S.UNKNOWN, error_code=exc.code))
            log.warning("notification_unknown", code=exc.code, attempt=n.attempts)
            return "unknown"
        await self._record(_Outcome(n, S.SENT, provider_id=provider_id))
        log.info("notification_sent", channel=n.channel, name=n.name, attempt=n.attempts)
        return "sent"

    async def _batch(self, items: list[uuid.UUID | _Outcome]) -> list[_Ready | str | bool]:
        """Record the outcomes, then claim the messages, in one transaction (on PostgreSQL,
        the messages sent and the claims in one statement)."""
        outcomes = [item for item in items if isinstance(item, _Outcome)]
        ids = [item for item in items if not isinstance(item, _Outcome)]
        sent = [(o.n, o.provider_id) for o in outcomes if o.status is S.SENT]
        async with self.db.unit_of_work(clock=self.clock) as uow:
            recorded = iter(await self._record_in(uow, outcomes))
            claimed = await outbox.record_sent_then_claim(uow, sent, ids)
            composed = iter(await self._compose_in(uow, ids, claimed))
        return [next(recorded if isinstance(item, _Outcome) else composed) for item in items]

    async def _compose_in(
        self, uow: UnitOfWork, ids: list[uuid.UUID], claimed: dict[uuid.UUID, Notification]
    ) -> list[_Ready | str]:
        """Compose and render in ``uow`` the messages just claimed. A message that must not
        leave is settled right there; an SMS is marked handed to the provider when this
        commits, just before the call (a crash after that leaves it unknown, never resent
        blindly): the claim marks every SMS, and one settled here is recorded unhanded before
        the commit."""
        results: list[_Ready | str] = []
        loaded = await compose.preload(uow, list(claimed)) if claimed else {}
        for notification_id in ids:
            n = claimed.pop(notification_id, None)  # an id twice: claimed once
            if n is None:
                results.append("not_claimed")
                continue
            try:
                kind = self.messages[n.name]
                built = await compose.compose(
                    uow,
                    n,
                    kind,
                    public_url=self.settings.public_url,
                    secret_key=self.secret_key,
                    loaded=loaded.get(n.id),
                )
                outgoing = None if isinstance(built, compose.Skip) else self._render(n, kind, built)
            except Exception:
                # A bug in one message's data or template: retried later, alone if need
                # be (a database error fails the batch, which is then run item by item).
                _log.exception("compose_failed", notification_id=str(n.id))
                failed = _Outcome(n, S.PENDING, error_code="compose_error", handed=False)
                results.append(await self._settle(uow, failed))
                continue
            if isinstance(built, compose.Skip):
                await outbox.record(
                    uow,
                    notification_id=n.id,
                    attempt=n.attempts,
                    status=S(built.status),
                    error_code=built.code,
                    handed=False,
                )
                _log.info("notification_skipped", notification_id=str(n.id), code=built.code)
                results.append(built.status)
                continue
            assert outgoing is not None
            results.append(_Ready(n, outgoing))
        return results

    async def _release(self, ready: _Ready | str | bool) -> None:
        """A claimed message whose send was cancelled while its claim committed (a worker
        shutting down): back to pending now, ``handed_at`` cleared, as nobody called the
        provider."""
        if isinstance(ready, _Ready):
            async with self.db.unit_of_work(clock=self.clock) as uow:
                await outbox.record(
                    uow,
                    notification_id=ready.n.id,
                    attempt=ready.n.attempts,
                    status=S.PENDING,
                    error_code="cancelled",
                    not_before=self.clock.now(),
                )

    async def _settle(self, uow: UnitOfWork, outcome: _Outcome) -> str:
        """Record a transient failure in ``uow``: back to pending with a backoff, or failed
        (and the referent told) after the last attempt."""
        n = outcome.n
        give_up = n.attempts >= MAX_ATTEMPTS
        code = outcome.error_code or "transient"
        recorded = await outbox.record(
            uow,
            notification_id=n.id,
            attempt=n.attempts,
            status=S.FAILED if give_up else S.PENDING,
            error_code=code,
            not_before=None if give_up else retry_at(self.clock.now(), n.attempts, self.rng),
            handed=outcome.handed,
        )
        if recorded and give_up:
            await outbox.alert_referent(uow, n, code)
        return "failed" if give_up else "retry"

    async def _record_in(self, uow: UnitOfWork, outcomes: list[_Outcome]) -> list[bool]:
        """Record in ``uow`` the outcomes other than sent (those are recorded with the claims,
        ``outbox.record_sent_then_claim``), each only if its claim still owns the row. True
        for the outcomes sent (their result is not used)."""
        recorded: list[bool] = []
        for outcome in outcomes:
            n = outcome.n
            if outcome.status is S.SENT:
                recorded.append(True)
            elif outcome.status is S.PENDING:
                recorded.append(await self._settle(uow, outcome) == "retry")
            else:
                done = await outbox.record(
                    uow,
                    notification_id=n.id,
                    attempt=n.attempts,
                    status=outcome.status,
                    provider_id=outcome.provider_id,
                    error_code=outcome.error_code,
                )
                if done and outcome.alert:
                    await outbox.alert_referent(uow, n, outcome.error_code or "failed")
                recorded.append(done)
        return recorded

    def _render(
        self, n: Notification, kind: MessageKind, built: compose.Composed
    ) -> OutgoingSms | OutgoingEmail:
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
        method = kind.ics
        if method and built.event is not None:
            attachments = (self._ics(built, built.event, method),)
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

    def _ics(self, built: compose.Composed, event: CalendarEvent, method: str) -> Attachment:
        body = ics.event_calendar(
            event,
            method="CANCEL" if method == "CANCEL" else "REQUEST",
            tzid=built.territory.timezone,
            organizer_email=self.settings.email_from_address,
            organizer_name=built.organisation.name if built.organisation else built.territory.name,
            url=built.context.get("link"),
        )
        return Attachment(
            filename=event.filename,
            content_type=f"text/calendar; method={method}; charset=utf-8",
            content=body,
        )


def status_callback_url(public_url: str, notification_id: uuid.UUID) -> str:
    """Where Twilio reports on a message; the id lets a callback settle a message whose SID we
    never learnt (a 500 or a crash after the request left)."""
    return f"{public_url.rstrip('/')}{STATUS_CALLBACK_PATH}?n={notification_id}"
