"""Who wrote each part of a version in a real browser: reached from the permalink by keyboard alone,
WCAG 2.2 AA (axe-core), every credit announced in words and numbered (no colour needed), reflow at
320 px."""

from __future__ import annotations

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll, first_tab_reaches_skip_link, focused_element
from ..test_who_wrote import history, people  # noqa: F401  (fixtures: three versions by several people)

SLUG = "test-vision"


def tab_to(page, name: str, most: int = 80) -> None:
    """Press Tab until the link called `name` has the focus (fails if it never does)."""
    for _ in range(most):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement && document.activeElement.textContent.trim()") == name:
            return
    raise AssertionError(f"Tab never reached {name!r}; the focus is on {focused_element(page)}")


def test_who_wrote_each_part_by_keyboard(history, page):  # noqa: F811
    page.goto(f"/visions/{SLUG}/v/3/")
    tab_to(page, "Show who wrote each part")
    page.keyboard.press("Enter")
    page.wait_for_url(f"**/visions/{SLUG}/v/3/who-wrote")
    main = page.inner_text("main")
    assert "Who wrote each part of" in main
    # The words a screen reader announces before each run of words, and the legend they match.
    hidden = page.locator(".app-credited .visually-hidden").all_inner_texts()
    assert f"(from proposal {history['ben2'].id} by Ben Example)" in [text.strip() for text in hidden]
    assert page.get_by_role("listitem").filter(has_text=f"From proposal {history['ann'].id} by Ann Example").is_visible()
    # A visible number after each run, not a colour.
    assert page.locator(".app-credited__number").first.is_visible()
    assert_no_axe_violations(page)
    page.goto(f"/visions/{SLUG}/v/3/who-wrote")
    assert first_tab_reaches_skip_link(page), f"the first Tab focused {focused_element(page)}"
    page.goto(f"/visions/{SLUG}/v/3/who-wrote")
    assert_no_horizontal_scroll(page, 320)
    assert_no_axe_violations(page)


def test_your_words_is_accessible(history, people, page, login_browser):  # noqa: F811
    login_browser(page, people["ann"])
    page.goto("/account/activity")
    tab_to(page, "Your words in the published versions")
    page.keyboard.press("Enter")
    page.wait_for_url("**/account/your-words")
    assert "Your words in version 3" in page.inner_text("main")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Objective 1.1").first.click()
    page.wait_for_url(f"**/visions/{SLUG}/v/3/who-wrote#objective-1")
    assert_no_axe_violations(page)
