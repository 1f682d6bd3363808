"""Whatever level the service is configured at, the libraries that print what they send (SQL
parameters, message bodies, phone numbers) stay at warnings: a DEBUG configuration must not
write a person's name to the logs (issue 18)."""

from __future__ import annotations

import logging

import aiosqlite
import pytest

from rdv_spie.logging import QUIET_LIBRARIES, configure_logging

CANARY = "Zéphyrine Canari-Quatorze"


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(f"{record.name} {record.getMessage()}")


@pytest.fixture
def collected() -> object:
    root = logging.getLogger()
    saved = root.level, {name: logging.getLogger(name).level for name in QUIET_LIBRARIES}
    handler = Collect()
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(saved[0])
    for name, level in saved[1].items():
        logging.getLogger(name).setLevel(level)


async def test_a_debug_configuration_keeps_sql_parameters_out_of_the_logs(
    collected: Collect,
) -> None:
    configure_logging(level="DEBUG")
    logging.getLogger().setLevel(logging.DEBUG)  # basicConfig leaves pytest's root level
    async with aiosqlite.connect(":memory:") as conn:
        await conn.execute("CREATE TABLE person (name TEXT)")
        await conn.execute("INSERT INTO person VALUES (?)", (CANARY,))
        rows = await (await conn.execute("SELECT name FROM person")).fetchall()
    assert rows == [(CANARY,)]
    assert not [m for m in collected.messages if CANARY in m]


def test_every_quiet_library_is_at_warnings(collected: Collect) -> None:
    configure_logging(level="DEBUG")
    logging.getLogger().setLevel(logging.DEBUG)
    for name in QUIET_LIBRARIES:
        assert not logging.getLogger(name).isEnabledFor(logging.INFO), name
