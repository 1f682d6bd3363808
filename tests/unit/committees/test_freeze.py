"""The agenda rule: as many as capacity allows, urgent first, then first submitted, then the
id; nobody lost."""

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
    st.lists(
        # Few distinct instants, so equal submission times (ties) are common.
        st.tuples(st.uuids(), st.integers(0, 5), st.booleans()),
        max_size=40,
        unique_by=lambda item: item[0],
    ),
    st.integers(0, 15),
)
def test_the_agenda_fills_to_capacity_in_order_and_nobody_is_lost(
    items: list[tuple[uuid.UUID, int, bool]], capacity: int
) -> None:
    candidates = [Candidate(i, u, T + timedelta(minutes=m)) for i, m, u in items]
    agenda, carried = split(candidates, capacity)
    # As many as fit: an empty agenda with people waiting is a bug, not a safe answer.
    assert len(agenda) == min(capacity, len(candidates))
    assert sorted(agenda + carried) == sorted(c.id for c in candidates)
    # Urgent first, then first submitted, then the id: one order, whatever the input order.
    by_id = {c.id: c for c in candidates}
    order = [(not by_id[i].urgent, by_id[i].submitted_at, i) for i in agenda + carried]
    assert order == sorted(order)
    assert split(reversed(candidates), capacity) == (agenda, carried)


def test_the_id_breaks_a_tie() -> None:
    low, high = uuid.UUID(int=1), uuid.UUID(int=2)
    for given_order in ([low, high], [high, low]):
        candidates = [Candidate(i, False, T) for i in given_order]
        assert split(candidates, capacity=1) == ([low], [high])


def test_the_worker_runs_the_committee_crons() -> None:
    from rdv_spie.settings import Settings
    from rdv_spie.worker.settings import worker_settings

    settings = Settings(
        redis_url="redis://127.0.0.1:9/0", database_url="sqlite+aiosqlite:///unused.sqlite3"
    )
    crons = {c.coroutine.__name__: c for c in worker_settings(settings)["cron_jobs"]}
    assert {"run_committees", "generate_cto_sessions", "plan_messages"} <= set(crons)
    assert crons["run_committees"].run_at_startup
