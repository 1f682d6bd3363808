"""Throughput of ``SmtpTransport`` (pooled connection) against a plain aiosmtplib loop.

Both send the same e-mail (text, HTML alternative, .ics attachment, built afresh each time)
over one connection to the loopback aiosmtpd server of ``tests/support/smtp_server.py``.
Not a test: run ``.venv/bin/python -m tests.support.smtp_bench [count]``.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Awaitable, Callable
from email.message import EmailMessage

import aiosmtplib
from tests.support.smtp_server import SmtpServer

from rdv_spie.notifications.transports.base import Attachment, OutgoingEmail
from rdv_spie.notifications.transports.smtp import SmtpTransport
from rdv_spie.settings import Settings

_ICS = b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nBEGIN:VEVENT\r\nUID:x\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n"
_TEXT = "Bonjour Élodie,\nvotre rendez-vous est confirmé pour jeudi à 10 h.\n"
_HTML = "<p>Bonjour Élodie,</p><p>votre rendez-vous est confirmé pour jeudi à 10 h.</p>"


def _outgoing(n: int) -> OutgoingEmail:
    return OutgoingEmail(
        to=f"person{n}@exemple.fr",
        subject="Votre rendez-vous à Laon",
        text=_TEXT,
        html=_HTML,
        message_id=f"<bench-{n}@rdv-spie.test>",
        attachments=(Attachment("rdv.ics", "text/calendar; method=REQUEST", _ICS),),
    )


def _plain_message(n: int) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "SPIE <rdv-spie@localhost>"
    message["To"] = f"person{n}@exemple.fr"
    message["Subject"] = "Votre rendez-vous à Laon"
    message["Message-ID"] = f"<bench-{n}@rdv-spie.test>"
    message.set_content(_TEXT)
    message.add_alternative(_HTML, subtype="html")
    message.add_attachment(
        _ICS, "text", "calendar", filename="rdv.ics", params={"method": "REQUEST"}
    )
    return message


async def plain_loop(server: SmtpServer, count: int) -> None:
    """``count`` sends with aiosmtplib alone (one connection)."""
    async with aiosmtplib.SMTP(
        hostname=server.host, port=server.port, local_hostname="localhost", start_tls=False
    ) as smtp:
        for n in range(count):
            await smtp.send_message(_plain_message(n))


async def transport_loop(server: SmtpServer, count: int) -> None:
    """``count`` sends through ``SmtpTransport`` (its pool keeps one connection)."""
    settings = Settings(**server.settings())
    async with SmtpTransport(settings, max_messages_per_connection=count + 1) as transport:
        for n in range(count):
            await transport.send_email(_outgoing(n))


async def _timed(loop: Callable[[], Awaitable[None]]) -> tuple[float, float]:
    wall, cpu = time.perf_counter(), time.process_time()
    await loop()
    return time.perf_counter() - wall, time.process_time() - cpu


async def measure(count: int = 2000, rounds: int = 3) -> dict[str, float]:
    """Best of ``rounds`` (alternating) for each loop: messages per second and ratios.

    Client and server share this process, so process CPU time (both threads) is reported
    next to wall time: it is far less disturbed by whatever else the machine runs.
    """
    with SmtpServer() as server:
        plain: list[tuple[float, float]] = []
        ours: list[tuple[float, float]] = []
        for _ in range(rounds):
            plain.append(await _timed(lambda: plain_loop(server, count)))
            ours.append(await _timed(lambda: transport_loop(server, count)))
        assert len(server.messages) == 2 * rounds * count
    plain_wall, plain_cpu = (min(t[i] for t in plain) for i in (0, 1))
    our_wall, our_cpu = (min(t[i] for t in ours) for i in (0, 1))
    return {
        "count": count,
        "plain_per_second": round(count / plain_wall),
        "transport_per_second": round(count / our_wall),
        "ratio_wall": round(plain_wall / our_wall, 3),
        "plain_cpu_ms_per_message": round(1000 * plain_cpu / count, 2),
        "transport_cpu_ms_per_message": round(1000 * our_cpu / count, 2),
        "ratio_cpu": round(plain_cpu / our_cpu, 3),
    }


if __name__ == "__main__":
    print(asyncio.run(measure(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)))
