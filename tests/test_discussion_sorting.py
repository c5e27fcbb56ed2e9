"""Sorting proposals by their tallies (issue 5): the order_by expressions the proposals list offers
as "most supported", "most contested" and "most discussed", and the indexes behind them."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text

from workbench.proposals.services import MOST_CONTESTED, MOST_DISCUSSED, MOST_SUPPORTED, SORTS
from workbench.models import Proposal, db

from .conftest import schema_names
from .factories import open_proposal


def proposals_with(vision, author, tallies: dict[str, tuple[int, int, int]]) -> None:
    """Proposals named by their title, with (support, oppose, comments) written directly."""
    for title, (support, oppose, comments) in tallies.items():
        proposal = open_proposal(vision, author, body="Text.", title=title, rationale="Why.")
        proposal.support_count, proposal.oppose_count, proposal.comment_count = support, oppose, comments
    db.session.commit()


def titles(order) -> list[str]:
    return list(db.session.scalars(select(Proposal.title).where(Proposal.hidden_at.is_(None)).order_by(*order)))


def test_the_tally_sorts(make_vision, make_user) -> None:
    proposals_with(
        make_vision(), make_user(),
        {
            "loved": (50, 1, 3),
            "split": (20, 18, 40),
            "fought over": (30, 25, 12),
            "ignored": (0, 0, 0),
            "disliked": (2, 30, 5),
        },
    )
    assert titles(MOST_SUPPORTED) == ["loved", "fought over", "split", "disliked", "ignored"]
    # Contested: the smaller of the two tallies first, then the most votes.
    assert titles(MOST_CONTESTED) == ["fought over", "split", "disliked", "loved", "ignored"]
    assert titles(MOST_DISCUSSED) == ["split", "fought over", "disliked", "loved", "ignored"]


SORT_INDEXES = {
    "newest": "ix_proposals_visible_created",
    "supported": "ix_proposals_visible_support",
    "contested": "ix_proposals_visible_contested",
    "discussed": "ix_proposals_visible_discussed",
}


def test_every_sort_but_oldest_has_an_index(app) -> None:
    assert set(SORT_INDEXES.values()) <= schema_names("index")
    assert set(SORT_INDEXES) | {"oldest"} == set(SORTS)


@pytest.mark.parametrize("sort", sorted(SORT_INDEXES))
def test_a_page_in_each_sort_reads_its_index_instead_of_sorting(app, make_vision, sort) -> None:
    vision = make_vision()
    query = (
        select(Proposal.id)
        .where(Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None))
        .order_by(*SORTS[sort].order_by)
        .limit(20)
    )
    with db.engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            pytest.skip("PostgreSQL's planner chooses by its statistics; the index exists (above)")
        compiled = query.compile(connection, compile_kwargs={"literal_binds": True})
        plan = " ".join(row[3] for row in connection.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
    assert SORT_INDEXES[sort] in plan
    assert "TEMP B-TREE" not in plan
