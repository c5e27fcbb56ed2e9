"""A removed element keeps its last label wherever a proposal or a reflection names it ("Objective
1.2 (removed in version 2)"), never its key, and takes no new proposals or reflections (a 409 that
says why)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from workbench.drafting.edits import add_element_to_draft, remove_element_from_draft
from workbench.drafting.publishing import publish_version
from workbench.models import Comment, Proposal, Role, db
from workbench.visions import services as visions

from tests.factories import add_comment, element_of, fresh, open_proposal
from tests.test_proposals import html

SLUG = "test-vision"


def shown_text(page: str) -> str:
    """The page's words without tags or the URLs inside them."""
    return re.sub(r"<[^>]+>", " ", page)


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR, name="Fran Facilitator")


@pytest.fixture
def removed(vision, make_user, facilitator):
    """Objective 1.2 (objective-2) with a proposal and a reflection, removed and published as version 2."""
    author = make_user(name="Rae Remover")
    proposal = open_proposal(vision, author, "objective-2")
    add_comment(proposal, make_user(), "A comment before it went.")
    from workbench.discussion.services import post_reflection

    post_reflection(vision, element_of(vision, "objective-2"), author, "A reflection before it went.")
    remove_element_from_draft(vision, "objective-2", reason="Folded into Objective 1.1.", actor=facilitator)
    publish_version(vision, actor=None, notes="Objective 1.2 folded into 1.1.")
    db.session.commit()
    return {"proposal": proposal, "author": author}


def test_the_label_says_which_version_removed_it(app, vision, removed) -> None:
    assert visions.element_label(vision, "objective-2") == "Objective 1.2 (removed in version 2)"
    assert visions.element_label(vision, "objective-1") == "Objective 1.1"
    assert visions.element_label(vision, "objective-99") == "objective-99"
    removal = visions.element_removal(vision, "objective-2")
    assert (removal.last_label, removal.removed_in, removal.ever_published) == ("Objective 1.2", 2, True)
    assert visions.element_removal(vision, "objective-1") is None


def test_a_removal_waiting_in_the_draft_says_so(app, vision, facilitator) -> None:
    remove_element_from_draft(vision, "condition-1", reason="Not needed.", actor=facilitator)
    db.session.commit()
    assert visions.element_label(vision, "condition-1") == "Enabling condition 1.1 (removed from the working draft)"


def test_an_element_removed_before_it_was_ever_published_is_numbered_where_it_stood(app, vision, facilitator) -> None:
    entry = add_element_to_draft(
        vision, kind="objective", parent_key="ambition-2", title="A short-lived one", body="Soon gone.",
        reason="Trying it.", before_key=None, actor=facilitator,
    )
    key = entry.element.key
    remove_element_from_draft(vision, key, reason="Thought better of it.", actor=facilitator)
    db.session.commit()
    assert visions.element_label(vision, key) == "Objective 2.3 (removed before it was published)"


def test_labels_for_many_removed_elements_take_a_bounded_number_of_queries(app, vision, facilitator, count_queries) -> None:
    for key in ("objective-2", "objective-4", "condition-2"):
        remove_element_from_draft(vision, key, reason="Tidying.", actor=facilitator)
    publish_version(vision, actor=None, notes="Tidied.")
    db.session.commit()
    tree = visions.working_tree(vision)
    with count_queries() as log:
        labels = visions.element_labels(vision, ["objective-1", "objective-2", "objective-4", "condition-2"], tree)
    assert labels == {
        "objective-1": "Objective 1.1",
        "objective-2": "Objective 1.2 (removed in version 2)",
        "objective-4": "Objective 2.2 (removed in version 2)",
        "condition-2": "Enabling condition 2.1 (removed in version 2)",
    }
    assert log.count <= 2
    with count_queries() as log:
        visions.element_labels(vision, ["objective-1"], tree)
    assert log.count == 0  # nothing removed asked for: no query


@pytest.mark.parametrize(
    "url",
    [
        "/proposals/{id}",
        "/proposals/{id}/revisions/1",
        "/proposals/{id}/comments",
        f"/visions/{SLUG}/proposals",
        f"/visions/{SLUG}/proposals?element=objective-2",
        f"/visions/{SLUG}/elements/objective-2",
        f"/visions/{SLUG}/elements/objective-2/reflections",
    ],
)
def test_pages_name_a_removed_element_by_its_last_label_never_its_key(client, removed, url) -> None:
    response = client.get(url.format(id=removed["proposal"].id))
    assert response.status_code == 200
    words = shown_text(html(response))
    assert "Objective 1.2 (removed in version 2)" in words
    assert "objective-2" not in words


def test_the_element_page_says_it_takes_no_new_proposals_or_reflections(client, removed, make_user, login_as) -> None:
    login_as(make_user())
    page = html(client.get(f"/visions/{SLUG}/elements/objective-2"))
    assert "Objective 1.2 was removed from the vision in version 2, so it takes no new proposals or reflections" in page
    assert "/propose" not in page
    assert 'name="body"' not in page  # no reflection form
    assert "so it takes no new reflections" in page
    assert "A reflection before it went." in page  # what was said stays readable


def test_proposing_on_a_removed_element_is_refused_with_a_reason(client, vision, removed, make_user, login_as) -> None:
    login_as(make_user())
    before = db.session.scalar(select(func.count()).select_from(Proposal))
    base = f"/visions/{SLUG}/elements/objective-2/propose"
    for response in (
        client.get(base),
        client.post(base, data={"title": "T", "body": "New words.", "rationale": "Why."}),
        client.post(base + "/preview", data={"title": "T", "body": "New words."}),
    ):
        assert response.status_code == 409
        assert "Objective 1.2 was removed from the vision in version 2, so it takes no new proposals" in html(response)
    assert db.session.scalar(select(func.count()).select_from(Proposal)) == before


def test_reflecting_on_a_removed_element_is_refused_with_a_reason(client, vision, removed, make_user, login_as) -> None:
    login_as(make_user())
    before = db.session.scalar(select(func.count()).select_from(Comment))
    url = f"/visions/{SLUG}/elements/objective-2/reflections"
    page = html(client.get(url))
    assert "so it takes no new reflections" in page and 'name="body"' not in page
    response = client.post(url, data={"body": "Too late?"})
    assert response.status_code == 409
    assert "Objective 1.2 was removed from the vision in version 2, so it takes no new reflections" in html(response)
    reflection = db.session.scalar(select(Comment).where(Comment.proposal_id.is_(None)))
    reply = client.post(url, data={"body": "A late reply.", "parent_id": str(reflection.id)})
    assert reply.status_code == 409
    assert db.session.scalar(select(func.count()).select_from(Comment)) == before


def test_the_reflection_service_refuses_a_removed_element(app, vision, removed, make_user) -> None:
    from workbench.discussion.services import post_reflection
    from workbench.exceptions import WrongState

    with pytest.raises(WrongState, match="takes no new reflections"):
        post_reflection(vision, element_of(vision, "objective-2"), make_user(), "Still here?")


def test_the_proposal_closed_by_the_removal_names_the_element_by_its_last_label(client, removed) -> None:
    proposal = fresh(Proposal, removed["proposal"].id)
    assert proposal.status == "rejected"
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "A change to Objective 1.2 (removed in version 2)" in page


def test_the_proposal_service_refuses_a_removed_element(app, vision, removed, make_user) -> None:
    from workbench.exceptions import WrongState
    from workbench.proposals.services import open_proposal as open_through_service

    with pytest.raises(WrongState, match="takes no new proposals"):
        open_through_service(vision, element_of(vision, "objective-2"), make_user(), "T", "New words.", "Why.")
