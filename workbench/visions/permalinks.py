"""A bounded in-process cache of rendered immutable pages, with strong ETags.

A numbered version never changes, so once rendered its bytes are kept (least recently used out
first) and a revalidation (`If-None-Match`) is answered 304 without touching the database.
"""

from __future__ import annotations

import gzip
import hashlib
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable, Hashable

from flask import Response, current_app, request
from markupsafe import Markup

IMMUTABLE = "public, max-age=31536000, immutable"


@dataclass(frozen=True)
class CachedPage:
    body: bytes
    mimetype: str
    etag: str
    # The same bytes gzip-compressed once, for clients that accept it (a 150-element page
    # shrinks about six times, which is most of the cost of serving it).
    gzipped: bytes = b""

    @property
    def gzip_etag(self) -> str:
        return f"{self.etag}-gzip"


class PageCache:
    """Least recently used pages out first, once there are more than `size` or `max_bytes` in all."""

    def __init__(self, size: int, max_bytes: int = 32 * 1024 * 1024):
        self.size = size
        self.max_bytes = max_bytes
        self._bytes = 0
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
            old = self._pages.pop(key, None)
            self._bytes -= len(old.body) if old else 0
            self._pages[key] = page
            self._bytes += len(page.body)
            while len(self._pages) > self.size or (self._bytes > self.max_bytes and len(self._pages) > 1):
                _, evicted = self._pages.popitem(last=False)
                self._bytes -= len(evicted.body)

    def clear(self) -> None:
        with self._lock:
            self._pages.clear()
            self._bytes = 0

    def __len__(self) -> int:
        return len(self._pages)

    @property
    def bytes(self) -> int:
        return self._bytes


def page_cache() -> PageCache:
    cache = current_app.extensions.get("workbench.page_cache")
    if cache is None:
        cache = current_app.extensions["workbench.page_cache"] = PageCache(
            current_app.config["PERMALINK_CACHE_SIZE"], current_app.config["PERMALINK_CACHE_BYTES"]
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
        page = CachedPage(
            body=body,
            mimetype=mimetype,
            etag=hashlib.sha256(body).hexdigest()[:40],
            gzipped=gzip.compress(body, compresslevel=6, mtime=0),
        )
        cache.put(key, page)
    compressed = "gzip" in request.accept_encodings
    etag = page.gzip_etag if compressed else page.etag
    if request.if_none_match.contains(page.etag) or request.if_none_match.contains(page.gzip_etag):
        response = Response(status=304)
    else:
        response = Response(page.gzipped if compressed else page.body, mimetype=page.mimetype)
        if compressed:
            response.headers["Content-Encoding"] = "gzip"
    response.set_etag(etag)
    response.headers["Cache-Control"] = IMMUTABLE
    response.vary.add("Accept-Encoding")
    return response


def cached_fragment(key: Hashable, render: Callable[[], str]) -> Markup:
    """HTML rendered once from immutable content (a published version's text) and kept."""
    cache = page_cache()
    page = cache.get(key)
    if page is None:
        body = render().encode("utf-8")
        page = CachedPage(body=body, mimetype="text/html", etag="")
        cache.put(key, page)
    return Markup(page.body.decode("utf-8"))
