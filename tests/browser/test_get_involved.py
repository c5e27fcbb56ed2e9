"""Getting involved in a real browser, keyboard only: from the vision's page to "Get involved", then
offering to help (the form sent empty first, with its messages); a facilitator invites the volunteer
to a working group. axe-core checks every page on the way, and the "Get involved" page reflows at
320 px."""

from __future__ import annotations

import pytest

from workbench.models import Role

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll
from .test_facilitator_journey import press_on, tab_to, type_into


@pytest.mark.allow_console_errors(r"status of 422")  # the form sent empty on purpose comes back with 422
def test_a_volunteer_finds_the_asks_and_offers_to_help_by_keyboard(page, login_browser, make_user, vision):
    login_browser(page, make_user(name="Vera Volunteer"))
    page.goto(f"/visions/{vision.slug}/")
    press_on(page, page.get_by_role("link", name="Get involved: what we are asking, and by when"))
    page.wait_for_url(f"**/visions/{vision.slug}/get-involved")
    assert page.get_by_role("heading", level=1, name="Get involved").is_visible()
    assert page.get_by_text("You can respond until").is_visible()
    assert_no_axe_violations(page)

    press_on(page, page.get_by_role("link", name="Offer to help"))
    page.wait_for_url(f"**/visions/{vision.slug}/volunteer")
    assert_no_axe_violations(page)
    press_on(page, page.get_by_role("button", name="Offer to help"))
    assert page.locator(".ds_error-summary").is_visible()
    assert page.get_by_text("Choose how much time you could give").first.is_visible()
    assert_no_axe_violations(page)

    tab_to(page, page.get_by_label("Ambition 2: Ambition 2"))
    page.keyboard.press("Space")
    type_into(page, page.get_by_label("Your skills and experience"), "Writing in plain English.")
    tab_to(page, page.get_by_label("About an hour a month"))  # Tab enters a group of radios at its first
    page.keyboard.press("ArrowDown")  # and the arrows choose within it
    assert page.get_by_label("A few hours a month").is_checked()
    press_on(page, page.get_by_role("button", name="Offer to help"))
    assert page.get_by_text("Thank you for offering to help").is_visible()
    assert page.get_by_label("Ambition 2: Ambition 2").is_checked()
    assert page.get_by_role("button", name="Withdraw my offer").is_visible()
    assert_no_axe_violations(page)


def test_a_facilitator_invites_a_volunteer_by_keyboard(page, login_browser, make_user, vision):
    from workbench.extensions import db
    from workbench.involvement.services import offer_to_help

    offer_to_help(vision, make_user(name="Ann Able", email="ann@example.org"), ambitions={}, ambition_keys=[],
                  skills="Facilitation.", availability="days-a-month")
    db.session.commit()
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    page.goto(f"/visions/{vision.slug}/facilitate/volunteers")
    assert page.get_by_text("ann@example.org").is_visible()
    assert_no_axe_violations(page)
    tab_to(page, page.get_by_label("Invite Ann Able"))
    page.keyboard.press("Space")
    type_into(page, page.get_by_label("Subject"), "Join the working group")
    type_into(page, page.get_by_label("Message"), "We meet on the first Monday of each month.")
    press_on(page, page.get_by_role("button", name="Send the invitation"))
    assert page.get_by_text("is on its way to 1 volunteer").is_visible()
    assert page.get_by_text("1 time, last on").is_visible()
    assert_no_axe_violations(page)


def test_the_get_involved_page_reflows_on_a_small_screen(page, vision):
    page.goto(f"/visions/{vision.slug}/get-involved")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)
