"""A facilitator finds their work from the header (issue 13): "Facilitate" with what waits leads to
the overview (axe-core finds no WCAG 2.2 AA violation there, nor at 320 px), the overview to the
queue, and accepting a proposal from a filtered queue lands on the next one of that queue, with a
way back to it."""

from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select, update

from workbench.extensions import db
from workbench.models import Proposal, Role, utcnow

from tests.factories import open_proposal

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def _age(proposal: Proposal, days: int) -> None:
    db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id).values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def test_facilitator_goes_from_the_header_to_the_next_proposal(make_vision, make_user, page, login_browser):
    vision = make_vision()
    facilitator = make_user(Role.FACILITATOR, name="Fiona Facilitator")
    ana = make_user(Role.VOLUNTEER, name="Ana Author")
    first = open_proposal(vision, ana, "objective-1")
    elsewhere = open_proposal(vision, ana, "objective-2")
    second = open_proposal(vision, ana, "objective-1", "Objective 1.1 body, and more.")
    for proposal, days in ((first, 5), (elsewhere, 4), (second, 3)):
        _age(proposal, days)
    login_browser(page, facilitator)

    # The header says what waits, in words, and leads to the overview (one vision: straight there).
    page.goto("/")
    header = page.get_by_role("navigation", name="Account")
    header.get_by_role("link", name=re.compile(r"^Facilitate\W+3 waiting$")).click()
    page.wait_for_url(re.compile(rf"/visions/{vision.slug}/facilitate/overview$"))
    assert page.get_by_role("heading", level=1).inner_text() == "What is waiting"
    main = page.inner_text("main")
    assert "Waiting longest\n5 days" in main or "5 days" in main
    assert "No reported comments, reflections or proposals are waiting" in main
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)

    # From the overview to the queue, filtered on one element.
    page.get_by_role("link", name="Open the facilitators' queue").click()
    page.wait_for_url(re.compile(rf"/visions/{vision.slug}/facilitate$"))
    page.get_by_label("Element").select_option("objective-1")
    page.get_by_role("button", name="Show proposals").click()
    page.wait_for_url(re.compile(r"element=objective-1"))
    assert f"Proposal {elsewhere.id}" not in page.inner_text("main")

    # Accept the first: the facilitator lands on the next proposal of the same filtered queue.
    page.get_by_role("link", name=f"Accept proposal {first.id}").click()
    assert page.get_by_role("heading", level=1).inner_text() == f"Accept proposal {first.id}"
    page.get_by_role("button", name="Accept into the working draft").click()
    page.wait_for_url(re.compile(rf"/proposals/{second.id}\?from="))
    main = page.inner_text("main")
    assert f"You accepted proposal {first.id} into the working draft of Objective 1.1." in main
    assert f"Next in the queue: proposal {second.id}." in main
    assert page.get_by_role("link", name=f"Accept proposal {second.id}").is_visible()
    assert_no_axe_violations(page)
    db.session.remove()
    assert db.session.scalar(select(Proposal.status).where(Proposal.id == first.id)) == "accepted"

    # And back to the queue, its filter kept.
    page.get_by_role("link", name="Back to the queue").click()
    page.wait_for_url(re.compile(rf"/visions/{vision.slug}/facilitate\?element=objective-1$"))
    main = page.inner_text("main")
    assert f"Proposal {second.id}" in main and f"Proposal {first.id} " not in main
