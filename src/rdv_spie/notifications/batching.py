"""Group commit: concurrent callers each submit one item and await its result, while one
task at a time runs the items gathered so far as a single batch (one transaction for many).

With one caller at a time a batch holds one item, so nothing waits for a batch to fill; under
load (a worker's 20 concurrent jobs) the items that arrive while a batch runs make the next
one. Process-local and stateless between batches: what a batch writes is in the database.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")


class Coalescer(Generic[T, R]):
    """Run ``run(items)`` on what was submitted meanwhile; ``run`` returns one result per
    item, in order. A batch that raises is run again item by item, so one bad item fails
    alone."""

    def __init__(
        self,
        run: Callable[[list[T]], Awaitable[Sequence[R]]],
        *,
        limit: int,
        orphan: Callable[[R], Awaitable[None]] | None = None,
    ) -> None:
        """``orphan`` receives a result whose caller stopped waiting (cancelled) while its
        batch ran, to undo what nobody will act on."""
        self._run = run
        self._limit = limit
        self._orphan = orphan
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._task: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """This item's result, once a batch holding it has run."""
        future: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, future))
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        while self._waiting:
            batch, self._waiting = self._waiting[: self._limit], self._waiting[self._limit :]
            batch = [(item, future) for item, future in batch if not future.done()]
            if batch:
                await self._settle(batch)

    async def _settle(self, batch: list[tuple[T, asyncio.Future[R]]]) -> None:
        try:
            try:
                results = await self._run([item for item, _ in batch])
            except Exception as exc:
                if len(batch) > 1:
                    for one in batch:
                        await self._settle([one])
                    return
                _, future = batch[0]
                if not future.done():
                    future.set_exception(exc)
                return
        except BaseException:  # cancelled (shutting down): nobody may wait forever
            for _, future in [*batch, *self._waiting]:
                future.cancel()
            self._waiting = []
            raise
        for (_, future), result in zip(batch, results, strict=True):
            if not future.done():
                future.set_result(result)
            elif self._orphan is not None:
                await self._orphan(result)
