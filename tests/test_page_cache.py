"""The cache of rendered immutable pages is bounded by count and by bytes."""

from workbench.visions.permalinks import CachedPage, PageCache


def page(size: int) -> CachedPage:
    return CachedPage(body=b"x" * size, mimetype="text/html", etag=str(size))


def test_least_recently_used_pages_go_first_when_full() -> None:
    cache = PageCache(size=2)
    cache.put("a", page(1))
    cache.put("b", page(2))
    assert cache.get("a") is not None  # a is now the most recent
    cache.put("c", page(3))
    assert cache.get("b") is None
    assert cache.get("a") is not None and cache.get("c") is not None
    assert len(cache) == 2


def test_the_cache_never_holds_more_than_its_bytes() -> None:
    cache = PageCache(size=100, max_bytes=1000)
    for n in range(10):
        cache.put(n, page(300))
    assert cache.bytes <= 1000
    assert len(cache) == 3
    cache.put(9, page(100))  # replacing a page counts its new size only
    assert (cache.bytes, len(cache)) == (700, 3)


def test_one_page_larger_than_the_limit_is_still_served() -> None:
    cache = PageCache(size=10, max_bytes=10)
    cache.put("big", page(50))
    assert cache.get("big") is not None
