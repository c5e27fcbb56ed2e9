"""Keyset pagination (workbench/keyset.py): following "Next page" from the first page, or "Previous
page" from the last, visits every proposal once, in the list's order, for every sort of the
proposals list and the queue, ties and expressions included; and a request names a page only in
one well-formed way."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from workbench import keyset
from workbench.extensions import db
from workbench.facilitation.queue import QUEUE_SORTS
from workbench.keyset import KeysetPage, Seek
from workbench.models import Proposal, utcnow
from workbench.proposals.services import SORTS

from .factories import open_proposal


@pytest.fixture
def proposals(vision, make_user):
    """23 proposals with many ties: equal times and tallies, so only the id tells them apart."""
    rng = random.Random(7)
    authors = [make_user() for _ in range(3)]
    made = [open_proposal(vision, authors[n % 3], "objective-1", body=f"Objective 1.1 body {n}.") for n in range(23)]
    now = utcnow()
    for proposal in made:
        db.session.execute(
            update(Proposal)
            .where(Proposal.id == proposal.id)
            .values(
                created_at=now - timedelta(minutes=rng.choice([1, 2, 3])),
                support_count=rng.choice([0, 0, 1, 5]),
                oppose_count=rng.choice([0, 1, 5]),
                comment_count=rng.choice([0, 2]),
            )
        )
    db.session.commit()
    return made


def walk(query, order_by, seek: Seek, per_page: int) -> KeysetPage:
    return keyset.seek_page(
        query, order_by, seek, per_page, total=0,
        values=lambda i: keyset.values_of(order_by, Proposal.id, i), row_id=lambda row: row[0],
    )


ORDERS = {f"list {name}": sort.order_by for name, sort in SORTS.items()} | {
    f"queue {name}": sort.order_by for name, sort in QUEUE_SORTS.items()
}


@pytest.mark.parametrize("order", ORDERS.values(), ids=ORDERS.keys())
@pytest.mark.parametrize("per_page", [1, 5, 23])
def test_next_and_previous_visit_every_row_once_in_order(proposals, order, per_page):
    query = select(Proposal.id)
    expected = list(db.session.scalars(query.order_by(*order)))
    assert len(expected) == 23

    forwards, page = [], walk(query, order, Seek(), per_page)
    while True:
        forwards += page.ids
        assert len(page.ids) <= per_page
        if page.next is None:
            break
        assert page.has_next
        page = walk(query, order, page.next, per_page)
    assert forwards == expected

    backwards, page = [], walk(query, order, Seek(last=True), per_page)
    assert not page.has_next and page.ids == expected[-per_page:]
    while True:
        backwards = page.ids + backwards
        if page.previous is None:
            break
        page = walk(query, order, page.previous, per_page)
    assert backwards == expected


def test_a_page_after_a_row_that_left_the_list_starts_where_it_was(proposals):
    order = SORTS["oldest"].order_by
    query = select(Proposal.id)
    everything = list(db.session.scalars(query.order_by(*order)))
    gone = everything[9]
    narrowed = query.where(Proposal.id != gone)
    page = walk(narrowed, order, Seek(after=gone), 5)
    assert page.ids == everything[10:15] and page.has_previous and page.has_next
    page = walk(narrowed, order, Seek(before=gone), 5)
    assert page.ids == everything[4:9] and page.has_previous and page.has_next
    # A row that does not exist at all: the first page.
    assert walk(query, order, Seek(after=10**9), 5).ids == everything[:5]


@pytest.mark.parametrize(
    ("args", "seek"),
    [
        ({}, Seek()),
        ({"after": "12"}, Seek(after=12)),
        ({"before": "7"}, Seek(before=7)),
        ({"last": "1"}, Seek(last=True)),
        ({"after": "12", "before": "7"}, Seek()),
        ({"after": "12", "last": "1"}, Seek()),
        ({"after": "-1"}, Seek()),
        ({"after": "²"}, Seek()),
        ({"after": "1e3"}, Seek()),
        ({"before": ""}, Seek()),
        ({"last": "true"}, Seek()),
        ({"after": "9" * 40}, Seek()),
    ],
)
def test_a_request_names_a_page_in_one_well_formed_way(args, seek):
    assert Seek.parse(args) == seek
    assert Seek.parse(seek.link_args() and {k: str(v) for k, v in seek.link_args().items()}) == seek


def test_a_list_in_memory_pages_the_same_way():
    items = list(range(100, 112))
    page = keyset.seek_in_list(items, Seek(), 5, lambda i: i)
    assert page.ids == [100, 101, 102, 103, 104] and not page.has_previous and page.has_next
    page = keyset.seek_in_list(items, page.next, 5, lambda i: i)
    assert page.ids == [105, 106, 107, 108, 109]
    page = keyset.seek_in_list(items, Seek(last=True), 5, lambda i: i)
    assert page.ids == [107, 108, 109, 110, 111] and page.has_previous and not page.has_next
    assert keyset.seek_in_list(items, Seek(before=107), 5, lambda i: i).ids == [102, 103, 104, 105, 106]
    assert keyset.seek_in_list(items, Seek(after=999), 5, lambda i: i).ids == [100, 101, 102, 103, 104]
