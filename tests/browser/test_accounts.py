"""Accounts in a real browser: register, sign out, sign in, change password; axe on every page met.

Registration sends a link by email; the app's outbox folder (MAIL_OUTBOX) stands in for the mailbox.
"""

from __future__ import annotations

import re

import pytest

from workbench.mail import read_outbox

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

EMAIL = "browser.person@example.org"
NAME = "Bea Browser"
FIRST_PASSWORD = "violet kettle harbour"
SECOND_PASSWORD = "quiet meadow lantern 42"


def latest_link(app, path: str) -> str:
    messages = read_outbox(app.config["MAIL_OUTBOX"])
    assert messages, "no mail was sent"
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"\S*)", messages[-1].get_content())
    assert match, messages[-1].get_content()
    return match.group(1)


def check(page, heading: str) -> None:
    """The page is the one expected (its h1), and axe finds no WCAG 2.2 AA violation on it."""
    assert page.locator("h1").inner_text().strip() == heading
    assert_no_axe_violations(page)


# A form sent back with errors answers 400, which Chromium logs in the console.
@pytest.mark.allow_console_errors(r"status of 400")
def test_register_sign_out_sign_in_and_change_password(app, page, new_page):
    # Register: step 1, the email address.
    page.goto("/")
    page.get_by_role("link", name="Register").click()
    check(page, "Create an account")
    page.get_by_label("Email address").fill("not an address")
    page.get_by_role("button", name="Send me the link").click()
    check(page, "Create an account")  # with its error summary
    assert page.locator(".ds_error-summary").is_visible()
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_role("button", name="Send me the link").click()
    check(page, "Check your email")
    assert EMAIL in page.inner_text("main")

    # Step 2, from the link in the mail.
    page.goto(latest_link(app, "/auth/register/"))
    check(page, "Finish creating your account")
    page.get_by_label("Display name").fill(NAME)
    page.get_by_label("Password").fill("password1")  # too common
    page.get_by_role("button", name="Create my account").click()
    check(page, "Finish creating your account")
    assert "too common" in page.inner_text(".ds_error-summary")
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    page.get_by_role("button", name="Create my account").click()
    assert f"Your account is ready. You are signed in as {NAME}." in page.inner_text("main")
    assert_no_axe_violations(page)

    # Sign out.
    page.get_by_role("button", name="Sign out").click()
    assert "You have signed out" in page.inner_text("main")
    assert page.get_by_role("link", name="Sign in").is_visible()
    assert_no_axe_violations(page)

    # Sign in: a wrong password first, then the right one, coming back to the account page.
    page.goto("/account")
    check(page, "Sign in")
    page.get_by_label("Email address").fill(EMAIL)
    page.get_by_label("Password").fill("not my password")
    page.get_by_role("button", name="Sign in").click()
    check(page, "Sign in")
    assert "One of them was not right" in page.inner_text(".ds_error-summary")
    page.get_by_label("Password").fill(FIRST_PASSWORD)
    page.locator("label", has_text="Keep me signed in").click()  # the design system draws the box on its label
    page.get_by_role("button", name="Sign in").click()
    check(page, "Your account")
    assert EMAIL in page.inner_text("main") and NAME in page.inner_text("main")
    assert_no_horizontal_scroll(page, 320)
    assert_no_axe_violations(page)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Change password.
    page.get_by_role("link", name="Change your password").click()
    check(page, "Change your password")
    page.get_by_label("Current password").fill("wrong guess here")
    page.get_by_label("New password").fill(SECOND_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    check(page, "Change your password")
    assert "not right" in page.inner_text(".ds_error-summary")
    page.get_by_label("Current password").fill(FIRST_PASSWORD)
    page.get_by_label("New password").fill(SECOND_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    check(page, "Your account")
    assert "Your password has been changed" in page.inner_text("main")

    # Still signed in here; in another browser the old password fails and the new one works.
    page.goto("/account")
    check(page, "Your account")
    for password, expected in ((FIRST_PASSWORD, "One of them was not right"), (SECOND_PASSWORD, f"You are signed in as {NAME}.")):
        other = new_page()
        other.goto("/auth/login")
        other.get_by_label("Email address").fill(EMAIL)
        other.get_by_label("Password").fill(password)
        other.get_by_role("button", name="Sign in").click()
        assert expected in other.inner_text("main")


def test_the_other_account_pages_have_no_violations(page, make_user, login_browser):
    from workbench.models import Role

    login_browser(page, make_user(Role.ADMIN, email="admin.browser@example.org", name="Ada Admin"))
    make_user(name="Vera Volunteer")
    for path, heading in (
        ("/account/name", "Change your display name"),
        ("/account/email", "Change your email address"),
        ("/account/delete", "Delete your account"),
        ("/admin/accounts", "Accounts"),
        ("/auth/reset", "Reset your password"),
        ("/about", "About Vision Workbench"),
        ("/privacy", "Privacy: what we store and why"),
    ):
        page.goto(path)
        check(page, heading)
    page.goto("/admin/accounts")
    page.get_by_role("link", name="Vera Volunteer").click()
    check(page, "Vera Volunteer")
    page.locator("label", has_text="Facilitator").click()  # the design system draws the radio on its label
    page.get_by_role("button", name="Save role").click()
    assert "Vera Volunteer is now a facilitator." in page.inner_text("main")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
