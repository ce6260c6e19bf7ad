"""The process-wide caches (parsed rubric versions, sittings under way) stay bounded."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from app.lru import LockedLRU


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: LockedLRU[str, int] = LockedLRU(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # "b" is now the least recently used
    cache.put("c", 3)

    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c")) == (1, 3)


def test_writes_from_many_threads_never_exceed_the_size() -> None:
    cache: LockedLRU[int, int] = LockedLRU(50)
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda n: cache.put(n, n), range(5_000)))

    kept = [n for n in range(5_000) if cache.get(n) is not None]
    assert len(kept) == 50
