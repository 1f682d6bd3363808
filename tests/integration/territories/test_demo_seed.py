"""``rdv-spie demo seed`` keeps the demo's password and API key beside the database they open,
not in the repository's var/ whatever the database URL, and prints where they are."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.engine import make_url

from rdv_spie import demo
from rdv_spie.agents import passwords
from rdv_spie.agents.models import Agent
from rdv_spie.clock import FrozenClock
from rdv_spie.db.uow import Database
from rdv_spie.people import followup
from rdv_spie.settings import Settings
from rdv_spie.web.auth import actor_of

REPOSITORY_VAR = Path(__file__).resolve().parents[3] / "var"


def _printed(output: str) -> tuple[str, Path]:
    found = re.search(r"password (\S+)\s+\(also in (\S+)\)", output)
    assert found, output
    return found[1], Path(found[2])


def _state(path: Path) -> float | None:
    return path.stat().st_mtime if path.exists() else None


async def test_password_beside_its_database(
    settings: Settings,
    db: Database,
    clock: FrozenClock,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    configured = settings.model_copy(update={"outbox_dir": tmp_path / "instance" / "outbox"})
    in_repository = [REPOSITORY_VAR / "demo-password.txt", REPOSITORY_VAR / "demo-api-key.txt"]
    before = [_state(p) for p in in_repository]

    assert await asyncio.to_thread(demo.run, configured) == 0
    password, where = _printed(capsys.readouterr().out)

    url = make_url(settings.database_url)
    if url.get_backend_name() == "sqlite":
        database = Path(url.database or "").resolve()
        assert where == database.with_name(database.name + ".demo-password.txt")
    else:  # a server database: the instance's data folder, named after the database
        assert where.parent == tmp_path / "instance"
        assert str(url.database) in where.name and where.name.endswith(".demo-password.txt")
    assert where.read_text().strip() == password
    assert where.stat().st_mode & 0o777 == 0o600
    assert [_state(p) for p in in_repository] == before  # the repository's var/ is untouched
    # Opening the list of people writes the read trail (audit): a write unit of work.
    async with db.unit_of_work(clock=clock) as uow:
        referent = await uow.session.scalar(
            select(Agent).where(Agent.email == "julie.lefevre@demo.rdv-spie.invalid")
        )
        assert referent is not None and referent.password_hash is not None
        assert passwords.matches(referent.password_hash, password)
        # The demo's login follows the demo's people: they are hers to see and book for.
        actor = await actor_of(uow, referent.id, office=True)
        followed = await followup.open_journeys(uow, actor)
        assert len(followed) == demo.DEMO_PEOPLE.count(b"\n") - 1  # every row but the header
        # The other demo logins (the animator, the admin, the CTO partner) open with it too.
        for email in (
            "sophie.dubois@demo.rdv-spie.invalid",
            "admin@demo.rdv-spie.invalid",
            "nadia.roux@demo.rdv-spie.invalid",
        ):
            teammate = await uow.session.scalar(select(Agent).where(Agent.email == email))
            assert teammate is not None and teammate.password_hash is not None
            assert passwords.matches(teammate.password_hash, password)

    # Seeding again keeps the password that opens this database.
    assert await asyncio.to_thread(demo.run, configured) == 0
    assert _printed(capsys.readouterr().out) == (password, where)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("sqlite+aiosqlite:////srv/a/rdv.sqlite3", "/srv/a/rdv.sqlite3.demo-password.txt"),
        ("sqlite+aiosqlite:////srv/b/rdv.sqlite3", "/srv/b/rdv.sqlite3.demo-password.txt"),
        (
            "postgresql+asyncpg://u:secret@db.example:5433/rdv",
            "/srv/data/db.example-5433-rdv.demo-password.txt",
        ),
        ("sqlite+aiosqlite://", None),
        ("sqlite+aiosqlite:///:memory:", None),
    ],
)
def test_each_database_has_its_own_files(url: str, expected: str | None) -> None:
    files = demo.demo_files(Settings(database_url=url, outbox_dir=Path("/srv/data/outbox")))
    if expected is None:
        assert files is None
        return
    assert files is not None
    key_file, password_file = files
    assert str(password_file) == expected
    assert key_file == password_file.with_name(
        password_file.name.replace("demo-password", "demo-api-key")
    )
    assert "secret" not in str(password_file)  # never the database's own password
