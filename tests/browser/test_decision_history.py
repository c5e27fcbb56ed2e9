"""A reader sees every decision on a proposal, and a resolved conflict's record in three parts, in a
real browser; axe-core finds no WCAG 2.2 AA violation on those proposal pages."""

from __future__ import annotations

from sqlalchemy import select

from workbench.extensions import db
from workbench.facilitation import decisions
from workbench.models import DraftEntry, Element, ElementText, Proposal, Role, User

from tests.factories import open_proposal

from .helpers import assert_no_axe_violations

KEY = "objective-1"


def _set_text(vision, body: str) -> ElementText:
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == KEY))
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == element.id))
    text = ElementText(element_id=element.id, title=db.session.get(ElementText, entry.text_id).title, body=body)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.commit()
    return text


def test_a_reader_sees_every_decision_and_the_resolve_record(make_vision, make_user, page):
    vision = make_vision()
    fran = make_user(Role.FACILITATOR, name="Fran Facilitator")
    sam = make_user(Role.FACILITATOR, name="Sam Second")
    ana = make_user(Role.VOLUNTEER, name="Ana Author")

    twice = open_proposal(vision, ana)
    decisions.reject_proposal(twice, fran, "Too early.")
    decisions.reopen_proposal(twice, sam)
    decisions.reject_proposal(twice, sam, "It duplicates Objective 2.1.")
    db.session.commit()

    _set_text(vision, "We will train 10,000 analysts across the public sector by 2030, and publish what we learn.")
    resolved = open_proposal(vision, ana, body="We will train 20,000 analysts across the public sector by 2030, and openly publish what we learn.")
    current = _set_text(vision, "We will train 15,000 analysts across Scotland's public sector by 2030, and publish what we learn.")
    decisions.accept_proposal(
        db.session.get(Proposal, resolved.id),
        db.session.get(User, fran.id),
        title=current.title,
        body="We will train 18,000 analysts across Scotland's public sector by 2030, and openly publish what we learn.",
        note="Met in the middle.",
        expected_text_id=current.id,
        revision=1,
    )
    db.session.commit()

    page.goto(f"/proposals/{twice.id}")
    history = page.get_by_role("list", name="Decision history")
    items = history.get_by_role("listitem").all_inner_texts()
    assert [item.split(" on ")[0] for item in items] == ["Rejected by Fran Facilitator", "Reopened by Sam Second", "Rejected by Sam Second"]
    assert items[0].endswith("Reason: Too early.") and items[2].endswith("Reason: It duplicates Objective 2.1.")
    assert_no_axe_violations(page)

    page.goto(f"/proposals/{resolved.id}")
    for heading in ("What the author proposed", "What changed in the working text meanwhile", "What the facilitator changed in it", "Decision history"):
        assert page.get_by_role("heading", name=heading, level=3).is_visible()
    main = page.inner_text("main")
    assert "Replace “10,000” with “20,000”" in main
    assert_no_axe_violations(page)
