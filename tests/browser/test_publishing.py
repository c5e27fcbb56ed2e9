"""A facilitator edits the working draft directly, reads the draft diff, publishes version 2, and
everyone can compare the versions; version 1 keeps its bytes. axe-core on every page of the journey."""

from __future__ import annotations

import re

import pytest

from workbench.extensions import db
from workbench.models import Role
from workbench.caching import clear_caches

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

NEW_TEXT = "Objective 1.1 body, now with clearer and measurable words."


@pytest.fixture
def vision(make_vision):
    return make_vision(ambitions=2, objectives=2, conditions=1)


def goto(page, path: str, expected: str):
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    assert expected in page.inner_text("main"), f"{path} does not show {expected!r}"
    return response


def test_a_facilitator_edits_publishes_and_everyone_compares(vision, page, new_page, make_user, login_browser, app):
    v1_before = new_page().request.get("/visions/test-vision/v/1/").body()
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))

    # The draft, the same as version 1, with the facilitator's controls.
    goto(page, "/visions/test-vision/draft", "The draft is the same as version 1.")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Edit Objective 1.1").click()

    # The edit form: a preview first, then save.
    page.wait_for_url(re.compile(r"/draft/elements/objective-1/edit$"))
    assert_no_axe_violations(page)
    page.get_by_label("Text", exact=True).fill(NEW_TEXT)
    page.get_by_label("Why are you making this change?").fill("Measurable objectives.")
    page.get_by_role("button", name="Preview changes").click()
    assert "Preview of your changes" in page.inner_text("main")
    assert page.locator("main ins.diff__ins").first.inner_text().startswith("added:")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Save to the draft").click()

    # Back on the draft: the flash, the word diff and the change with who and why.
    page.wait_for_url(re.compile(r"/visions/test-vision/draft#element-objective-1$"))
    main = page.inner_text("main")
    assert "Objective 1.1 has a new text in the working draft" in main
    assert "1 element differs: 1 changed" in main
    assert "text edited by Fiona Facilitator" in main and "Measurable objectives." in main
    assert page.locator("#element-objective-1 ins.diff__ins").count() >= 1
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
    page.set_viewport_size({"width": 1280, "height": 800})

    # Publish version 2.
    page.get_by_role("link", name="Publish version 2").first.click()
    page.wait_for_url(re.compile(r"/visions/test-vision/publish$"))
    assert_no_axe_violations(page)
    page.get_by_label("Notes on this version").fill("Clearer objectives.")
    page.get_by_role("button", name="Publish version 2").click()
    page.wait_for_url(re.compile(r"/visions/test-vision/versions$"))
    main = page.inner_text("main")
    assert "Version 2 is published" in main
    assert "With thanks to Fiona Facilitator." in main
    assert_no_axe_violations(page)

    # Version 2 shows the new text; version 1 is unchanged byte for byte, even rendered afresh.
    reader = new_page()
    goto(reader, "/visions/test-vision/v/2/", NEW_TEXT)
    assert_no_axe_violations(reader)
    with app.app_context():
        clear_caches()
    assert reader.request.get("/visions/test-vision/v/1/").body() == v1_before
    goto(reader, "/visions/test-vision/v/1/", "Objective 1.1 body.")
    assert NEW_TEXT not in reader.inner_text("main")

    # The versions page's form leads to the comparison, which shows the change word by word.
    goto(reader, "/visions/test-vision/versions", "Clearer objectives.")
    reader.get_by_role("button", name="Show the changes").click()
    reader.wait_for_url(re.compile(r"/visions/test-vision/compare/1\.\.\.2$"))
    main = reader.inner_text("main")
    assert "Changes from version 1 to version 2" in main and "1 element differs: 1 changed" in main
    inserted = reader.locator("#element-objective-1 ins.diff__ins").first.inner_text()
    assert "clearer and measurable words" in inserted
    assert_no_axe_violations(reader)
    reader.get_by_role("link", name="Show the changes: Side by side").click()
    reader.wait_for_url(re.compile(r"compare/1\.\.\.2\?view=side-by-side$"))
    assert_no_axe_violations(reader)
    assert_no_horizontal_scroll(reader, 320)
    db.session.remove()


@pytest.mark.allow_console_errors(r"status of 422")  # the form with errors is answered 422, as it should be
def test_the_window_and_the_other_draft_pages_are_accessible(vision, page, make_user, login_browser):
    login_browser(page, make_user(Role.FACILITATOR))
    for path, expected in (
        ("/visions/test-vision/window", "Opening and closing times"),
        ("/visions/test-vision/draft/add?kind=objective&parent=ambition-1", "Add an objective to Ambition 1"),
        ("/visions/test-vision/draft/elements/objective-2/remove", "Remove Objective 1.2 from the draft"),
        ("/visions/test-vision/compare", "Compare two versions"),
    ):
        goto(page, path, expected)
        assert_no_axe_violations(page)
    # Errors are announced in an error summary beside the fields.
    goto(page, "/visions/test-vision/window", "Opening and closing times")
    page.get_by_label("Opening date").fill("2031-03-01")
    page.get_by_label("Closing date").fill("2031-02-01")
    page.get_by_role("button", name="Save the times").click()
    assert "The closing time must be after the opening time" in page.inner_text("main")
    assert_no_axe_violations(page)
