"""Choosing how to be emailed, and unsubscribing from a mail's link, in a real browser; axe on every page."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from workbench.models import EmailChoice, db
from workbench.notifications import mails

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def check(page, heading: str) -> None:
    assert page.locator("h1").inner_text().strip() == heading
    assert_no_axe_violations(page)


def choices_in_database() -> dict[str, str]:
    db.session.remove()
    return {row.kind: row.how for row in db.session.query(EmailChoice)}


def test_a_volunteer_chooses_how_to_be_emailed_from_the_account_page(app, page, make_user, login_browser):
    login_browser(page, make_user(name="Ema Mailer"))
    page.goto("/account")
    check(page, "Your account")
    assert "Email me straight away" in page.inner_text("main")
    page.get_by_role("link", name="Change your email choices").click()
    check(page, "Emails about notifications")
    assert_no_horizontal_scroll(page)

    decisions = page.get_by_role("group", name="Decisions on my proposals")
    assert decisions.get_by_label("Email me straight away").is_checked()
    # The design system draws each radio on its label: click the label, as a person does.
    decisions.locator("label", has_text="Do not email me").click()
    assert decisions.get_by_label("Do not email me").is_checked()
    page.get_by_role("group", name="New versions of visions I follow").locator("label", has_text="Email me straight away").click()
    page.get_by_role("button", name="Save email choices").click()

    check(page, "Your account")
    assert "Your email choices are saved." in page.inner_text("main")
    assert choices_in_database() == {"decision": "never", "followed_vision": "immediately"}


# The made-up link answers 404, which Chromium logs in the console.
@pytest.mark.allow_console_errors(r"status of 404")
def test_the_unsubscribe_link_asks_then_stops_without_signing_in(app, page, make_user):
    person = make_user(name="Uma Unsubscriber")
    with app.test_request_context():
        path = urlsplit(mails.unsubscribe_url(person.id, mails.DIGEST)).path
    page.goto(path)
    check(page, "Stop these emails")
    assert choices_in_database() == {}
    page.get_by_role("button", name="Stop the daily email").click()
    check(page, "You are unsubscribed")
    assert set(choices_in_database().values()) == {"never"}

    page.goto("/account/unsubscribe/not-a-real-token")
    check(page, "This link is not valid")
