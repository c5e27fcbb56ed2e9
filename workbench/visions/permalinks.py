"""A bounded in-process cache of rendered immutable pages, with strong ETags.

A numbered version never changes, so once rendered its bytes are kept (least recently used out
first) and a revalidation (`If-None-Match`) is answered 304 without touching the database.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Callable, Hashable

from flask import Response, current_app, request
from markupsafe import Markup

from ..caching import app_cache
from ..compression import accepts_gzip, gzip_bytes

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


def page_cache():
    """Rendered immutable pages and fragments, bounded by count and bytes (PERMALINK_CACHE_*)."""
    config = current_app.config
    return app_cache(
        "permalink",
        config["PERMALINK_CACHE_SIZE"],
        max_weight=config["PERMALINK_CACHE_BYTES"],
        weigh=lambda page: len(page.body) + len(page.gzipped),
    )


def immutable_response(key: Hashable, render: Callable[[], tuple[str, str] | None]) -> Response | None:
    """Serve an immutable page from the cache, rendering it once with `render()`.

    `render` returns (text, mimetype), or None when the page does not exist (nothing is cached then,
    and None is returned so that the view can answer 404).
    """
    return cached_response(key, render, IMMUTABLE)


def cached_response(
    key: Hashable, render: Callable[[], tuple[str, str] | None], cache_control: str
) -> Response | None:
    """`immutable_response` for a page that browsers keep as `cache_control` says: one whose words
    may change though its data does not (names credited, moderation), so `key` holds what it shows
    (a fingerprint) and a strong ETag lets browsers revalidate it with a 304."""
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
            gzipped=gzip_bytes(body),
        )
        cache.put(key, page)
    # The busiest pages of the site: headers are built as one list (werkzeug's header-by-header
    # setters scan the list each time), and request headers are parsed only when present.
    compressed = accepts_gzip()
    headers = [
        ("ETag", f'"{page.gzip_etag if compressed else page.etag}"'),
        ("Cache-Control", cache_control),
        ("Vary", "Accept-Encoding"),
    ]
    if "If-None-Match" in request.headers and (
        request.if_none_match.contains(page.etag) or request.if_none_match.contains(page.gzip_etag)
    ):
        return Response(status=304, headers=headers)
    if compressed:
        headers.append(("Content-Encoding", "gzip"))
    return Response(page.gzipped if compressed else page.body, mimetype=page.mimetype, headers=headers)


def cached_fragment(key: Hashable, render: Callable[[], str]) -> Markup:
    """HTML rendered once from immutable content (a published version's text) and kept."""
    cache = page_cache()
    page = cache.get(key)
    if page is None:
        body = render().encode("utf-8")
        page = CachedPage(body=body, mimetype="text/html", etag="")
        cache.put(key, page)
    return Markup(page.body.decode("utf-8"))
