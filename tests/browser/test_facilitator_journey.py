"""The facilitator's whole journey (issue 13), by keyboard only, with JavaScript and without it.

A facilitator signs in, reaches the overview from "Facilitate" in the header (with what waits, in
words) and the queue from there, searches it, accepts one proposal and lands on the next of that
searched queue, rejects that one with a public reason and lands back on the queue, then picks two
agreeing proposals on one element and accepts them together. Every step is a Tab, Enter, Space or
typing: a control the keyboard cannot reach or operate fails the journey. axe-core finds no WCAG
2.2 AA violation on any page of it, and the overview reflows at 320 px. The database holds each
decision, and the working draft credits every author.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest
from sqlalchemy import func, select, update

from workbench.extensions import db
from workbench.models import DraftEntry, Element, ElementText, Proposal, Role, utcnow

from tests.conftest import TEST_PASSWORD
from tests.factories import open_proposal

from .helpers import DESKTOP, assert_no_axe_violations, assert_no_horizontal_scroll

SEARCHED = "archive"  # a word of one proposal's text and another's rationale, and of nothing else
REASON = "The words are plain enough already; the guidance can explain them."


# --- keyboard only --------------------------------------------------------------------------------


def tab_to(page: Any, target: Any, limit: int = 250) -> None:
    """Press Tab until `target` (a Locator for one element) has focus, as a keyboard user would;
    fail if it is not reached in `limit` presses (it is not focusable, or hidden from the keyboard)."""
    target.wait_for(state="attached")
    for _ in range(limit):
        page.keyboard.press("Tab")
        if target.evaluate("el => el === document.activeElement"):
            return
    raise AssertionError(f"Tab never reached {target} on {page.url} in {limit} presses")


def press_on(page: Any, target: Any, key: str = "Enter") -> None:
    """Tab to a link or button and press Enter (or `key`), waiting for the page it leads to."""
    tab_to(page, target)
    with page.expect_navigation():
        page.keyboard.press(key)


def type_into(page: Any, field: Any, text: str) -> None:
    """Tab to a text field and type into it."""
    tab_to(page, field)
    page.keyboard.type(text)


def choose(page: Any, select: Any, option_words: str, value: str) -> None:
    """Tab to a <select> and type the start of an option's words to choose it (type-ahead)."""
    tab_to(page, select)
    page.keyboard.type(option_words)
    assert select.input_value() == value


# --- axe-core, with or without the page's scripts -------------------------------------------------

# With JavaScript disabled the browser runs no timer and no animation frame, and the checks wait on
# them (axe-core on setTimeout, the reflow check on requestAnimationFrame): for the checks, they run
# as soon as the current script yields. The page's own scripts never ran, so the checks see the page
# as a browser without JavaScript shows it.
_TIMERS_WITHOUT_JAVASCRIPT = """() => {
  const soon = (callback, ...args) => { Promise.resolve().then(() => callback(...args)); return 0; };
  window.setTimeout = (callback, delay, ...args) => soon(callback, ...args);
  window.clearTimeout = () => {};
  window.requestAnimationFrame = callback => soon(callback, performance.now());
}"""


def check_accessibility(page: Any, javascript: bool) -> None:
    """axe-core finds no WCAG 2.2 AA violation on the page as it is now."""
    if not javascript:
        page.evaluate(_TIMERS_WITHOUT_JAVASCRIPT)
    assert_no_axe_violations(page)


def check_reflow(page: Any, javascript: bool) -> None:
    """The page does not scroll sideways at 320 px (then back to the desktop size)."""
    if not javascript:
        page.evaluate(_TIMERS_WITHOUT_JAVASCRIPT)
    assert_no_horizontal_scroll(page, 320)
    page.set_viewport_size(DESKTOP)


# --- the world ------------------------------------------------------------------------------------


@pytest.fixture(params=[True, False], ids=["with-javascript", "without-javascript"])
def journey_page(request: pytest.FixtureRequest, new_page: Any, browser: Any, live_server: str) -> Iterator[tuple[Any, bool]]:
    """(page, javascript): a fresh page, signed out, in a browser with JavaScript on or off."""
    if request.param:
        yield new_page(), True
        return
    context = browser.new_context(base_url=live_server, java_script_enabled=False, viewport=DESKTOP)
    context.set_default_timeout(10_000)
    try:
        yield context.new_page(), False
    finally:
        context.close()


def at(page: Any, path: str, **query: str) -> bool:
    """The page is at `path` with exactly these query parameters, leaving out the empty ones and
    the default order, which the queue's GET form sends too."""
    url = urlsplit(page.url)
    sent = {k: v for k, v in parse_qsl(url.query) if v and (k, v) != ("sort", "oldest")}
    return url.path == path and sent == query


def _age(proposal: Proposal, days: int) -> None:
    db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id).values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def _texts_of(vision, key: str) -> int:
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))
    return db.session.scalar(select(func.count()).select_from(ElementText).where(ElementText.element_id == element.id))


def _working_text(vision, key: str) -> str:
    entry = db.session.scalar(
        select(DraftEntry).join(Element, DraftEntry.element_id == Element.id).where(Element.vision_id == vision.id, Element.key == key)
    )
    return db.session.get(ElementText, entry.text_id).body


def _status(proposal: Proposal) -> str:
    return db.session.scalar(select(Proposal.status).where(Proposal.id == proposal.id))


def test_a_facilitator_decides_from_the_header_to_accepting_together_by_keyboard(journey_page, make_vision, make_user):
    page, javascript = journey_page
    vision = make_vision()
    make_user(Role.FACILITATOR, name="Fiona Facilitator", email="fiona@example.org")
    ana = make_user(Role.VOLUNTEER, name="Ana Author")
    ben = make_user(Role.VOLUNTEER, name="Ben Builder")
    # Two proposals the search finds (one by its text, one by its rationale), on two elements.
    first = open_proposal(vision, ana, "objective-1", f"Objective 1.1 body, kept in the national {SEARCHED}.")
    second = open_proposal(vision, ben, "condition-1", "Condition 1.1 text.", rationale=f"The {SEARCHED} team asked for plainer words.")
    # On Objective 1.2: two that agree (one adds at the start, one at the end), one that competes.
    every = open_proposal(vision, ben, "objective-2", "Every Objective 1.2 body.")
    openly = open_proposal(vision, ana, "objective-2", "Objective 1.2 body, shared openly.")
    daily = open_proposal(vision, ben, "objective-2", "Objective 1.2 body, shared daily.")
    for proposal, days in ((first, 5), (second, 4), (every, 3), (openly, 2), (daily, 1)):
        _age(proposal, days)
    texts_before = _texts_of(vision, "objective-2")
    slug = vision.slug
    queue = f"/visions/{slug}/facilitate"

    # Sign in from the header.
    page.goto("/")
    check_accessibility(page, javascript)
    press_on(page, page.get_by_role("navigation", name="Account").get_by_role("link", name="Sign in"))
    assert page.get_by_role("heading", level=1).inner_text() == "Sign in"
    assert page.evaluate("() => typeof window.htmx") == ("object" if javascript else "undefined")
    check_accessibility(page, javascript)
    type_into(page, page.get_by_label("Email address"), "fiona@example.org")
    type_into(page, page.get_by_label("Password", exact=True), TEST_PASSWORD)
    press_on(page, page.get_by_role("button", name="Sign in"))

    # The header says what waits, in words, and leads to the overview (one vision: straight there).
    header = page.get_by_role("navigation", name="Account")
    press_on(page, header.get_by_role("link", name=re.compile(r"^Facilitate\W+5 waiting$")))
    assert at(page, f"/visions/{slug}/facilitate/overview"), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "What is waiting"
    main = page.inner_text("main")
    assert "Waiting longest\n5 days" in main or "5 days" in main
    assert "No reported comments, reflections or proposals are waiting" in main
    check_accessibility(page, javascript)
    check_reflow(page, javascript)

    # From the overview to the queue, then search it: only the two proposals with the word.
    press_on(page, page.get_by_role("link", name="Open the facilitators' queue"))
    assert at(page, queue), page.url
    assert page.get_by_role("heading", level=1).inner_text() == "Proposals waiting for a decision"
    check_accessibility(page, javascript)
    type_into(page, page.get_by_label("Words"), SEARCHED)
    with page.expect_navigation():
        page.keyboard.press("Enter")  # sends the search form from its field
    assert at(page, queue, q=SEARCHED), page.url
    assert "2 open proposals that match" in page.inner_text("main")
    listed = page.locator(".app-queue__heading").all_inner_texts()
    assert listed == [f"Proposal {first.id} on Objective 1.1", f"Proposal {second.id} on Enabling condition 1.1"]
    check_accessibility(page, javascript)

    # Accept the first: the facilitator lands on the next proposal of the same searched queue.
    press_on(page, page.get_by_role("link", name=f"Accept proposal {first.id}"))
    assert page.get_by_role("heading", level=1).inner_text() == f"Accept proposal {first.id}"
    check_accessibility(page, javascript)
    press_on(page, page.get_by_role("button", name="Accept into the working draft"))
    assert urlsplit(page.url).path == f"/proposals/{second.id}" and "from=" in page.url, page.url
    main = page.inner_text("main")
    assert f"You accepted proposal {first.id} into the working draft of Objective 1.1." in main
    assert f"Next in the queue: proposal {second.id}." in main
    assert page.get_by_role("link", name=f"Accept proposal {second.id}").is_visible()
    back = page.get_by_role("link", name="Back to the queue")
    assert back.get_attribute("href") == f"{queue}?q={SEARCHED}"
    check_accessibility(page, javascript)
    db.session.remove()
    assert _status(first) == "accepted"
    assert _working_text(vision, "objective-1") == f"Objective 1.1 body, kept in the national {SEARCHED}."

    # Reject it there with a public reason: nothing else matches, so back to the searched queue.
    type_into(page, page.get_by_label("Reason for rejecting (shown publicly)"), REASON)
    press_on(page, page.get_by_role("button", name=f"Reject proposal {second.id}"))
    assert at(page, queue, q=SEARCHED), page.url
    main = page.inner_text("main")
    assert f"You rejected proposal {second.id}. Your reason is shown publicly on the proposal." in main
    assert "Nothing else in this queue is waiting for your decision." in main
    assert "No open proposals match these filters" in main
    check_accessibility(page, javascript)
    db.session.remove()
    assert _status(second) == "rejected"

    # Back to the whole queue, filtered to one element: from there, accept several together.
    press_on(page, page.get_by_role("link", name="Clear the filters"))
    assert at(page, queue), page.url
    choose(page, page.get_by_label("Element"), "Objective 1.2", "objective-2")
    press_on(page, page.get_by_role("button", name="Show proposals"))
    assert at(page, queue, element="objective-2"), page.url
    listed = page.locator(".app-queue__heading").all_inner_texts()
    assert listed == [f"Proposal {p.id} on Objective 1.2" for p in (every, openly, daily)]
    press_on(page, page.get_by_role("link", name="Accept several proposals on Objective 1.2 together"))
    assert page.get_by_role("heading", level=1).inner_text() == "Accept several proposals on Objective 1.2"
    check_accessibility(page, javascript)
    for proposal in (every, openly):
        tab_to(page, page.get_by_role("checkbox", name=re.compile(rf"^Proposal {proposal.id} by")))
        page.keyboard.press("Space")
    press_on(page, page.get_by_role("button", name="Show the combined text"))
    assert page.get_by_role("heading", name="The combined text").is_visible()
    assert page.locator("main ol li").filter(has_text=re.compile(r"^Proposal \d+ by ")).all_inner_texts() == [
        f"Proposal {every.id} by Ben Builder",
        f"Proposal {openly.id} by Ana Author",
    ]
    added = " ".join(page.locator("main ins").all_inner_texts())
    assert "Every" in added and "shared openly" in added
    check_accessibility(page, javascript)
    type_into(page, page.get_by_label("Note for the public record (optional)"), "They agree.")
    press_on(page, page.get_by_role("button", name="Accept these 2 proposals"))
    assert at(page, queue, element="objective-2"), page.url
    assert (
        f"You accepted proposals {every.id} and {openly.id} together into the working draft of Objective 1.2, in that order."
        in page.inner_text("main")
    )
    check_accessibility(page, javascript)
    db.session.remove()
    assert [_status(p) for p in (every, openly, daily)] == ["accepted", "accepted", "open"]
    assert _texts_of(vision, "objective-2") == texts_before + 1
    assert _working_text(vision, "objective-2") == "Every Objective 1.2 body, shared openly."

    # The working draft, from the header again: each accepted proposal credits its author.
    press_on(page, page.get_by_role("navigation", name="Account").get_by_role("link", name=re.compile(r"^Facilitate")))
    press_on(page, page.get_by_role("link", name="See the working draft"))
    changes = page.locator(".app-change-list__item").all_inner_texts()
    for proposal, author in ((every, "Ben Builder"), (openly, "Ana Author"), (first, "Ana Author")):
        assert any(f"proposal {proposal.id} by {author} accepted by Fiona Facilitator" in change for change in changes), changes
    assert sum("Note: They agree." in change for change in changes) == 2
    check_accessibility(page, javascript)

    # The rejected proposal's page shows the decision and its reason to everyone.
    page.goto(f"/proposals/{second.id}")
    decision = page.inner_text("#decision")
    assert "Rejected" in decision and REASON in decision
    check_accessibility(page, javascript)
