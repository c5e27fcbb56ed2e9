"""Aligned work in a real browser: a volunteer records an initiative, a facilitator approves it, and
anyone finds it in the register and on its own page. axe-core checks the form (empty and with
errors), the screening queue, the register and the initiative's page."""

from __future__ import annotations

from pathlib import Path

import pytest

from workbench.models import Role

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll

CONTACT = "private.person@private-example.org"


@pytest.mark.allow_console_errors(r"status of 422")  # the form sent empty on purpose comes back with 422
def test_submit_approve_and_find_an_initiative(page, new_page, login_browser, make_user, vision):
    volunteer = login_browser(page, make_user(Role.VOLUNTEER, name="Vera Volunteer"))

    page.goto(f"/visions/{vision.slug}/aligned-work")
    assert_no_axe_violations(page)
    page.get_by_role("link", name="Record your organisation's work").first.click()
    page.wait_for_url(f"**/visions/{vision.slug}/aligned-work/new")
    assert_no_axe_violations(page)

    # Sending it empty: an error summary, messages beside the fields, still accessible.
    page.get_by_role("button", name="Send for screening").click()
    assert page.locator(".ds_error-summary").is_visible()
    assert page.get_by_text("Choose at least one ambition, objective or enabling condition").first.is_visible()
    assert_no_axe_violations(page)

    page.get_by_label("Organisation", exact=True).fill("Borders Data Cooperative")
    page.get_by_label("Name of the initiative").fill("Rural broadband map")
    page.get_by_label("What the initiative does").fill("A public map of rural broadband.\n\nUpdated monthly.")
    # The design system draws its own boxes: people click the labels.
    page.locator("label.ds_radio__label", has_text="Current").click()
    assert page.get_by_label("Current").is_checked()
    page.get_by_label("Web page about the initiative (optional)").fill("www.example.org/broadband")
    page.get_by_label("Contact e-mail or phone number (optional)").fill(CONTACT)
    page.locator("label.ds_checkbox__label", has_text="Objective 2.1: Objective 2.1").click()
    assert page.get_by_label("Objective 2.1: Objective 2.1").is_checked()
    page.get_by_role("button", name="Send for screening").click()
    page.wait_for_url("**/aligned-work/*")
    assert page.get_by_text("Waiting for screening").first.is_visible()
    assert page.get_by_text(CONTACT).is_visible()  # the submitter sees their own contact
    work_url = page.url

    facilitator_page = new_page()
    login_browser(facilitator_page, make_user(Role.FACILITATOR, name="Fiona Facilitator"))
    facilitator_page.goto(f"/visions/{vision.slug}/aligned-work/screening")
    assert facilitator_page.get_by_role("heading", name="Rural broadband map").is_visible()
    assert_no_axe_violations(facilitator_page)
    facilitator_page.get_by_role("button", name="Approve and publish").click()
    facilitator_page.wait_for_url(f"**/visions/{vision.slug}/aligned-work/screening")
    assert facilitator_page.get_by_text("it is now in the public register").is_visible()
    assert facilitator_page.get_by_text("Nothing is waiting for screening").is_visible()

    visitor = new_page()
    visitor.goto(f"/visions/{vision.slug}/aligned-work")
    link = visitor.get_by_role("link", name="Rural broadband map")
    assert link.is_visible()
    assert_no_axe_violations(visitor)
    visitor.get_by_label("Part of the vision").select_option("objective-3")
    visitor.get_by_role("button", name="Apply filters").click()
    assert visitor.get_by_role("link", name="Rural broadband map").is_visible()
    visitor.get_by_role("link", name="Rural broadband map").click()
    visitor.wait_for_url(work_url)
    assert visitor.get_by_role("heading", level=1, name="Rural broadband map").is_visible()
    assert visitor.get_by_role("link", name="https://www.example.org/broadband").is_visible()
    assert CONTACT not in visitor.content()
    assert_no_axe_violations(visitor)

    # The submitter now sees it published, in their list.
    page.goto("/aligned-work/yours")
    assert page.get_by_text("Published", exact=True).is_visible()
    assert volunteer is not None


def test_the_element_page_lists_the_initiative(page, make_user, make_work_for_browser, vision):
    template = Path(__file__).resolve().parents[2] / "templates" / "visions" / "element.html"
    if "aligned/_element_initiatives.html" not in template.read_text():
        pytest.skip("the element page does not include aligned/_element_initiatives.html yet (wired by the lead)")
    make_work_for_browser(vision)
    page.goto(f"/visions/{vision.slug}/elements/objective-1")
    section = page.locator("section.app-element-aligned-work")
    assert section.get_by_role("link", name="Open bus timetables").is_visible()
    assert CONTACT not in page.content()
    assert_no_axe_violations(page)


@pytest.fixture
def make_work_for_browser(make_user):
    from workbench.aligned import services
    from workbench.models import db

    from ..test_aligned_support import valid_form

    def make(vision):
        submitter = make_user(Role.VOLUNTEER)
        facilitator = make_user(Role.FACILITATOR)
        work = services.submit_aligned_work(vision, submitter, **valid_form(vision, contact=CONTACT))
        services.approve_aligned_work(work, facilitator, expected_submitted_at=None)
        db.session.commit()
        return work

    return make


LONG_WORD = "Informationgovernanceandinteroperabilityprogramme" * 2
LONG_LINK = "https://www.example.org/" + "aligned-work-initiative-" * 8 + "details"


def test_the_aligned_work_pages_reflow_at_320_px(page, login_browser, make_user, make_work_for_browser, vision):
    from workbench.aligned import services
    from workbench.models import db

    from ..test_aligned_support import valid_form

    work = make_work_for_browser(vision)
    submitter = db.session.get(type(make_user()), work.submitter_id)
    services.change_aligned_work(
        work,
        submitter,
        **valid_form(vision, organisation=f"The {LONG_WORD} Council", title=f"A {LONG_WORD}", link=LONG_LINK, contact=CONTACT),
    )
    db.session.commit()
    login_browser(page, submitter)
    for path in (
        f"/visions/{vision.slug}/aligned-work",
        f"/visions/{vision.slug}/aligned-work/new",
        f"/visions/{vision.slug}/aligned-work/about-the-data",
        f"/aligned-work/{work.id}",
        f"/aligned-work/{work.id}/edit",
        "/aligned-work/yours",
    ):
        page.set_viewport_size({"width": 1280, "height": 800})
        page.goto(path)
        assert_no_horizontal_scroll(page)
