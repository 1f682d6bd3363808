"""The authorization matrix's application: the suite's settings with a Twilio token (so signed
status callbacks are accepted) and rate limits out of the way (every actor opens links and
logs in from the same loopback address)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from rdv_spie.app import Overrides, create_app
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.settings import Settings


@pytest.fixture
def authz_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "twilio_auth_token": "authz-twilio-token",
            "rate_limit_token_hits": 10_000,
            "rate_limit_identity_hits": 10_000,
            "rate_limit_login_hits": 10_000,
            "rate_limit_login_daily_failures": 10_000,
        }
    )


@pytest.fixture
def authz_app(authz_settings: Settings, db: Database, clock: FrozenClock) -> Litestar:
    return create_app(authz_settings, Overrides(clock=clock, database=db))


@pytest.fixture
async def authz_client(authz_app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=authz_app), base_url="http://testserver.local"
    ) as c:
        yield c
