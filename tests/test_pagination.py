"""Page numbers from the query string, and where a page sits in its list."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from workbench.pagination import PageNumbers, page_count, parse_page

# Pure: nothing here reads a database (conftest runs it once, in the SQLite run).
pytestmark = pytest.mark.database_free


@pytest.mark.parametrize(
    ("raw", "page"),
    [(None, 1), ("", 1), ("1", 1), (" 7 ", 7), ("999999", 999_999), ("1000000", 1), ("0", 1), ("-2", 1),
     ("2.5", 1), ("1e3", 1), ("٣", 1), ("²", 1), ("3 4", 1), ("0x10", 1)],
)
def test_a_page_number_is_1_to_999999_in_ascii_digits(raw, page) -> None:
    assert parse_page(raw) == page


@dataclass
class Listed(PageNumbers):
    total: int
    page: int
    per_page: int = 20


def test_where_a_page_sits() -> None:
    assert page_count(0, 20) == 1 and page_count(20, 20) == 1 and page_count(21, 20) == 2
    middle = Listed(total=95, page=2)
    assert (middle.pages, middle.first, middle.last, middle.remaining, middle.next_count) == (5, 21, 40, 55, 20)
    end = Listed(total=95, page=5)
    assert (end.first, end.last, end.remaining, end.next_count) == (81, 95, 0, 0)
    empty = Listed(total=0, page=1)
    assert (empty.pages, empty.first, empty.last, empty.remaining) == (1, 0, 0, 0)
