"""Coding responses in a real browser, by keyboard: a facilitator creates a tag in the codebook
(an empty name first, with its message), tags a proposal on its page, and filters the queue by the
tag; axe-core checks the codebook, the proposal page with its Tags form, the queue and the
responses list."""

from __future__ import annotations

import re

import pytest

from workbench.models import Role

from ..factories import add_comment, open_proposal
from .helpers import assert_no_axe_violations


@pytest.mark.allow_console_errors(r"status of 422")  # the empty name sent on purpose comes back with 422
def test_create_a_tag_tag_a_proposal_and_filter_the_queue_by_keyboard(page, login_browser, make_user, vision):
    author, other = make_user(name="Alice Author"), make_user(name="Olga Other")
    tagged = open_proposal(vision, author, "objective-1")
    untagged = open_proposal(vision, other, "objective-2")
    add_comment(tagged, other, "A comment to code.")
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))

    page.goto(f"/visions/{vision.slug}/facilitate/codebook")
    assert page.get_by_text("Only facilitators see tags.").is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Name of the new tag").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator(".ds_error-summary").is_visible()
    assert page.get_by_text("Enter a name for the tag").first.is_visible()
    assert_no_axe_violations(page)
    page.get_by_label("Name of the new tag").fill("Housing")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.get_by_text("The tag “Housing” is in the codebook.").is_visible()
    assert page.get_by_role("rowheader", name="Housing").is_visible()
    assert_no_axe_violations(page)

    page.goto(f"/proposals/{tagged.id}")
    box = page.get_by_role("checkbox", name="Housing")
    box.focus()
    page.keyboard.press("Space")
    assert box.is_checked()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/proposals/{tagged.id}#tags")
    assert page.get_by_text("This proposal carries: Housing.").is_visible()
    assert_no_axe_violations(page)

    page.goto(f"/visions/{vision.slug}/facilitate")
    page.get_by_label("Tag", exact=True).select_option(label="Housing")
    page.get_by_role("button", name="Show proposals").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/facilitate\?.*tag=\d"))
    assert page.locator(f"#proposal-{tagged.id}").is_visible()
    assert page.locator(f"#proposal-{untagged.id}").count() == 0
    assert_no_axe_violations(page)

    page.goto(f"/visions/{vision.slug}/facilitate/responses")
    assert page.get_by_text("A comment to code.").is_visible()
    assert_no_axe_violations(page)
