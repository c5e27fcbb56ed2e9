"""Lists shown a page at a time: the page a request asks for, and where a page sits in its list."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import url_for

from .keyset import Seek
from .numbers import whole_number

MAX_PAGE_DIGITS = 6


def parse_page(raw: str | None) -> int:
    """A page number from the query string: anything but 1..999,999 is the first page."""
    return whole_number(raw, maximum=10**MAX_PAGE_DIGITS - 1) or 1


def page_links(endpoint: str, **params: Any) -> Callable[[int], str]:
    """`page_url(n)` for a list's pagination: `endpoint` with the filters in `params` that are set
    (empty values and defaults passed as "" or None are left out) and the page (none for page 1)."""
    kept = {name: value for name, value in params.items() if value not in ("", None)}

    def page_url(number: int) -> str:
        return url_for(endpoint, **kept, **({"page": number} if number > 1 else {}))

    return page_url


def seek_links(endpoint: str, **params: Any) -> Callable[[Seek], str]:
    """`page_url(seek)` for a list paged by keyset (see keyset.py): `endpoint` with the filters in
    `params` that are set and the page `seek` names (none for the first page)."""
    kept = {name: value for name, value in params.items() if value not in ("", None)}

    def page_url(seek: Seek) -> str:
        return url_for(endpoint, **kept, **seek.link_args())

    return page_url


def page_count(total: int, per_page: int) -> int:
    """How many pages `total` items fill (an empty list is one empty page)."""
    return max(1, -(-total // per_page))


class PageNumbers:
    """For a page of a list with `total`, `page` (from 1) and `per_page`: the numbers that
    templates/macros/pagination.html and the "Showing 21 to 40 of 95" lines read."""

    total: int
    page: int
    per_page: int

    @property
    def pages(self) -> int:
        return page_count(self.total, self.per_page)

    @property
    def first(self) -> int:
        """The position of this page's first item in the whole list (0 when the list is empty)."""
        return (self.page - 1) * self.per_page + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.total, self.page * self.per_page)

    @property
    def remaining(self) -> int:
        """Items after this page."""
        return max(0, self.total - self.last)

    @property
    def next_count(self) -> int:
        """How many the next page shows ("Show 20 more")."""
        return min(self.per_page, self.remaining)
