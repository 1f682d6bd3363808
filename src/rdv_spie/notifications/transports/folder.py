"""The embedded default transport: every e-mail and SMS becomes a file in the outbox folder.

Owns: the file names (``<UTC timestamp>-<id>.eml`` / ``.txt``) and their content. An ``.eml``
is the exact RFC 5322 message SMTP would carry (attachments included), so a double-click opens
it in a mail client; an SMS ``.txt`` holds the recipient, the sender and the body in UTF-8.
Files are written atomically (a hidden temporary file, then ``os.replace``), readable by the
owner only since they hold personal data. Never sends anything anywhere.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from datetime import UTC, datetime
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path

from rdv_spie.clock import Clock
from rdv_spie.notifications.transports.base import OutgoingEmail, OutgoingSms
from rdv_spie.notifications.transports.smtp import build_email_message

_UNSAFE = re.compile(r"[^A-Za-z0-9._@-]+")


class FolderTransport:
    """Writes e-mails as ``.eml`` and SMS as ``.txt`` in ``outbox_dir``; returns 'file:<name>'."""

    def __init__(
        self,
        outbox_dir: Path,
        *,
        from_address: str = "rdv-spie@localhost",
        from_name: str = "",
        clock: Clock | None = None,
    ) -> None:
        self.outbox_dir = Path(outbox_dir)
        self._from_address = from_address
        self._from_name = from_name
        self._clock = clock

    async def aclose(self) -> None:
        """Nothing to release (kept for symmetry with the network transports)."""

    async def send_email(self, message: OutgoingEmail) -> str:
        """Write the message as ``<timestamp>-<Message-ID>.eml``."""
        mime = build_email_message(
            message, from_address=self._from_address, from_name=self._from_name
        )
        name = f"{self._stamp()}-{_safe(str(mime['Message-ID']))}.eml"
        await asyncio.to_thread(self._write, name, mime.as_bytes(policy=SMTP_POLICY))
        return f"file:{name}"

    async def send_sms(self, message: OutgoingSms) -> str:
        """Write the SMS as ``<timestamp>-sms-<random id>.txt``."""
        name = f"{self._stamp()}-sms-{uuid.uuid4().hex}.txt"
        lines = [f"To: {message.to}", f"From: {message.sender}"]
        if message.status_callback:
            lines.append(f"Status-Callback: {message.status_callback}")
        text = "\n".join([*lines, "", message.body, ""])
        await asyncio.to_thread(self._write, name, text.encode("utf-8"))
        return f"file:{name}"

    def _stamp(self) -> str:
        now = self._clock.now() if self._clock is not None else datetime.now(UTC)
        return now.astimezone(UTC).strftime("%Y%m%dT%H%M%S%fZ")

    def _write(self, name: str, content: bytes) -> None:
        self.outbox_dir.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".", suffix=".part", dir=self.outbox_dir)
        try:
            with os.fdopen(fd, "wb") as file:
                file.write(content)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temp, self.outbox_dir / name)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _safe(message_id: str) -> str:
    return _UNSAFE.sub("_", message_id.strip("<>"))[:120] or uuid.uuid4().hex
