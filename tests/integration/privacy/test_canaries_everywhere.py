"""No personal data where it does not belong (issue 18 item 6), proven with one canary person
(names, phone, e-mail) taken through the whole service on both engines: imported and
invited, booked, put on a committee (a CTO request, frozen and dispatched), with the logging
configured at DEBUG throughout. The canary must then be in none of:

- the log records of any logger at any level, nor the rendered log lines on stderr (the
  loopback SMTP server's own ``mail.log`` lines are left out: it stands for the person's
  mail provider, not for the service);
- any Redis key or value, the arq jobs unpickled (their function and arguments), while queued
  and after a real arq worker ran them;
- the partners' feeds (the series feed, a member's own feed, the territory's feed) and the
  partners' e-mails (the agenda);
- a 500 page or answer, or its log, with the canary in the path, the query or the body;
- the URLs of the e-mails and SMS sent to anyone else.
"""

from __future__ import annotations

import logging
import pickle
import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from arq import create_pool
from arq.connections import ArqRedis
from arq.worker import Worker
from sqlalchemy import select
from tests.integration.web_office.office_support import body, csrf, login, set_password
from tests.support import intake
from tests.support.cto import Cto
from tests.support.redis_server import RedisServer
from tests.support.smtp_server import ReceivedEmail, SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.calendars import feeds
from rdv_spie.calendars import service as feed_service
from rdv_spie.clock import FrozenClock
from rdv_spie.committees import paths as committee_paths
from rdv_spie.committees import requests as cto_requests
from rdv_spie.db.uow import Database
from rdv_spie.invitations import service as planner
from rdv_spie.journeys import listing
from rdv_spie.journeys.paths import JOURNEYS
from rdv_spie.logging import QUIET_LIBRARIES, configure_logging
from rdv_spie.people.models import Journey, Person
from rdv_spie.settings import Settings
from rdv_spie.worker.context import JobContext
from rdv_spie.worker.inprocess import InProcessRunner
from rdv_spie.worker.queue import ArqQueue
from rdv_spie.worker.settings import QUEUE_NAME, pool_options, redis_settings, worker_settings

pytestmark = pytest.mark.slow

FIRST, LAST = "Canarine", "Zyxcanarix"
EMAIL = "zyx.canarine@exemple.fr"
PHONE_FILE, PHONE = "06 77 66 55 13", "+33677665513"
# Every way the canary could be written: names, the address, the number in each form.
CANARIES = ("canarine", "zyxcanarix", "zyx.canarine", "677665513", "77 66 55 13", "77.66.55.13")
WED_0900 = datetime(2026, 12, 2, 8, 0, tzinfo=UTC)
DEADLINE = datetime(2026, 12, 7, 13, 0, tzinfo=UTC)  # the first session's, 10 December
DISPATCH = datetime(2026, 12, 8, 8, 0, tzinfo=UTC)
_URL = re.compile(r"https?://[^\s\"'<>]+|webcal://[^\s\"'<>]+")


def _found(text: str) -> list[str]:
    low = text.lower()
    return [c for c in CANARIES if c in low]


class Collect(logging.Handler):
    """Every record of every logger, as text: message, arguments and traceback."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.name.startswith("mail.log"):  # the loopback SMTP server's own log
            return
        exc = logging.Formatter().formatException(record.exc_info) if record.exc_info else ""
        self.lines.append(f"{record.name} {record.getMessage()} {record.args!r} {exc}")


@pytest.fixture
def collected() -> Iterator[Collect]:
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    handler = Collect()
    root.addHandler(handler)
    configure_logging(level="DEBUG")
    root.setLevel(logging.DEBUG)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)
    configure_logging()


async def _redis_dump(redis: ArqRedis) -> str:
    """Every key and value of the test's Redis as text; values arq pickled are unpickled."""
    out: list[str] = []

    def value(raw: bytes) -> str:
        try:
            return repr(pickle.loads(raw))  # arq's default format, should anything use it
        except Exception:
            return raw.decode("utf-8", "replace")

    for key in await redis.keys("*"):
        kind = (await redis.type(key)).decode()
        out.append(f"{key.decode()} ({kind})")
        if kind == "string":
            out.append(value(await redis.get(key) or b""))
        elif kind == "zset":
            out += [m.decode() for m in await redis.zrange(key, 0, -1)]
        elif kind == "hash":
            out += [f"{k.decode()}={value(v)}" for k, v in (await redis.hgetall(key)).items()]
        elif kind == "set":
            out += [m.decode() for m in await redis.smembers(key)]
        elif kind == "list":
            out += [value(m) for m in await redis.lrange(key, 0, -1)]
        else:
            raise AssertionError(f"a Redis {kind} the test cannot read: {key!r}")
    return "\n".join(out)


async def _run_arq_worker(settings: Settings, clock: FrozenClock, db: Database) -> None:
    """A real arq worker in burst mode: its start-up crons, then every queued job."""
    saved = db.on_due_notifications
    worker = Worker(
        **worker_settings(settings, clock=clock, db=db),
        burst=True,
        handle_signals=False,
        poll_delay=0.05,
    )
    try:
        await worker.async_run()
    finally:
        await worker.close()
        db.on_due_notifications = saved


def _texts(m: ReceivedEmail) -> str:
    parts = [m.raw.decode("utf-8", "replace"), str(m.message["Subject"])]
    for part in m.message.walk():
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            parts.append(payload.decode("utf-8", "replace"))
    return "\n".join(parts)


async def _invite_and_book(
    cto: Cto, settings: Settings, secret_key: bytes, tmp_path: Path
) -> tuple[uuid.UUID, list[str]]:
    """Import the canary, invite and book them with the outbox going through Redis and a real
    arq worker; Redis read while the jobs wait and after the worker ran them."""
    s, client, db, clock = cto.s, cto.client, cto.db, cto.clock
    cohort = await intake.create_cohort(client, s)
    canary = intake.Person(last_name=LAST, first_name=FIRST, phone=PHONE_FILE, email=EMAIL)
    others = intake.people(2)
    r = await client.post(
        f"/api/v1/cohorts/{cohort}/imports",
        content=intake.csv_bytes([canary, *others]),
        headers={**s.auth(), "Content-Type": "text/csv"},
    )
    assert r.status_code == 200 and r.json()["journeys_opened"] == 3, r.text
    async with db.unit_of_work(clock=clock, write=False) as uow:
        journey = (
            await uow.session.execute(
                select(Journey)
                .join(Person, Person.id == Journey.person_id)
                .where(Journey.cohort_id == cohort, Person.last_name == LAST)
            )
        ).scalar_one()
    dumps = []
    with RedisServer(tmp_path) as redis:
        settings = settings.model_copy(update={"redis_url": redis.url})
        pool = await create_pool(
            redis_settings(settings), default_queue_name=QUEUE_NAME, **pool_options()
        )
        db.on_due_notifications = ArqQueue(pool, QUEUE_NAME).wake
        try:
            report = await planner.plan(db=db, clock=clock, secret_key=secret_key)
            assert report.invited == 3
            dumps.append(await _redis_dump(pool))  # the invitations' jobs, queued
            await _run_arq_worker(settings, clock, db)
            booked = await client.post(
                "/api/v1/appointments",
                headers=s.auth(),
                json={
                    "appointment_type_id": str(s.single_type_id),
                    "place_id": str(s.place_ids[0]),
                    "starts_at": WED_0900.isoformat(),
                    "journey_id": str(journey.id),
                },
            )
            assert booked.status_code == 201, booked.text
            dumps.append(await _redis_dump(pool))  # the confirmation's jobs, queued
            await _run_arq_worker(settings, clock, db)
            dumps.append(await _redis_dump(pool))  # what the worker left: results, crons
        finally:
            db.on_due_notifications = None
            await pool.aclose()
    return journey.person_id, dumps


async def _member_feed(client: httpx.AsyncClient, cto: Cto) -> str:
    """A partner's own link to the series, made on the portal's subscribe page."""
    assert (
        await login(client, await set_password(cto.db, cto.clock, cto.partner_ids[0]))
    ).status_code == 303
    page_path = committee_paths.SUBSCRIBE.replace("{series_id:uuid}", str(cto.series_id))
    page = await client.get(page_path)
    assert page.status_code == 200, page.text
    made = await client.post(
        committee_paths.SUBSCRIBE_NEW_LINK.replace("{series_id:uuid}", str(cto.series_id)),
        data={"csrf_token": csrf(body(page))},
    )
    assert made.status_code == 200, made.text
    found = re.search(r'id="lien-https" class="url" value="([^"]+)"', made.text)
    assert found, made.text
    return "/" + found.group(1).split("/", 3)[3]


async def _forced_500s(
    client: httpx.AsyncClient, cto: Cto, monkeypatch: pytest.MonkeyPatch
) -> list[httpx.Response]:
    """A bug on three routes, reached with the canary in the query (a back-office page), in
    the body (the API) and in the path (a feed)."""

    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("forced by the test")

    monkeypatch.setattr(listing, "journeys", broken)
    monkeypatch.setattr(cto_requests, "submit", broken)
    monkeypatch.setattr(feed_service, "find_active", broken)
    assert feeds.service is feed_service
    animator = await set_password(cto.db, cto.clock, cto.s.animator_id)
    assert (await login(client, animator)).status_code == 303
    page = await client.get(JOURNEYS, params={"q": f"{FIRST} {LAST}", "tel": PHONE})
    session = (await cto.sessions())[1]
    api = await cto.submit(session["id"], uuid.uuid4(), summary=f"{LAST} {PHONE} {EMAIL}")
    feed = await client.get(f"/feeds/{LAST}-{PHONE}-{EMAIL}.ics")
    answers = [page, api, feed]
    assert [a.status_code for a in answers] == [500, 500, 500], [a.text for a in answers]
    assert "text/html" in page.headers["content-type"]
    return answers


async def test_a_canary_person_is_nowhere_it_does_not_belong(
    cto: Cto,
    jobs: JobContext,
    flow_settings: Settings,
    smtp: SmtpServer,
    twilio: TwilioServer,
    tmp_path: Path,
    collected: Collect,
    capfd: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client = cto.client
    person_id, dumps = await _invite_and_book(cto, flow_settings, jobs.secret_key, tmp_path)
    # The messages really reached the canary, so their absence elsewhere counts.
    assert any(m.rcpt_tos == (EMAIL,) for m in smtp.messages)
    assert any(m.to == PHONE for m in twilio.messages)

    # On the committee: a request, frozen at the deadline, the agenda dispatched.
    session = (await cto.sessions())[0]
    assert (await cto.submit(session["id"], person_id)).status_code == 201
    runner = InProcessRunner(jobs, sweep_seconds=60)
    cto.clock.set(DEADLINE)
    await runner.run_once()
    cto.clock.set(DISPATCH)
    await runner.run_once()
    agenda = await client.get(
        f"/api/v1/cto-sessions/{session['id']}/agenda", headers=cto.auth(cto.partner_ids[0])
    )
    assert agenda.json()[0]["person_last_name"] == LAST  # the members' sworn agenda has it

    made = [
        await client.post(
            f"/api/v1/calendar-feeds/cto-series/{cto.series_id}", headers=cto.animator
        ),
        await client.post(
            f"/api/v1/calendar-feeds/territories/{cto.s.territory_id}", headers=cto.animator
        ),
    ]
    paths = ["/" + f.json()["url"].split("/", 3)[3] for f in made]
    paths.append(await _member_feed(client, cto))
    feed_bodies = []
    for path in paths:
        r = await client.get(path)
        assert r.status_code == 200 and "BEGIN:VEVENT" in r.text, (path, r.status_code)
        feed_bodies.append(r.text)

    errors = await _forced_500s(client, cto, monkeypatch)

    # Redis: the jobs and what the worker left hold ids only.
    assert "send_notification" in dumps[0] and "send_notification" in dumps[1]
    for dump in dumps:
        assert _found(dump) == [], dump
    # Partners: feeds and e-mails.
    partner_mail = [m for m in smtp.messages if m.rcpt_tos[0].startswith("partenaire")]
    assert len(partner_mail) >= 2  # the agenda, to each member
    for text in [*feed_bodies, *map(_texts, partner_mail)]:
        assert _found(text) == [], text
    # The URLs of every message sent to anyone but the canary.
    to_others = [_texts(m) for m in smtp.messages if m.rcpt_tos != (EMAIL,)]
    to_others += [m.body for m in twilio.messages if m.to != PHONE]
    assert to_others
    for text in to_others:
        for url in _URL.findall(text):
            assert _found(url) == [], url
    # The 500s: neither the answers nor their log lines.
    for answer in errors:
        assert _found(answer.text) == [] and _found(str(answer.headers)) == []
    out, err = capfd.readouterr()
    service_lines = "\n".join(line for line in (out + err).splitlines() if "mail.log" not in line)
    assert service_lines.count("unhandled error") >= 3  # the 500s were logged
    assert "notification_sent" in service_lines
    assert "deserializ" not in service_lines  # the worker read every job the web queued
    assert _found(service_lines) == [], [
        line for line in service_lines.splitlines() if _found(line)
    ]
    # Every record of every logger, at every level (DEBUG on): the worker's were caught.
    assert any(line.startswith("arq.worker") for line in collected.lines)
    leaked = [line for line in collected.lines if _found(line)]
    assert leaked == []
