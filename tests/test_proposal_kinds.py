"""The seam for kinds of proposal: checking, planning and applying go through the proposal's kind,
and a kind this code does not know is refused in words (409), never a 500."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from workbench.exceptions import WrongState
from workbench.extensions import db
from workbench.facilitation import decisions
from workbench.facilitation import edit as accept_edit
from workbench.models import DraftChange, ElementText, Proposal, Role
from workbench.proposals import edit
from workbench.proposals.kinds import kind_of
from workbench.proposals.services import revise_proposal

from .factories import fresh
from .test_facilitation import change, count, current_text, propose, text

UNKNOWN = "split"  # a kind a later version might write, or an import might bring


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        author=make_user(Role.VOLUNTEER, name="Ana Author"),
    )


def test_every_proposal_opened_today_is_an_edit_and_goes_through_its_kind(vision, people):
    proposal = propose(vision, people.author, "Objective 1.1 body, made clearer.")
    assert proposal.kind == edit.NAME == "edit"
    assert kind_of(proposal) is edit
    assert decisions.ACCEPTING[proposal.kind] is accept_edit


def test_planning_and_applying_an_accept_ask_the_kind(vision, people, monkeypatch):
    proposal = propose(vision, people.author, "Objective 1.1 body, made clearer.")
    asked: list[str] = []

    class Spy:
        def plan(self, proposal, **planning):
            asked.append("plan")
            return accept_edit.plan(proposal, **planning)

        def apply(self, proposal, facilitator, text, expected_text_id, now):
            asked.append("apply")
            return accept_edit.apply(proposal, facilitator, text, expected_text_id, now)

    monkeypatch.setitem(decisions.ACCEPTING, edit.NAME, Spy())
    plan = decisions.plan_accept(proposal)
    decisions.accept_proposal(
        proposal,
        people.facilitator,
        title=plan.result.title,
        body=plan.result.body,
        note="",
        expected_text_id=plan.expected_text_id,
        revision=plan.revision,
    )
    assert asked == ["plan", "apply"]
    assert proposal.status == "accepted"


def test_a_proposal_of_an_unknown_kind_is_refused_in_words(vision, people):
    proposal = propose(vision, people.author, "Objective 1.1 body, made clearer.")
    change(Proposal, proposal.id, kind=UNKNOWN)
    proposal = fresh(Proposal, proposal.id)
    for attempt in (
        lambda: kind_of(proposal),
        lambda: decisions.plan_accept(proposal),
        lambda: revise_proposal(proposal, people.author, proposal.title, "Objective 1.1 body, clearer still.", "Because."),
    ):
        with pytest.raises(WrongState) as refused:
            attempt()
        assert f"(“{UNKNOWN}”)" in refused.value.message and refused.value.status == 409
    with pytest.raises(WrongState):
        decisions.accept_proposal(
            proposal, people.facilitator, title=proposal.title, body=proposal.body, note="",
            expected_text_id=proposal.base_text_id, revision=1,
        )
    db.session.rollback()
    assert fresh(Proposal, proposal.id).revision_count == 1


def test_accepting_an_unknown_kind_is_a_409_page_and_writes_nothing(client, login_as, vision, people):
    proposal = propose(vision, people.author, "Objective 1.1 body, made clearer.")
    base_text_id = proposal.base_text_id
    change(Proposal, proposal.id, kind=UNKNOWN)
    texts_before = count(ElementText)
    login_as(people.facilitator)
    response = client.get(f"/proposals/{proposal.id}/accept")
    assert response.status_code == 409 and "a kind this workbench does not know" in text(response)
    data = {"title": "Objective 1.1", "body": "Objective 1.1 body, made clearer.", "note": "",
            "expected_text_id": str(base_text_id), "revision": "1"}
    response = client.post(f"/proposals/{proposal.id}/accept", data=data)
    assert response.status_code == 409 and "a kind this workbench does not know" in text(response)
    assert count(ElementText) == texts_before and count(DraftChange, DraftChange.kind == "accept") == 0
    assert fresh(Proposal, proposal.id).status == "open"
    assert current_text(vision).body == "Objective 1.1 body."
    # It can still be read, and rejected with a reason.
    assert client.get(f"/proposals/{proposal.id}").status_code == 200
    response = client.post(f"/proposals/{proposal.id}/reject", data={"reason": "Not something we can apply."})
    assert response.status_code == 302
    assert db.session.scalar(select(Proposal.status).where(Proposal.id == proposal.id)) == "rejected"
