"""Proposals to remove an element (issue 16): proposed with a reason, shown as a deletion in words,
revised, withdrawn, voted on; competing with edits of the same element; accepted into the working
draft through the one rule for removals, closing the element's other open proposals."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench.models import DraftChange, Proposal, ProposalRevision, db

from .factories import entry_of, events, fresh, open_proposal
from .structural_helpers import people  # noqa: F401  (a fixture)
from .structural_helpers import accept, elements_of_version, keys_in_draft, labels_in_draft, proposed, support_and_comment
from .test_drafting_support import per_request_login, publish  # noqa: F401  (per_request_login is autouse)
from .test_facilitation import accept_form, count, field_value, text, words

PROPOSE = "/visions/test-vision/elements/{key}/propose-removal"


def propose_removal(client, key: str, rationale: str = "It repeats another objective."):
    return client.post(PROPOSE.format(key=key), data={"rationale": rationale})


def removal_of(client, login_as, people, key: str = "objective-1") -> Proposal:
    login_as(people.author)
    return proposed(propose_removal(client, key), "remove")


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

    response = accept(client, removal, note="Agreed: it repeats.")
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
    labels = labels_in_draft(vision)
    assert labels["objective-2"] == "Objective 1.1"  # display numbers follow


def test_accepting_the_removal_of_an_ambition_takes_its_children_and_their_proposals(client, login_as, vision, people):
    child_edit = open_proposal(vision, people.other, "objective-2")
    removal = removal_of(client, login_as, people, "ambition-1")
    login_as(people.facilitator)
    assert accept(client, removal).status_code == 302
    assert keys_in_draft(vision) & {"ambition-1", "objective-1", "objective-2", "condition-1"} == set()
    assert fresh(Proposal, child_edit.id).status == "rejected"
    assert count(DraftChange, DraftChange.kind == "remove") == 4
    labels = labels_in_draft(vision)
    assert (labels["ambition-2"], labels["objective-3"]) == ("Ambition 1", "Objective 1.1")


def test_the_next_version_holds_the_removal_and_version_1_never_changes(client, login_as, vision, people):
    v1 = text(client.get("/visions/test-vision/v/1.json"))
    removal = removal_of(client, login_as, people, "objective-1")
    login_as(people.facilitator)
    accept(client, removal)
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
    accept(client, removal)
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
    assert accept(client, edit).status_code == 302
    response = client.post(f"/proposals/{removal.id}/accept", data=removal_form)
    assert response.status_code == 409
    page = words(text(response))
    assert "Nothing has been saved yet" in page and "removed: Objective 1.1 text." in page
    assert fresh(Proposal, removal.id).status == "open"
    assert "objective-1" in keys_in_draft(vision)
    # Accepting knowingly, from that page, removes the edited element.
    assert accept(client, removal).status_code == 302
    assert "objective-1" not in keys_in_draft(vision)


def test_removing_the_last_ambition_is_refused_at_accept_too(client, login_as, vision, people):
    first = removal_of(client, login_as, people, "ambition-1")
    second = removal_of(client, login_as, people, "ambition-2")
    login_as(people.facilitator)
    assert accept(client, first).status_code == 302
    page = words(text(client.get(f"/proposals/{second.id}/accept")))
    assert "This is the only ambition in the draft, and a vision needs at least one" in page
    assert 'name="expected_text_id"' not in text(client.get(f"/proposals/{second.id}/accept"))
    assert "ambition-2" in keys_in_draft(vision)
    assert fresh(Proposal, second.id).status == "open"


def test_the_changelog_says_the_removal_in_words_and_credits_its_author(client, login_as, vision, people):
    removal = removal_of(client, login_as, people, "objective-1")
    login_as(people.facilitator)
    accept(client, removal, note="It repeats.")
    draft = words(text(client.get("/visions/test-vision/draft")))
    assert "2 elements differ: 1 removed and 1 renumbered" in draft
    assert "Objective 1.1: Objective 1.1 – removed" in draft
    assert f"proposal {removal.id} by Ana Author accepted by Fran Facilitator" in draft
    publish(client, vision, "Removed a repetition.")
    history = words(text(client.get("/visions/test-vision/versions")))
    # Once, as the accepted proposal's, crediting its author (issue 16, item 6).
    assert f"Proposal {removal.id} to remove Objective 1.1 by Ana Author: Accepted. Removed from Ambition 1, position 1." in history
    assert f"Removed by accepting proposal {removal.id}." not in history


def test_a_facilitator_cannot_remove_the_only_ambition_directly_either(client, login_as, make_vision, people):
    vision = make_vision(ambitions=1, objectives=0, conditions=0)
    login_as(people.facilitator)
    response = client.post("/visions/test-vision/draft/elements/ambition-1/remove", data={"reason": "Starting again."})
    assert response.status_code == 422
    assert "This is the only ambition in the draft, and a vision needs at least one" in text(response)
    assert "ambition-1" in keys_in_draft(vision)


# --- moves (issue 16, step 3) -----------------------------------------------------------------------

PROPOSE_MOVE = "/visions/test-vision/elements/{key}/propose-move"


def propose_move(client, key: str, parent: str = "ambition-2", position: str = "1", rationale: str = "It belongs with Ambition 2."):
    return client.post(PROPOSE_MOVE.format(key=key), data={"parent": parent, "position": position, "rationale": rationale})


def move_of(client, login_as, author, key: str = "objective-2", **form: str) -> Proposal:
    login_as(author)
    return proposed(propose_move(client, key, **form), "move")


def test_the_whole_journey_of_a_move_propose_vote_accept_publish(client, login_as, vision, people):
    login_as(people.author)
    assert PROPOSE_MOVE.format(key="objective-2") in text(client.get("/visions/test-vision/elements/objective-2"))
    form = words(text(client.get(PROPOSE_MOVE.format(key="objective-2"))))
    assert "Objective 1.2 is now at position 2 of the 2 objectives under Ambition 1." in form
    proposal = move_of(client, login_as, people.author)
    assert (proposal.kind, proposal.target_position, proposal.rationale) == ("move", 1, "It belongs with Ambition 2.")
    assert proposal.target_parent.key == "ambition-2"
    assert (proposal.title, proposal.body) == ("Objective 1.2", "Objective 1.2 body.")  # no words change
    assert labels_in_draft(vision)["objective-2"] == "Objective 1.2"  # only a proposal: nothing moved yet
    sentence = "To move Objective 1.2 from Ambition 1, position 2, to Ambition 2, position 1"
    assert sentence in words(text(client.get(f"/proposals/{proposal.id}")))
    listed = words(text(client.get("/visions/test-vision/proposals")))
    assert f"Proposal {proposal.id}: to move Objective 1.2" in listed and sentence in listed

    support_and_comment(client, login_as, people.other, proposal, "Yes, it fits there.")

    login_as(people.facilitator)
    queue = words(text(client.get("/visions/test-vision/facilitate")))
    assert f"Proposal {proposal.id} to move Objective 1.2" in queue
    assert "To move Objective 1.2 to Ambition 2, position 1" in queue
    page = words(text(client.get(f"/proposals/{proposal.id}/accept")))
    assert f"Accept proposal {proposal.id}: move Objective 1.2" in page
    assert "It moves Objective 1.2 from Ambition 1, position 2, to Ambition 2, position 1." in page
    v1 = text(client.get("/visions/test-vision/v/1.json"))
    assert accept(client, proposal, note="Agreed.").status_code == 302
    assert fresh(Proposal, proposal.id).status == "accepted"
    labels = labels_in_draft(vision)
    assert (labels["objective-2"], labels["objective-3"], labels["objective-1"]) == ("Objective 2.1", "Objective 2.2", "Objective 1.1")
    assert entry_of(vision, "objective-2").text.body == "Objective 1.2 body."  # the text moved unchanged
    [change] = db.session.scalars(select(DraftChange).where(DraftChange.proposal_id == proposal.id, DraftChange.kind == "reorder")).all()
    assert change.reason == f"Moved from Ambition 1, position 2, to Ambition 2, position 1 by accepting proposal {proposal.id}."
    assert events("draft.element_moved")[0].details["proposal_id"] == proposal.id

    assert publish(client, vision, "Moved an objective.").status_code == 302
    assert text(client.get("/visions/test-vision/v/1.json")) == v1  # v1 never changes
    assert elements_of_version(client, 2)["objective-2"]["under"] == "ambition-2"
    assert elements_of_version(client, 1)["objective-2"]["under"] == "ambition-1"


@pytest.mark.parametrize(
    ("parent", "position", "field", "message"),
    [
        ("ambition-3", "1", "parent", "Choose an ambition of this vision from the list"),  # only the other vision has it
        ("ambition-99", "1", "parent", "Choose an ambition of this vision from the list"),
        ("objective-3", "1", "parent", "An objective goes under an ambition: choose an ambition from the list"),
        ("ambition-2", "-1", "position", "Enter a position from 1 to 3"),
        ("ambition-2", "1000000000", "position", "Enter a position from 1 to 3"),
        ("ambition-2", "one", "position", "Enter a position from 1 to 3"),
        ("ambition-1", "2", "position", "It is already there: choose another ambition or position"),
    ],
)
def test_a_move_to_a_place_that_cannot_be_is_refused_beside_its_field(client, login_as, make_vision, people, parent, position, field, message):
    make_vision()
    make_vision(slug="other-vision", ambitions=3)
    login_as(people.author)
    response = propose_move(client, "objective-2", parent, position)
    assert response.status_code == 422
    page = text(response)
    assert f'id="{field}-error"' in page and message in page
    assert count(Proposal) == 0


def test_a_move_needs_a_reason_and_the_statement_cannot_be_moved(client, login_as, vision, people):
    login_as(people.author)
    response = propose_move(client, "objective-2", rationale=" ")
    assert response.status_code == 422 and "Explain why you propose to move it" in text(response)
    page = text(client.get(PROPOSE_MOVE.format(key="statement-1")))
    assert "The vision statement always comes first: it cannot be moved." in page and 'name="rationale"' not in page
    response = propose_move(client, "statement-1", parent="", position="1")
    assert response.status_code == 422 and "The vision statement always comes first: it cannot be moved" in text(response)
    assert count(Proposal) == 0


def test_an_ambition_is_proposed_to_move_among_the_ambitions(client, login_as, vision, people):
    proposal = move_of(client, login_as, people.author, "ambition-2", parent="ambition-1", position="1")
    assert (proposal.target_parent_id, proposal.target_position) == (None, 1)  # ambitions stay at the top level
    assert "To move Ambition 2 from position 2 to position 1 among the ambitions" in words(text(client.get(f"/proposals/{proposal.id}")))
    login_as(people.facilitator)
    assert accept(client, proposal).status_code == 302
    labels = labels_in_draft(vision)
    assert (labels["ambition-2"], labels["ambition-1"], labels["objective-3"]) == ("Ambition 1", "Ambition 2", "Objective 1.1")


def test_its_author_revises_the_target_and_the_reason_and_withdraws_it(client, login_as, vision, people):
    proposal = move_of(client, login_as, people.author)
    page = text(client.get(f"/proposals/{proposal.id}/edit"))
    assert "Your proposal is to move Objective 1.2" in page and field_value(page, "position") == "1"
    unchanged = {"parent": "ambition-2", "position": "1", "rationale": "It belongs with Ambition 2."}
    response = client.post(f"/proposals/{proposal.id}/edit", data=unchanged)
    assert response.status_code == 422 and "You have not changed anything" in text(response)
    response = client.post(f"/proposals/{proposal.id}/edit", data={**unchanged, "position": "0"})
    assert response.status_code == 422 and "Enter a position from 1 to 3" in text(response)
    response = client.post(f"/proposals/{proposal.id}/edit", data={**unchanged, "position": "3"})  # only the target
    assert response.status_code == 302
    proposal = fresh(Proposal, proposal.id)
    assert (proposal.revision_count, proposal.target_position) == (2, 3)
    assert "to Ambition 2, position 3" in words(text(client.get(f"/proposals/{proposal.id}")))
    assert events("proposal.revised")[-1].details["to_place"] == 3
    assert client.post(f"/proposals/{proposal.id}/withdraw").status_code == 302
    assert fresh(Proposal, proposal.id).status == "withdrawn"


def test_two_moves_of_one_element_compete_and_an_edit_does_not(client, login_as, vision, people):
    edit = open_proposal(vision, people.facilitator, "objective-2")
    first = move_of(client, login_as, people.author)
    second = move_of(client, login_as, people.other, parent="ambition-1", position="1", rationale="First in its ambition.")
    page = words(text(client.get(f"/proposals/{first.id}")))
    assert f"Proposal {second.id}: to move Objective 1.2 by Olu Other" in page
    assert "Competes" in page.split(f"Proposal {second.id}: to move")[1][:80]
    assert "Competes" not in page.split(f"Proposal {edit.id}")[1][:80]
    login_as(people.facilitator)
    queue = words(text(client.get("/visions/test-vision/facilitate")))
    assert f"Competing with proposal {second.id}" in queue and f"Competing with proposal {first.id}" in queue
    # Accepting one leaves the other open, checked again against the draft when it is decided.
    assert accept(client, first).status_code == 302
    assert labels_in_draft(vision)["objective-2"] == "Objective 2.1"
    assert fresh(Proposal, second.id).status == "open"
    assert "It moves Objective 2.1 from Ambition 2, position 1, to Ambition 1, position 1." in words(text(client.get(f"/proposals/{second.id}/accept")))


def test_a_move_under_an_ambition_that_an_accepted_removal_took_away_is_conflicted_and_refused(client, login_as, vision, people):
    moving = move_of(client, login_as, people.other, "objective-1")
    removal = removal_of(client, login_as, people, "ambition-2")
    login_as(people.facilitator)
    move_form = accept_form(client, moving.id)
    assert accept(client, removal).status_code == 302
    assert fresh(Proposal, moving.id).status == "open"  # not on the removed element: it stays open, conflicted
    page = words(text(client.get(f"/proposals/{moving.id}/accept")))
    assert "Conflicted Ambition 2, the ambition this proposal would move it under, has been removed from the working draft" in page
    assert 'name="expected_text_id"' not in text(client.get(f"/proposals/{moving.id}/accept"))
    shown = words(text(client.get(f"/proposals/{moving.id}")))
    assert "Conflicted The ambition it would go under has been removed from the working draft" in shown
    queue = words(text(client.get("/visions/test-vision/facilitate")))
    assert "Conflicted the ambition it would go under was removed" in queue
    response = client.post(f"/proposals/{moving.id}/accept", data=move_form)
    assert response.status_code == 409
    assert "has been removed from the working draft, so the move cannot be made" in words(text(response))
    assert fresh(Proposal, moving.id).status == "open"
    assert labels_in_draft(vision)["objective-1"] == "Objective 1.1"  # never applied silently elsewhere
