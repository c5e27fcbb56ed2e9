"""Issue 16 in a real browser: a facilitator moves an objective to another ambition; a volunteer
proposes to remove an element; another votes; a facilitator accepts the removal and publishes.
axe-core on every new page; the forms are plain HTML forms (no script needed)."""

from __future__ import annotations

import re

import pytest

from workbench.models import Role

from .helpers import assert_no_axe_violations, session_cookie


@pytest.fixture
def vision(make_vision):
    return make_vision(ambitions=2, objectives=2, conditions=1)


@pytest.mark.allow_console_errors(r"status of 422")  # the refused position, on purpose
def test_a_facilitator_moves_an_objective_anywhere(vision, page, make_user, login_browser):
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    page.goto("/visions/test-vision/draft")
    page.get_by_role("link", name="Move Objective 1.2 elsewhere").click()
    page.wait_for_url(re.compile(r"/draft/elements/objective-2/move-to$"))
    assert "is now at position 2 of the 2 objectives under Ambition 1" in page.inner_text("main")
    assert_no_axe_violations(page)

    # Bad input: a message beside the field, axe clean.
    page.get_by_label("Which ambition should it be under?").select_option("ambition-2")
    page.get_by_label("Position").fill("-1")
    page.get_by_role("button", name="Move Objective 1.2").click()
    assert "Enter a position from 1 to 3" in page.locator("#position-error").inner_text()
    assert_no_axe_violations(page)

    page.get_by_label("Position").fill("1")
    page.get_by_role("button", name="Move Objective 1.2").click()
    page.wait_for_url(re.compile(r"/visions/test-vision/draft#element-objective-2$"))
    assert "Objective 1.2 moved from Ambition 1, position 2, to Ambition 2, position 1: it is now Objective 2.1." in page.inner_text("main")
    assert "Moved from Ambition 1, position 2, to Ambition 2, position 1." in page.inner_text("main")
    assert_no_axe_violations(page)


@pytest.mark.allow_console_errors(r"status of 422")  # the missing reason, on purpose
def test_a_removal_is_proposed_accepted_and_published(vision, page, new_page, make_user, login_browser):
    login_browser(page, make_user(Role.VOLUNTEER, name="Ana Author"))
    page.goto("/visions/test-vision/elements/objective-1/propose")
    page.get_by_role("link", name="propose to remove it").click()
    page.wait_for_url(re.compile(r"/elements/objective-1/propose-removal$"))
    assert "Nothing else is under Objective 1.1" in page.inner_text("main")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Propose to remove this").click()
    assert "Explain why you propose to remove it" in page.locator("#rationale-error").inner_text()
    assert_no_axe_violations(page)
    page.get_by_label("Why do you propose to remove it?").fill("Objective 1.2 says the same.")
    page.get_by_role("button", name="Propose to remove this").click()
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    proposal_url = page.url
    main = page.inner_text("main")
    assert "To remove Objective 1.1" in main and "shown as a deletion" in main
    assert page.locator("main del.diff__del").first.inner_text().startswith("removed:")
    assert_no_axe_violations(page)

    facilitator = new_page()
    login_browser(facilitator, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    facilitator.goto("/visions/test-vision/facilitate")
    assert re.search(r"Proposal \d+ to remove Objective 1\.1", facilitator.inner_text("main"))
    assert_no_axe_violations(facilitator)
    facilitator.goto(proposal_url + "/accept")
    assert "remove Objective 1.1" in facilitator.inner_text("main")
    assert_no_axe_violations(facilitator)
    facilitator.get_by_role("button", name="Accept: remove Objective 1.1 from the working draft").click()
    facilitator.wait_for_load_state()
    _publish_and_check(facilitator)


def _publish_and_check(facilitator) -> None:
    facilitator.goto("/visions/test-vision/publish")
    facilitator.get_by_label("Notes on this version").fill("One objective fewer.")
    facilitator.get_by_role("button", name="Publish version 2").click()
    facilitator.wait_for_url(re.compile(r"/visions/test-vision/versions$"))
    facilitator.goto("/visions/test-vision/v/2/")
    assert "Objective 1.1 body." not in facilitator.inner_text("main")
    assert "Objective 1.2 body." in facilitator.inner_text("main")
    facilitator.goto("/visions/test-vision/v/1/")
    assert "Objective 1.1 body." in facilitator.inner_text("main")


def test_a_removal_is_proposed_and_accepted_without_javascript(vision, browser, live_server, app, make_user):
    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    people = {"author": make_user(Role.VOLUNTEER, name="Ana Author"), "facilitator": make_user(Role.FACILITATOR, name="Fiona Facilitator")}
    pages = {}
    contexts = []
    try:
        for who, user in people.items():
            context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
            contexts.append(context)
            name, value = session_cookie(app, user, user_agent=agent)
            context.add_cookies([{"name": name, "value": value, "url": live_server}])
            pages[who] = context.new_page()
        author = pages["author"]
        author.goto("/visions/test-vision/elements/objective-1/propose-removal")
        author.get_by_label("Why do you propose to remove it?").fill("Objective 1.2 says the same.")
        author.get_by_role("button", name="Propose to remove this").click()
        author.wait_for_url(re.compile(r"/proposals/\d+$"))
        assert "Your proposal to remove it is open" in author.inner_text("main")
        facilitator = pages["facilitator"]
        facilitator.goto(author.url + "/accept")
        facilitator.get_by_role("button", name="Accept: remove Objective 1.1 from the working draft").click()
        facilitator.wait_for_load_state()
        _publish_and_check(facilitator)
    finally:
        for context in contexts:
            context.close()
