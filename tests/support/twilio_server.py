"""A loopback stand-in for Twilio's Messages API, enough for the official Python client.

``POST /2010-04-01/Accounts/{AccountSid}/Messages.json`` checks HTTP basic auth (account SID
and auth token), validates the form (To, Body, From or MessagingServiceSid, StatusCallback) and
answers 201 with Twilio's JSON message resource, or Twilio's error JSON (21211 invalid To,
21602 no body, 20003 bad credentials…). Failures and slow answers are programmable, and
``send_status_callback`` POSTs what Twilio posts to a message's StatusCallback URL, signed with
``X-Twilio-Signature`` from ``twilio.request_validator.RequestValidator``. Runs in a
background thread (``ThreadingHTTPServer`` on 127.0.0.1), and only ever talks to loopback.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import ipaddress
import json
import re
import secrets
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from twilio.request_validator import RequestValidator

_MESSAGES_PATH = re.compile(r"^/2010-04-01/Accounts/(?P<account>[^/]+)/Messages\.json$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")
_ALPHANUMERIC = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")

# Twilio's wording for the errors this fake produces (https://www.twilio.com/docs/api/errors).
_ERRORS = {
    20003: "Authenticate",
    20404: "The requested resource was not found",
    20429: "Too Many Requests",
    20500: "Internal Server Error",
    20503: "Service Unavailable",
    21211: "The 'To' number is not a valid phone number.",
    21212: "The 'From' number is not a valid phone number, shortcode, or alphanumeric sender ID.",
    21602: "Message body is required.",
    21603: "The 'From' phone number is required.",
    21604: "A 'To' phone number is required.",
    21609: "Invalid StatusCallback url",
    21610: "Attempt to send to unsubscribed recipient",
    21701: "The Messaging Service Sid is invalid.",
}


def _sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


def _rfc2822_now() -> str:
    return format_datetime(datetime.now(UTC))


def _is_loopback_url(url: str) -> bool:
    host = urllib.parse.urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class SentSms:
    """A message the fake accepted."""

    sid: str
    account_sid: str
    to: str
    body: str
    from_: str | None
    messaging_service_sid: str | None
    status_callback: str | None
    form: dict[str, str]
    headers: dict[str, str]


@dataclass(frozen=True)
class _Failure:
    status: int
    code: int | None
    message: str


@dataclass(frozen=True)
class Callback:
    """What ``send_status_callback`` posted and how the receiver answered."""

    url: str
    params: dict[str, str]
    signature: str
    status: int


class TwilioServer:
    """``with TwilioServer() as twilio: Settings(**twilio.settings()) ... twilio.messages``."""

    def __init__(
        self,
        *,
        account_sid: str | None = None,
        auth_token: str | None = None,
        port: int = 0,
    ) -> None:
        self.account_sid = account_sid or _sid("AC")
        self.auth_token = auth_token or secrets.token_hex(16)
        self._port = port
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._messages: list[SentSms] = []
        self._failures: collections.deque[_Failure] = collections.deque()
        self._delays: collections.deque[float] = collections.deque()
        self.requests: list[tuple[str, str, int]] = []  # (method, path, status)
        self._http: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # Lifecycle

    def start(self) -> TwilioServer:
        if self._http is not None:
            return self
        handler = type("_BoundHandler", (_Handler,), {"fake": self})
        self._http = ThreadingHTTPServer(("127.0.0.1", self._port), handler)
        self._http.daemon_threads = True
        self._port = self._http.server_address[1]
        self._thread = threading.Thread(target=self._http.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        http, self._http = self._http, None
        if http is not None:
            http.shutdown()
            http.server_close()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> TwilioServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        """The origin to put in ``settings.twilio_api_base``."""
        return f"http://127.0.0.1:{self._port}"

    def settings(self) -> dict[str, Any]:
        """Keyword arguments for ``Settings(...)`` pointing the Twilio transport here."""
        return {
            "twilio_account_sid": self.account_sid,
            "twilio_auth_token": self.auth_token,
            "twilio_api_base": self.url,
            "twilio_timeout_seconds": 5.0,
        }

    def environ(self) -> dict[str, str]:
        """The same settings as ``RDV_*`` environment variables (for a worker subprocess)."""
        return {f"RDV_{k.upper()}": str(v) for k, v in self.settings().items() if v is not None}

    # Programming

    def fail_next(
        self, status: int, *, code: int | None = None, message: str = "", times: int = 1
    ) -> None:
        """Answer the next ``times`` message creations with ``status`` and Twilio error ``code``."""
        code = code if code is not None else {429: 20429, 500: 20500, 503: 20503}.get(status)
        text = message or _ERRORS.get(code or 0, "Error")
        with self._lock:
            self._failures.extend([_Failure(status, code, text)] * times)

    def delay_next(self, seconds: float, *, times: int = 1) -> None:
        """Wait ``seconds`` before handling the next requests (which then succeed)."""
        with self._lock:
            self._delays.extend([seconds] * times)

    def reset(self) -> None:
        with self._lock:
            self._messages.clear()
            self._failures.clear()
            self._delays.clear()
            self.requests.clear()

    # Observation

    @property
    def messages(self) -> list[SentSms]:
        with self._lock:
            return list(self._messages)

    def wait_for(self, count: int, timeout: float = 5.0) -> list[SentSms]:
        """Block until ``count`` messages were accepted."""
        with self._arrived:
            if not self._arrived.wait_for(lambda: len(self._messages) >= count, timeout):
                raise TimeoutError(f"{len(self._messages)} of {count} SMS arrived")
            return list(self._messages)

    def message(self, sid: str) -> SentSms:
        return next(m for m in self.messages if m.sid == sid)

    # Status callbacks

    def callback_params(
        self, sid: str, status: str, *, error_code: int | None = None
    ) -> dict[str, str]:
        """The form Twilio posts to StatusCallback for ``sid`` reaching ``status``."""
        sent = self.message(sid)
        params = {
            "AccountSid": sent.account_sid,
            "ApiVersion": "2010-04-01",
            "MessageSid": sid,
            "MessageStatus": status,
            "SmsSid": sid,
            "SmsStatus": status,
            "To": sent.to,
            "From": sent.from_ or "SPIE",
        }
        if sent.messaging_service_sid:
            params["MessagingServiceSid"] = sent.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return params

    def send_status_callback(
        self,
        sid: str,
        status: str,
        *,
        error_code: int | None = None,
        url: str | None = None,
        timeout: float = 5.0,
    ) -> Callback:
        """POST the signed status callback for ``sid`` (to its StatusCallback, or ``url``)."""
        target = url or self.message(sid).status_callback
        if not target:
            raise ValueError("this message has no StatusCallback URL")
        if not _is_loopback_url(target):
            raise ValueError("the fake only posts callbacks to loopback URLs")
        params = self.callback_params(sid, status, error_code=error_code)
        signature = RequestValidator(self.auth_token).compute_signature(target, params)
        request = urllib.request.Request(
            target,
            data=urllib.parse.urlencode(params).encode(),
            method="POST",
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
            },
        )
        # No proxy, whatever the environment says: the callback stays on loopback.
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
        try:
            with opener.open(request, timeout=timeout) as response:
                code = response.status
        except urllib.error.HTTPError as exc:
            code = exc.code
        return Callback(target, params, signature, code)

    async def asend_status_callback(
        self, sid: str, status: str, *, error_code: int | None = None, url: str | None = None
    ) -> Callback:
        """``send_status_callback`` from async code (the receiver may share the event loop)."""
        return await asyncio.to_thread(
            self.send_status_callback, sid, status, error_code=error_code, url=url
        )

    # Called by the handler thread

    def _next_delay(self) -> float:
        with self._lock:
            return self._delays.popleft() if self._delays else 0.0

    def _next_failure(self) -> _Failure | None:
        with self._lock:
            return self._failures.popleft() if self._failures else None

    def _record(self, sms: SentSms) -> None:
        with self._arrived:
            self._messages.append(sms)
            self._arrived.notify_all()

    def _log(self, method: str, path: str, status: int) -> None:
        with self._lock:
            self.requests.append((method, path, status))


class _Handler(BaseHTTPRequestHandler):
    fake: TwilioServer
    server_version = "twilio-fake/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: request lines would carry nothing useful and stderr is for failures."""

    def do_GET(self) -> None:
        self._error(404, 20404)

    def do_POST(self) -> None:
        delay = self.fake._next_delay()
        if delay:
            time.sleep(delay)
        match = _MESSAGES_PATH.match(urllib.parse.urlsplit(self.path).path)
        if match is None:
            self._error(404, 20404)
            return
        if not self._authorized(match["account"]):
            self._error(401, 20003, extra_headers={"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length).decode("utf-8")
        form = {k: v[-1] for k, v in urllib.parse.parse_qs(raw, keep_blank_values=True).items()}
        failure = self.fake._next_failure()
        if failure is not None:
            self._send_json(
                failure.status, _error_body(failure.status, failure.code, failure.message)
            )
            return
        problem = _validate(form)
        if problem is not None:
            self._error(400, problem)
            return
        sms = SentSms(
            sid=_sid("SM"),
            account_sid=match["account"],
            to=form["To"],
            body=form["Body"],
            from_=form.get("From") or None,
            messaging_service_sid=form.get("MessagingServiceSid") or None,
            status_callback=form.get("StatusCallback") or None,
            form=form,
            headers={k: v for k, v in self.headers.items() if k.lower() != "authorization"},
        )
        self.fake._record(sms)
        self._send_json(201, _resource(sms))

    def _authorized(self, account: str) -> bool:
        header = self.headers.get("Authorization", "")
        if not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except ValueError:
            return False
        fake = self.fake
        return user == fake.account_sid == account and secrets.compare_digest(
            password, fake.auth_token
        )

    def _error(self, status: int, code: int, extra_headers: dict[str, str] | None = None) -> None:
        self._send_json(status, _error_body(status, code, _ERRORS[code]), extra_headers)

    def _send_json(
        self, status: int, body: dict[str, Any], extra_headers: dict[str, str] | None = None
    ) -> None:
        self.fake._log(self.command, self.path, status)
        payload = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(payload)))
            for name, value in (extra_headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            # The client gave up (a timeout test): exactly the case being simulated.
            pass


def _validate(form: dict[str, str]) -> int | None:
    to = form.get("To", "")
    if not to:
        return 21604
    if not _E164.match(to):
        return 21211
    if not form.get("Body"):
        return 21602
    sender, service = form.get("From", ""), form.get("MessagingServiceSid", "")
    if not sender and not service:
        return 21603
    if sender and not (_E164.match(sender) or _ALPHANUMERIC.match(sender)):
        return 21212
    if service and not _SERVICE_SID.match(service):
        return 21701
    callback = form.get("StatusCallback")
    if callback and urllib.parse.urlsplit(callback).scheme not in ("http", "https"):
        return 21609
    return None


def _error_body(status: int, code: int | None, message: str) -> dict[str, Any]:
    return {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}" if code else None,
        "status": status,
    }


def _resource(sms: SentSms) -> dict[str, Any]:
    now = _rfc2822_now()
    uri = f"/2010-04-01/Accounts/{sms.account_sid}/Messages/{sms.sid}"
    segments = 1 if len(sms.body) <= 160 else -(-len(sms.body) // 153)
    return {
        "account_sid": sms.account_sid,
        "api_version": "2010-04-01",
        "body": sms.body,
        "date_created": now,
        "date_sent": None,
        "date_updated": now,
        "direction": "outbound-api",
        "error_code": None,
        "error_message": None,
        "from": sms.from_,
        "messaging_service_sid": sms.messaging_service_sid,
        "num_media": "0",
        "num_segments": str(segments),
        "price": None,
        "price_unit": "USD",
        "sid": sms.sid,
        "status": "queued",
        "subresource_uris": {"media": f"{uri}/Media.json"},
        "to": sms.to,
        "uri": f"{uri}.json",
    }
