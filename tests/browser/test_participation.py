"""Participation at a glance in a real browser: the charts page and the vision page's contents list
are WCAG 2.2 AA clean (axe-core), hold the strict CSP (no violation reported: the SVG has no inline
style or script), and reflow at 320 px."""

from __future__ import annotations

from workbench.discussion.services import post_reflection
from workbench.discussion.votes import cast_vote
from workbench.models import Proposal, db

from ..factories import add_comment, element_of, fresh, open_proposal
from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

PARTICIPATION = "/visions/test-vision/participation"
VISION = "/visions/test-vision/"


def _some_participation(vision, make_user) -> None:
    author, voter, commenter = (make_user(name=n, email=f"{n.lower()}@example.org") for n in ("Ann", "Vic", "Cal"))
    proposal = open_proposal(vision, author, "objective-1")
    open_proposal(vision, author, "objective-3", "Objective 2.1 in other words.")
    cast_vote(fresh(Proposal, proposal.id), voter, "support")
    db.session.commit()
    add_comment(proposal, commenter, "I agree.")
    post_reflection(vision, element_of(vision, "objective-2"), commenter, "A thought.")
    db.session.commit()


def test_the_participation_page_is_accessible_and_holds_the_csp(vision, make_user, page, browser_problems):
    _some_participation(vision, make_user)
    response = page.goto(PARTICIPATION)
    assert response is not None and response.status == 200
    assert page.locator("svg[role=img]").count() == 5
    assert "2 people took part" not in page.inner_text("main")  # three did: Ann, Vic and Cal
    assert "3 people took part" in page.inner_text("main")
    # The bars are drawn (the stylesheet reached them): a bar has a fill that is not the default black.
    fill = page.locator(".app-chart__bar").first.evaluate("bar => getComputedStyle(bar).fill")
    assert fill not in ("", "rgb(0, 0, 0)")
    assert_no_axe_violations(page)
    for summary in page.locator("details.app-chart__data > summary").all():
        summary.click()
    assert page.locator("details.app-chart__data table").first.is_visible()
    assert_no_axe_violations(page)  # the tables too
    assert_no_horizontal_scroll(page, 320)
    assert [m for m in browser_problems.messages if "CSP" in m] == []


def test_the_vision_page_with_its_contents_list_is_accessible_and_holds_the_csp(vision, make_user, page, browser_problems):
    _some_participation(vision, make_user)
    response = page.goto(VISION)
    assert response is not None and response.status == 200
    contents = page.get_by_role("navigation", name="Contents")
    assert "1 open proposal, 0 reflections" in contents.inner_text()
    assert "0 open proposals, 1 reflection" in contents.inner_text()
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
    assert [m for m in browser_problems.messages if "CSP" in m] == []
