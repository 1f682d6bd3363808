"""Twilio status callbacks: signature checked against the configured public URL, statuses
applied monotonically (a late or repeated callback never moves a message backwards)."""

from __future__ import annotations

import uuid
from typing import Any

import structlog
from litestar import Request, post
from litestar.response import Response
from sqlalchemy import update
from twilio.request_validator import RequestValidator

from rdv_spie.deps import AppClock, AppSettings, Db
from rdv_spie.errors import Forbidden
from rdv_spie.notifications import deliver, outbox
from rdv_spie.notifications.models import Notification, NotificationStatus

_log = structlog.get_logger(__name__)
S = NotificationStatus
# Twilio's MessageStatus → ours, and the statuses each may replace.
_TARGET = {
    "accepted": S.SENT,
    "scheduled": S.SENT,
    "queued": S.SENT,
    "sending": S.SENT,
    "sent": S.SENT,
    "delivered": S.DELIVERED,
    "read": S.DELIVERED,
    "undelivered": S.FAILED,
    "failed": S.FAILED,
    "canceled": S.FAILED,
}
_REPLACES = {
    S.SENT: (S.SENDING, S.UNKNOWN),
    S.DELIVERED: (S.SENDING, S.UNKNOWN, S.SENT),
    S.FAILED: (S.SENDING, S.UNKNOWN, S.SENT),
}


@post(
    deliver.STATUS_CALLBACK_PATH,
    status_code=204,
    include_in_schema=False,
    opt={"csrf_exempt": True},  # signed by Twilio (X-Twilio-Signature), no cookie read
)
async def twilio_status(
    request: Request[Any, Any, Any], settings: AppSettings, database: Db, clock: AppClock
) -> Response[None]:
    """Apply one Twilio status callback (403 without a valid signature, nothing changed)."""
    form = await request.form()
    params = {key: str(value) for key, value in form.items()}
    signature = request.headers.get("x-twilio-signature", "")
    query = request.url.query
    url = settings.public_url.rstrip("/") + request.url.path + (f"?{query}" if query else "")
    token = settings.twilio_auth_token
    if not token or not signature or not RequestValidator(token).validate(url, params, signature):
        raise Forbidden("missing or invalid Twilio signature", code="bad_signature")
    target = _TARGET.get(params.get("MessageStatus", ""))
    try:
        notification_id = uuid.UUID(request.query_params.get("n", ""))
    except ValueError:
        notification_id = None
    sid = params.get("MessageSid")
    if target is None or notification_id is None or not sid:
        return Response(None, status_code=204)
    now = clock.now()
    values: dict[str, Any] = {"status": target, "provider_id": sid, "updated_at": now}
    if target in (S.DELIVERED, S.FAILED):
        values["settled_at"] = now
    if target is S.FAILED:
        values["error_code"] = f"twilio_{params.get('ErrorCode') or 'undelivered'}"
    async with database.unit_of_work(clock=clock) as uow:
        result = await uow.session.execute(
            update(Notification)
            .where(
                Notification.id == notification_id,
                Notification.channel == "sms",
                Notification.status.in_(_REPLACES[target]),
            )
            .values(**values, lease_until=None)
            .execution_options(synchronize_session=False)
        )
        changed = bool(getattr(result, "rowcount", 0))
        n = await uow.session.get(Notification, notification_id) if changed else None
        if n is not None and target is S.FAILED:
            await outbox.alert_referent(uow, n, values["error_code"])
        elif n is not None:
            await outbox.provider_accepted(uow, n)
    _log.info("twilio_status", notification_id=str(notification_id), status=target, applied=changed)
    return Response(None, status_code=204)
