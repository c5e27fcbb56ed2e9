"""The facilitators' queue at volume (issue 13, item 2): compact rows that show the change itself,
search and filters kept across pages, assignment (to oneself or another facilitator), and acting on
several selected proposals at once (assign, or reject with one reason, all or nothing)."""

from __future__ import annotations

import re
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select, update

from workbench.caching import clear_caches
from workbench.extensions import db
from workbench.facilitation import assignment
from workbench.facilitation.queue import QueueFilters
from workbench.models import AuditEvent, Proposal, ProposalStatus, Role, utcnow

from .conftest import schema_names
from .factories import events, fresh, open_proposal


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        fran=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        sam=make_user(Role.FACILITATOR, name="Sam Second"),
        ana=make_user(Role.VOLUNTEER, name="Ana Author"),
        olu=make_user(Role.VOLUNTEER, name="Olu Other"),
    )


def url(vision, query: str = "") -> str:
    return f"/visions/{vision.slug}/facilitate" + (f"?{query}" if query else "")


def shown(client, vision, query: str = "") -> list[int]:
    """The proposals the queue shows, in order."""
    response = client.get(url(vision, query))
    assert response.status_code == 200, (query, response.status_code)
    return [int(n) for n in re.findall(r">Proposal (\d+) on ", response.get_data(as_text=True))]


def row(page: str, proposal_id: int) -> str:
    return page.split(f'id="proposal-{proposal_id}"')[1].split('class="app-queue__item"')[0]


def post(client, path: str, **data):
    return client.post(path, data={**data, "csrf_token": client.csrf_token()})


# --- rows -----------------------------------------------------------------------------------------


def test_each_row_shows_the_change_in_ins_and_del_with_its_facts_in_words(client, login_as, vision, people):
    proposal = open_proposal(vision, people.ana, "objective-1", "Objective 1.1 text, much clearer.")
    proposal.support_count, proposal.oppose_count, proposal.comment_count = 2, 1, 1
    db.session.commit()
    login_as(people.fran)
    page = client.get(url(vision)).get_data(as_text=True)
    mine = row(page, proposal.id)
    assert re.search(r"<del[^>]*>.*body.*</del>", mine, re.S) and re.search(r"<ins[^>]*>.*text, much clearer.*</ins>", mine, re.S)
    assert "By Ana Author" in mine and "2 support, 1 oppose" in mine and "1 comment" in mine
    assert "waiting less than a minute" in mine and "Not assigned" in mine
    assert "No flags: up to date with the working text" in mine
    assert f'name="selected" value="{proposal.id}"' in mine and f"Select proposal {proposal.id}" in mine


# --- search and filters ---------------------------------------------------------------------------


@pytest.fixture
def spread(vision, people):
    """Proposals on several elements by two authors, with words to find."""
    return SimpleNamespace(
        skills=open_proposal(vision, people.ana, "objective-1", "Objective 1.1 body on data skills.", rationale="Skills matter."),
        percent=open_proposal(vision, people.olu, "objective-2", "Objective 1.2 body, 100% open.", rationale="Openness."),
        second=open_proposal(vision, people.olu, "objective-3", "Objective 2.1 body, shorter.", rationale="It reads better."),
        ambition=open_proposal(vision, people.ana, "ambition-1", "Ambition 1 body, bolder.\n\nIts second paragraph.", rationale="Bolder."),
        condition=open_proposal(vision, people.olu, "condition-1", "Condition 1.1 body, firmer.", rationale="Firmer."),
    )


def test_search_finds_words_and_their_beginnings_in_the_text_and_the_rationale_in_any_case(client, login_as, vision, people, spread):
    login_as(people.fran)
    assert shown(client, vision, "q=DATA+skills") == [spread.skills.id]
    assert shown(client, vision, "q=openness") == [spread.percent.id]
    assert shown(client, vision, "q=skil") == [spread.skills.id]  # the start of a word
    assert shown(client, vision, "q=skills+nowhere") == []  # every word must be there
    # Punctuation separates words, as in the text; on its own it finds nothing, and says why.
    assert shown(client, vision, "q=100%25") == [spread.percent.id]
    assert shown(client, vision, "q=_") == []
    page = client.get(url(vision, "q=%25")).get_data(as_text=True)
    assert "No open proposals match these filters" in page and "“%” has no words to search for" in page
    page = client.get(url(vision, "q=nowhere+at+all")).get_data(as_text=True)
    assert "No open proposals match these filters" in page and 'value="nowhere at all"' in page


def test_search_follows_a_revision_and_never_finds_a_hidden_proposal(client, login_as, vision, people, spread):
    from workbench.proposals.services import revise_proposal

    login_as(people.fran)
    revise_proposal(spread.second, people.olu, title="Objective 2.1", body="Objective 2.1 body, plainer.", rationale="Plainer words.")
    db.session.commit()
    assert shown(client, vision, "q=plainer") == [spread.second.id]
    assert shown(client, vision, "q=shorter") == []
    db.session.execute(update(Proposal).where(Proposal.id == spread.second.id).values(hidden_at=utcnow()))
    db.session.commit()
    assert shown(client, vision, "q=plainer") == []


def test_ambition_filter_includes_its_objectives_and_conditions(client, login_as, vision, people, spread):
    login_as(people.fran)
    assert set(shown(client, vision, "ambition=ambition-1")) == {
        spread.skills.id, spread.percent.id, spread.ambition.id, spread.condition.id,
    }
    assert shown(client, vision, "ambition=ambition-2") == [spread.second.id]
    # Combined with the other filters.
    assert shown(client, vision, "ambition=ambition-1&by=ana&q=bolder") == [spread.ambition.id]
    assert shown(client, vision, "ambition=ambition-1&element=objective-2") == [spread.percent.id]


def test_author_filter_finds_part_of_a_name_in_any_case(client, login_as, vision, people, spread):
    login_as(people.fran)
    assert set(shown(client, vision, "by=OLU")) == {spread.percent.id, spread.second.id, spread.condition.id}
    assert shown(client, vision, "by=nobody+called+this") == []


def test_assignee_filter_mine_unassigned_and_a_facilitator(client, login_as, vision, people, spread):
    assignment.assign_proposal(fresh(Proposal, spread.skills.id), people.fran, people.fran)
    assignment.assign_proposal(fresh(Proposal, spread.second.id), people.fran, people.sam)
    db.session.commit()
    login_as(people.fran)
    assert shown(client, vision, "assignee=me") == [spread.skills.id]
    assert shown(client, vision, f"assignee={people.sam.id}") == [spread.second.id]
    assert set(shown(client, vision, "assignee=none")) == {spread.percent.id, spread.ambition.id, spread.condition.id}
    login_as(people.sam)
    assert shown(client, vision, "assignee=me") == [spread.second.id]


@pytest.mark.parametrize(
    "query",
    [
        "ambition=objective-1", "ambition=ambition-99", "ambition=../x", "assignee=-1", "assignee=99999",
        "assignee=abc", "assignee=%00", "q=%00%01", "by=%00", "q=" + "x" * 5000, "by=" + "y" * 500,
        "q=%F0%9F%98%80", "flag=nope&sort=nope&page=x",
    ],
)
def test_bad_filter_values_are_ignored_never_a_500(client, login_as, vision, people, spread, query):
    login_as(people.fran)
    found = shown(client, vision, query)
    assert found == [] or len(found) == 5


def test_a_volunteer_named_as_assignee_is_ignored(client, login_as, vision, people, spread):
    login_as(people.fran)
    assert len(shown(client, vision, f"assignee={people.ana.id}")) == 5


def test_filters_are_kept_across_pages_and_in_the_links_to_decide(client, login_as, vision, people):
    made = [open_proposal(vision, people.ana, "objective-1", f"Objective 1.1 body, number {n}.").id for n in range(23)]
    login_as(people.fran)
    page = client.get(url(vision, "q=number&by=ana&ambition=ambition-1")).get_data(as_text=True)
    assert "23 open proposals that match, waiting longest first: this page shows 20, from the start." in page
    next_link = re.search(r'href="([^"]*after=[^"]*)" rel="next"', page).group(1).replace("&amp;", "&")
    for part in ("q=number", "by=ana", "ambition=ambition-1"):
        assert part in next_link
    assert shown(client, vision, next_link.split("?", 1)[1]) == made[20:]
    # A decision opened from this queue carries it.
    accept = re.search(rf'href="(/proposals/{made[0]}/accept[^"]*)"', page).group(1)
    assert "q%3Dnumber" in accept and "by%3Dana" in accept


def test_a_carried_queue_keeps_the_new_filters_and_the_old_behaviour():
    keys = {"objective-1", "ambition-1"}
    carried = QueueFilters(q="data skills", ambition_key="ambition-1", author_name="ana", assignee="me").carried
    assert QueueFilters.from_carried(carried, keys) == QueueFilters(
        q="data skills", ambition_key="ambition-1", author_name="ana", assignee="me"
    )
    assert QueueFilters.from_carried("sort=oldest&" + "a" * 300, keys) is None
    assert QueueFilters.from_carried("ambition=objective-1&assignee=x", keys) == QueueFilters()


# --- assignment -----------------------------------------------------------------------------------


def test_assign_to_me_from_a_row_and_back_to_the_same_queue(client, login_as, vision, people, spread):
    login_as(people.fran)
    response = post(client, f"/proposals/{spread.percent.id}/assign", assignee="me", **{"from": "by=olu&sort=oldest"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/facilitate?by=olu#proposal-{spread.percent.id}")
    assert fresh(Proposal, spread.percent.id).assignee_id == people.fran.id
    [event] = events("proposal.assigned")
    assert (event.subject_id, event.actor_id, event.details["assignee_id"]) == (spread.percent.id, people.fran.id, people.fran.id)
    page = client.get(url(vision)).get_data(as_text=True)
    assert f"Proposal {spread.percent.id} is now assigned to you." in page
    assert "Assigned to you" in row(page, spread.percent.id)
    # And away again.
    post(client, f"/proposals/{spread.percent.id}/assign", assignee="none")
    assert fresh(Proposal, spread.percent.id).assignee_id is None
    assert len(events("proposal.unassigned")) == 1


def test_assign_to_another_facilitator_but_never_to_a_volunteer(client, login_as, vision, people, spread):
    login_as(people.fran)
    assert post(client, f"/proposals/{spread.skills.id}/assign", assignee=str(people.sam.id)).status_code == 302
    assert fresh(Proposal, spread.skills.id).assignee_id == people.sam.id
    assert "Assigned to Sam Second" in client.get(url(vision)).get_data(as_text=True)
    for bad in (str(people.ana.id), "99999", "", "x"):
        response = post(client, f"/proposals/{spread.skills.id}/assign", assignee=bad)
        assert response.status_code == 422, bad
    assert fresh(Proposal, spread.skills.id).assignee_id == people.sam.id
    assert len(events("proposal.assigned")) == 1


def test_assigning_a_decided_proposal_is_a_409(client, login_as, vision, people, spread):
    login_as(people.fran)
    post(client, f"/proposals/{spread.skills.id}/reject", reason="Out of scope.")
    response = post(client, f"/proposals/{spread.skills.id}/assign", assignee="me")
    assert response.status_code == 409
    assert "only open proposals are assigned" in response.get_data(as_text=True)
    assert fresh(Proposal, spread.skills.id).assignee_id is None and events("proposal.assigned") == []


def test_only_facilitators_assign(client, login_as, vision, people, spread):
    response = post(client, f"/proposals/{spread.skills.id}/assign", assignee="me")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    login_as(people.olu)
    assert post(client, f"/proposals/{spread.skills.id}/assign", assignee="me").status_code == 403
    assert post(client, f"/visions/{vision.slug}/facilitate/assign", selected=str(spread.skills.id), assign_to="me").status_code == 403
    assert post(client, f"/visions/{vision.slug}/facilitate/reject", selected=str(spread.skills.id), reason="No.").status_code == 403
    assert fresh(Proposal, spread.skills.id).assignee_id is None
    assert fresh(Proposal, spread.skills.id).status == ProposalStatus.OPEN.value


# --- several at once ------------------------------------------------------------------------------


def test_bulk_assign_the_selected_proposals(client, login_as, vision, people, spread):
    login_as(people.fran)
    chosen = [spread.skills.id, spread.second.id]
    response = client.post(
        f"/visions/{vision.slug}/facilitate/assign",
        data={"selected": [str(i) for i in chosen], "assign_to": str(people.sam.id), "csrf_token": client.csrf_token(), "page": "1"},
    )
    assert response.status_code == 302
    assert {p: fresh(Proposal, p).assignee_id for p in chosen} == dict.fromkeys(chosen, people.sam.id)
    assert fresh(Proposal, spread.percent.id).assignee_id is None
    assert sorted(e.subject_id for e in events("proposal.assigned")) == sorted(chosen)
    assert f"Proposals {chosen[0]} and {chosen[1]} now assigned to Sam Second." in client.get(url(vision)).get_data(as_text=True)


def test_bulk_reject_gives_each_the_reason_and_an_event(client, login_as, vision, people, spread):
    login_as(people.fran)
    chosen = [spread.skills.id, spread.percent.id, spread.second.id]
    response = client.post(
        f"/visions/{vision.slug}/facilitate/reject",
        data={"selected": [str(i) for i in chosen], "reason": "Outside this vision's scope.", "csrf_token": client.csrf_token()},
    )
    assert response.status_code == 302
    for proposal_id in chosen:
        proposal = fresh(Proposal, proposal_id)
        assert (proposal.status, proposal.decision_reason, proposal.decided_by_id) == ("rejected", "Outside this vision's scope.", people.fran.id)
    assert sorted(e.subject_id for e in events("proposal.rejected")) == sorted(chosen)
    assert fresh(Proposal, spread.ambition.id).status == "open"


def test_bulk_reject_is_all_or_nothing_and_says_which(client, login_as, vision, people, spread):
    own = open_proposal(vision, people.fran, "objective-4", "Objective 2.2 body, by a facilitator.")
    login_as(people.sam)
    post(client, f"/proposals/{spread.second.id}/reject", reason="Already done.")
    login_as(people.fran)
    chosen = [spread.skills.id, spread.second.id, own.id]
    response = client.post(
        f"/visions/{vision.slug}/facilitate/reject",
        data={"selected": [str(i) for i in chosen], "reason": "Not now.", "csrf_token": client.csrf_token()},
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem: nothing was changed" in page
    assert f"Proposal {spread.second.id}: it is rejected already." in page
    assert f"Proposal {own.id}: This is your own proposal" in page
    assert f"Proposal {spread.skills.id}:" not in page
    # The ticks and the reason are kept.
    assert f'value="{spread.skills.id}" checked' in page and ">Not now.</textarea>" in page
    assert fresh(Proposal, spread.skills.id).status == "open"
    assert [e.subject_id for e in events("proposal.rejected")] == [spread.second.id]


def test_bulk_actions_say_what_is_missing_and_refuse_too_many(client, login_as, vision, people, spread):
    login_as(people.fran)
    nothing = post(client, f"/visions/{vision.slug}/facilitate/reject", reason="Why not.")
    assert nothing.status_code == 422 and "Select at least one proposal" in nothing.get_data(as_text=True)
    no_reason = post(client, f"/visions/{vision.slug}/facilitate/reject", selected=str(spread.skills.id), reason="  ")
    assert no_reason.status_code == 422 and "Enter the reason for rejecting these proposals" in no_reason.get_data(as_text=True)
    too_many = client.post(
        f"/visions/{vision.slug}/facilitate/assign",
        data={"selected": [str(n) for n in range(1, 102)], "assign_to": "me", "csrf_token": client.csrf_token()},
    )
    assert too_many.status_code == 422 and "Select at most 100 proposals at once" in too_many.get_data(as_text=True)
    elsewhere = post(client, f"/visions/{vision.slug}/facilitate/assign", selected="99999", assign_to="me")
    assert elsewhere.status_code == 422 and "Proposal 99999 is not in the queue" in elsewhere.get_data(as_text=True)
    decided = events("proposal.rejected") + events("proposal.assigned")
    assert decided == []
    assert db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("proposal.%ssigned"))) == 0


def test_bulk_assign_refuses_the_authors_own_proposal_and_writes_nothing(client, login_as, vision, people, spread):
    own = open_proposal(vision, people.sam, "objective-4", "Objective 2.2 body, by Sam.")
    login_as(people.fran)
    response = client.post(
        f"/visions/{vision.slug}/facilitate/assign",
        data={"selected": [str(spread.skills.id), str(own.id)], "assign_to": str(people.sam.id), "csrf_token": client.csrf_token()},
    )
    assert response.status_code == 422
    assert f"Proposal {own.id} was written by Sam Second, who cannot decide on it" in response.get_data(as_text=True)
    assert fresh(Proposal, spread.skills.id).assignee_id is None and events("proposal.assigned") == []


# --- bounded work ---------------------------------------------------------------------------------


@pytest.mark.parametrize("query", ["", "q=body&by=a&ambition=ambition-1&assignee=none", "assignee=me&flag=stale"])
def test_the_queue_runs_the_same_queries_for_1_and_20_rows(client, login_as, vision, people, count_queries, query):
    login_as(people.fran)
    first = open_proposal(vision, people.ana, "objective-1", "Objective 1.1 body, number 0.")
    if "me" in query:
        assignment.assign_proposal(fresh(Proposal, first.id), people.fran, people.fran)
        db.session.commit()
    if "stale" in query:
        from .test_facilitation import set_text

        set_text(vision, "Objective 1.1 body, moved on.")
    clear_caches()  # cold both times: the per-process caches are keyed by ids other tests reuse
    with count_queries() as one:
        assert len(shown(client, vision, query)) == 1
    for n in range(1, 25):
        made = open_proposal(vision, people.ana if n % 2 else people.olu, f"objective-{1 + n % 4}", f"Objective body, number {n}.")
        if "me" in query:
            assignment.assign_proposal(fresh(Proposal, made.id), people.fran, people.sam if n % 3 else people.fran)
    db.session.commit()
    login_as(people.fran)
    clear_caches()
    with count_queries() as many:
        rows = shown(client, vision, query)
    assert len(rows) >= 1
    assert many.count == one.count, (one.statements, many.statements)


def test_the_assignee_column_is_indexed(app):
    # The "assigned to" filter reads an index, as the migration creates it.
    assert "ix_proposals_assignee_id" in schema_names("index")


def test_assigning_a_proposal_to_whom_it_is_assigned_already_records_nothing(vision, people, spread):
    from sqlalchemy import func, select

    from workbench.facilitation.assignment import assign_proposal
    from workbench.models import AuditEvent, Proposal, db

    proposal = db.session.scalars(select(Proposal).where(Proposal.status == "open")).first()
    facilitator = people.fran

    def assignments() -> int:
        return db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action.like("proposal.%assigned")))

    before = assignments()
    assign_proposal(proposal, facilitator, facilitator)
    db.session.commit()
    assign_proposal(proposal, facilitator, facilitator)
    db.session.commit()
    assert assignments() == before + 1
    assert db.session.get(Proposal, proposal.id).assignee_id == facilitator.id


def test_a_name_that_too_many_people_share_asks_for_more_of_it(client, login_as, vision, people, spread, monkeypatch):
    from workbench import people_named

    monkeypatch.setattr(people_named, "MOST_PEOPLE_NAMED", 1)
    login_as(people.fran)
    page = client.get(url(vision, "by=a")).get_data(as_text=True)  # Fran, Sam, Ana and Olu
    assert "More than 1 people have “a” in their name: type more of the name to find theirs." in page
    assert "No open proposals match these filters" in page
    assert shown(client, vision, "by=ana") == [spread.skills.id, spread.ambition.id]
    listing = client.get(f"/visions/{vision.slug}/proposals?by=a").get_data(as_text=True)
    assert "More than 1 people have “a” in their name" in listing and "No proposals match these filters" in listing


def test_a_search_counts_up_to_a_bound_and_finds_the_same_in_either_way_of_reading(client, login_as, vision, people, monkeypatch):
    from workbench.facilitation import queue

    made = [open_proposal(vision, people.ana, "objective-1", f"Objective 1.1 body, archive {n}.").id for n in range(5)]
    login_as(people.fran)
    monkeypatch.setattr(queue, "SEARCH_COUNTED_UP_TO", 3)
    page = client.get(url(vision, "q=archive")).get_data(as_text=True)
    assert "More than 3 open proposals that match" in page
    for few in (0, 100):  # walking the queue's order, or reading the matches and sorting them
        monkeypatch.setattr(queue, "FEW_FOUND", few)
        assert shown(client, vision, "q=archive") == made
        assert shown(client, vision, "q=archive&sort=newest") == made[::-1]
    monkeypatch.setattr(queue, "SEARCH_COUNTED_UP_TO", 1000)
    assert "5 open proposals that match" in client.get(url(vision, "q=archive")).get_data(as_text=True)


def test_a_row_names_its_first_three_rivals_and_links_to_the_rest(client, login_as, vision, people, make_user):
    """Five proposals that all change the same words: each row names three rivals by number and
    sends the facilitator to the proposal's page for the other one, instead of a link per rival."""
    authors = [people.ana, people.olu, *(make_user(Role.VOLUNTEER, name=f"Author {n}") for n in range(3))]
    rivals = [open_proposal(vision, author, "objective-1", f"Objective 1.1 text {n}.") for n, author in enumerate(authors)]
    db.session.commit()
    login_as(people.fran)
    page = client.get(url(vision)).get_data(as_text=True)
    first = row(page, rivals[0].id)
    others = sorted(r.id for r in rivals[1:])
    named = re.findall(r'href="/proposals/(\d+)">proposal \d+</a>', first)
    assert [int(n) for n in named] == others[:3]
    assert re.search(rf'and <a href="/proposals/{rivals[0].id}#others-heading">1 more<span class="visually-hidden"> competing proposals, listed on proposal {rivals[0].id}</span></a>', first)
    # A row with three rivals or fewer names them all, with nothing more to follow.
    withdrawn = [fresh(Proposal, r.id) for r in rivals[3:]]
    for proposal in withdrawn:
        proposal.status = ProposalStatus.WITHDRAWN.value
    db.session.commit()
    first = row(client.get(url(vision)).get_data(as_text=True), rivals[0].id)
    assert [int(n) for n in re.findall(r'href="/proposals/(\d+)">proposal \d+</a>', first)] == others[:2]
    assert "more<span" not in first


@pytest.mark.parametrize("query", ["", "sort=newest", "element=objective-1", "ambition=ambition-1", "ambition=ambition-2"])
def test_the_count_of_what_waits_leaves_out_hidden_withdrawn_and_decided_ones(client, login_as, vision, people, spread, query):
    """The queue's count for no filter, an element or an ambition is read from the counts the
    database keeps; it must equal the proposals the queue lists, whatever happened to the others."""
    from workbench.discussion.services import hide_content

    gone = [open_proposal(vision, people.ana, "objective-1", f"Objective 1.1 body, gone {n}.") for n in range(3)]
    db.session.commit()
    hide_content("proposal", fresh(Proposal, gone[0].id), fresh(type(people.fran), people.fran.id), "Off topic.")
    fresh(Proposal, gone[1].id).status = ProposalStatus.WITHDRAWN.value
    fresh(Proposal, gone[2].id).status = ProposalStatus.REJECTED.value
    db.session.commit()
    login_as(people.fran)
    listed = shown(client, vision, query)  # one page: fewer than 20 wait
    page = client.get(url(vision, query)).get_data(as_text=True)
    count = int(re.search(r'id="queue-count">([\d,]+) open', page).group(1).replace(",", ""))
    assert count == len(listed) > 0
    assert not {g.id for g in gone} & set(listed)
