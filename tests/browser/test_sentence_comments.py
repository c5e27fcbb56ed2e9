"""Reflections on one sentence in a real browser, by keyboard only: Tab to a sentence's "Comment"
control, Enter, type, publish, and read the reflection with its sentence quoted; then the sentence
changes and the reflection says so. With and without JavaScript; axe-core checks the element page,
the form (empty and with its error) and the reflections; the permalink's sentence citation shows
when its anchor is followed, and with JavaScript a button copies it."""

from __future__ import annotations

from typing import Any

import pytest

from workbench.drafting.edits import edit_element_text
from workbench.extensions import db
from workbench.models import Role, User, Vision

from ..factories import KEY, entry_of, fresh
from .helpers import add_login_cookie, assert_no_axe_violations, assert_no_horizontal_scroll

TEXT = "Data helps people, and it helps the planet. Open data is good. We publish it weekly."
ELEMENT = "/visions/test-vision/elements/objective-1"


def set_text(vision: Vision, body: str) -> None:
    entry = entry_of(vision, KEY)
    facilitator = db.session.scalar(db.select(User).where(User.role == Role.FACILITATOR))
    edit_element_text(
        fresh(Vision, vision.id), KEY, title=entry.text.title, body=body, reason="Clearer.",
        lock_version=entry.lock_version, actor=facilitator,
    )
    db.session.commit()


@pytest.fixture
def world(vision, make_user) -> Vision:
    make_user(Role.FACILITATOR, name="Fran Facilitator")
    set_text(vision, TEXT)
    return vision


def tab_to(page: Any, target: Any, limit: int = 200) -> None:
    """Press Tab until `target` has focus, as a keyboard user would."""
    target.wait_for(state="attached")
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target} on {page.url}")


def reflect_by_keyboard(page: Any, app: Any, vision: Vision, *, check_accessibility: bool) -> None:
    page.goto(ELEMENT)
    if check_accessibility:
        assert_no_axe_violations(page)
        assert_no_horizontal_scroll(page)
    control = page.get_by_role("link", name="Comment on this sentence (paragraph 1, sentence 2)")
    tab_to(page, control)
    box = control.bounding_box()
    assert box and box["height"] >= 24 and box["width"] >= 24  # a target a finger can hit
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Open data is good." in page.inner_text("#chosen-sentence")
    if check_accessibility:
        assert_no_axe_violations(page)
    publish = page.get_by_role("button", name="Publish your reflection")
    tab_to(page, publish)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "Enter your reflection" in page.inner_text("main")
    if check_accessibility:
        assert_no_axe_violations(page)
    tab_to(page, page.get_by_label("Your reflection on this sentence"))
    page.keyboard.type("Say what good data enables.")
    tab_to(page, publish)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    main = page.inner_text("main")
    assert "Your reflection on the sentence is published." in main
    assert "On paragraph 1, sentence 2:" in main and "Unchanged: now paragraph 1, sentence 2" in main
    if check_accessibility:
        assert_no_axe_violations(page)

    set_text(vision, TEXT.replace("Open data is good.", "Open data is useful."))
    page.goto(ELEMENT + "/reflections")
    assert "This sentence has changed since the reflection was written." in page.inner_text("main")
    assert page.locator(".app-comment__sentence ins").first.is_visible()
    if check_accessibility:
        assert_no_axe_violations(page)


@pytest.mark.allow_console_errors(r"status of 422")  # the empty form comes back with 422 on purpose
def test_a_volunteer_reflects_on_a_sentence_by_keyboard(world, page, app, live_server, make_user) -> None:
    add_login_cookie(page, app, make_user(name="Kim Keyboard"), live_server)
    reflect_by_keyboard(page, app, world, check_accessibility=True)


@pytest.mark.allow_console_errors(r"status of 422")
def test_reflecting_on_a_sentence_works_without_javascript(world, browser, live_server, app, make_user) -> None:
    from .helpers import session_cookie

    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
    try:
        name, value = session_cookie(app, make_user(name="Nora NoScript"), user_agent=agent)
        context.add_cookies([{"name": name, "value": value, "url": live_server}])
        reflect_by_keyboard(context.new_page(), app, world, check_accessibility=False)
    finally:
        context.close()


def test_a_sentences_citation_shows_when_its_anchor_is_followed_and_copies(world, page, live_server) -> None:
    page.goto("/visions/test-vision/v/1/objective-1")
    citation = page.locator("#objective-1-p1-s1 .app-sentence__cite")
    assert not citation.is_visible()
    tab_to(page, page.get_by_role("link", name="Cite Objective 1.1, 1.1 (paragraph 1, sentence 1)"))
    page.keyboard.press("Enter")
    page.wait_for_url("**#objective-1-p1-s1")
    assert citation.is_visible()
    assert "Vision test-vision, version 1, Objective 1.1, paragraph 1, sentence 1." in citation.inner_text()
    assert_no_axe_violations(page)
    # with JavaScript, a button copies it
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    copy = page.get_by_role("button", name="Copy citation")
    tab_to(page, copy)
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelector('.app-sentence__copied').textContent === 'Citation copied.'")
    assert page.evaluate("() => navigator.clipboard.readText()") == (
        f"Vision test-vision, version 1, Objective 1.1, paragraph 1, sentence 1. {live_server}/visions/test-vision/v/1/objective-1#objective-1-p1-s1"
    )
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)
