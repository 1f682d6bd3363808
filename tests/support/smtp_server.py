"""A real SMTP server on loopback for tests: aiosmtpd in a background thread, programmable.

It records every accepted message (envelope and parsed ``email.message.EmailMessage``), can be
told to answer the next MAIL / RCPT / DATA with a given reply, to wait before answering, or to
hang up; it can be stopped and started again on the same port (an outage), and can offer
STARTTLS or implicit TLS with a certificate signed by a throwaway CA made at runtime by the
``openssl`` command-line tool (``cryptography`` is not installed), so the client's certificate
check is exercised through ``smtp_ca_file``. The thread owns its own event loop, so the server
serves in-process async tests and a worker subprocess alike.
"""

from __future__ import annotations

import asyncio
import collections
import email
import email.policy
import functools
import shutil
import ssl
import subprocess
import threading
import time
from dataclasses import dataclass
from email.message import EmailMessage
from pathlib import Path
from typing import Any, Literal

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from tests.support.server import free_port

Stage = Literal["MAIL", "RCPT", "DATA"]


@dataclass(frozen=True)
class TlsFiles:
    """A throwaway CA and a server certificate for localhost / 127.0.0.1 / ::1."""

    ca_file: Path
    cert_file: Path
    key_file: Path

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_file, self.key_file)
        return context


_SERVER_EXTENSIONS = """\
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1, IP:::1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid, issuer
"""


def make_tls_files(directory: Path) -> TlsFiles:
    """Generate a CA and a server certificate signed by it in ``directory`` (openssl CLI)."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("the openssl command is needed to generate test certificates")
    directory.mkdir(parents=True, exist_ok=True)
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def run(*args: str) -> None:
        subprocess.run([openssl, *args], cwd=directory, check=True, capture_output=True)

    run(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
        "-subj", "/CN=rdv-spie test CA",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    run("req", "-new", *ec, "-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost")
    (directory / "server.ext").write_text(_SERVER_EXTENSIONS)
    run(
        "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
        "-set_serial", str(int(time.time() * 1000)), "-days", "2",
        "-extfile", "server.ext", "-out", "server.pem",
    )  # fmt: skip
    return TlsFiles(directory / "ca.pem", directory / "server.pem", directory / "server.key")


@dataclass(frozen=True)
class ReceivedEmail:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    mail_options: tuple[str, ...]
    raw: bytes
    tls: bool
    login: str | None

    @functools.cached_property
    def message(self) -> EmailMessage:
        """The parsed message (parsed on first use: parsing costs the server thread CPU)."""
        parsed = email.message_from_bytes(self.raw, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass(frozen=True)
class _Action:
    kind: Literal["reply", "delay", "drop"]
    code: int = 0
    text: str = ""
    seconds: float = 0.0


class _Handler:
    """aiosmtpd hooks; runs on the server thread's event loop."""

    def __init__(self, owner: SmtpServer) -> None:
        self.owner = owner

    async def _programmed(self, stage: Stage, server: SMTP) -> str | None:
        action = self.owner._pop(stage)
        if action is None:
            return None
        if action.kind == "delay":
            await asyncio.sleep(action.seconds)
            return None
        if action.kind == "drop":
            if server.transport is not None:
                server.transport.abort()
            return "421 4.4.2 connection dropped by test"
        return f"{action.code} {action.text}"

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if (reply := await self._programmed("MAIL", server)) is not None:
            return reply
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if (reply := await self._programmed("RCPT", server)) is not None:
            return reply
        envelope.rcpt_tos.append(address)
        envelope.rcpt_options.extend(options)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if (reply := await self._programmed("DATA", server)) is not None:
            return reply
        raw = envelope.original_content or b""
        login = session.auth_data
        self.owner._record(
            ReceivedEmail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                mail_options=tuple(envelope.mail_options),
                raw=raw,
                tls=_over_tls(server, session),
                login=login.login.decode() if isinstance(login, LoginPassword) else None,
            )
        )
        return "250 2.0.0 Message accepted for delivery"


def _over_tls(server: SMTP, session: Session) -> bool:
    # STARTTLS fills session.ssl; implicit TLS only shows on the transport.
    transport = server.transport
    implicit = transport is not None and transport.get_extra_info("sslcontext") is not None
    return session.ssl is not None or implicit


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in a thread: ``with SmtpServer() as smtp: ... smtp.messages``.

    ``tls``: ``None`` (plain), ``"starttls"`` (offered and required before MAIL) or ``"tls"``
    (implicit TLS); certificates come from ``tls_files`` or are generated in ``tls_dir``.
    ``credentials``: (login, password) required through AUTH.
    """

    def __init__(
        self,
        *,
        port: int | None = None,
        tls: Literal["starttls", "tls"] | None = None,
        tls_files: TlsFiles | None = None,
        tls_dir: Path | None = None,
        credentials: tuple[str, str] | None = None,
    ) -> None:
        self.host = "127.0.0.1"
        self.port = port or free_port()
        self.tls = tls
        if tls is not None and tls_files is None:
            if tls_dir is None:
                raise ValueError("TLS needs tls_files or a tls_dir to generate them in")
            tls_files = make_tls_files(tls_dir)
        self.tls_files = tls_files
        self.credentials = credentials
        self._lock = threading.Lock()
        self._received = threading.Condition(self._lock)
        self._messages: list[ReceivedEmail] = []
        self._actions: dict[Stage, collections.deque[_Action]] = {
            "MAIL": collections.deque(),
            "RCPT": collections.deque(),
            "DATA": collections.deque(),
        }
        self._controller: Controller | None = None
        self.connections = 0

    # Lifecycle

    def start(self) -> SmtpServer:
        """Listen (again) on the same port."""
        if self._controller is not None:
            return self
        kwargs: dict[str, Any] = {"server_hostname": "localhost", "ready_timeout": 10.0}
        if self.tls_files is not None and self.tls == "tls":
            kwargs["ssl_context"] = self.tls_files.server_context()
        if self.tls_files is not None and self.tls == "starttls":
            kwargs["tls_context"] = self.tls_files.server_context()
            kwargs["require_starttls"] = True
        if self.credentials is not None:
            kwargs["authenticator"] = self._authenticate
            kwargs["auth_required"] = True
            kwargs["auth_require_tls"] = self.tls is not None
        controller = _CountingController(
            self, _Handler(self), hostname=self.host, port=self.port, **kwargs
        )
        controller.start()
        self._controller = controller
        return self

    def stop(self) -> None:
        """Stop listening and drop every open connection (the port becomes free)."""
        controller, self._controller = self._controller, None
        if controller is not None:
            controller.stop()

    @property
    def running(self) -> bool:
        return self._controller is not None

    def __enter__(self) -> SmtpServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def settings(self) -> dict[str, Any]:
        """Keyword arguments for ``Settings(...)`` pointing the SMTP transport here."""
        security = {"starttls": "starttls", "tls": "tls", None: "none"}[self.tls]
        values: dict[str, Any] = {
            "smtp_host": self.host,
            "smtp_port": self.port,
            "smtp_security": security,
            "smtp_ca_file": self.tls_files.ca_file if self.tls_files else None,
            "smtp_timeout_seconds": 5.0,
        }
        if self.credentials is not None:
            values["smtp_username"], values["smtp_password"] = self.credentials
        return values

    def environ(self) -> dict[str, str]:
        """The same settings as ``RDV_*`` environment variables (for a worker subprocess)."""
        return {f"RDV_{k.upper()}": str(v) for k, v in self.settings().items() if v is not None}

    # Programming

    def reply_next(self, code: int, text: str = "", *, at: Stage = "RCPT", times: int = 1) -> None:
        """Answer the next ``times`` ``at`` commands with ``code text`` (e.g. 450, 550)."""
        text = text or ("4.0.0 try again later" if code < 500 else "5.0.0 refused")
        self._program(at, _Action("reply", code=code, text=text), times)

    def delay_next(self, seconds: float, *, at: Stage = "DATA", times: int = 1) -> None:
        """Wait ``seconds`` before handling the next ``at`` commands (then handle them)."""
        self._program(at, _Action("delay", seconds=seconds), times)

    def drop_next(self, *, at: Stage = "DATA", times: int = 1) -> None:
        """Hang up instead of answering the next ``at`` commands (DATA: after the message)."""
        self._program(at, _Action("drop"), times)

    def _program(self, stage: Stage, action: _Action, times: int) -> None:
        with self._lock:
            self._actions[stage].extend([action] * times)

    def _pop(self, stage: Stage) -> _Action | None:
        with self._lock:
            queue = self._actions[stage]
            return queue.popleft() if queue else None

    def reset(self) -> None:
        """Forget received messages and pending programmed replies."""
        with self._lock:
            self._messages.clear()
            for queue in self._actions.values():
                queue.clear()

    # Observation

    def _record(self, received: ReceivedEmail) -> None:
        with self._received:
            self._messages.append(received)
            self._received.notify_all()

    @property
    def messages(self) -> list[ReceivedEmail]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[ReceivedEmail]:
        """Block until ``count`` messages arrived (a worker subprocess may be sending)."""
        with self._received:
            if not self._received.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} messages arrived")
            return list(self._messages)

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: Any
    ) -> AuthResult:
        expected = self.credentials
        ok = (
            isinstance(auth_data, LoginPassword)
            and expected is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == expected
        )
        if not ok:
            # handled=False: aiosmtpd then answers 535 itself (True would leave no reply).
            return AuthResult(success=False, handled=False)
        return AuthResult(success=True, auth_data=auth_data)


class _CountingController(Controller):
    """A Controller that counts the connections it accepted (its own readiness probe too)."""

    def __init__(self, owner: SmtpServer, handler: _Handler, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._owner = owner

    def factory(self) -> SMTP:
        self._owner.connections += 1
        return super().factory()
