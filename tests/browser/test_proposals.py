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
