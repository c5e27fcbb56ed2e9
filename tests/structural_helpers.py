"""What the tests of proposals that change the draft's structure share (`test_structural_proposals.py`
for removals and moves, `test_add_proposals.py` for additions): the people, the proposal a page just
opened, the working draft's labels, a facilitator's accept, and the elements of a published version.

    from .structural_helpers import accept, labels_in_draft, people, proposed  # noqa: F401  (people is a fixture)
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from workbench.models import Proposal, Role, Vision, db
from workbench.visions.services import working_tree

from .factories import fresh
from .test_facilitation import accept_form, text


@pytest.fixture
def people(make_user):
    """A facilitator, the volunteer who proposes, and another volunteer who votes and comments."""
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        author=make_user(Role.VOLUNTEER, name="Ana Author"),
        other=make_user(Role.VOLUNTEER, name="Olu Other"),
    )


def proposed(response, kind: str) -> Proposal:
    """The newest proposal of `kind`, which `response` (the POST that proposed it) redirected to."""
    assert response.status_code == 302, text(response)
    return db.session.scalar(select(Proposal).where(Proposal.kind == kind).order_by(Proposal.id.desc()))


def labels_in_draft(vision) -> dict[str, str]:
    """The working draft's display labels by element key ("objective-2": "Objective 1.2")."""
    return {e["key"]: e["label"] for e in working_tree(fresh(Vision, vision.id))}


def keys_in_draft(vision) -> set[str]:
    return set(labels_in_draft(vision))


def accept(client, proposal: Proposal, **typed: str):
    """The signed-in facilitator accepts `proposal` from its accept page, with `typed` (a note)."""
    return client.post(f"/proposals/{proposal.id}/accept", data=accept_form(client, proposal.id, **typed))


def support_and_comment(client, login_as, person, proposal: Proposal, comment: str) -> None:
    """`person` supports `proposal` and comments on it, as the proposal page's forms do."""
    login_as(person)
    assert client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}).status_code == 302
    assert client.post(f"/proposals/{proposal.id}/comments", data={"body": comment}).status_code in (302, 303)


def elements_of_version(client, number: int) -> dict[str, dict[str, Any]]:
    """The elements of the published version `number` (its open data), by key, each with the key of
    the element it sits under (`under`, None at the top level)."""

    def walk(nodes: list[dict[str, Any]], under: str | None) -> Iterator[tuple[str, dict[str, Any]]]:
        for node in nodes:
            yield node["key"], {**node, "under": under}
            yield from walk(node.get("children", []), node["key"])

    return dict(walk(client.get(f"/visions/test-vision/v/{number}.json").get_json()["elements"], None))
