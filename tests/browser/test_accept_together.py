"""Accept together in a real browser: a facilitator ticks proposals, sees the combined text and
accepts them in one step, with and without JavaScript. axe-core finds no WCAG 2.2 AA violation on
the page: empty, with the combined text, and with a competing pair named."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workbench.extensions import db
from workbench.models import DraftEntry, Element, ElementText, Proposal, Role

from tests.factories import open_proposal

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll, session_cookie

TEXT = (
    "By 2030 we will have trained 10,000 people in data skills across the public sector, "
    "and every public body will publish its data openly."
)


def _set_text(vision, body: str) -> None:
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == "objective-1"))
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == element.id))
    text = ElementText(element_id=element.id, title=db.session.get(ElementText, entry.text_id).title, body=body)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.commit()


@pytest.fixture
def world(make_vision, make_user):
    vision = make_vision()
    facilitator = make_user(Role.FACILITATOR, name="Fiona Facilitator")
    ana = make_user(Role.VOLUNTEER, name="Ana Author")
    ben = make_user(Role.VOLUNTEER, name="Ben Builder")
    _set_text(vision, TEXT)
    twenty = open_proposal(vision, ana, "objective-1", TEXT.replace("10,000", "20,000"))
    on_time = open_proposal(vision, ben, "objective-1", TEXT.replace("openly.", "openly and on time."))
    fifteen = open_proposal(vision, ben, "objective-1", TEXT.replace("10,000", "15,000"))
    return vision, facilitator, twenty, on_time, fifteen


def _statuses(*proposals) -> list[str]:
    db.session.remove()
    return [db.session.get(Proposal, p.id).status for p in proposals]


def _url(vision) -> str:
    return f"/visions/{vision.slug}/elements/objective-1/accept-together"


def test_accepting_together_has_no_violations(world, page, login_browser):
    vision, facilitator, twenty, on_time, fifteen = world
    login_browser(page, facilitator)
    response = page.goto(_url(vision))
    assert response is not None and response.status == 200
    assert page.get_by_role("heading", level=1).inner_text() == "Accept several proposals on Objective 1.1"
    assert_no_axe_violations(page)

    # A competing pair: named, beside the choice and in the summary; nothing to accept.
    page.locator(f"label[for=choose-{twenty.id}]").click()
    page.locator(f"label[for=choose-{fifteen.id}]").click()
    page.get_by_role("button", name="Show the combined text").click()
    page.wait_for_load_state()
    assert f"Proposals {twenty.id} and {fifteen.id} compete" in page.inner_text(".ds_error-summary")
    assert page.get_by_role("button", name=re.compile("^Accept these")).count() == 0
    assert_no_axe_violations(page)

    # Two that agree: the combined text, then one step.
    page.locator(f"label[for=choose-{fifteen.id}]").click()
    page.locator(f"label[for=choose-{on_time.id}]").click()
    page.get_by_role("button", name="Show the combined text").click()
    page.wait_for_load_state()
    assert any("and on time" in added for added in page.locator("main ins").all_inner_texts())
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
    page.set_viewport_size({"width": 1280, "height": 800})
    page.get_by_label("Note for the public record (optional)").fill("They agree.")
    page.get_by_role("button", name="Accept these 2 proposals").click()
    page.wait_for_url(re.compile(r"/facilitate\?element=objective-1"))
    assert f"You accepted proposals {twenty.id} and {on_time.id} together" in page.inner_text("main")
    assert _statuses(twenty, on_time, fifteen) == ["accepted", "accepted", "open"]


def test_accepting_together_works_without_javascript(world, browser, live_server, app):
    vision, facilitator, twenty, on_time, fifteen = world
    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
    try:
        name, value = session_cookie(app, facilitator, user_agent=agent)
        context.add_cookies([{"name": name, "value": value, "url": live_server}])
        page = context.new_page()
        page.goto(_url(vision))
        page.locator(f"label[for=choose-{twenty.id}]").click()
        page.locator(f"label[for=choose-{on_time.id}]").click()
        # The order typed in: "on time" first.
        page.get_by_label(f"Position of proposal {on_time.id}").fill("1")
        page.get_by_label(f"Position of proposal {twenty.id}").fill("2")
        page.get_by_role("button", name="Show the combined text").click()
        page.wait_for_load_state()
        assert page.get_by_label(f"Position of proposal {on_time.id}").input_value() == "1"
        page.get_by_role("button", name="Accept these 2 proposals").click()
        page.wait_for_url(re.compile(r"/facilitate\?element=objective-1"))
        assert f"You accepted proposals {on_time.id} and {twenty.id} together" in page.inner_text("main")
        assert _statuses(twenty, on_time, fifteen) == ["accepted", "accepted", "open"]
    finally:
        context.close()
