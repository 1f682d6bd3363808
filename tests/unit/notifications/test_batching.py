"""Group commit: what arrives while a batch runs makes the next batch, within the limit; a
failing batch is retried item by item; a cancelled drain leaves nobody waiting."""

from __future__ import annotations

import asyncio

import pytest

from rdv_spie.notifications.batching import Coalescer


class Recorder:
    """A batch runner that holds each batch until released and doubles the items."""

    def __init__(self, bad: frozenset[int] = frozenset()) -> None:
        self.batches: list[list[int]] = []
        self.release = asyncio.Event()
        self.bad = bad

    async def run(self, items: list[int]) -> list[int]:
        self.batches.append(list(items))
        await self.release.wait()
        if self.bad & set(items):
            raise RuntimeError(f"bad item in {items}")
        return [2 * i for i in items]


async def _let_tasks_run() -> None:
    for _ in range(3):  # every task created so far reaches its submit
        await asyncio.sleep(0)


async def test_a_lone_item_runs_at_once_in_a_batch_of_one() -> None:
    recorder = Recorder()
    recorder.release.set()
    coalescer = Coalescer(recorder.run, limit=10)
    assert await coalescer.submit(21) == 42
    assert await coalescer.submit(5) == 10
    assert recorder.batches == [[21], [5]]


async def test_items_submitted_while_a_batch_runs_make_the_next_batches_within_the_limit() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run, limit=3)
    first = asyncio.create_task(coalescer.submit(0))
    await _let_tasks_run()
    assert recorder.batches == [[0]]  # running, held
    rest = [asyncio.create_task(coalescer.submit(i)) for i in range(1, 8)]
    await _let_tasks_run()
    recorder.release.set()
    assert await first == 0
    assert [await t for t in rest] == [2 * i for i in range(1, 8)]
    assert recorder.batches == [[0], [1, 2, 3], [4, 5, 6], [7]]


async def test_a_failing_batch_is_run_again_item_by_item_and_only_the_bad_item_fails() -> None:
    recorder = Recorder(bad=frozenset({2}))
    coalescer = Coalescer(recorder.run, limit=10)
    first = asyncio.create_task(coalescer.submit(0))
    await _let_tasks_run()
    rest = [asyncio.create_task(coalescer.submit(i)) for i in (1, 2, 3)]
    await _let_tasks_run()
    recorder.release.set()
    assert await first == 0
    assert await rest[0] == 2
    with pytest.raises(RuntimeError, match=r"bad item in \[2\]"):
        await rest[1]
    assert await rest[2] == 6
    assert recorder.batches == [[0], [1, 2, 3], [1], [2], [3]]


async def test_a_cancelled_drain_cancels_every_waiting_caller() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run, limit=1)
    callers = [asyncio.create_task(coalescer.submit(i)) for i in range(3)]
    await _let_tasks_run()
    drain = coalescer._task
    assert drain is not None
    drain.cancel()
    results = await asyncio.wait_for(asyncio.gather(*callers, return_exceptions=True), timeout=5)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
    # The coalescer still works afterwards.
    recorder.release.set()
    assert await coalescer.submit(4) == 8


async def test_a_caller_cancelled_while_its_batch_runs_hands_its_result_to_orphan() -> None:
    """A send cancelled while its claim commits: the claim is released, not left to expire."""
    recorder = Recorder()
    orphans: list[int] = []

    async def orphan(result: int) -> None:
        orphans.append(result)

    coalescer = Coalescer(recorder.run, limit=10, orphan=orphan)
    kept = asyncio.create_task(coalescer.submit(1))
    dropped = asyncio.create_task(coalescer.submit(2))
    await _let_tasks_run()
    assert recorder.batches == [[1, 2]]  # both in the batch that is running
    dropped.cancel()
    recorder.release.set()
    assert await kept == 2
    with pytest.raises(asyncio.CancelledError):
        await dropped
    await _let_tasks_run()
    assert orphans == [4]


async def test_a_caller_cancelled_before_its_batch_starts_is_left_out_of_it() -> None:
    recorder = Recorder()
    coalescer = Coalescer(recorder.run, limit=10)
    first = asyncio.create_task(coalescer.submit(1))
    await _let_tasks_run()
    gone, stays = (asyncio.create_task(coalescer.submit(i)) for i in (2, 3))
    await _let_tasks_run()
    gone.cancel()
    recorder.release.set()
    assert (await first, await stays) == (2, 6)
    assert recorder.batches == [[1], [3]]
