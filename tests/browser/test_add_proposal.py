"""Issue 16 in a real browser: a volunteer proposes a new objective under an ambition (first with
bad input, told beside the field), another votes for it, a facilitator accepts it and publishes;
version 2 holds the new element, version 1 does not. axe-core on every new page."""

from __future__ import annotations

import re

import pytest

from workbench.models import Role

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


@pytest.fixture
def vision(make_vision):
    return make_vision(ambitions=2, objectives=2, conditions=1)


@pytest.mark.allow_console_errors(r"status of 422")  # the missing title and bad position, on purpose
def test_a_new_objective_is_proposed_voted_on_accepted_and_published(vision, page, new_page, make_user, login_browser):
    login_browser(page, make_user(Role.VOLUNTEER, name="Ana Author"))
    page.goto("/visions/test-vision/elements/ambition-2")
    page.get_by_role("link", name="Propose a new element under Ambition 2").click()
    page.wait_for_url(re.compile(r"/elements/ambition-2/propose-new$"))
    assert "Under Ambition 2 now" in page.inner_text("main")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)

    # Bad input: messages beside the fields and in the summary, axe clean.
    page.get_by_label("What do you propose to add?").select_option("objective")
    page.get_by_label("Position").fill("9")
    page.get_by_role("button", name="Propose to add this").click()
    assert page.locator(".ds_error-summary").is_visible()
    assert "Enter a position from 1 to 3" in page.locator("#position-error").inner_text()
    assert "Enter a title for the new element" in page.locator("#title-error").inner_text()
    assert_no_axe_violations(page)

    page.get_by_label("Position").fill("1")
    page.get_by_label("Title").fill("Open standards")
    page.get_by_label("Its text").fill("Public bodies publish data in open formats.")
    page.get_by_label("Why do you propose to add it?").fill("Nothing says how data is shared.")
    page.get_by_role("button", name="Propose to add this").click()
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    proposal_url = page.url
    main = page.inner_text("main")
    assert "To add a new objective: Open standards" in main
    assert "New objective under Ambition 2, at position 1." in main
    assert page.locator("main ins.diff__ins").first.inner_text().startswith("added:")
    assert_no_axe_violations(page)

    voter = new_page()
    login_browser(voter, make_user(Role.VOLUNTEER, name="Olu Other"))
    voter.goto(proposal_url)
    voter.get_by_role("button", name=re.compile(r"^Support")).first.click()
    voter.get_by_role("button", name=re.compile(r"^Support"), pressed=True).wait_for()
    voter.goto("/visions/test-vision/proposals")
    assert "New objective under Ambition 2, at position 1" in voter.inner_text("main")
    assert_no_axe_violations(voter)

    facilitator = new_page()
    login_browser(facilitator, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    facilitator.goto("/visions/test-vision/facilitate")
    queue = facilitator.inner_text("main")
    assert re.search(r"Proposal \d+ to add a new element under Ambition 2", queue)
    assert "1 support, 0 oppose" in queue
    assert_no_axe_violations(facilitator)
    facilitator.goto(proposal_url + "/accept")
    assert "New objective under Ambition 2, at position 1" in facilitator.inner_text("main")
    assert_no_axe_violations(facilitator)
    facilitator.get_by_role("button", name="Accept: add it to the working draft").click()
    facilitator.wait_for_load_state()
    assert "is added to the working draft" in facilitator.inner_text("main")

    facilitator.goto("/visions/test-vision/publish")
    facilitator.get_by_label("Notes on this version").fill("A new objective.")
    facilitator.get_by_role("button", name="Publish version 2").click()
    facilitator.wait_for_url(re.compile(r"/visions/test-vision/versions$"))
    facilitator.goto("/visions/test-vision/v/2/")
    published = facilitator.inner_text("main")
    assert "Open standards" in published and "Public bodies publish data in open formats." in published
    facilitator.goto("/visions/test-vision/v/1/")
    assert "Open standards" not in facilitator.inner_text("main")
    facilitator.goto(proposal_url)
    assert "Added as Objective 2.1." in facilitator.inner_text("main")
    assert_no_axe_violations(facilitator)


def test_the_edit_page_of_an_addition_is_accessible(vision, page, make_user, login_browser):
    login_browser(page, make_user(Role.VOLUNTEER, name="Ana Author"))
    page.goto("/visions/test-vision/elements/statement-1/propose-new")
    assert "Propose a new ambition" in page.inner_text("main")
    assert_no_axe_violations(page)
    page.get_by_label("Title").fill("Skills")
    page.get_by_label("Its text").fill("Everyone can work with data.")
    page.get_by_label("Why do you propose to add it?").fill("Skills are missing.")
    page.get_by_role("button", name="Propose to add this").click()
    page.wait_for_url(re.compile(r"/proposals/\d+$"))
    assert "New ambition, at position 3 among the ambitions." in page.inner_text("main")
    page.get_by_role("link", name="Edit your proposal").click()
    page.wait_for_url(re.compile(r"/proposals/\d+/edit$"))
    assert "Your proposal is to add a new ambition" in page.inner_text("main")
    assert_no_axe_violations(page)
