"""The agenda rule: at most capacity, urgent first, then first submitted; nobody lost."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from rdv_spie.committees.freeze import Candidate, split

T = datetime(2026, 12, 1, tzinfo=UTC)


def _c(minutes: int, urgent: bool = False) -> Candidate:
    return Candidate(uuid.uuid4(), urgent, T + timedelta(minutes=minutes))


def test_first_submitted_first_served_and_urgent_first() -> None:
    early, late, urgent = _c(1), _c(2), _c(3, urgent=True)
    agenda, carried = split([late, urgent, early], capacity=2)
    assert agenda == [urgent.id, early.id] and carried == [late.id]


@given(
    st.lists(st.tuples(st.integers(0, 10_000), st.booleans()), max_size=40),
    st.integers(0, 15),
)
def test_never_over_capacity_and_nobody_lost(items: list[tuple[int, bool]], capacity: int) -> None:
    candidates = [_c(m, u) for m, u in items]
    agenda, carried = split(candidates, capacity)
    assert len(agenda) <= capacity
    assert sorted(agenda + carried) == sorted(c.id for c in candidates)
    by_id = {c.id: c for c in candidates}
    order = [(not by_id[i].urgent, by_id[i].submitted_at) for i in agenda + carried]
    assert order == sorted(order)


def test_the_worker_runs_the_committee_crons() -> None:
    from rdv_spie.settings import Settings
    from rdv_spie.worker.settings import worker_settings

    settings = Settings(
        redis_url="redis://127.0.0.1:9/0", database_url="sqlite+aiosqlite:///unused.sqlite3"
    )
    crons = {c.coroutine.__name__: c for c in worker_settings(settings)["cron_jobs"]}
    assert {"run_committees", "generate_cto_sessions", "plan_messages"} <= set(crons)
    assert crons["run_committees"].run_at_startup
