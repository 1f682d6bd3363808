"""Schemathesis over the API's OpenAPI schema (issue 18 item 3), on both engines: a real
server (uvicorn, a fresh database migrated and seeded with the demo territory) and the demo's
admin API key; every operation gets generated requests (deterministic, a few examples each,
the examples, coverage, fuzzing and stateful phases) and every answer must be no server error
and match the schema. The operations and cases tried are printed (README, Reliability).

Bounded: at most ``MAX_EXAMPLES`` examples per operation and ``MAX_SECONDS`` for the run
(schemathesis stops generating then; what was tried is printed).
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine
from tests.support.server import serve

MAX_EXAMPLES = 5
MAX_SECONDS = 45
ST = Path(sys.executable).with_name("st")
_KEY = re.compile(r"API key \(admin\)\s+(\S+)")


async def _create_database(admin_url: str, name: str) -> None:
    engine = create_async_engine(admin_url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        await conn.execute(text(f"CREATE DATABASE {name}"))
    await engine.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite+aiosqlite:///{tmp_path}/fuzz.sqlite3"
        return
    main = os.environ.get("RDV_TEST_POSTGRES_URL")
    if not main:
        pytest.fail("RDV_TEST_POSTGRES_URL is not set: run the suite with `make test`")
    admin = os.environ.get("RDV_TEST_POSTGRES_ADMIN_URL") or main.rsplit("/", 1)[0] + "/postgres"
    asyncio.run(_create_database(admin, "rdv_fuzz"))
    yield main.rsplit("/", 1)[0] + "/rdv_fuzz"


def test_no_server_error_and_answers_match_the_schema(fresh_url: str, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "RDV_DATABASE_URL": fresh_url,
        "RDV_OUTBOX_DIR": str(tmp_path / "outbox"),
        "RDV_SECRET_KEY": secrets.token_urlsafe(48),
        "RDV_REDIS_URL": "",
    }
    env.pop("RDV_REDIS_URL")
    cli = [sys.executable, "-m", "rdv_spie.cli"]
    subprocess.run([*cli, "db", "upgrade"], env=env, check=True, capture_output=True)
    seeded = subprocess.run(
        [*cli, "demo", "seed"], env=env, check=True, capture_output=True, text=True
    )
    found = _KEY.search(seeded.stdout)
    assert found, seeded.stdout
    extra = {k: v for k, v in env.items() if k.startswith("RDV_")}
    with serve(fresh_url, extra_env=extra) as server:
        run = subprocess.run(
            [
                str(ST),
                "run",
                f"{server.url}/api/v1/schema/openapi.json",
                "-H",
                f"Authorization: Bearer {found.group(1)}",
                "--checks",
                "not_a_server_error,response_schema_conformance",
                "--max-examples",
                str(MAX_EXAMPLES),
                "--generation-deterministic",
                "--max-time",
                str(MAX_SECONDS),
                "--request-timeout",
                "20",
                "--continue-on-failure",
                "--no-color",
                "--warnings",
                "off",
            ],
            capture_output=True,
            text=True,
            timeout=MAX_SECONDS + 120,
            cwd=tmp_path,
        )
    out = run.stdout + run.stderr
    tested = re.search(r"Tested: (\d+)", out)
    cases = re.search(r"(\d+) generated, (\d+) passed", out)
    print(f"\nschemathesis on {fresh_url.split(':', 1)[0]}: {tested and tested.group(0)}, "
          f"{cases and cases.group(0)}")  # fmt: skip
    assert run.returncode == 0, out[-6000:]
    assert tested and int(tested.group(1)) >= 70, out[-3000:]
    assert cases and cases.group(1) == cases.group(2), out[-3000:]
