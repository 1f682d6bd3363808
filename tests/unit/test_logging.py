"""Logged tracebacks name the error and where it happened, never the local variables of the
frames (they hold people's addresses, names and tokens), in both output formats."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import structlog

from rdv_spie.logging import configure_logging


@pytest.fixture(autouse=True)
def _default_logging() -> Iterator[None]:
    yield
    configure_logging()


def _fail(address: str) -> None:
    raise ValueError("template broken")


def _fail_in_database(caf_number: str) -> None:
    # What asyncpg puts in a unique violation's message (SQLAlchemy keeps it).
    raise RuntimeError(
        'duplicate key value violates unique constraint "uq_person_caf"\n'
        f"DETAIL:  Key (territory_id, caf_number)=(t-1, {caf_number}) already exists.\n"
        "[SQL: INSERT INTO person ...]"
    )


@pytest.mark.parametrize("json", [False, True], ids=["console", "json"])
def test_tracebacks_carry_no_local_variables(
    json: bool, capsys: pytest.CaptureFixture[str]
) -> None:
    configure_logging(json=json)  # binds the stream captured now
    address = "@".join(("marqueur.personnel", "exemple.fr"))  # not in the source lines shown
    try:
        _fail(address)
    except ValueError:
        structlog.get_logger("test").exception("compose_failed", notification_id="n-1")
    err = capsys.readouterr().err
    assert "compose_failed" in err and "template broken" in err and "_fail" in err
    assert "marqueur.personnel" not in err


@pytest.mark.parametrize("json", [False, True], ids=["console", "json"])
def test_database_error_details_are_hidden(json: bool, capsys: pytest.CaptureFixture[str]) -> None:
    configure_logging(json=json)
    caf_number = str(7_654_321 * 3)  # not in the source lines shown
    try:
        _fail_in_database(caf_number)
    except RuntimeError:
        structlog.get_logger("test").exception("import_failed")
    err = capsys.readouterr().err
    assert "duplicate key value" in err and "DETAIL: (hidden)" in err
    assert caf_number not in err
