"""SMS through Twilio's official client and its async (aiohttp) HTTP client.

Owns: the Twilio ``Client`` and its HTTP session, the choice of sender (Messaging Service or
alphanumeric sender ID), the optional API origin override (``settings.twilio_api_base``, used
by the tests to reach a loopback fake), and the mapping of HTTP statuses and socket errors to
``TransientError`` / ``PermanentError`` / ``UnknownOutcome``.

Never logs anything and never raises with a phone number or a body: Twilio's error text quotes
the number, so only its status and numeric code are kept (``twilio_21211``) and the original
exception is not chained.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from types import TracebackType
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.async_http_client import AsyncTwilioHttpClient
from twilio.http.response import Response
from twilio.rest import Client

from rdv_spie.notifications.transports.base import (
    DeliveryError,
    OutgoingSms,
    PermanentError,
    TransientError,
    UnknownOutcome,
)
from rdv_spie.settings import Settings

_MESSAGING_SERVICE_SID = re.compile(r"^MG[0-9a-fA-F]{32}$")
# Twilio's alphanumeric sender ID: up to 11 of A-Z, a-z, 0-9 and space, at least one letter.
_ALPHANUMERIC_SENDER = re.compile(r"^(?=.*[A-Za-z])[A-Za-z0-9 ]{1,11}$")
_E164 = re.compile(r"^\+[1-9][0-9]{6,14}$")


def _is_loopback(host: str) -> bool:
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class OriginOverrideHttpClient(AsyncTwilioHttpClient):  # type: ignore[misc]
    """Twilio's async HTTP client, sending every request to ``api_base`` when given.

    The official client builds absolute URLs (``https://api.twilio.com/2010-04-01/...``,
    ``https://messaging.twilio.com/...``); only their scheme and host are replaced, so the
    paths, form fields and basic auth stay exactly those of the official client. It also
    applies ``timeout`` to every request (the upstream async client stores it but ignores it)
    with a shorter budget for opening the connection, opens its aiohttp session on first use,
    inside the running event loop, and sends basic auth as a header rather than through the
    deprecated ``aiohttp.BasicAuth``. It does not log the request as upstream does (at INFO,
    with the form: the phone number and the body).
    """

    def __init__(self, *, timeout: float, api_base: str | None = None) -> None:
        super().__init__(pool_connections=False, timeout=timeout)
        self.session: aiohttp.ClientSession | None = None
        self._default_timeout = timeout
        self._origin = urlsplit(api_base.rstrip("/")) if api_base else None
        if self._origin is not None and not (self._origin.scheme and self._origin.netloc):
            raise ValueError("twilio_api_base must be an origin such as http://127.0.0.1:8025")
        if (
            self._origin is not None
            and self._origin.scheme != "https"
            and not _is_loopback(self._origin.hostname or "")
        ):
            raise ValueError("twilio_api_base over plain http is only allowed for loopback hosts")

    def rewrite(self, url: str) -> str:
        """``url`` with the scheme and host of ``api_base`` (unchanged without one)."""
        if self._origin is None:
            return url
        parts = urlsplit(url)
        path = self._origin.path + parts.path
        return urlunsplit((self._origin.scheme, self._origin.netloc, path, parts.query, ""))

    async def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,  # noqa: ASYNC109 (upstream's signature)
        allow_redirects: bool = False,
    ) -> Any:
        """Upstream ``request`` with the origin rewritten and the timeouts applied."""
        if self.session is None:
            self.session = aiohttp.ClientSession()
        if auth is not None:
            # Upstream wraps ``auth`` in aiohttp.BasicAuth, deprecated since aiohttp 3.14:
            # send the same header ourselves (RFC 7617).
            token = base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode("ascii")
            headers = {**(headers or {}), "Authorization": f"Basic {token}"}
        query: Any = params  # the official client's query values, passed on as they are
        response = await self.session.request(
            method.upper(),
            self.rewrite(url),
            params=query,
            data=data,
            headers=headers,
            timeout=connection_timeouts(self._default_timeout if timeout is None else timeout),
            allow_redirects=allow_redirects,
        )
        async with response:
            return Response(response.status, await response.text(), response.headers)

    async def close(self) -> None:
        """Close the aiohttp session (a later request opens a new one)."""
        session, self.session = self.session, None
        if session is not None:
            await session.close()


class TwilioTransport:
    """Sends SMS with Twilio's Programmable Messaging API; returns the Message SID."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            raise ValueError("TwilioTransport needs twilio_account_sid and twilio_auth_token")
        service = settings.twilio_messaging_service_sid
        if service and not _MESSAGING_SERVICE_SID.match(service):
            raise ValueError("twilio_messaging_service_sid must look like MG + 32 hex digits")
        self._messaging_service_sid = service or None
        self._http = OriginOverrideHttpClient(
            timeout=settings.twilio_timeout_seconds, api_base=settings.twilio_api_base
        )
        self._client = Client(
            settings.twilio_account_sid,
            settings.twilio_auth_token,
            http_client=self._http,
        )

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
        """Close the HTTP session."""
        await self._http.close()

    def _sender(self, message: OutgoingSms) -> dict[str, str]:
        if self._messaging_service_sid:
            return {"messaging_service_sid": self._messaging_service_sid}
        sender = message.sender.strip()
        if _MESSAGING_SERVICE_SID.match(sender):
            return {"messaging_service_sid": sender}
        if _ALPHANUMERIC_SENDER.match(sender) or _E164.match(sender):
            return {"from_": sender}
        raise PermanentError("invalid_sender", "alphanumeric sender: 1-11 of A-Z a-z 0-9 space")

    async def send_sms(self, message: OutgoingSms) -> str:
        """Send one SMS; returns Twilio's Message SID (``SM…``)."""
        sender = self._sender(message)
        try:
            created = await self._client.messages.create_async(
                to=message.to,
                body=message.body,
                status_callback=message.status_callback,
                **sender,
            )
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _from_status(int(exc.status), exc.code) from None
        except aiohttp.ClientConnectorError as exc:
            # Refused, unreachable, TLS handshake failed: the request never left.
            raise TransientError("connection") from exc
        except aiohttp.ConnectionTimeoutError as exc:
            raise TransientError("connect_timeout") from exc
        except TimeoutError as exc:
            # The request may have reached Twilio: only the status callback can tell.
            raise UnknownOutcome("timeout") from exc
        except (aiohttp.ClientError, ValueError) as exc:
            # Disconnect mid-exchange, or a reply that is not JSON: perhaps sent.
            raise UnknownOutcome("no_reply") from exc
        sid: str = created.sid
        return sid


def connection_timeouts(seconds: float) -> aiohttp.ClientTimeout:
    """``seconds`` for the whole request, and less to open the connection: a connection
    that does not open in time is ``ConnectionTimeoutError`` (no request left: retried);
    under the overall budget alone it would be a bare ``TimeoutError``, which cannot be told
    from a request left unanswered (``UnknownOutcome``: never sent again)."""
    if seconds <= 0:
        raise ValueError("twilio_timeout_seconds must be positive")
    return aiohttp.ClientTimeout(total=seconds, sock_connect=min(seconds / 2, 5.0))


def _from_status(status: int, code: int | None) -> DeliveryError:
    """Twilio's HTTP status (and error code) to an outcome."""
    if status in (429, 503):
        return TransientError(f"twilio_{status}")
    if status == 401:
        # Bad credentials (20003): the operator's to fix; the message must still leave.
        return TransientError(f"twilio_{code or status}")
    if 400 <= status <= 499:
        return PermanentError(f"twilio_{code or status}")
    return UnknownOutcome(f"twilio_{status}")
