"""Transports against real loopback servers: aiosmtpd for SMTP, a fake Twilio REST API for
the official Twilio client, and the outbox folder. Nothing here may leave the machine: a guard
refuses any socket connection to a non-loopback address, and every test checks that the fake
server actually saw (or did not see) the message."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ipaddress
import re
import socket
import threading
import urllib.parse
from collections.abc import Iterator
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from tests.support.server import free_port
from tests.support.smtp_server import SmtpServer, TlsFiles, make_tls_files
from tests.support.twilio_server import TwilioServer
from twilio.request_validator import RequestValidator

from rdv_spie.notifications.transports.base import (
    Attachment,
    OutgoingEmail,
    OutgoingSms,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from rdv_spie.notifications.transports.factory import build_transports
from rdv_spie.notifications.transports.folder import FolderTransport
from rdv_spie.notifications.transports.smtp import SmtpTransport
from rdv_spie.notifications.transports.twilio_sms import TwilioTransport
from rdv_spie.settings import Settings

TO = "elodie.lefevre@exemple.fr"
PHONE = "+33612345678"
ICS = (
    b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//rdv-spie//FR\r\nMETHOD:REQUEST\r\n"
    b"BEGIN:VEVENT\r\nUID:rdv-42@rdv-spie\r\nSUMMARY:Rendez-vous d'orientation \xc3\xa0 Laon\r\n"
    b"DTSTART:20261203T090000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
)


# ---------------------------------------------------------------------------- no internet


def _loopback(address: Any) -> bool:
    if not isinstance(address, tuple):
        return True  # AF_UNIX
    host = str(address[0])
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@pytest.fixture(autouse=True)
def _loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail any test that would open a connection to a non-loopback address."""
    connect, connect_ex = socket.socket.connect, socket.socket.connect_ex

    def guarded(original: Any) -> Any:
        def call(sock: socket.socket, address: Any) -> Any:
            if not _loopback(address):
                raise AssertionError(f"test tried to reach {address!r}")
            return original(sock, address)

        return call

    monkeypatch.setattr(socket.socket, "connect", guarded(connect))
    monkeypatch.setattr(socket.socket, "connect_ex", guarded(connect_ex))


# ---------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> TlsFiles:
    return make_tls_files(tmp_path_factory.mktemp("tls"))


@pytest.fixture(scope="module")
def plain_smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="module")
def starttls_smtp(tls_files: TlsFiles) -> Iterator[SmtpServer]:
    with SmtpServer(tls="starttls", tls_files=tls_files, credentials=("rdv", "s3cret")) as server:
        yield server


@pytest.fixture
def smtp(plain_smtp: SmtpServer) -> SmtpServer:
    plain_smtp.reset()
    if not plain_smtp.running:
        plain_smtp.start()
    return plain_smtp


@pytest.fixture(scope="module")
def twilio_module() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture
def twilio(twilio_module: TwilioServer) -> TwilioServer:
    twilio_module.reset()
    return twilio_module


def _email(**changes: Any) -> OutgoingEmail:
    values: dict[str, Any] = {
        "to": TO,
        "subject": "Votre rendez-vous à Laon — jeudi 3 décembre",
        "text": "Bonjour Élodie,\n.Votre rendez-vous est confirmé.\nÀ bientôt.\n",
        "html": "<p>Bonjour Élodie,</p><p>Votre rendez-vous est confirmé.</p>",
        "from_name": "Département de l'Aisne — SPIE",
        "message_id": "<notification-42@rdv-spie.test>",
        "attachments": (
            Attachment("rendez-vous.ics", "text/calendar; method=REQUEST; charset=utf-8", ICS),
        ),
    }
    values.update(changes)
    return OutgoingEmail(**values)


def _sms(**changes: Any) -> OutgoingSms:
    values: dict[str, Any] = {
        "to": PHONE,
        "body": "Bonjour Élodie, choisissez votre rendez-vous : http://127.0.0.1:8000/i/abc",
        "sender": "SPIE Aisne",
        "status_callback": "http://127.0.0.1:8000/webhooks/twilio/status",
    }
    values.update(changes)
    return OutgoingSms(**values)


def _no_personal_data(exc: BaseException) -> None:
    for text in (str(exc), repr(exc)):
        assert TO not in text and PHONE not in text and "Élodie" not in text


def _not_chained(exc: BaseException) -> None:
    """The server's text (which may quote the address) does not ride along in tracebacks."""
    assert exc.__cause__ is None and (exc.__context__ is None or exc.__suppress_context__)


# ---------------------------------------------------------------------------- SMTP


async def test_email_arrives_intact(smtp: SmtpServer) -> None:
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        message_id = await transport.send_email(_email())

    assert message_id == "<notification-42@rdv-spie.test>"
    [received] = smtp.messages
    assert received.mail_from == "rdv-spie@localhost" and received.rcpt_tos == (TO,)
    mail = received.message
    assert mail["Message-ID"] == message_id
    assert mail["Subject"] == "Votre rendez-vous à Laon — jeudi 3 décembre"
    assert mail["From"].addresses[0].display_name == "Département de l'Aisne — SPIE"
    assert mail["To"].addresses[0].addr_spec == TO
    assert mail["Date"].datetime.tzinfo is not None
    assert mail["Auto-Submitted"] == "auto-generated"
    # Seven-bit on the wire: the accents travel encoded and come back intact.
    assert received.raw.isascii()
    plain = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert plain is not None and html is not None
    # Lines travel as CRLF (RFC 5322); the text, dots and accents included, is unchanged.
    assert plain.get_content().replace("\r\n", "\n") == _email().text
    assert "Bonjour Élodie" in html.get_content()
    [ics] = list(mail.iter_attachments())
    assert ics.get_content_type() == "text/calendar"
    assert ics.get_param("method") == "REQUEST"
    assert ics.get_filename() == "rendez-vous.ics"
    assert ics.get_payload(decode=True) == ICS


async def test_connection_is_reused_across_sends(smtp: SmtpServer) -> None:
    before = smtp.connections
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        for n in range(5):
            await transport.send_email(_email(message_id=f"n-{n}@rdv-spie.test"))
    assert len(smtp.messages) == 5
    assert smtp.connections - before == 1


async def test_one_connection_per_send_when_keep_alive_is_zero(smtp: SmtpServer) -> None:
    before = smtp.connections
    async with SmtpTransport(Settings(**smtp.settings()), keep_alive_seconds=0) as transport:
        for n in range(3):
            await transport.send_email(_email(message_id=f"n-{n}@rdv-spie.test"))
    assert len(smtp.messages) == 3
    assert smtp.connections - before == 3


async def test_starttls_with_the_generated_ca_and_auth(starttls_smtp: SmtpServer) -> None:
    starttls_smtp.reset()
    async with SmtpTransport(Settings(**starttls_smtp.settings())) as transport:
        await transport.send_email(_email())
    [received] = starttls_smtp.messages
    assert received.tls and received.login == "rdv"


async def test_implicit_tls_with_the_generated_ca(tls_files: TlsFiles) -> None:
    with SmtpServer(tls="tls", tls_files=tls_files) as server:
        async with SmtpTransport(Settings(**server.settings())) as transport:
            await transport.send_email(_email())
        assert len(server.messages) == 1 and server.messages[0].tls


async def test_certificate_check_without_the_ca_refuses_to_send(
    starttls_smtp: SmtpServer,
) -> None:
    """Transient, not permanent: an untrusted relay certificate is the operator's to fix
    (wrong CA bundle, expired certificate), not a property of the message; the message must
    still leave once it is fixed, so the delivery code retries it with backoff."""
    starttls_smtp.reset()
    settings = Settings(**{**starttls_smtp.settings(), "smtp_ca_file": None})
    async with SmtpTransport(settings) as transport:
        with pytest.raises(TransientError) as caught:
            await transport.send_email(_email())
    assert caught.value.code == "tls_certificate"
    assert starttls_smtp.messages == []


async def test_wrong_password_is_transient(starttls_smtp: SmtpServer) -> None:
    starttls_smtp.reset()
    settings = Settings(**{**starttls_smtp.settings(), "smtp_password": "wrong"})
    async with SmtpTransport(settings) as transport:
        with pytest.raises(TransientError) as caught:
            await transport.send_email(_email())
    assert caught.value.code == "smtp_auth_535"
    assert starttls_smtp.messages == []


@pytest.mark.parametrize(
    ("at", "code", "text", "error", "expected_code", "detail"),
    [
        ("RCPT", 450, "4.2.1 mailbox busy", TransientError, "smtp_450", "4.2.1"),
        ("RCPT", 550, "5.1.1 no such user", PermanentError, "smtp_550", "5.1.1"),
        ("MAIL", 451, "4.3.0 try later", TransientError, "smtp_451", "4.3.0"),
        ("DATA", 451, "4.3.0 queue full", TransientError, "smtp_451", "4.3.0"),
        ("DATA", 554, "5.7.1 rejected as spam", PermanentError, "smtp_554", "5.7.1"),
    ],
)
async def test_smtp_replies_are_classified_and_the_connection_survives(
    smtp: SmtpServer,
    at: Any,
    code: int,
    text: str,
    error: type[Exception],
    expected_code: str,
    detail: str,
) -> None:
    smtp.reply_next(code, text, at=at)
    before = smtp.connections
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        with pytest.raises(error) as caught:
            await transport.send_email(_email())
        assert smtp.messages == []
        await transport.send_email(_email())
    assert caught.value.code == expected_code  # type: ignore[attr-defined]
    assert caught.value.detail == detail  # type: ignore[attr-defined]
    _no_personal_data(caught.value)
    _not_chained(caught.value)
    assert len(smtp.messages) == 1
    assert smtp.connections - before == 1


async def test_server_down_is_transient_then_recovers(smtp: SmtpServer) -> None:
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        await transport.send_email(_email())
        smtp.stop()
        try:
            # The kept connection is gone and the port refuses new ones.
            with pytest.raises(TransientError) as caught:
                await transport.send_email(_email())
            assert caught.value.code == "connection"
        finally:
            smtp.start()
        await transport.send_email(_email())
    assert len(smtp.messages) == 2


async def test_a_kept_connection_closed_by_the_server_is_replaced(smtp: SmtpServer) -> None:
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        await transport.send_email(_email())
        # Restarted while our loop is not looking: the kept connection still looks open.
        smtp.stop()
        smtp.start()
        before = smtp.connections
        await transport.send_email(_email())
    assert len(smtp.messages) == 2
    assert smtp.connections - before == 1


async def test_concurrent_sends_share_a_bounded_pool(smtp: SmtpServer) -> None:
    before = smtp.connections
    async with SmtpTransport(Settings(**smtp.settings()), pool_size=3) as transport:
        ids = await asyncio.gather(
            *(transport.send_email(_email(message_id=f"c-{n}@rdv-spie.test")) for n in range(12))
        )
    assert len(set(ids)) == 12 and len(smtp.messages) == 12
    assert 1 <= smtp.connections - before <= 3


async def test_timeout_before_end_of_data_is_transient(smtp: SmtpServer) -> None:
    smtp.delay_next(1.5, at="RCPT")
    settings = Settings(**{**smtp.settings(), "smtp_timeout_seconds": 0.4})
    async with SmtpTransport(settings) as transport:
        with pytest.raises(TransientError) as caught:
            await transport.send_email(_email())
    assert caught.value.code == "timeout"
    assert smtp.messages == []


async def test_no_reply_after_end_of_data_is_unknown(smtp: SmtpServer) -> None:
    """The server got the whole message but its reply never came: it may deliver it."""
    smtp.delay_next(1.0, at="DATA")
    settings = Settings(**{**smtp.settings(), "smtp_timeout_seconds": 0.3})
    async with SmtpTransport(settings) as transport:
        with pytest.raises(UnknownOutcome) as caught:
            await transport.send_email(_email())
    assert caught.value.code == "smtp_no_reply"
    # ...and indeed it did: resending blindly would have sent it twice.
    assert len(smtp.wait_for(1, timeout=5)) == 1


async def test_hang_up_after_end_of_data_is_unknown(smtp: SmtpServer) -> None:
    smtp.drop_next(at="DATA")
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        with pytest.raises(UnknownOutcome) as caught:
            await transport.send_email(_email())
        assert caught.value.code == "smtp_no_reply"
        # The next message goes through on a new connection.
        await transport.send_email(_email())
    assert len(smtp.messages) == 1


async def test_invalid_recipient_is_permanent_without_talking_to_the_server(
    smtp: SmtpServer,
) -> None:
    before = smtp.connections
    async with SmtpTransport(Settings(**smtp.settings())) as transport:
        with pytest.raises(PermanentError) as caught:
            await transport.send_email(_email(to="élodie@exemple.fr"))
    assert caught.value.code == "invalid_message"
    assert smtp.connections == before


def test_clear_text_smtp_only_on_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        SmtpTransport(Settings(smtp_host="smtp.example.org", smtp_security="none"))
    SmtpTransport(Settings(smtp_host="localhost", smtp_security="none"))
    SmtpTransport(Settings(smtp_host="::1", smtp_security="none"))


# ---------------------------------------------------------------------------- Twilio


async def test_sms_arrives_through_the_official_client(twilio: TwilioServer) -> None:
    async with TwilioTransport(Settings(**twilio.settings())) as transport:
        sid = await transport.send_sms(_sms())

    assert re.fullmatch(r"SM[0-9a-f]{32}", sid)
    [sent] = twilio.messages
    assert sent.sid == sid and sent.account_sid == twilio.account_sid
    assert sent.to == PHONE
    assert sent.body == _sms().body
    assert sent.from_ == "SPIE Aisne" and sent.messaging_service_sid is None
    assert sent.status_callback == "http://127.0.0.1:8000/webhooks/twilio/status"
    assert sent.headers["User-Agent"].startswith("twilio-python/")
    assert twilio.requests == [
        ("POST", f"/2010-04-01/Accounts/{twilio.account_sid}/Messages.json", 201)
    ]


async def test_messaging_service_replaces_the_sender(twilio: TwilioServer) -> None:
    service = "MG" + "ab" * 16
    settings = Settings(**twilio.settings(), twilio_messaging_service_sid=service)
    async with TwilioTransport(settings) as transport:
        await transport.send_sms(_sms())
    [sent] = twilio.messages
    assert sent.messaging_service_sid == service and sent.from_ is None


async def test_basic_auth_is_checked(twilio: TwilioServer) -> None:
    settings = Settings(**{**twilio.settings(), "twilio_auth_token": "not-the-token"})
    async with TwilioTransport(settings) as transport:
        with pytest.raises(TransientError) as caught:
            await transport.send_sms(_sms())
    # Bad credentials are the operator's to fix: the message waits, it is not dropped.
    assert caught.value.code == "twilio_20003"
    assert twilio.messages == [] and [r[2] for r in twilio.requests] == [401]


@pytest.mark.parametrize(
    ("status", "code", "error", "expected_code"),
    [
        (429, None, TransientError, "twilio_429"),
        (503, None, TransientError, "twilio_503"),
        (500, None, UnknownOutcome, "twilio_500"),
        (502, None, UnknownOutcome, "twilio_502"),
        (400, 21211, PermanentError, "twilio_21211"),
        (400, 21610, PermanentError, "twilio_21610"),
    ],
)
async def test_twilio_failures_are_classified(
    twilio: TwilioServer, status: int, code: int | None, error: type[Exception], expected_code: str
) -> None:
    twilio.fail_next(status, code=code, message=f"The 'To' number {PHONE} is not valid")
    async with TwilioTransport(Settings(**twilio.settings())) as transport:
        with pytest.raises(error) as caught:
            await transport.send_sms(_sms())
        assert caught.value.code == expected_code  # type: ignore[attr-defined]
        _no_personal_data(caught.value)
        _not_chained(caught.value)
        # The fake was reached (and nothing else): the next one goes through.
        await transport.send_sms(_sms())
    assert [r[2] for r in twilio.requests] == [status, 201]
    assert len(twilio.messages) == 1


async def test_invalid_number_from_the_fake_validation(twilio: TwilioServer) -> None:
    async with TwilioTransport(Settings(**twilio.settings())) as transport:
        with pytest.raises(PermanentError) as caught:
            await transport.send_sms(_sms(to="0612345678"))
    assert caught.value.code == "twilio_21211"
    assert [r[2] for r in twilio.requests] == [400]


async def test_timeout_after_sending_is_unknown(twilio: TwilioServer) -> None:
    twilio.delay_next(1.0)
    settings = Settings(**{**twilio.settings(), "twilio_timeout_seconds": 0.3})
    async with TwilioTransport(settings) as transport:
        with pytest.raises(UnknownOutcome) as caught:
            await transport.send_sms(_sms())
    assert caught.value.code == "timeout"
    # Twilio did take it: only the status callback can settle such a message.
    assert len(twilio.wait_for(1, timeout=5)) == 1


async def test_connection_refused_is_transient() -> None:
    settings = Settings(
        twilio_account_sid="AC" + "0" * 32,
        twilio_auth_token="token",
        twilio_api_base=f"http://127.0.0.1:{free_port()}",
    )
    async with TwilioTransport(settings) as transport:
        with pytest.raises(TransientError) as caught:
            await transport.send_sms(_sms())
    assert caught.value.code == "connection"


async def test_invalid_sender_is_refused_before_any_request(twilio: TwilioServer) -> None:
    async with TwilioTransport(Settings(**twilio.settings())) as transport:
        with pytest.raises(PermanentError) as caught:
            await transport.send_sms(_sms(sender="SPIE-Aisne-02"))
    assert caught.value.code == "invalid_sender"
    assert twilio.requests == []


def test_api_base_over_http_only_on_loopback() -> None:
    with pytest.raises(ValueError, match="loopback"):
        TwilioTransport(
            Settings(
                twilio_account_sid="AC" + "0" * 32,
                twilio_auth_token="token",
                twilio_api_base="http://twilio.example.org",
            )
        )


class _Recorder(BaseHTTPRequestHandler):
    received: list[tuple[str, dict[str, str], dict[str, str]]]

    def do_POST(self) -> None:
        length = int(self.headers["Content-Length"])
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        self.received.append((self.path, dict(self.headers.items()), form))
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


async def test_status_callback_is_signed_like_twilio(twilio: TwilioServer) -> None:
    received: list[tuple[str, dict[str, str], dict[str, str]]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=receiver.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    callback = f"http://127.0.0.1:{receiver.server_address[1]}/webhooks/twilio/status?n=42"
    try:
        async with TwilioTransport(Settings(**twilio.settings())) as transport:
            sid = await transport.send_sms(_sms(status_callback=callback))
        answer = await twilio.asend_status_callback(sid, "undelivered", error_code=30003)
    finally:
        receiver.shutdown()
        receiver.server_close()
        thread.join()

    assert answer.status == 204
    [(path, headers, form)] = received
    assert path == "/webhooks/twilio/status?n=42"
    assert form["MessageSid"] == sid and form["MessageStatus"] == "undelivered"
    assert form["AccountSid"] == twilio.account_sid and form["ErrorCode"] == "30003"
    validator = RequestValidator(twilio.auth_token)
    assert validator.validate(callback, form, headers["X-Twilio-Signature"])
    tampered = {**form, "MessageStatus": "delivered"}
    assert not validator.validate(callback, tampered, answer.signature)
    assert not RequestValidator("other").validate(callback, form, answer.signature)


# ---------------------------------------------------------------------------- folder, factory


async def test_folder_writes_an_eml_a_mail_client_opens(tmp_path: Path) -> None:
    folder = FolderTransport(tmp_path / "outbox", from_name="SPIE")
    provider_id = await folder.send_email(_email())

    [path] = (tmp_path / "outbox").iterdir()
    assert provider_id == f"file:{path.name}"
    assert re.fullmatch(r"\d{8}T\d{12}Z-notification-42@rdv-spie\.test\.eml", path.name)
    mail = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(mail, EmailMessage) and not mail.defects
    assert mail["Subject"] == "Votre rendez-vous à Laon — jeudi 3 décembre"
    assert mail["Message-ID"] == "<notification-42@rdv-spie.test>"
    plain = mail.get_body(("plain",))
    assert plain is not None and "Élodie" in plain.get_content()
    [ics] = list(mail.iter_attachments())
    assert ics.get_content_type() == "text/calendar" and ics.get_payload(decode=True) == ICS
    assert path.stat().st_mode & 0o077 == 0


async def test_folder_writes_sms_as_text(tmp_path: Path) -> None:
    folder = FolderTransport(tmp_path)
    provider_id = await folder.send_sms(_sms())
    [path] = tmp_path.iterdir()
    assert provider_id == f"file:{path.name}" and path.suffix == ".txt"
    text = path.read_text(encoding="utf-8")
    assert f"To: {PHONE}" in text and "From: SPIE Aisne" in text
    assert text.rstrip().endswith(_sms().body)
    assert not list(tmp_path.glob(".*"))


async def test_factory_embedded_default_is_the_folder(tmp_path: Path) -> None:
    transports = build_transports(Settings(outbox_dir=tmp_path))
    assert isinstance(transports.email, FolderTransport) and transports.sms is transports.email
    await transports.sms.send_sms(_sms())
    await transports.aclose()
    assert len(list(tmp_path.iterdir())) == 1


async def test_factory_builds_smtp_and_twilio(
    smtp: SmtpServer, twilio: TwilioServer, tmp_path: Path
) -> None:
    settings = Settings(outbox_dir=tmp_path, **smtp.settings(), **twilio.settings())
    transports = build_transports(settings)
    try:
        assert isinstance(transports.email, SmtpTransport)
        assert isinstance(transports.sms, TwilioTransport)
        await transports.email.send_email(_email())
        await transports.sms.send_sms(_sms())
    finally:
        await transports.aclose()
    assert len(smtp.messages) == 1 and len(twilio.messages) == 1
    assert not list(tmp_path.iterdir())


def test_factory_refuses_a_half_configured_twilio(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="auth_token"):
        build_transports(Settings(outbox_dir=tmp_path, twilio_account_sid="AC" + "0" * 32))
