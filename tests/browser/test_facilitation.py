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


def tick(page, proposal_id: int) -> None:
    """Tick a row's box as a person does: on its label, which the design system draws the box on."""
    page.locator(f"label[for='select-{proposal_id}']").click()
    assert page.get_by_label(f"Select proposal {proposal_id}").is_checked()


@pytest.mark.allow_console_errors(r"status of 422")  # the selection sent without a reason
def test_facilitator_filters_selects_assigns_and_rejects_several(queue_world, make_user, page, login_browser):
    vision, facilitator, to_accept, to_reject, twenty, fifteen = queue_world
    make_user(Role.FACILITATOR, name="Sam Second")
    login_browser(page, facilitator)

    # Compact rows: each shows its change in <ins>/<del>; search and filters in one GET form.
    page.goto(f"/visions/{vision.slug}/facilitate")
    assert "plainly" in page.locator(f"#proposal-{to_accept.id} ins").first.inner_text()
    assert "10,000" in page.locator(f"#proposal-{twenty.id} del").first.inner_text()
    assert "20,000" in page.locator(f"#proposal-{twenty.id} ins").first.inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Words").fill("people in data")
    page.get_by_label("Assigned to").select_option("none")
    page.get_by_role("button", name="Show proposals").click()
    page.wait_for_url(re.compile(r"q=people\+in\+data"))
    main = page.inner_text("main")
    assert f"Proposal {twenty.id}" in main and f"Proposal {to_accept.id} " not in main

    # Assign one to me from its row.
    page.get_by_role("button", name=f"Assign proposal {twenty.id} to me").click()
    page.wait_for_url(re.compile(rf"assignee=none#proposal-{twenty.id}$"))
    assert f"Proposal {twenty.id} is now assigned to you." in page.inner_text("main")
    assert _status(twenty.id).assignee_id == facilitator.id

    # Select two, assign them to Sam, then reject them without a reason (said), then with one.
    page.goto(f"/visions/{vision.slug}/facilitate")
    tick(page, to_accept.id)
    tick(page, to_reject.id)
    page.get_by_label("Assign them to").select_option(label="Sam Second")
    page.get_by_role("button", name="Assign the selected proposals").click()
    page.wait_for_url(re.compile(rf"/visions/{vision.slug}/facilitate$"))
    assert f"Proposals {to_accept.id} and {to_reject.id} now assigned to Sam Second." in page.inner_text("main")
    assert page.locator(f"#proposal-{to_accept.id}").get_by_text("Assigned to Sam Second").is_visible()

    tick(page, to_accept.id)
    tick(page, to_reject.id)
    page.get_by_role("button", name="Reject the selected proposals").click()
    assert page.get_by_role("heading", name="There is a problem: nothing was changed").is_visible()
    assert page.get_by_label(f"Select proposal {to_accept.id}").is_checked()
    assert_no_axe_violations(page)
    assert _status(to_accept.id).status == "open"
    page.get_by_label("Reason for rejecting them (shown publicly on each)").fill("Covered by another objective.")
    page.get_by_role("button", name="Reject the selected proposals").click()
    page.wait_for_url(re.compile(rf"/visions/{vision.slug}/facilitate$"))
    assert f"You rejected proposals {to_accept.id} and {to_reject.id}." in page.inner_text("main")
    for proposal in (to_accept, to_reject):
        rejected = _status(proposal.id)
        assert rejected.status == "rejected" and rejected.decision_reason == "Covered by another objective."
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
