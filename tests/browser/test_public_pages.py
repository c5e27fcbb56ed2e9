"""The public reading pages in a real browser: WCAG 2.2 AA (axe-core), the skip link, reflow at 320 px.

The vision used here has long unbroken words (a title, a body, a summary) so that the reflow check
means something: a page that lets such a word run off the screen scrolls sideways at 320 px.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from workbench.extensions import db
from workbench.models import Role, utcnow
from workbench.visions.importer import ElementSpec, VisionSpec
from workbench.drafting.publishing import publish_version
from workbench.visions.importer import import_vision
from workbench.visions.services import add_element

from .helpers import (
    assert_no_axe_violations,
    assert_no_horizontal_scroll,
    first_tab_reaches_skip_link,
    focused_element,
    skip_link_moves_focus_to_main,
)

SLUG = "long-words"
LONG_WORD = "Dataprotectionimpactassessmentsandinformationgovernancearrangements" * 2  # 136 letters
LONG_URL = "https://www.example.org/" + "public-sector-data-strategy-" * 6 + "annex.pdf"


def long_word_spec() -> VisionSpec:
    return VisionSpec(
        slug=SLUG,
        title=f"A vision with {LONG_WORD[:60]}",
        summary=f"A summary naming {LONG_WORD} and {LONG_URL}.",
        statement=ElementSpec("statement", "", f"Our data serves everyone, {LONG_WORD} included."),
        ambitions=[
            ElementSpec(
                "ambition",
                f"Ambition {a} about {LONG_WORD[:70]}",
                f"Ambition {a} body with {LONG_WORD}.\n\nSee {LONG_URL} for more.",
                [
                    ElementSpec("objective", f"Objective {a}.1", f"Objective {a}.1 body, {LONG_WORD}."),
                    ElementSpec("objective", f"Objective {a}.2", f"Objective {a}.2 body."),
                    ElementSpec("condition", f"Condition {a}.1", f"Condition {a}.1 body."),
                ],
            )
            for a in (1, 2)
        ],
    )


@pytest.fixture
def vision(app):
    """The long-words vision: version 1, then version 2 with one added objective; consultation open."""
    vision = import_vision(long_word_spec(), actor=None, publish=True)
    ambition = next(e for e in vision_elements(vision) if e.key == "ambition-1")
    add_element(
        vision, "objective", title="Objective 1.3", body=f"Added later: {LONG_WORD}.",
        parent=ambition, position=3, actor=None, reason="A new objective",
    )
    publish_version(vision, actor=None, notes="Adds an objective.")
    vision.opens_at = utcnow() - timedelta(days=1)
    vision.closes_at = utcnow() + timedelta(days=30)
    db.session.commit()
    return vision


def vision_elements(vision):
    from sqlalchemy import select

    from workbench.models import Element

    return db.session.scalars(select(Element).where(Element.vision_id == vision.id)).all()


# name -> (path, text the page must show: proves it is the right page, with the long word where one is expected)
PAGES = {
    "home": ("/", "A vision with"),
    "vision": (f"/visions/{SLUG}/", LONG_WORD),
    "version permalink": (f"/visions/{SLUG}/v/1/", LONG_WORD),
    "element permalink": (f"/visions/{SLUG}/v/1/ambition-1", LONG_WORD),
    "versions": (f"/visions/{SLUG}/versions", "Adds an objective."),
    "living element": (f"/visions/{SLUG}/elements/objective-1", LONG_WORD),
}


def open_page(page, name):
    path, expected = PAGES[name]
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    assert expected in page.inner_text("main"), f"{path} does not show {expected[:40]!r}"
    return page


@pytest.mark.parametrize("name", PAGES)
def test_page_has_no_wcag_22_aa_violations(vision, page, name):
    open_page(page, name)
    assert_no_axe_violations(page)


@pytest.mark.parametrize("name", PAGES)
def test_first_tab_reaches_the_skip_link_and_enter_moves_focus_to_main(vision, page, name):
    open_page(page, name)
    assert first_tab_reaches_skip_link(page), f"the first Tab focused {focused_element(page)}"
    assert skip_link_moves_focus_to_main(page), f"Enter on the skip link focused {focused_element(page)}"


@pytest.mark.parametrize("name", PAGES)
def test_nothing_scrolls_sideways_at_320_px(vision, page, name):
    open_page(page, name)
    assert_no_horizontal_scroll(page, 320)
    assert_no_axe_violations(page)  # the narrow layout too (e.g. contrast of a reflowed header)


def test_signed_in_vision_page_has_no_violations_and_reflows(vision, page, make_user, login_browser):
    login_browser(page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    open_page(page, "vision")
    assert page.get_by_role("button", name="Sign out").is_visible()  # the session cookie signed her in
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_version_permalink_is_the_same_for_a_signed_in_reader(vision, page, make_user, login_browser):
    login_browser(page, make_user())
    open_page(page, "version permalink")
    # Served from a shared cache: it must not show who is signed in.
    assert page.get_by_role("link", name="Your account or sign in").is_visible()
    assert page.get_by_role("button", name="Sign out").count() == 0


# --- the fixtures themselves ----------------------------------------------------------------------


@pytest.mark.allow_console_errors(r"404")
def test_console_errors_are_collected(vision, page, browser_problems):
    response = page.goto(f"/visions/{SLUG}/v/99/")
    assert response is not None and response.status == 404
    assert any("404" in m for m in browser_problems.messages), browser_problems.messages
    assert_no_axe_violations(page)  # the 404 page is accessible too


@pytest.mark.allow_console_errors(r"CSP violation", r"Content Security Policy")
def test_csp_violations_are_collected(vision, page, browser_problems):
    open_page(page, "vision")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = 'window.ran = 1'; document.body.appendChild(s); }"
    )
    page.wait_for_timeout(100)
    assert page.evaluate("() => window.ran") is None  # the strict CSP blocked the inline script
    assert any(m.startswith("CSP violation: script-src") for m in browser_problems.messages), browser_problems.messages
