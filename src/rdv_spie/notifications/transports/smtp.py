"""E-mail over SMTP (aiosmtplib), and the MIME shape of every e-mail we write.

Owns: the RFC 5322 message built from an ``OutgoingEmail`` (shared with the folder transport),
the SMTP dialogue over a small pool of reused connections, and the mapping of SMTP replies and
socket errors to ``TransientError`` / ``PermanentError`` / ``UnknownOutcome``.

Never logs anything, and never puts an address, a subject or a body in an error: only a code
(``smtp_450``) and at most the server's enhanced status code (``4.2.0``) as detail.

How a failure is classified depends on where it happens:

- before MAIL (connect, greeting, EHLO, STARTTLS, certificate, AUTH): ``TransientError``,
  whatever the reply code, because nothing about the message was said yet: a broken relay or
  a bad credential is fixed by the operator, and the message must still leave afterwards;
- MAIL, RCPT, DATA (up to the 354 reply): 4xx ``TransientError``, 5xx ``PermanentError``,
  timeout ``TransientError('timeout')``, lost connection ``TransientError('connection')``;
- after the end of data is written: the final 250/4xx/5xx reply decides; no reply (timeout,
  disconnect, garbage) is ``UnknownOutcome('smtp_no_reply')``, since the server may have
  queued the message. aiosmtplib's ``SMTP.data()`` reads both replies under one timeout and
  cannot tell these two timeouts apart, so DATA is driven in two steps here: ``DATA`` through
  ``SMTP.execute_command`` (one reply), then the dot-stuffed body through the public
  ``SMTPProtocol.write`` / ``read_response`` of the connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import email.errors
import functools
import ipaddress
import re
import ssl
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import format_datetime, make_msgid
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import aiosmtplib

from rdv_spie.notifications.transports.base import (
    DeliveryError,
    OutgoingEmail,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from rdv_spie.settings import Settings

_ENHANCED_STATUS = re.compile(r"^[245]\.\d{1,3}\.\d{1,3}\b")
_LINE_ENDINGS = re.compile(rb"\r\n|\n|\r")
_LEADING_DOT = re.compile(rb"(?m)^\.")
_MESSAGE_ID = re.compile(r"[!-;=?-~]+@[!-;=?-~]+")  # printable ASCII but '<', '>' and space
_QUIT_TIMEOUT_SECONDS = 2.0


def build_email_message(
    message: OutgoingEmail, *, from_address: str, from_name: str
) -> EmailMessage:
    """The RFC 5322 message for ``message``; raises ``PermanentError`` when it cannot exist."""
    sender_address = message.from_address or from_address
    try:
        sender = _address(sender_address, message.from_name or from_name)
        mime = EmailMessage(policy=SMTP_POLICY)
        mime["From"] = sender
        mime["To"] = _address(message.to)
        if message.reply_to:
            mime["Reply-To"] = _address(message.reply_to)
        mime["Subject"] = message.subject
        mime["Date"] = format_datetime(datetime.now(UTC))
        mime["Message-ID"] = message_id_of(message, domain=sender.domain)
        # RFC 3834: tells mailboxes not to answer with an out-of-office reply.
        mime["Auto-Submitted"] = "auto-generated"
        # Quoted-printable and base64 keep the message 7-bit, so no relay needs 8BITMIME.
        mime.set_content(message.text, subtype="plain", charset="utf-8", cte="quoted-printable")
        if message.html is not None:
            mime.add_alternative(
                message.html, subtype="html", charset="utf-8", cte="quoted-printable"
            )
        for attachment in message.attachments:
            maintype, subtype, params = _content_type(attachment.content_type)
            mime.add_attachment(
                attachment.content,
                maintype,
                subtype,
                filename=attachment.filename,
                params=dict(params),
            )
    except (ValueError, email.errors.MessageError):
        # The parser's message may quote the address: keep only the category.
        raise PermanentError("invalid_message") from None
    return mime


def message_id_of(message: OutgoingEmail, *, domain: str) -> str:
    """The Message-ID header value: the caller's stable id as ``<left@right>``, or a new one."""
    given = message.message_id.strip().removeprefix("<").removesuffix(">")
    if not given:
        # With a domain, make_msgid never asks DNS for this host's name.
        return make_msgid(domain=domain)
    if "@" not in given:
        given = f"{given}@{domain}"
    if not _MESSAGE_ID.fullmatch(given):
        raise ValueError("invalid Message-ID")
    return f"<{given}>"


def envelope_address(addr_spec: str) -> str:
    """The ASCII address for MAIL FROM / RCPT TO; raises ``PermanentError`` when invalid."""
    try:
        return _address(addr_spec).addr_spec
    except (ValueError, email.errors.MessageError):
        raise PermanentError("invalid_address") from None


@functools.lru_cache(maxsize=256)  # the sender repeats; parsing costs more than the send
def _address(addr_spec: str, display_name: str = "") -> Address:
    parsed = Address(addr_spec=addr_spec.strip())
    # Envelope and headers stay ASCII: an internationalised domain travels as IDNA.
    domain = parsed.domain.encode("idna").decode("ascii")
    return Address(display_name=display_name, username=parsed.username, domain=domain)


@functools.lru_cache(maxsize=64)
def _content_type(value: str) -> tuple[str, str, tuple[tuple[str, str], ...]]:
    header = EmailMessage()
    header["Content-Type"] = value
    params = tuple((key, str(val)) for key, val in header["Content-Type"].params.items())
    return header.get_content_maintype(), header.get_content_subtype(), params


def data_payload(flat: bytes) -> bytes:
    """The bytes that follow a 354 reply: CRLF lines, dots doubled (RFC 5321 §4.5.2), '.'."""
    body = _LINE_ENDINGS.sub(b"\r\n", flat)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return _LEADING_DOT.sub(b"..", body) + b".\r\n"


def _is_loopback(host: str) -> bool:
    name = host.strip("[]").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _helo_name(public_url: str) -> str:
    # An explicit EHLO name: aiosmtplib would otherwise ask DNS through socket.getfqdn().
    host = urlsplit(public_url).hostname or "localhost"
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return host.encode("idna").decode("ascii")
    return f"[{ip}]" if ip.version == 4 else f"[IPv6:{ip}]"


def _detail(text: str) -> str:
    match = _ENHANCED_STATUS.match(text.strip())
    return match.group(0) if match else ""


def _by_reply(code: int, text: str) -> DeliveryError:
    detail = _detail(text)
    if 500 <= code <= 599:
        return PermanentError(f"smtp_{code}", detail)
    if code < 0:
        return TransientError("smtp_bad_reply")
    return TransientError(f"smtp_{code}", detail)


def _before_mail(exc: Exception) -> DeliveryError:
    """Connect, greeting, EHLO, STARTTLS, AUTH: never the message's fault."""
    if isinstance(exc, aiosmtplib.SMTPAuthenticationError):
        return TransientError(f"smtp_auth_{exc.code}", _detail(exc.message))
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return TransientError(f"smtp_{exc.code}", _detail(exc.message))
    if isinstance(exc, ssl.SSLCertVerificationError):
        return TransientError("tls_certificate")
    if isinstance(exc, ssl.SSLError):
        return TransientError("tls")
    return _in_transaction(exc)


def _in_transaction(exc: Exception) -> DeliveryError:
    """MAIL, RCPT and DATA up to its 354: the server has not seen the end of data."""
    if isinstance(exc, DeliveryError):
        return exc
    if isinstance(exc, aiosmtplib.SMTPRecipientsRefused):
        # One recipient per message; with several, any 4xx means a retry may still work.
        first = min(exc.recipients, key=lambda refused: refused.code, default=None)
        return _by_reply(first.code, first.message) if first else TransientError("smtp_error")
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        return _by_reply(exc.code, exc.message)
    if isinstance(exc, TimeoutError):
        return TransientError("timeout")
    if isinstance(exc, OSError):
        return TransientError("connection")
    if isinstance(exc, aiosmtplib.SMTPNotSupported):
        return PermanentError("smtp_not_supported")
    # e.g. "STARTTLS extension not supported by server": the relay, not the message.
    return TransientError("smtp_error")


@dataclass(slots=True)
class _Connection:
    smtp: aiosmtplib.SMTP
    transactions: int = 0
    idle_since: float = 0.0


class SmtpTransport:
    """Sends e-mail through the configured relay, reusing up to ``pool_size`` connections.

    A connection is kept after a send for ``keep_alive_seconds`` (0: one connection per send)
    and at most ``max_messages_per_connection`` messages; a kept connection the server closed
    in the meantime is replaced once, transparently, before anything was sent on it.
    Call ``aclose()`` (or use ``async with``) to say QUIT to the kept connections.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        pool_size: int = 4,
        keep_alive_seconds: float = 30.0,
        max_messages_per_connection: int = 100,
    ) -> None:
        if not settings.smtp_host:
            raise ValueError("SmtpTransport needs settings.smtp_host")
        if settings.smtp_security == "none" and not _is_loopback(settings.smtp_host):
            raise ValueError(
                "smtp_security='none' sends in clear text: only allowed for a loopback "
                "smtp_host (localhost, 127.0.0.1, ::1); use 'starttls' or 'tls'"
            )
        if settings.smtp_username and settings.smtp_password is None:
            raise ValueError("smtp_username is set but smtp_password is not")
        if pool_size < 1:
            raise ValueError("pool_size must be at least 1")
        self._settings = settings
        self._host = settings.smtp_host
        self._helo = _helo_name(settings.public_url)
        self._tls: ssl.SSLContext | None = None
        if settings.smtp_security != "none":
            self._tls = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
            self._tls.minimum_version = ssl.TLSVersion.TLSv1_2
            if settings.smtp_ca_file is not None:
                self._tls.load_verify_locations(cafile=str(settings.smtp_ca_file))
        self._keep_alive = keep_alive_seconds
        self._max_transactions = max_messages_per_connection
        self._slots = asyncio.Semaphore(pool_size)
        self._idle: list[_Connection] = []
        self._quitting: set[asyncio.Task[None]] = set()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Say QUIT on every kept connection."""
        idle, self._idle = self._idle, []
        for conn in idle:
            await _quit(conn.smtp)
        if self._quitting:
            await asyncio.gather(*self._quitting)

    async def send_email(self, message: OutgoingEmail) -> str:
        """Send one e-mail; returns its Message-ID (with angle brackets)."""
        settings = self._settings
        mime = build_email_message(
            message, from_address=settings.email_from_address, from_name=settings.email_from_name
        )
        envelope = (
            envelope_address(message.from_address or settings.email_from_address),
            envelope_address(message.to),
        )
        payload = data_payload(mime.as_bytes(policy=SMTP_POLICY))
        async with self._slots:
            conn, reused = await self._checkout()
            healthy = False
            try:
                try:
                    await self._transaction(conn.smtp, *envelope, payload)
                except (aiosmtplib.SMTPServerDisconnected, TimeoutError, ConnectionError):
                    if not reused:
                        raise
                    # A kept connection died while idle, and nothing reached the end of data
                    # (that would be UnknownOutcome): start over once on a new connection.
                    conn.smtp.close()
                    conn = _Connection(await self._connect())
                    await self._transaction(conn.smtp, *envelope, payload)
                healthy = True
            except UnknownOutcome:
                raise
            except DeliveryError:
                # A final 4xx/5xx reply ends the transaction cleanly: the connection is reusable.
                healthy = conn.smtp.is_connected
                raise
            except Exception as exc:
                healthy = await _reset(conn.smtp, exc)
                raise _in_transaction(exc) from None
            finally:
                self._checkin(conn, healthy=healthy)
        return str(mime["Message-ID"])

    async def _checkout(self) -> tuple[_Connection, bool]:
        now = time.monotonic()
        while self._idle:
            conn = self._idle.pop()
            fresh = now - conn.idle_since < self._keep_alive
            if conn.smtp.is_connected and fresh and conn.transactions < self._max_transactions:
                return conn, True
            await _quit(conn.smtp)
        return _Connection(await self._connect()), False

    def _checkin(self, conn: _Connection, *, healthy: bool) -> None:
        conn.transactions += 1
        conn.idle_since = time.monotonic()
        keep = healthy and conn.smtp.is_connected and self._keep_alive > 0
        if keep and conn.transactions < self._max_transactions:
            self._idle.append(conn)
        elif conn.smtp.is_connected:
            # QUIT politely without making this send wait for it; aclose() awaits the rest.
            task = asyncio.get_running_loop().create_task(_quit(conn.smtp))
            self._quitting.add(task)
            task.add_done_callback(self._quitting.discard)
        else:
            conn.smtp.close()

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self._settings
        security = settings.smtp_security
        smtp = aiosmtplib.SMTP(
            hostname=self._host,
            port=settings.smtp_port,
            username=settings.smtp_username or None,
            password=settings.smtp_password,
            local_hostname=self._helo,
            timeout=settings.smtp_timeout_seconds,
            use_tls=security == "tls",
            start_tls=security == "starttls",
            tls_context=self._tls,
        )
        try:
            await smtp.connect()
        except Exception as exc:
            smtp.close()
            raise _before_mail(exc) from None
        return smtp

    async def _transaction(
        self, smtp: aiosmtplib.SMTP, sender: str, recipient: str, payload: bytes
    ) -> None:
        if smtp.is_ehlo_or_helo_needed:
            await smtp.ehlo()
        options = [f"SIZE={len(payload)}"] if smtp.supports_extension("size") else []
        await smtp.mail(sender, options=options)
        await smtp.rcpt(recipient)
        start = await smtp.execute_command(b"DATA")
        if start.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(start.code, start.message)
        protocol = smtp.protocol
        if protocol is None:
            raise aiosmtplib.SMTPServerDisconnected("Connection lost")
        # Raises before anything is queued if the connection is already gone.
        protocol.write(payload)
        # From here on the end of data may have reached the server.
        try:
            reply = await protocol.read_response(timeout=self._settings.smtp_timeout_seconds)
        except (aiosmtplib.SMTPException, OSError):
            smtp.close()
            raise UnknownOutcome("smtp_no_reply") from None
        if reply.code != aiosmtplib.SMTPStatus.completed:
            raise _by_reply(reply.code, reply.message)


async def _reset(smtp: aiosmtplib.SMTP, exc: Exception) -> bool:
    """After a refused command, RSET so the connection can carry the next message."""
    refused = isinstance(exc, aiosmtplib.SMTPResponseException | aiosmtplib.SMTPRecipientsRefused)
    if not (refused and smtp.is_connected):
        smtp.close()
        return False
    try:
        await smtp.rset()
    except (aiosmtplib.SMTPException, OSError):
        smtp.close()
        return False
    return True


async def _quit(smtp: aiosmtplib.SMTP) -> None:
    with contextlib.suppress(aiosmtplib.SMTPException, OSError):
        if smtp.is_connected:
            await smtp.quit(timeout=_QUIT_TIMEOUT_SECONDS)
    smtp.close()
