"""Proposing in a real browser: the live preview follows the typing (htmx), the proposal page shows
the diff, and the propose page, the proposal page and the list have no WCAG 2.2 AA violations."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workbench.extensions import db
from workbench.models import Proposal, Role

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

SLUG = "test-vision"
PROPOSE = f"/visions/{SLUG}/elements/objective-1/propose"


def wait_for_preview(page, expected: str) -> None:
    """Wait until htmx has swapped a preview holding `expected` into the preview area."""
    page.wait_for_function(
        "text => document.querySelector('#proposal-preview').innerText.includes(text)", arg=expected, timeout=10_000
    )


def test_a_volunteer_proposes_with_a_live_preview_and_sees_the_diff(vision, page, make_user, login_browser):
    login_browser(page, make_user(Role.VOLUNTEER, name="Vera Volunteer"))
    page.goto(f"/visions/{SLUG}/elements/objective-1")
    page.get_by_role("link", name=re.compile("Propose a change")).click()
    page.wait_for_url(f"**{PROPOSE}")
    assert page.get_by_label("Proposed text").input_value() == "Objective 1.1 body."
    assert "No changes yet" in page.inner_text("#proposal-preview")

    body = page.get_by_label("Proposed text")
    body.click()
    body.press("End")
    body.type(" Shared openly.", delay=20)
    wait_for_preview(page, "Shared openly.")
    preview = page.locator("#proposal-preview ins")
    assert "Shared openly." in preview.first.inner_text()
    assert "Preview updated" in page.inner_text("#preview-status")

    # Typing on changes the preview again (the swap follows each pause).
    body.press("End")
    body.type(" Always.", delay=20)
    wait_for_preview(page, "Always.")

    page.get_by_label("Why do you propose this change?").fill("People should know what is shared.")
    page.get_by_role("button", name="Send proposal").click()
    page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    main = page.inner_text("main")
    assert "Your proposal is open" in main
    assert "Vera Volunteer" in main
    inserted = page.locator("#changes-heading ~ .diff ins, section[aria-labelledby=changes-heading] ins")
    assert "Shared openly. Always." in inserted.first.inner_text()
    assert db.session.scalar(select(Proposal.body)) == "Objective 1.1 body. Shared openly. Always."


def test_the_propose_page_with_a_preview_has_no_violations(vision, page, make_user, login_browser):
    login_browser(page, make_user())
    page.goto(PROPOSE)
    body = page.get_by_label("Proposed text")
    body.fill("Objective 1.1 changed body.\n\nA new paragraph.")
    wait_for_preview(page, "A new paragraph")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_the_preview_button_works_without_javascript(vision, browser, live_server, app, make_user):
    from .helpers import session_cookie

    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
    try:
        name, value = session_cookie(app, make_user(), user_agent=agent)
        context.add_cookies([{"name": name, "value": value, "url": live_server}])
        page = context.new_page()
        page.goto(PROPOSE)
        page.get_by_label("Proposed text").fill("Objective 1.1 body without scripts.")
        page.get_by_role("button", name="Preview changes").click()
        page.wait_for_load_state()
        assert "without scripts" in page.locator("#proposal-preview ins").first.inner_text()
        assert page.get_by_label("Proposed text").input_value() == "Objective 1.1 body without scripts."
        assert db.session.scalar(select(Proposal.id)) is None
    finally:
        context.close()


@pytest.mark.allow_console_errors(r"422")
def test_the_form_errors_have_no_violations(vision, page, make_user, login_browser):
    login_browser(page, make_user())
    page.goto(PROPOSE)
    page.get_by_role("button", name="Send proposal").click()
    page.wait_for_load_state()
    summary = page.inner_text(".ds_error-summary")
    assert "Your proposal is the same as the current text" in summary
    assert "Explain why you propose this change" in summary
    assert page.evaluate("() => document.activeElement.id") == "error-summary"  # focused, read first
    assert_no_axe_violations(page)


def test_the_proposal_page_and_list_have_no_violations(vision, page, make_user, login_browser):
    from tests.factories import open_proposal
    from tests.test_proposals import edit_draft

    author = make_user(name="Pat Proposer")
    proposal = open_proposal(vision, author, body="Objective 1.1 better body.\n\nWith a second paragraph.")
    rival = open_proposal(vision, make_user(), body="Objective 1.1 other body.")
    edit_draft(vision, "objective-1", "Objective 1.1 body, edited since.")
    login_browser(page, author)
    for path in (
        f"/proposals/{proposal.id}",
        f"/proposals/{proposal.id}?view=side-by-side",
        f"/proposals/{proposal.id}?view=list",
        f"/proposals/{rival.id}",
        f"/proposals/{proposal.id}/revisions/1",
        f"/proposals/{proposal.id}/edit",
        f"/visions/{SLUG}/proposals",
        f"/visions/{SLUG}/proposals?status=rejected",
        f"/visions/{SLUG}/elements/objective-1",
    ):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        assert_no_axe_violations(page)
        assert_no_horizontal_scroll(page, 320)
        page.set_viewport_size({"width": 1280, "height": 800})


def test_the_list_filters_by_name_and_shows_tallies_without_violations(vision, page, make_user):
    from tests.factories import open_proposal
    from workbench.drafting.edits import remove_element_from_draft

    open_proposal(vision, make_user(name="Ada Writer"), body="Objective 1.1 sharper body.")
    bea = make_user(name="Bea Writer")
    gone = open_proposal(vision, bea, "objective-2")
    open_proposal(vision, bea, "ambition-1", body="Ambition 1 text.\n\nIts second paragraph, reworded.")
    remove_element_from_draft(vision, "objective-2", reason="Folded in.", actor=make_user(Role.FACILITATOR))
    db.session.commit()
    page.goto(f"/visions/{SLUG}/proposals")
    page.get_by_label("Proposed by").fill("bea")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r".*by=bea.*"))
    results = page.inner_text("main")
    assert page.get_by_role("heading", name="2 proposals").is_visible()
    assert "Ada Writer" not in results
    assert "0 support, 0 oppose" in results
    assert f"Proposal {gone.id}: a change to Objective 1.2 (removed from the working draft)" in results
    assert page.get_by_label("Proposed by").input_value() == "bea"
    assert page.locator("ol.ds_search-results__list ins").count() >= 1  # the changed words, marked up
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_withdrawing_asks_first_and_works_without_javascript(vision, browser, live_server, app, make_user):
    from tests.factories import open_proposal

    from .helpers import session_cookie

    author = make_user(name="Wren Withdrawer")
    proposal = open_proposal(vision, author)
    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
    try:
        name, value = session_cookie(app, author, user_agent=agent)
        context.add_cookies([{"name": name, "value": value, "url": live_server}])
        page = context.new_page()
        page.goto(f"/proposals/{proposal.id}")
        page.get_by_role("link", name="Withdraw your proposal").click()
        page.wait_for_url(f"**/proposals/{proposal.id}/withdraw")
        assert page.get_by_role("heading", level=1).inner_text() == "Withdraw your proposal?"
        page.get_by_role("link", name="Keep it open").click()
        page.wait_for_url(f"**/proposals/{proposal.id}")
        assert db.session.scalar(select(Proposal.status).where(Proposal.id == proposal.id)) == "open"
        db.session.rollback()
        page.get_by_role("link", name="Withdraw your proposal").click()
        page.get_by_role("button", name="Withdraw your proposal").click()
        page.wait_for_url(f"**/proposals/{proposal.id}")
        assert "You withdrew your proposal" in page.inner_text("main")
        db.session.rollback()  # end the test's read transaction, to see what the server committed
        assert db.session.scalar(select(Proposal.status).where(Proposal.id == proposal.id)) == "withdrawn"
    finally:
        context.close()


def test_the_withdraw_confirmation_has_no_violations(vision, page, make_user, login_browser):
    from tests.factories import open_proposal

    author = make_user()
    proposal = open_proposal(vision, author)
    login_browser(page, author)
    response = page.goto(f"/proposals/{proposal.id}/withdraw")
    assert response is not None and response.status == 200
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_a_removed_elements_page_has_no_violations(vision, page, make_user, login_browser):
    from workbench.drafting.edits import remove_element_from_draft

    remove_element_from_draft(vision, "objective-2", reason="Folded in.", actor=make_user(Role.FACILITATOR))
    db.session.commit()
    login_browser(page, make_user())
    for path in (f"/visions/{SLUG}/elements/objective-2", f"/visions/{SLUG}/elements/objective-2/reflections"):
        response = page.goto(path)
        assert response is not None and response.status == 200, path
        main = page.inner_text("main")
        assert "Objective 1.2 (removed from the working draft)" in main and "takes no new reflections" in main
        assert_no_axe_violations(page)
