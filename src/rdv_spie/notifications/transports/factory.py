"""Chooses the transports from the settings: SMTP and Twilio when configured, files otherwise.

Owns: that choice and the lifetime of what it builds (``Transports.aclose``). Called by the web
process and the worker at start-up, never at import time.
"""

from __future__ import annotations

from dataclasses import dataclass

from rdv_spie.clock import Clock
from rdv_spie.notifications.transports.base import EmailTransport, SmsTransport
from rdv_spie.notifications.transports.folder import FolderTransport
from rdv_spie.notifications.transports.smtp import SmtpTransport
from rdv_spie.notifications.transports.twilio_sms import TwilioTransport
from rdv_spie.settings import Settings


@dataclass(frozen=True, slots=True)
class Transports:
    """The e-mail and SMS transports in use."""

    email: EmailTransport
    sms: SmsTransport

    async def aclose(self) -> None:
        """Release connections and HTTP sessions."""
        seen: set[int] = set()
        for transport in (self.email, self.sms):
            close = getattr(transport, "aclose", None)
            if close is not None and id(transport) not in seen:
                seen.add(id(transport))
                await close()


def build_transports(settings: Settings, *, clock: Clock | None = None) -> Transports:
    """SMTP when ``smtp_host`` is set, Twilio when its account and token are; files otherwise.

    ``clock`` only dates the outbox file names (the demo moves through days).
    """
    if settings.twilio_account_sid and not settings.twilio_auth_token:
        raise ValueError("twilio_account_sid is set but twilio_auth_token is not")
    folder = FolderTransport(
        settings.outbox_dir,
        from_address=settings.email_from_address,
        from_name=settings.email_from_name,
        clock=clock,
    )
    email: EmailTransport = SmtpTransport(settings) if settings.smtp_host else folder
    sms: SmsTransport = TwilioTransport(settings) if settings.twilio_account_sid else folder
    return Transports(email=email, sms=sms)
