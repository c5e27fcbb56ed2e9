"""Responding to the consultation in a real browser, keyboard only, with axe-core checking every page
of the journey: from "Get involved" through About you, the reflections, the optional steps left
empty, "Check your answers", to the confirmation with its reference number."""

from __future__ import annotations

import re

from .helpers import assert_no_axe_violations
from .test_facilitator_journey import press_on, tab_to, type_into


def test_a_person_responds_by_keyboard_with_every_page_accessible(page, login_browser, make_user, vision):
    login_browser(page, make_user(name="Rhona Respondent"))
    page.goto(f"/visions/{vision.slug}/get-involved")
    assert_no_axe_violations(page)
    press_on(page, page.get_by_role("link", name="Respond to the consultation"))
    assert_no_axe_violations(page)
    press_on(page, page.get_by_role("link", name="Start your response"))

    assert page.get_by_text("Step 1 of 5").is_visible()
    assert_no_axe_violations(page)
    tab_to(page, page.get_by_label("As an individual"))
    page.keyboard.press("Space")
    press_on(page, page.get_by_role("button", name="Save and continue"))

    assert page.get_by_text("Step 2 of 5").is_visible()
    assert_no_axe_violations(page)
    type_into(page, page.get_by_label("Your reflection on the vision statement (optional)"), "Say more about wellbeing.")
    press_on(page, page.get_by_role("button", name="Save and continue"))

    assert page.get_by_text("Step 3 of 5").is_visible()
    assert_no_axe_violations(page)
    type_into(page, page.get_by_label("Ambition 1: Ambition 1 (optional)"), "Skills come first.")
    press_on(page, page.get_by_role("button", name="Save and continue"))

    for step in ("Step 4 of 5", "Step 5 of 5"):  # optional: left empty
        assert page.get_by_text(step).is_visible()
        assert_no_axe_violations(page)
        press_on(page, page.get_by_role("button", name="Save and continue"))

    assert page.get_by_role("heading", level=1, name="Check your answers before sending your response").is_visible()
    assert page.get_by_text("Say more about wellbeing.").is_visible()
    assert_no_axe_violations(page)
    press_on(page, page.get_by_role("button", name="Send your response"))

    assert page.get_by_role("heading", level=1, name="Your response has been sent").is_visible()
    assert re.fullmatch(r"VW-[A-Z0-9]{4}-[A-Z0-9]{4}", page.locator(".app-reference").inner_text())
    assert_no_axe_violations(page)
