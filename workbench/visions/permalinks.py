"""A bounded in-process cache of rendered immutable pages, with strong ETags.

A numbered version never changes, so once rendered its bytes are kept (least recently used out
first) and a revalidation (`If-None-Match`) is answered 304 without touching the database.
"""

from __future__ import annotations

import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

from flask import Response, current_app, request

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    mimetype: str
    etag: str


class PageCache:
    def __init__(self, size: int):
        self.size = size
        self._pages: OrderedDict[Hashable, CachedPage] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> CachedPage | None:
        with self._lock:
            page = self._pages.get(key)
            if page is not None:
                self._pages.move_to_end(key)
            return page

    def put(self, key: Hashable, page: CachedPage) -> None:
        with self._lock:
            self._pages[key] = page
            self._pages.move_to_end(key)
            while len(self._pages) > self.size:
                self._pages.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()


def page_cache() -> PageCache:
    cache = current_app.extensions.get("workbench.page_cache")
    if cache is None:
        cache = current_app.extensions["workbench.page_cache"] = PageCache(
            current_app.config["PERMALINK_CACHE_SIZE"]
        )
    return cache


def immutable_response(key: Hashable, render: Callable[[], tuple[str, str] | None]) -> Response | None:
    """Serve an immutable page from the cache, rendering it once with `render()`.

    `render` returns (text, mimetype), or None when the page does not exist (nothing is cached then,
    and None is returned so that the view can answer 404).
    """
    cache = page_cache()
    page = cache.get(key)
    if page is None:
        rendered = render()
        if rendered is None:
            return None
        text, mimetype = rendered
        body = text.encode("utf-8")
        page = CachedPage(body=body, mimetype=mimetype, etag=hashlib.sha256(body).hexdigest()[:40])
        cache.put(key, page)
    if request.if_none_match.contains(page.etag):
        response = Response(status=304)
    else:
        response = Response(page.body, mimetype=page.mimetype)
    response.set_etag(page.etag)
    response.headers["Cache-Control"] = IMMUTABLE
    return response
