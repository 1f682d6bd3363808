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
