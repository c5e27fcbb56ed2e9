"""In-process caches of things that never change once computed: parsed and rendered versions,
comparisons, diffs. One least-recently-used cache per name and app, bounded by count and, where
a weight is given, by total weight (bytes)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Any

from flask import current_app


class LRUCache:
    """A thread-safe least-recently-used map. With `weigh`, it also keeps the total weight of its
    values at most `max_weight` (one value heavier than that is still kept, alone)."""

    def __init__(self, size: int, max_weight: int | None = None, weigh: Callable[[Any], int] | None = None):
        self.size = size
        self.max_weight = max_weight
        self._weigh = weigh or (lambda value: 0)
        self.weight = 0
        self._items: OrderedDict[Hashable, Any] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> Any | None:
        with self._lock:
            value = self._items.get(key)
            if value is not None:
                self._items.move_to_end(key)
            return value

    def put(self, key: Hashable, value: Any) -> Any:
        with self._lock:
            if key in self._items:
                self.weight -= self._weigh(self._items.pop(key))
            self._items[key] = value
            self.weight += self._weigh(value)
            while len(self._items) > self.size or (
                self.max_weight is not None and self.weight > self.max_weight and len(self._items) > 1
            ):
                _, evicted = self._items.popitem(last=False)
                self.weight -= self._weigh(evicted)
        return value

    def get_or_compute(self, key: Hashable, compute: Callable[[], Any]) -> Any:
        value = self.get(key)
        if value is None:
            value = self.put(key, compute())
        return value

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
            self.weight = 0

    def __len__(self) -> int:
        return len(self._items)


def app_cache(name: str, size: int, **options: Any) -> LRUCache:
    """The app's cache called `name` (each app has its own, so a test database's ids never leak).

    `<NAME>_CACHE_SIZE` in the configuration overrides `size`.
    """
    caches = current_app.extensions.setdefault("workbench.caches", {})
    cache = caches.get(name)
    if cache is None:
        # A WORKBENCH_<NAME>_CACHE_SIZE environment variable arrives as text.
        configured = int(current_app.config.get(f"{name.upper()}_CACHE_SIZE", size))
        cache = caches.setdefault(name, LRUCache(configured, **options))
    return cache


def clear_caches() -> None:
    """Forget every cached value and rendered page of this app (as after a restart)."""
    for cache in current_app.extensions.get("workbench.caches", {}).values():
        cache.clear()
