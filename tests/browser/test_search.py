"""Search in a real browser: a visitor finds a proposal and a comment from the vision page with the
keyboard alone, sees the matches marked, narrows by kind, and gets a message for a search with no
word; axe-core checks each state, and the page reflows at 320 px."""

from __future__ import annotations

import pytest

from workbench.models import Role

from ..factories import add_comment, open_proposal
from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll, first_tab_reaches_skip_link, focused_element


def test_search_from_the_vision_page_with_the_keyboard(page, vision, make_user):
    proposal = open_proposal(vision, make_user(), body="Share <b>ferry</b> timetables.", rationale="Islanders plan trips.")
    add_comment(proposal, make_user(), "Ferry times matter most in winter.")

    page.goto(f"/visions/{vision.slug}/")
    page.get_by_role("link", name="Search proposals, comments, reflections and aligned work").click()
    page.wait_for_url(f"**/visions/{vision.slug}/search")
    assert first_tab_reaches_skip_link(page), f"the first Tab focused {focused_element(page)}"
    assert_no_axe_violations(page)

    box = page.get_by_label("Words to find")
    box.focus()
    box.type("ferry")
    page.keyboard.press("Enter")  # the form is sent from the box, without a mouse
    page.wait_for_url("**/search?q=ferry*")
    assert page.get_by_role("heading", name="2 results").is_visible()
    assert page.locator("mark", has_text="ferry").first.is_visible()
    assert page.locator(".app-search-snippet", has_text="<b>ferry</b>").count() == 1  # shown as typed, not as markup
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)

    page.get_by_label("What to search").select_option("comment")
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**kind=comment*")
    assert page.get_by_role("heading", name="1 result").is_visible()
    page.get_by_role("link", name=f"Comment on proposal {proposal.id} (Objective 1.1)").click()
    page.wait_for_url(f"**/proposals/{proposal.id}*")


@pytest.mark.allow_console_errors(r"status of 400")  # a search without a word is answered 400, with its message
def test_a_search_without_a_word_gets_a_message(page, vision):
    page.goto(f"/visions/{vision.slug}/search?q=%F0%9F%98%80")
    summary = page.locator(".ds_error-summary")
    assert summary.is_visible()
    assert page.get_by_text("Enter a word to search for, using letters or numbers").first.is_visible()
    summary.get_by_role("link").click()
    assert page.evaluate("document.activeElement.id") == "search-q"
    assert_no_axe_violations(page)


def test_a_facilitator_sees_hidden_comments_marked(page, vision, make_user, login_browser):
    from workbench.discussion.services import hide_content
    from workbench.extensions import db
    from workbench.models import Comment

    facilitator = make_user(Role.FACILITATOR)
    comment = add_comment(open_proposal(vision, make_user()), make_user(), "Buy my lighthouse postcards.")
    hide_content("comment", db.session.get(Comment, comment.id), facilitator, "Advertising")
    db.session.commit()
    login_browser(page, facilitator)
    page.goto(f"/visions/{vision.slug}/search?q=postcards")
    assert page.locator(".ds_tag", has_text="Hidden").is_visible()
    assert_no_axe_violations(page)
