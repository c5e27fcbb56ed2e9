"""About you in a real browser, keyboard only: the radio groups, an error beside the field, the
confirmation; axe on every page met, and on the privacy page that explains the choices."""

from __future__ import annotations

import pytest

from workbench.models import User, db

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def check(page, heading: str) -> None:
    assert page.locator("h1").inner_text().strip() == heading
    assert_no_axe_violations(page)


# The form sent back with a message answers 422, which Chromium logs in the console.
@pytest.mark.allow_console_errors(r"status of 422")
def test_a_volunteer_chooses_to_be_published_without_their_name_using_the_keyboard(app, page, make_user, login_browser):
    login_browser(page, make_user(name="Kit Keyboard"))
    page.goto("/account")
    check(page, "Your account")
    page.get_by_role("navigation", name="Account").get_by_role("link", name="About you").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page, "About you")
    assert_no_horizontal_scroll(page)

    # "For an organisation" without its name: the message is beside the field, in the summary too.
    page.get_by_role("group", name="Are you responding as an individual or for an organisation?").get_by_label("For an organisation").focus()
    page.keyboard.press("Space")
    page.get_by_role("group", name="How should your contributions be published?").get_by_label("Without my name").focus()
    page.keyboard.press("Space")
    page.get_by_role("button", name="Save your answers").focus()
    with page.expect_navigation():
        page.keyboard.press("Enter")
    check(page, "About you")
    assert "Enter the name of the organisation" in page.inner_text(".ds_error-summary")
    assert page.get_by_role("group", name="How should your contributions be published?").get_by_label("Without my name").is_checked()

    page.get_by_label("Name of the organisation").focus()
    page.keyboard.type("Open Data Institute")
    with page.expect_navigation():
        page.keyboard.press("Enter")  # sends the form
    check(page, "Your account")
    main = page.inner_text("main")
    assert "You are now responding for Open Data Institute." in main
    assert "they show “a participant”. This applies to what you have already written too." in main
    db.session.remove()
    saved = db.session.query(User).filter_by(display_name="Kit Keyboard").one()
    assert (saved.responding_as, saved.organisation, saved.publish_as) == ("organisation", "Open Data Institute", "anonymous")

    page.get_by_role("link", name="what we store and why").click()
    check(page, "Privacy: what we store and why")
    assert "Counts include everyone." in page.inner_text("main")
