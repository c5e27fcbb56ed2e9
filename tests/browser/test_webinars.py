"""Webinars in a real browser: a facilitator schedules a session (the form empty first, with its
messages), a volunteer registers and sees the confirmation and the joining link; axe-core checks the
list, the session's page and the facilitators' form."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workbench.models import Role

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

JOIN = "https://meet.example.org/browser-room"


@pytest.mark.allow_console_errors(r"status of 422")  # the form sent empty on purpose comes back with 422
def test_schedule_a_session_then_register_for_it(page, new_page, login_browser, make_user, vision):
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    page.goto(f"/visions/{vision.slug}/webinars")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Schedule a webinar").click()
    page.wait_for_url(f"**/visions/{vision.slug}/webinars/new")
    assert_no_axe_violations(page)

    page.get_by_role("button", name="Schedule the webinar").click()
    assert page.locator(".ds_error-summary").is_visible()
    assert page.get_by_text("Enter a title").first.is_visible()
    assert_no_axe_violations(page)

    day = (datetime.now(ZoneInfo("Europe/London")) + timedelta(days=14)).date().isoformat()
    page.get_by_label("Title").fill("The vision in an hour")
    page.get_by_label("Date").fill(day)
    page.get_by_label("Start time").fill("10:00")
    page.get_by_label("End time").fill("11:00")
    page.get_by_label("Number of places").fill("12")
    page.get_by_label("Joining link").fill(JOIN)
    page.get_by_role("button", name="Schedule the webinar").click()
    page.wait_for_url("**/webinars/*")
    assert page.get_by_text("is scheduled").is_visible()
    session_url = page.url

    volunteer = new_page()
    login_browser(volunteer, make_user(name="Vera Volunteer"))
    volunteer.goto(f"/visions/{vision.slug}/webinars")
    assert volunteer.get_by_text("12 of 12 places left").is_visible()
    assert_no_axe_violations(volunteer)
    volunteer.get_by_role("link", name="The vision in an hour").click()
    volunteer.wait_for_url(session_url)
    assert JOIN not in volunteer.content()
    assert_no_axe_violations(volunteer)
    volunteer.get_by_role("button", name="Register").click()
    volunteer.wait_for_url(session_url)
    assert volunteer.get_by_text("You are registered for").is_visible()
    assert volunteer.get_by_text("11 of 12 places left").is_visible()
    assert volunteer.get_by_role("link", name=JOIN).is_visible()
    assert_no_axe_violations(volunteer)
    assert_no_horizontal_scroll(volunteer)
