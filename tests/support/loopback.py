"""Fixtures of the suites that send: loopback SMTP and Twilio servers (one each per suite
that imports them, fresh for every test), settings pointing at them, the job context and the
app with those settings. A conftest imports the fixtures it wants from here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from tests.support.smtp_server import SmtpServer
from tests.support.twilio_server import TwilioServer

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings
from rdv_spie.worker.context import JobContext, build_context

PUBLIC_URL = "http://testserver.local"


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture(scope="session")
def twilio() -> Iterator[TwilioServer]:
    with TwilioServer() as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_servers(smtp: SmtpServer, twilio: TwilioServer) -> None:
    smtp.start()
    smtp.reset()
    twilio.reset()


@pytest.fixture
def flow_settings(
    database_url: str, smtp: SmtpServer, twilio: TwilioServer, tmp_path: Path
) -> Settings:
    return Settings(
        database_url=database_url,
        public_url=PUBLIC_URL,
        debug=True,
        secret_key="test-secret-key-" + "x" * 32,
        outbox_dir=tmp_path / "outbox",
        **smtp.settings(),
        **twilio.settings(),
    )


@pytest.fixture
async def jobs(
    flow_settings: Settings, db: Database, clock: FrozenClock
) -> AsyncIterator[JobContext]:
    context = build_context(flow_settings, clock, db=db)
    yield context
    db.on_due_notifications = None
    await context.aclose()


@pytest.fixture
def app(flow_settings: Settings, db: Database, clock: FrozenClock) -> Litestar:
    """The app with the loopback transports' settings (public URL for the webhook)."""
    return create_app(flow_settings, Overrides(clock=clock, database=db))
