"""A facilitator works the queue in a real browser: accepts one proposal with an edit, rejects another
with a reason, and meets a conflict. axe-core finds no WCAG 2.2 AA violation on the queue, the accept
page, the conflict screen and the reject page (with and without an error)."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workbench.extensions import db
from workbench.models import DraftEntry, Element, ElementText, Proposal, Role

from tests.factories import open_proposal

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def _set_text(vision, key: str, body: str) -> None:
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == element.id))
    text = ElementText(element_id=element.id, title=db.session.get(ElementText, entry.text_id).title, body=body)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.commit()


@pytest.fixture
def queue_world(make_vision, make_user):
    vision = make_vision()
    facilitator = make_user(Role.FACILITATOR, name="Fiona Facilitator")
    ana = make_user(Role.VOLUNTEER, name="Ana Author")
    ben = make_user(Role.VOLUNTEER, name="Ben Builder")
    _set_text(vision, "objective-3", "By 2030 we will have trained 10,000 people in data skills.")
    to_accept = open_proposal(vision, ana, "objective-1", "Objective 1.1 body, written more plainly.")
    to_reject = open_proposal(vision, ben, "objective-2", "Objective 1.2 body, and everything else.")
    twenty = open_proposal(vision, ana, "objective-3", "By 2030 we will have trained 20,000 people in data skills.")
    fifteen = open_proposal(vision, ben, "objective-3", "By 2030 we will have trained 15,000 people in data skills.")
    return vision, facilitator, to_accept, to_reject, twenty, fifteen


def _status(proposal_id: int) -> Proposal:
    db.session.rollback()
    return db.session.scalar(select(Proposal).where(Proposal.id == proposal_id).execution_options(populate_existing=True))


@pytest.mark.allow_console_errors(r"status of 422")  # the reject form sent without a reason
def test_facilitator_works_the_queue(queue_world, page, login_browser):
    vision, facilitator, to_accept, to_reject, twenty, fifteen = queue_world
    login_browser(page, facilitator)

    # The queue: every open proposal, competing ones flagged in words.
    response = page.goto(f"/visions/{vision.slug}/facilitate")
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Proposals waiting for a decision"
    main = page.inner_text("main")
    for proposal in (to_accept, to_reject, twenty, fifteen):
        assert f"Proposal {proposal.id}" in main
    assert "Competing" in main
    assert_no_axe_violations(page)

    # Accept one, with an edit.
    page.get_by_role("link", name=f"Accept proposal {to_accept.id}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Accept proposal {to_accept.id}"
    assert page.get_by_label("Text to accept").input_value() == "Objective 1.1 body, written more plainly."
    assert_no_axe_violations(page)
    page.get_by_label("Text to accept").fill("Objective 1.1 body, written plainly.")
    page.get_by_label("Note for the public record (optional)").fill("Shortened a little.")
    page.get_by_role("button", name="Accept into the working draft").click()
    # From the queue, the decision leads on to the next proposal of the same queue.
    page.wait_for_url(re.compile(rf"/proposals/{to_reject.id}\?from="))
    assert f"You accepted proposal {to_accept.id} with changes" in page.inner_text("main")
    assert f"Next in the queue: proposal {to_reject.id}" in page.inner_text("main")
    accepted = _status(to_accept.id)
    assert accepted.status == "accepted" and accepted.accepted_with_changes is True
    assert db.session.get(ElementText, accepted.result_text_id).body == "Objective 1.1 body, written plainly."

    # Reject another: first without a reason (an error beside the field), then with one.
    page.goto(f"/visions/{vision.slug}/facilitate")
    assert f"Proposal {to_accept.id}" not in page.inner_text("main")
    page.get_by_role("link", name=f"Reject proposal {to_reject.id}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Reject proposal {to_reject.id}"
    assert_no_axe_violations(page)
    page.get_by_role("button", name=f"Reject proposal {to_reject.id}").click()
    assert page.get_by_role("heading", name="There is a problem").is_visible()
    assert "Enter the reason for rejecting this proposal" in page.inner_text("main")
    assert_no_axe_violations(page)
    assert _status(to_reject.id).status == "open"
    page.get_by_label("Reason for rejecting (shown publicly)").fill("It widens the objective beyond its ambition.")
    page.get_by_role("button", name=f"Reject proposal {to_reject.id}").click()
    page.wait_for_url(re.compile(rf"/proposals/{twenty.id}\?from="))
    assert f"You rejected proposal {to_reject.id}" in page.inner_text("main")
    rejected = _status(to_reject.id)
    assert rejected.status == "rejected" and rejected.decision_reason == "It widens the objective beyond its ambition."

    # Accept one of two competing proposals: the other now shows the conflict screen.
    page.goto(f"/proposals/{twenty.id}/accept")
    page.get_by_role("button", name="Accept into the working draft").click()
    page.wait_for_url(re.compile(rf"/proposals/{twenty.id}$"))
    page.goto(f"/visions/{vision.slug}/facilitate?flag=conflicted")
    assert f"Proposal {fifteen.id}" in page.inner_text("main")
    page.get_by_role("link", name=f"Accept proposal {fifteen.id}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Resolve the conflict in proposal {fifteen.id}"
    main = page.inner_text("main")
    assert "What changed in the working text meanwhile" in main and "25,000" not in main
    assert page.get_by_label("Resolved text").input_value() == "By 2030 we will have trained 20,000 people in data skills."
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_queue_reflows_and_is_accessible_when_empty(make_vision, make_user, page, login_browser):
    vision = make_vision()
    login_browser(page, make_user(Role.FACILITATOR))
    page.goto(f"/visions/{vision.slug}/facilitate")
    assert "No open proposals: nothing is waiting for a decision" in page.inner_text("main")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_full_queue_reflows_at_320_px(queue_world, page, login_browser):
    vision, facilitator, *_ = queue_world
    login_browser(page, facilitator)
    page.goto(f"/visions/{vision.slug}/facilitate")
    assert_no_horizontal_scroll(page, 320)
    assert_no_axe_violations(page)
