"""The e-mails the browser flows read: the outbox's due messages sent as the worker sends them
(the deliverer of worker/context.py, the project's SMTP transport) to a loopback SMTP server
(tests/support/smtp_server.py), with the live server as the public URL, so a link in an e-mail
opens the page under test. Nothing leaves the machine.

    mailbox = Mailbox(smtp, settings, db, clock, live_server)
    [message] = await mailbox.deliver(to="new@test.test")
    link = mailbox.link(message, "/agent/mot-de-passe")
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage

from tests.support.smtp_server import SmtpServer

from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.notifications import outbox
from rdv_spie.settings import Settings
from rdv_spie.worker.context import build_context

_URL = re.compile(r"https?://[^\s\"'<>]+")


@dataclass
class Mailbox:
    """Sends the outbox's due messages to the loopback SMTP server and reads them back."""

    smtp: SmtpServer
    settings: Settings
    db: Database
    clock: FrozenClock
    public_url: str

    async def deliver(self, *, to: str) -> list[EmailMessage]:
        """Send every due message as the worker would; the e-mails ``to`` received since the
        server was last reset."""
        settings = self.settings.model_copy(
            update={"public_url": self.public_url, **self.smtp.settings()}
        )
        jobs = build_context(settings, self.clock, db=self.db)
        try:
            for notification_id, _ in await outbox.due(self.db, clock=self.clock):
                await jobs.deliverer.deliver(notification_id)
        finally:
            await jobs.aclose()
        return [m.message for m in self.smtp.messages if to in m.rcpt_tos]

    def link(self, message: EmailMessage, path: str) -> str:
        """The one link of the e-mail's plain text to ``path`` on the live server (the HTML
        part carries the same)."""
        body = message.get_body(preferencelist=("plain",))
        assert body is not None, "the e-mail has no plain text part"
        text = body.get_content()
        found = {u for u in _URL.findall(text) if u.startswith(f"{self.public_url}{path}")}
        assert len(found) == 1, f"expected one link to {path} in:\n{text}"
        return found.pop()
