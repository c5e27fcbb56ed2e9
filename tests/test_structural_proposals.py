"""Proposals to remove an element (issue 16): proposed with a reason, shown as a deletion in words,
revised, withdrawn, voted on; competing with edits of the same element; accepted into the working
draft through the one rule for removals, closing the element's other open proposals."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from sqlalchemy import select

from workbench.models import DraftChange, Proposal, ProposalRevision, Role, Vision, db
from workbench.visions.services import working_tree

from .factories import entry_of, events, fresh, open_proposal
from .test_drafting_support import per_request_login, publish  # noqa: F401  (per_request_login is autouse)
from .test_facilitation import accept_form, count, field_value, text, words

PROPOSE = "/visions/test-vision/elements/{key}/propose-removal"


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        author=make_user(Role.VOLUNTEER, name="Ana Author"),
        other=make_user(Role.VOLUNTEER, name="Olu Other"),
    )


def propose_removal(client, key: str, rationale: str = "It repeats another objective."):
    return client.post(PROPOSE.format(key=key), data={"rationale": rationale})


def removal_of(client, login_as, people, key: str = "objective-1") -> Proposal:
    login_as(people.author)
    response = propose_removal(client, key)
    assert response.status_code == 302, text(response)
    return db.session.scalar(select(Proposal).where(Proposal.kind == "remove").order_by(Proposal.id.desc()))


def keys_in_draft(vision) -> set[str]:
    return {e["key"] for e in working_tree(fresh(Vision, vision.id))}


# --- proposing --------------------------------------------------------------------------------------


def test_a_volunteer_proposes_to_remove_an_objective_and_sees_its_text_as_a_deletion(client, login_as, vision, people):
    login_as(people.author)
    page = text(client.get(PROPOSE.format(key="objective-2")))
    assert "Propose to remove Objective 1.2" in page
    assert '<del class="diff__del"><span class="visually-hidden">removed: </span>Objective 1.2 body.</del>' in page
    assert "Nothing else is under Objective 1.2: only it would be removed." in page
    assert PROPOSE.format(key="objective-2") in text(client.get("/visions/test-vision/elements/objective-2/propose"))

    response = propose_removal(client, "objective-2", "It says what Objective 1.1 says.")
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    assert response.headers["Location"].endswith(f"/proposals/{proposal.id}")
    assert (proposal.kind, proposal.title, proposal.body, proposal.rationale) == ("remove", "", "", "It says what Objective 1.1 says.")
    assert proposal.base_text_id == entry_of(vision, "objective-2").text_id
    assert db.session.scalar(select(ProposalRevision.rationale)) == "It says what Objective 1.1 says."
    assert events("proposal.opened")[0].details["kind"] == "remove"
    assert "objective-2" in keys_in_draft(vision)  # only a proposal: the draft is unchanged

    shown = words(text(client.get(f"/proposals/{proposal.id}")))
    assert "To remove Objective 1.2" in shown
    assert "It proposes to remove Objective 1.2 from the vision." in shown
    assert "removed: Objective 1.2 body." in shown
    listed = words(text(client.get("/visions/test-vision/proposals")))
    assert f"Proposal {proposal.id}: to remove Objective 1.2" in listed
    assert "Removed “Objective 1.2 body.”" in listed


def test_proposing_to_remove_an_ambition_says_plainly_what_goes_with_it(client, login_as, vision, people):
    login_as(people.author)
    page = words(text(client.get(PROPOSE.format(key="ambition-1"))))
    assert "Everything under Ambition 1 goes with it: 3 elements." in page
    assert "Objective 1.1: Objective 1.1" in page and "Enabling condition 1.1: Condition 1.1" in page
    propose_removal(client, "ambition-1", "Folded into Ambition 2.")
    proposal = db.session.scalar(select(Proposal))
    shown = words(text(client.get(f"/proposals/{proposal.id}")))
    assert "with everything under it: 3 elements" in shown
    assert "Objective 1.2: Objective 1.2 (removed with it)" in shown


@pytest.mark.parametrize(
    ("rationale", "message"),
    [
        ("", "Explain why you propose to remove it"),
        ("   \n ", "Explain why you propose to remove it"),
        ("x" * 5_001, "The reason must be 5,000 characters or fewer (it has 5,001)"),
        ("Hidden\u202ewords", "Remove the hidden formatting characters"),
    ],
)
def test_a_removal_needs_a_reason(client, login_as, vision, people, rationale, message):
    login_as(people.author)
    response = propose_removal(client, "objective-1", rationale)
    assert response.status_code == 422
    page = text(response)
    assert 'id="rationale-error"' in page and message in page
    assert count(Proposal) == 0


def test_the_statement_and_the_last_ambition_cannot_be_proposed_for_removal(client, login_as, make_vision, people):
    make_vision(ambitions=1)
    login_as(people.author)
    page = text(client.get(PROPOSE.format(key="statement-1")))
    assert "The vision statement cannot be removed: edit its text instead." in page and 'name="rationale"' not in page
    response = propose_removal(client, "statement-1")
    assert response.status_code == 422 and "The vision statement cannot be removed" in text(response)
    response = propose_removal(client, "ambition-1")
    assert response.status_code == 422
    assert "This is the only ambition in the draft, and a vision needs at least one" in text(response)
    assert count(Proposal) == 0
    assert propose_removal(client, "objective-1").status_code == 302  # its objectives can go


def test_proposing_a_removal_needs_an_account_an_open_window_and_an_element_still_in_the_draft(client, login_as, make_vision, people):
    vision = make_vision(open_window=False)
    response = client.get(PROPOSE.format(key="objective-1"))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    login_as(people.author)
    assert client.get(PROPOSE.format(key="objective-1")).status_code == 403
    assert propose_removal(client, "objective-1").status_code == 403
    assert client.get(PROPOSE.format(key="objective-99")).status_code == 404
    assert count(Proposal) == 0
    del vision


# --- like an edit: revisions, withdrawal, votes -----------------------------------------------------


def test_its_author_revises_the_reason_and_withdraws_it(client, login_as, vision, people):
    proposal = removal_of(client, login_as, people)
    page = text(client.get(f"/proposals/{proposal.id}/edit"))
    assert "Your proposal is to remove Objective 1.1" in page and field_value(page, "rationale") == "It repeats another objective."
    assert client.post(f"/proposals/{proposal.id}/edit", data={"rationale": "It repeats another objective."}).status_code == 422
    response = client.post(f"/proposals/{proposal.id}/edit", data={"rationale": "It repeats Objective 1.2 word for word."})
    assert response.status_code == 302
    proposal = fresh(Proposal, proposal.id)
    assert (proposal.revision_count, proposal.rationale, proposal.body) == (2, "It repeats Objective 1.2 word for word.", "")
    assert client.post(f"/proposals/{proposal.id}/withdraw").status_code == 302
    assert fresh(Proposal, proposal.id).status == "withdrawn"


def test_others_vote_on_a_removal(client, login_as, vision, people):
    proposal = removal_of(client, login_as, people)
    login_as(people.other)
    assert client.post(f"/proposals/{proposal.id}/vote", data={"value": "oppose"}).status_code == 302
    assert fresh(Proposal, proposal.id).oppose_count == 1
    assert "0 support, 1 oppose" in words(text(client.get(f"/proposals/{proposal.id}")))


def test_an_edit_and_a_removal_of_the_same_element_compete(client, login_as, vision, people):
    edit = open_proposal(vision, people.other, "objective-1")
    removal = removal_of(client, login_as, people)
    page = words(text(client.get(f"/proposals/{edit.id}")))
    assert f"Proposal {removal.id}: to remove Objective 1.1 by Ana Author" in page
    assert "Competes" in page.split(f"Proposal {removal.id}: to remove")[1][:120]
    login_as(people.facilitator)
    queue = words(text(client.get("/visions/test-vision/facilitate")))
    assert f"Proposal {removal.id} to remove Objective 1.1" in queue
    assert f"Competing with proposal {edit.id}" in queue and f"Competing with proposal {removal.id}" in queue


# --- accepting --------------------------------------------------------------------------------------


def test_accepting_a_removal_takes_the_element_out_and_closes_its_other_proposals(client, login_as, vision, people):
    edit = open_proposal(vision, people.other, "objective-1")
    removal = removal_of(client, login_as, people)
    login_as(people.facilitator)
    page = words(text(client.get(f"/proposals/{removal.id}/accept")))
    assert f"Accept proposal {removal.id}: remove Objective 1.1" in page
    assert "removed: Objective 1.1 body." in page
    assert "1 other open proposal on what is removed will be closed as rejected" in page

    response = client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id, note="Agreed: it repeats."))
    assert response.status_code == 302
    assert "objective-1" not in keys_in_draft(vision)
    assert entry_of(vision, "objective-1").is_removed
    removal, edit = fresh(Proposal, removal.id), fresh(Proposal, edit.id)
    assert (removal.status, removal.decision_reason) == ("accepted", "Agreed: it repeats.")
    assert edit.status == "rejected"
    assert edit.decision_reason == (
        f"The element was removed from the working draft by accepting proposal {removal.id}: It repeats another objective."
    )
    kinds = db.session.scalars(select(DraftChange.kind).where(DraftChange.proposal_id == removal.id).order_by(DraftChange.id)).all()
    assert sorted(kinds) == ["accept", "remove"]
    [event] = events("draft.element_removed")
    assert event.details["closed_proposals"] == [edit.id] and event.details["proposal_id"] == removal.id
    labels = {e["key"]: e["label"] for e in working_tree(fresh(Vision, vision.id))}
    assert labels["objective-2"] == "Objective 1.1"  # display numbers follow


def test_accepting_the_removal_of_an_ambition_takes_its_children_and_their_proposals(client, login_as, vision, people):
    child_edit = open_proposal(vision, people.other, "objective-2")
    removal = removal_of(client, login_as, people, "ambition-1")
    login_as(people.facilitator)
    assert client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id)).status_code == 302
    assert keys_in_draft(vision) & {"ambition-1", "objective-1", "objective-2", "condition-1"} == set()
    assert fresh(Proposal, child_edit.id).status == "rejected"
    assert count(DraftChange, DraftChange.kind == "remove") == 4
    labels = {e["key"]: e["label"] for e in working_tree(fresh(Vision, vision.id))}
    assert (labels["ambition-2"], labels["objective-3"]) == ("Ambition 1", "Objective 1.1")


def test_the_next_version_holds_the_removal_and_version_1_never_changes(client, login_as, vision, people):
    v1 = text(client.get("/visions/test-vision/v/1.json"))
    removal = removal_of(client, login_as, people, "objective-1")
    login_as(people.facilitator)
    client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id))
    assert publish(client, vision, "Removed a repetition.").status_code == 302
    assert text(client.get("/visions/test-vision/v/1.json")) == v1 and '"objective-1"' in v1
    assert '"objective-1"' not in text(client.get("/visions/test-vision/v/2.json"))
    # The key is never reused: a new objective gets a new one.
    client.post("/visions/test-vision/draft/add?kind=objective&parent=ambition-1",
                data={"title": "New", "body": "New body.", "position": "end", "reason": "Needed."})
    assert "objective-5" in keys_in_draft(vision) and "objective-1" not in keys_in_draft(vision)


def test_an_edit_accepted_after_the_removal_is_refused_in_words(client, login_as, vision, people):
    edit = open_proposal(vision, people.other, "objective-1")
    removal = removal_of(client, login_as, people)
    login_as(people.facilitator)
    edit_form = accept_form(client, edit.id)
    client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id))
    response = client.post(f"/proposals/{edit.id}/accept", data=edit_form)
    assert response.status_code == 409
    assert fresh(Proposal, edit.id).status == "rejected"
    assert entry_of(vision, "objective-1").text.body == "Objective 1.1 body."


def test_a_removal_accepted_after_an_edit_changed_the_text_is_shown_again_and_nothing_is_written(client, login_as, vision, people):
    edit = open_proposal(vision, people.other, "objective-1", rationale="Sharper.")
    removal = removal_of(client, login_as, people)
    login_as(people.facilitator)
    removal_form = accept_form(client, removal.id)
    # The edit and the removal compete: accepting the edit leaves the removal open, and stale.
    assert client.post(f"/proposals/{edit.id}/accept", data=accept_form(client, edit.id)).status_code == 302
    response = client.post(f"/proposals/{removal.id}/accept", data=removal_form)
    assert response.status_code == 409
    page = words(text(response))
    assert "Nothing has been saved yet" in page and "removed: Objective 1.1 text." in page
    assert fresh(Proposal, removal.id).status == "open"
    assert "objective-1" in keys_in_draft(vision)
    # Accepting knowingly, from that page, removes the edited element.
    assert client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id)).status_code == 302
    assert "objective-1" not in keys_in_draft(vision)


def test_removing_the_last_ambition_is_refused_at_accept_too(client, login_as, vision, people):
    first = removal_of(client, login_as, people, "ambition-1")
    second = removal_of(client, login_as, people, "ambition-2")
    login_as(people.facilitator)
    assert client.post(f"/proposals/{first.id}/accept", data=accept_form(client, first.id)).status_code == 302
    page = words(text(client.get(f"/proposals/{second.id}/accept")))
    assert "This is the only ambition in the draft, and a vision needs at least one" in page
    assert 'name="expected_text_id"' not in text(client.get(f"/proposals/{second.id}/accept"))
    assert "ambition-2" in keys_in_draft(vision)
    assert fresh(Proposal, second.id).status == "open"


def test_the_changelog_says_the_removal_in_words_and_credits_its_author(client, login_as, vision, people):
    removal = removal_of(client, login_as, people, "objective-1")
    login_as(people.facilitator)
    client.post(f"/proposals/{removal.id}/accept", data=accept_form(client, removal.id, note="It repeats."))
    draft = words(text(client.get("/visions/test-vision/draft")))
    assert "2 elements differ: 1 removed and 1 moved or renumbered" in draft
    assert "Objective 1.1: Objective 1.1 – removed" in draft
    assert f"proposal {removal.id} by Ana Author accepted by Fran Facilitator" in draft
    publish(client, vision, "Removed a repetition.")
    history = words(text(client.get("/visions/test-vision/versions")))
    assert f"Removed by accepting proposal {removal.id}." in history
    assert "Ana Author" in history


def test_a_facilitator_cannot_remove_the_only_ambition_directly_either(client, login_as, make_vision, people):
    vision = make_vision(ambitions=1, objectives=0, conditions=0)
    login_as(people.facilitator)
    response = client.post("/visions/test-vision/draft/elements/ambition-1/remove", data={"reason": "Starting again."})
    assert response.status_code == 422
    assert "This is the only ambition in the draft, and a vision needs at least one" in text(response)
    assert "ambition-1" in keys_in_draft(vision)
