"""In-process caches are bounded by count and, for rendered pages, by bytes."""

from workbench.caching import LRUCache


def test_least_recently_used_values_go_first_when_full() -> None:
    cache = LRUCache(size=2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert cache.get("b") is None
    assert (cache.get("a"), cache.get("c"), len(cache)) == (1, 3, 2)


def test_a_weighed_cache_never_holds_more_than_its_weight() -> None:
    cache = LRUCache(size=100, max_weight=1000, weigh=len)
    for n in range(10):
        cache.put(n, b"x" * 300)
    assert (cache.weight, len(cache)) == (900, 3)
    cache.put(9, b"x" * 100)  # replacing a value counts its new weight only
    assert (cache.weight, len(cache)) == (700, 3)


def test_one_value_heavier_than_the_limit_is_still_kept() -> None:
    cache = LRUCache(size=10, max_weight=10, weigh=len)
    cache.put("big", b"x" * 50)
    assert cache.get("big") is not None


def test_get_or_compute_computes_once() -> None:
    cache = LRUCache(size=4)
    calls = []
    for _ in range(3):
        cache.get_or_compute("k", lambda: calls.append(1) or "value")
    assert calls == [1]
