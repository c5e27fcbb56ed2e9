"""Proposals to add an element (issue 16): a new objective or enabling condition under an ambition,
or a new ambition, at a chosen position; shown as an insertion in words; revised, withdrawn, voted
on; accepted into the working draft as an element with a new key; conflicted when its ambition was
taken away; bad input refused in words, never a 500, never a partial write."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench.exceptions import NotAllowed, ValidationError
from workbench.models import DraftChange, Element, Proposal, ProposalRevision, Vision, db
from workbench.proposals import structural

from .factories import element_of, fresh
from .structural_helpers import people  # noqa: F401  (a fixture)
from .structural_helpers import accept, elements_of_version, labels_in_draft, proposed, support_and_comment
from .test_drafting_support import per_request_login, publish  # noqa: F401  (per_request_login is autouse)
from .test_facilitation import accept_form, count, text, words

PROPOSE = "/visions/test-vision/elements/{key}/propose-new"


def addition_form(**changes: str) -> dict[str, str]:
    form = {
        "kind": "objective", "position": "2", "title": "Open standards",
        "body": "Public bodies publish data in open formats.", "rationale": "Nothing says how data is shared.",
    }
    form.update(changes)
    return form


def propose(client, key: str = "ambition-2", **changes: str):
    return client.post(PROPOSE.format(key=key), data=addition_form(**changes))


def addition_of(client, login_as, author, key: str = "ambition-2", **changes: str) -> Proposal:
    login_as(author)
    return proposed(propose(client, key, **changes), "add")


def nothing_proposed() -> bool:
    return count(Proposal) == 0 and count(ProposalRevision) == 0


# --- proposing --------------------------------------------------------------------------------------


def test_the_ambition_page_links_to_proposing_a_new_element_and_the_vision_page_to_a_new_ambition(client, login_as, vision, people):
    login_as(people.author)
    assert PROPOSE.format(key="ambition-2") in text(client.get("/visions/test-vision/elements/ambition-2"))
    assert PROPOSE.format(key="objective-1") not in text(client.get("/visions/test-vision/elements/objective-1"))
    assert PROPOSE.format(key="statement-1") in text(client.get("/visions/test-vision/"))
    page = words(text(client.get(PROPOSE.format(key="ambition-2"))))
    assert "Propose a new element under Ambition 2" in page
    assert "Under Ambition 2 now Objective 2.1: Objective 2.1 Objective 2.2: Objective 2.2 Enabling condition 2.1: Condition 2.1" in page


def test_a_volunteer_proposes_a_new_objective_and_sees_it_as_an_insertion_in_words(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author)
    assert (proposal.kind, proposal.new_element_kind, proposal.target_position) == ("add", "objective", 2)
    assert proposal.element.key == "ambition-2" and proposal.target_parent.key == "ambition-2"
    assert (proposal.title, proposal.body, proposal.changed_ranges) == ("Open standards", "Public bodies publish data in open formats.", {})
    assert "objective-5" not in labels_in_draft(vision)  # only a proposal: nothing added yet
    page = text(client.get(f"/proposals/{proposal.id}"))
    shown = words(page)
    assert "To add a new objective: Open standards" in shown
    assert "New objective under Ambition 2, at position 2." in shown
    assert '<span class="visually-hidden">added: </span>Public bodies publish data in open formats.<span class="visually-hidden"> (end of addition)' in page
    assert "<del" not in page.split('id="changes-heading"')[1].split('id="rationale-heading"')[0]
    listed = words(text(client.get("/visions/test-vision/proposals")))
    assert f"Proposal {proposal.id}: to add a new objective under Ambition 2" in listed
    assert "New objective under Ambition 2, at position 2: added: Open standards" in listed
    assert "to add a new element under it: Open standards" in words(text(client.get("/visions/test-vision/elements/ambition-2")))


def test_a_new_ambition_is_proposed_under_the_vision_statement_and_goes_last_by_default(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author, "statement-1", kind="ambition", position="")
    assert (proposal.new_element_kind, proposal.target_parent_id, proposal.target_position) == ("ambition", None, 3)
    assert proposal.element.key == "statement-1"
    assert "New ambition, at position 3 among the ambitions." in words(text(client.get(f"/proposals/{proposal.id}")))


@pytest.mark.parametrize(
    ("key", "changes", "field", "message"),
    [
        ("ambition-2", {"position": "-1"}, "position", "Enter a position from 1 to 3"),
        ("ambition-2", {"position": "1000000000"}, "position", "Enter a position from 1 to 3"),
        ("ambition-2", {"position": "4"}, "position", "Enter a position from 1 to 3"),  # past the end: refused, not clamped
        ("ambition-2", {"position": "²"}, "position", "Enter a position from 1 to 3"),
        ("ambition-2", {"title": ""}, "title", "Enter a title for the new element"),
        ("ambition-2", {"title": "x" * 201}, "title", "The title must be 200 characters or fewer"),
        ("ambition-2", {"body": "x" * 20_001}, "body", "The proposed text must be 20,000 characters or fewer"),
        ("ambition-2", {"body": ""}, "body", "Enter the text you propose"),
        ("ambition-2", {"rationale": ""}, "rationale", "Explain why you propose this change"),
        ("ambition-2", {"kind": "statement"}, "kind", "Choose what to add here: an objective or enabling condition"),
        ("ambition-2", {"kind": "ambition"}, "kind", "Choose what to add here"),
        ("statement-1", {"kind": "objective"}, "kind", "Choose what to add here: an ambition"),
        ("objective-1", {}, None, "New elements are proposed under an ambition"),
        ("ambition-2", {"title": "Open\u202estandards"}, "title", "hidden"),
    ],
)
def test_bad_input_is_refused_in_words_beside_its_field_and_nothing_is_written(client, login_as, vision, people, key, changes, field, message):
    login_as(people.author)
    response = propose(client, key, **changes)
    assert response.status_code == 422
    page = text(response)
    assert message in words(page)
    if field is not None:
        assert f'id="{field}-error"' in page
    assert nothing_proposed()


@pytest.mark.parametrize("key", ["ambition-9", "objective-99", "no-such-thing"])
def test_a_parent_that_does_not_exist_is_not_found(client, login_as, vision, people, key):
    login_as(people.author)
    assert propose(client, key).status_code == 404
    assert nothing_proposed()


def test_a_parent_of_another_vision_is_not_found_here_and_refused_by_the_service(client, login_as, make_vision, vision, people):
    other = make_vision(slug="other-vision")
    login_as(people.author)
    assert client.post("/visions/other-vision/elements/ambition-2/propose-new", data=addition_form()).status_code == 302
    db.session.rollback()
    [proposal] = db.session.scalars(select(Proposal)).all()
    assert proposal.vision_id == other.id
    with pytest.raises(NotAllowed):
        structural.propose_addition(
            fresh(Vision, vision.id), element_of(fresh(Vision, other.id), "ambition-1"), fresh(type(people.author), people.author.id),
            kind="objective", position="1", title="T", body="B", rationale="R",
        )


def test_the_service_reports_every_problem_at_once(vision, people):
    with pytest.raises(ValidationError) as raised:
        structural.propose_addition(
            vision, element_of(vision, "ambition-1"), people.author, kind="objective", position="0", title="", body="", rationale="",
        )
    assert set(raised.value.errors) == {"position", "title", "body", "rationale"}


def test_outside_the_window_the_page_says_when_and_nothing_is_written(client, login_as, make_vision, people):
    make_vision(open_window=False)
    login_as(people.author)
    response = client.get(PROPOSE.format(key="ambition-1"))
    assert response.status_code == 403
    assert "no consultation is open for this vision" in words(text(response))
    assert propose(client, "ambition-1").status_code == 403
    assert nothing_proposed()


def test_a_visitor_is_sent_to_sign_in_first(client, vision):
    response = client.get(PROPOSE.format(key="ambition-2"))
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_form_works_without_javascript_a_plain_post_of_its_fields_and_token(client, login_as, vision, people):
    """A browser without JavaScript sends the form as the page wrote it: its action, its fields and
    the CSRF token the page gave it; nothing else."""
    import re

    login_as(people.author)
    page = text(client.get(PROPOSE.format(key="ambition-1")))
    form = page[page.index('<form method="post" action="/visions/test-vision/elements/ambition-1/propose-new"'):]
    form = form[: form.index("</form>")]
    assert "data-hx-" not in form
    names = set(re.findall(r'name="([a-z_]+)"', form))
    assert names == {"csrf_token", "kind", "position", "title", "body", "rationale"}
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', form).group(1)
    refused = client.post(PROPOSE.format(key="ambition-1"), data=addition_form(), csrf=False)
    assert refused.status_code == 400 and count(Proposal) == 0
    response = client.post(PROPOSE.format(key="ambition-1"), data={**addition_form(), "csrf_token": token}, csrf=False)
    assert response.status_code == 302
    assert count(Proposal, Proposal.kind == "add") == 1


# --- revising, withdrawing, voting ------------------------------------------------------------------


def test_the_author_revises_its_words_and_position_and_every_revision_is_kept(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author)
    form = text(client.get(f"/proposals/{proposal.id}/edit"))
    assert "Your proposal is to add a new objective under Ambition 2" in words(form)
    assert 'value="Open standards"' in form
    response = client.post(
        f"/proposals/{proposal.id}/edit",
        data={"position": "1", "title": "Open standards first", "body": "Open formats, always.", "rationale": "Clearer."},
    )
    assert response.status_code == 302, text(response)
    revised = fresh(Proposal, proposal.id)
    assert (revised.revision_count, revised.target_position, revised.title) == (2, 1, "Open standards first")
    assert [r.title for r in db.session.scalars(select(ProposalRevision).order_by(ProposalRevision.number))] == [
        "Open standards", "Open standards first",
    ]
    assert "New objective under Ambition 2, at position 1." in words(text(client.get(f"/proposals/{proposal.id}")))
    revision = text(client.get(f"/proposals/{proposal.id}/revisions/1?against=base"))
    assert '<span class="visually-hidden">added: </span>Open standards' in revision  # against nothing: all new
    unchanged = client.post(
        f"/proposals/{proposal.id}/edit",
        data={"position": "1", "title": "Open standards first", "body": "Open formats, always.", "rationale": "Clearer."},
    )
    assert unchanged.status_code == 422 and "You have not changed anything" in words(text(unchanged))
    bad = client.post(f"/proposals/{proposal.id}/edit", data={"position": "9", "title": "", "body": "B", "rationale": "R"})
    assert bad.status_code == 422
    assert "Enter a position from 1 to 3" in words(text(bad)) and "Enter a title for the new element" in words(text(bad))
    assert fresh(Proposal, proposal.id).revision_count == 2


def test_only_the_author_edits_and_a_withdrawn_addition_stays_withdrawn(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author)
    login_as(people.other)
    assert client.get(f"/proposals/{proposal.id}/edit").status_code == 403
    assert client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}).status_code == 302
    assert fresh(Proposal, proposal.id).support_count == 1
    login_as(people.author)
    assert client.post(f"/proposals/{proposal.id}/withdraw").status_code == 302
    assert fresh(Proposal, proposal.id).status == "withdrawn"
    assert client.get(f"/proposals/{proposal.id}/edit").status_code == 409


# --- deciding ---------------------------------------------------------------------------------------


def test_the_whole_journey_propose_vote_accept_publish(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author, position="1")
    support_and_comment(client, login_as, people.other, proposal, "Yes, it is missing.")

    login_as(people.facilitator)
    queue = words(text(client.get("/visions/test-vision/facilitate")))
    assert f"Proposal {proposal.id} to add a new element under Ambition 2" in queue
    assert "Adds a new objective under Ambition 2, at position 1: added: Open standards" in queue
    page = words(text(client.get(f"/proposals/{proposal.id}/accept")))
    assert f"Accept proposal {proposal.id}: add “Open standards”" in page
    assert "New objective under Ambition 2, at position 1: a new element with a new key" in page
    v1 = text(client.get("/visions/test-vision/v/1.json"))
    response = accept(client, proposal, note="Agreed.")
    assert response.status_code == 302, text(response)
    accepted = fresh(Proposal, proposal.id)
    assert accepted.status == "accepted"
    # A new key: the highest objective key of the vision was objective-4.
    added = db.session.scalar(select(Element).where(Element.key == "objective-5"))
    assert added is not None and added.kind == "objective"
    labels = labels_in_draft(vision)
    assert (labels["objective-5"], labels["objective-3"], labels["objective-4"]) == ("Objective 2.1", "Objective 2.2", "Objective 2.3")
    assert accepted.result_text_id is not None and fresh(type(added), added.id).id == added.id
    [change] = db.session.scalars(select(DraftChange).where(DraftChange.proposal_id == proposal.id, DraftChange.kind == "add")).all()
    assert change.element_id == added.id and change.actor_id == people.facilitator.id
    assert change.reason == f"New objective under Ambition 2, at position 1, added by accepting proposal {proposal.id}."
    [credit] = db.session.scalars(select(DraftChange).where(DraftChange.proposal_id == proposal.id, DraftChange.kind == "accept")).all()
    assert credit.element_id == added.id
    assert "Added as Objective 2.1." in words(text(client.get(f"/proposals/{proposal.id}")))

    assert publish(client, vision, "Added an objective.").status_code == 302
    assert text(client.get("/visions/test-vision/v/1.json")) == v1  # v1 never changes
    v2 = elements_of_version(client, 2)
    assert "objective-5" not in elements_of_version(client, 1)
    assert (v2["objective-5"]["title"], v2["objective-5"]["number"]) == ("Open standards", "2.1")
    assert v2["objective-3"]["number"] == "2.2"


def test_an_addition_under_an_ambition_an_accepted_removal_took_away_is_closed_and_if_reopened_conflicted(client, login_as, vision, people):
    adding = addition_of(client, login_as, people.other)
    login_as(people.author)
    assert client.post("/visions/test-vision/elements/ambition-2/propose-removal", data={"rationale": "Merge it."}).status_code == 302
    removal = db.session.scalar(select(Proposal).where(Proposal.kind == "remove"))
    login_as(people.facilitator)
    add_form = accept_form(client, adding.id)
    assert accept(client, removal).status_code == 302
    closed = fresh(Proposal, adding.id)
    assert closed.status == "rejected" and "removed from the working draft" in closed.decision_reason
    assert client.post(f"/proposals/{adding.id}/reopen").status_code == 302
    assert fresh(Proposal, adding.id).status == "open"
    page = words(text(client.get(f"/proposals/{adding.id}/accept")))
    assert "Conflicted Ambition 2, the ambition this proposal would add to, has been removed from the working draft" in page
    shown = words(text(client.get(f"/proposals/{adding.id}")))
    assert "Conflicted The ambition it would go under has been removed from the working draft" in shown
    assert "Conflicted the ambition it would go under was removed" in words(text(client.get("/visions/test-vision/facilitate")))
    response = client.post(f"/proposals/{adding.id}/accept", data=add_form)
    assert response.status_code == 409
    assert "so the addition cannot be made" in words(text(response))
    assert fresh(Proposal, adding.id).status == "open"
    assert db.session.scalar(select(Element).where(Element.key == "objective-5")) is None  # never added elsewhere


def test_a_position_that_no_longer_exists_at_accept_is_refused_in_words(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author, position="3")  # last, after two objectives
    login_as(people.facilitator)
    form = accept_form(client, proposal.id)
    assert client.post("/visions/test-vision/draft/elements/objective-4/remove", data={"reason": "Duplicate."}).status_code == 302
    response = client.post(f"/proposals/{proposal.id}/accept", data=form)
    assert response.status_code == 409
    assert "Enter a position from 1 to 2" in words(text(response))
    assert fresh(Proposal, proposal.id).status == "open"


def test_rejecting_an_addition_works_as_for_other_kinds(client, login_as, vision, people):
    proposal = addition_of(client, login_as, people.author)
    login_as(people.facilitator)
    page = text(client.get(f"/proposals/{proposal.id}/reject"))
    assert '<span class="visually-hidden">added: </span>Open standards' in page and "diff__del" not in page
    response = client.post(f"/proposals/{proposal.id}/reject", data={"reason": "Covered by Objective 2.1."})
    assert response.status_code == 302
    assert fresh(Proposal, proposal.id).status == "rejected"
    assert count(Element, Element.key == "objective-5") == 0


def test_the_proposal_page_and_the_list_run_a_bounded_number_of_queries(client, login_as, vision, people, count_queries):
    first = addition_of(client, login_as, people.author)
    with count_queries() as one:
        client.get(f"/proposals/{first.id}")
        client.get("/visions/test-vision/proposals")
    for n in range(4):
        addition_of(client, login_as, people.author, title=f"New one {n}")
    with count_queries() as five:
        client.get(f"/proposals/{first.id}")
        client.get("/visions/test-vision/proposals")
    assert five.count == one.count
