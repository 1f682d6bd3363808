"""The slot cache is bounded by the number of slots it holds, least recently used first out."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from rdv_spie.scheduling.cache import SlotCache
from rdv_spie.scheduling.slots import Slot

AT = datetime(2026, 12, 2, 8, tzinfo=UTC)


def slots(n: int) -> list[Slot]:
    return [
        Slot(
            AT + timedelta(minutes=15 * i),
            AT + timedelta(minutes=15 * i + 45),
            uuid.UUID(int=1),
            (uuid.UUID(int=2),),
            (),
        )
        for i in range(n)
    ]


def test_bounded_by_slots_held_and_least_recently_used_goes_first() -> None:
    cache = SlotCache(max_slots=10)
    cache.put("a", slots(4))
    cache.put("b", slots(4))
    assert cache.get("a") is not None  # "a" is now the most recently used
    cache.put("c", slots(4))  # 12 > 10: "b" goes
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    cache.put("a", slots(1))  # replacing an entry counts its new size only
    cache.put("d", slots(5))
    assert [k for k in "acd" if cache.get(k) is not None] == ["a", "c", "d"]


def test_a_result_larger_than_the_bound_is_returned_not_kept() -> None:
    cache = SlotCache(max_slots=3)
    assert len(cache.put("big", slots(5))) == 5
    assert cache.get("big") is None


def test_empty_results_count_so_unknown_keys_cannot_grow_it() -> None:
    cache = SlotCache(max_slots=3)
    for i in range(100):
        cache.put(("nowhere", i), ())
    assert sum(cache.get(("nowhere", i)) is not None for i in range(100)) == 3
    cache.put("a", slots(2))  # two empty entries go to make room
    assert cache.get("a") is not None and cache.get(("nowhere", 99)) is not None
    assert cache.get(("nowhere", 98)) is None
