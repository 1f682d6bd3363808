"""What every transport takes and how it reports failure.

A transport sends one message and returns the provider's id for it. It raises one of three
errors, and the delivery code decides from the class alone what happens next:

- ``TransientError``: nothing was sent; try again later (SMTP 4xx, connection refused or reset
  before the message was accepted, Twilio 429/503).
- ``PermanentError``: nothing was sent and trying again will not help (SMTP 5xx, Twilio 4xx such
  as an invalid number); the referent is shown the failure.
- ``UnknownOutcome``: the provider may have accepted the message (Twilio 500, a timeout after the
  request left); never re-sent blindly, a status callback settles it.

Errors carry a short ``code`` (``smtp_450``, ``twilio_21211``, ``timeout``) and never an address,
a phone number or a message body.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


class DeliveryError(Exception):
    """Base of the three outcomes that are not a success."""

    def __init__(self, code: str, detail: str = "") -> None:
        super().__init__(f"{code}: {detail}" if detail else code)
        self.code = code
        self.detail = detail


class TransientError(DeliveryError):
    """Not sent; retry with backoff."""


class PermanentError(DeliveryError):
    """Not sent; do not retry."""


class UnknownOutcome(DeliveryError):
    """Perhaps sent; wait for the provider's status callback, never resend blindly."""


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to an e-mail (e.g. an .ics invitation)."""

    filename: str
    content_type: str  # e.g. 'text/calendar; method=REQUEST; charset=utf-8'
    content: bytes


@dataclass(frozen=True, slots=True)
class OutgoingEmail:
    """One e-mail to one recipient."""

    to: str
    subject: str
    text: str
    html: str | None = None
    from_address: str = ""
    from_name: str = ""
    reply_to: str | None = None
    # Stable per notification, so a resend after a crash carries the same Message-ID.
    message_id: str = ""
    attachments: tuple[Attachment, ...] = field(default_factory=tuple)


@dataclass(frozen=True, slots=True)
class OutgoingSms:
    """One SMS to one E.164 number."""

    to: str
    body: str
    # Either a Twilio Messaging Service SID (MG…) or an alphanumeric sender (≤ 11 characters).
    sender: str
    status_callback: str | None = None


class EmailTransport(Protocol):
    """Sends e-mail; returns the provider's id (the Message-ID for SMTP)."""

    async def send_email(self, message: OutgoingEmail) -> str: ...


class SmsTransport(Protocol):
    """Sends SMS; returns the provider's id (the Twilio Message SID)."""

    async def send_sms(self, message: OutgoingSms) -> str: ...
