"""No decision is lost (issue 13, item 5): the proposal page lists every decision on a proposal,
oldest first, from the audit events; and an accept that resolved a conflict, or edited a proposal
carried over to a working text that moved on, keeps apart what the facilitator changed themselves
and what came from the working text changing meanwhile."""

from __future__ import annotations

import html
import re
from types import SimpleNamespace

import pytest
from sqlalchemy import select, update

from workbench.extensions import db
from workbench.facilitation import decisions, edit, panels
from workbench.models import AuditEvent, ElementText, Proposal, ProposalStatus, Role, User, utcnow

from .factories import KEY, entry_of, events, fresh, open_proposal

BASE = "We will train 10,000 analysts across the public sector by 2030, and publish what we learn."
PROPOSED = "We will train 20,000 analysts across the public sector by 2030, and openly publish what we learn."
MEANWHILE = "We will train 15,000 analysts across Scotland's public sector by 2030, and publish what we learn."
RESOLVED = "We will train 18,000 analysts across Scotland's public sector by 2030, and openly publish what we learn."


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        second=make_user(Role.FACILITATOR, name="Sam Second"),
        author=make_user(Role.VOLUNTEER, name="Ana Author"),
    )


def set_text(vision, body: str) -> ElementText:
    """A direct change of the element's working text (what an accept or a facilitator's edit does)."""
    entry = entry_of(vision, KEY)
    text = ElementText(element_id=entry.element_id, title=entry.text.title, body=body)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.commit()
    return text


def words(page: str) -> str:
    """A page's text without tags (each a space), spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def page_of(client, proposal: Proposal) -> str:
    response = client.get(f"/proposals/{proposal.id}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def history_on(page: str) -> str:
    """The words of the decision history list on a proposal page."""
    match = re.search(r'<ol class="app-decision-history"[^>]*>(.*?)</ol>', page, re.S)
    assert match, "no decision history on the page"
    return words(match.group(1))


def section(page: str, heading: str, until: str) -> str:
    """The words of a page between the heading `heading` and the next text `until`."""
    text = words(page)
    return text.split(heading, 1)[1].split(until, 1)[0]


def reject(proposal: Proposal, who: User, reason: str) -> None:
    decisions.reject_proposal(fresh(Proposal, proposal.id), fresh(User, who.id), reason)
    db.session.commit()


def reopen(proposal: Proposal, who: User) -> None:
    decisions.reopen_proposal(fresh(Proposal, proposal.id), fresh(User, who.id))
    db.session.commit()


def accept(proposal: Proposal, who: User, body: str, note: str = "") -> decisions.Accepted:
    proposal = fresh(Proposal, proposal.id)
    entry = entry_of(proposal.vision, KEY)
    accepted = decisions.accept_proposal(
        proposal,
        fresh(User, who.id),
        title=entry.text.title,
        body=body,
        note=note,
        expected_text_id=entry.text_id,
        revision=proposal.revision_count,
    )
    db.session.commit()
    return accepted


# --- the decision history -------------------------------------------------------------------------


def test_reject_reopen_reject_keeps_every_decision_oldest_first(vision, people):
    proposal = open_proposal(vision, people.author)
    reject(proposal, people.facilitator, "Too early: the data strategy is not out yet.")
    reopen(proposal, people.second)
    reject(proposal, people.second, "It duplicates Objective 2.1.")
    history = panels.decision_history(fresh(Proposal, proposal.id))
    assert [(d.label, d.by, d.text) for d in history] == [
        ("Rejected", "Fran Facilitator", "Too early: the data strategy is not out yet."),
        ("Reopened", "Sam Second", ""),
        ("Rejected", "Sam Second", "It duplicates Objective 2.1."),
    ]
    assert history[0].at <= history[1].at <= history[2].at
    decision = panels.decision_for(fresh(Proposal, proposal.id), None)
    assert decision.decided_by == "Sam Second" and decision.note == "It duplicates Objective 2.1."


def test_everyone_reads_every_decision_on_the_proposal_page(client, vision, people):
    proposal = open_proposal(vision, people.author)
    reject(proposal, people.facilitator, "Too early.\n\nThe data strategy is not out yet.")
    reopen(proposal, people.second)
    reject(proposal, people.second, "It duplicates Objective 2.1.")
    page = page_of(client, proposal)
    assert "Decision history" in page
    assert re.fullmatch(
        r"Rejected by Fran Facilitator on .+?\. Reason: Too early\. The data strategy is not out yet\. "
        r"Reopened by Sam Second on .+?\. "
        r"Rejected by Sam Second on .+?\. Reason: It duplicates Objective 2\.1\.",
        history_on(page),
    )
    listed = re.search(r'<ol class="app-decision-history".*?</ol>', page, re.S).group(0)
    assert listed.count("<time datetime=") == 3


def test_a_reopened_proposal_that_is_open_again_shows_why_it_was_rejected(client, login_as, vision, people):
    proposal = open_proposal(vision, people.author)
    reject(proposal, people.facilitator, "Too early.")
    reopen(proposal, people.second)
    assert fresh(Proposal, proposal.id).status == ProposalStatus.OPEN.value
    page = page_of(client, proposal)
    assert "Waiting for a decision" in page
    assert re.fullmatch(r"Rejected by Fran Facilitator on .+?\. Reason: Too early\. Reopened by Sam Second on .+?\.", history_on(page))
    login_as(people.facilitator)  # the facilitators' forms are there too, and the history with them
    page = page_of(client, proposal)
    assert f'action="/proposals/{proposal.id}/reject"' in page and "Reason: Too early." in history_on(page)


def test_an_accept_and_a_withdrawal_are_in_the_history(client, vision, people):
    accepted = open_proposal(vision, people.author)
    accept(accepted, people.facilitator, fresh(Proposal, accepted.id).body, note="Clearer, thanks.")
    assert re.fullmatch(r"Accepted by Fran Facilitator on .+?\. Note: Clearer, thanks\.", history_on(page_of(client, accepted)))
    from workbench.proposals.services import withdraw_proposal

    withdrawn = open_proposal(vision, people.author, body="Objective 1.1 words.")
    reject(withdrawn, people.facilitator, "Not now.")
    reopen(withdrawn, people.facilitator)
    withdraw_proposal(fresh(Proposal, withdrawn.id), fresh(User, people.author.id))
    db.session.commit()
    assert [d.label for d in panels.decision_history(fresh(Proposal, withdrawn.id))] == ["Rejected", "Reopened", "Withdrawn"]
    assert "Withdrawn by Ana Author on" in history_on(page_of(client, withdrawn))


def test_a_deleted_account_shows_as_a_former_participant(client, vision, people):
    proposal = open_proposal(vision, people.author)
    reject(proposal, people.facilitator, "Too early.")
    db.session.execute(update(User).where(User.id == people.facilitator.id).values(is_deleted=True, display_name=""))
    db.session.commit()
    page = page_of(client, proposal)
    assert re.fullmatch(r"Rejected by a former participant on .+?\. Reason: Too early\.", history_on(page))
    assert "Fran Facilitator" not in page


def test_a_decision_without_audit_events_still_shows(client, vision, people):
    """Proposals decided in bulk (the benchmark's data) or before events were kept: their own fields."""
    proposal = open_proposal(vision, people.author)
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal.id)
        .values(status="rejected", decided_at=utcnow(), decided_by_id=people.facilitator.id, decision_reason="Out of scope.")
    )
    db.session.commit()
    assert events("proposal.rejected") == []
    assert re.fullmatch(r"Rejected by Fran Facilitator on .+?\. Reason: Out of scope\.", history_on(page_of(client, proposal)))


def test_an_open_proposal_never_decided_has_no_history(client, vision, people):
    proposal = open_proposal(vision, people.author)
    page = page_of(client, proposal)
    assert "Waiting for a decision" in page and "Decision history" not in page


def test_the_history_adds_no_query_per_decision(client, vision, people, count_queries):
    proposal = open_proposal(vision, people.author)
    reject(proposal, people.facilitator, "Too early.")
    page_of(client, proposal)  # warm whatever is cached per process
    with count_queries() as once:
        page_of(client, proposal)
    for n in range(4):
        reopen(proposal, people.second)
        reject(proposal, people.second, f"Still too early ({n}).")
    with count_queries() as often:
        page = page_of(client, proposal)
    assert history_on(page).count("Rejected by") == 5
    assert often.count == once.count


# --- the resolve record ---------------------------------------------------------------------------


def test_carrying_over_keeps_the_changes_that_apply_and_leaves_out_the_conflicts():
    assert edit.carry_over_what_applies(BASE, PROPOSED, BASE) == PROPOSED
    assert edit.carry_over_what_applies(BASE, PROPOSED, MEANWHILE) == (
        "We will train 15,000 analysts across Scotland's public sector by 2030, and openly publish what we learn."
    )
    clean = "Zero. " + BASE
    assert edit.carry_over_what_applies(BASE, PROPOSED, clean) == "Zero. " + PROPOSED
    assert edit.carry_over_what_applies("a b c", "a x c", "a y c") == "a y c"  # nothing applies


def test_carrying_over_a_proposal_of_too_many_changes_gives_the_current_text(monkeypatch):
    monkeypatch.setattr(edit, "MOST_CHANGES_TRIED", 1)
    assert edit.carry_over_what_applies(BASE, PROPOSED, MEANWHILE) == MEANWHILE


def test_a_resolved_conflict_keeps_the_facilitators_changes_apart_from_the_meanwhile_ones(vision, people):
    set_text(vision, BASE)
    proposal = open_proposal(vision, people.author, body=PROPOSED)
    meanwhile = set_text(vision, MEANWHILE)
    assert edit.plan(fresh(Proposal, proposal.id)).mode == "conflict"
    accepted = accept(proposal, people.facilitator, RESOLVED, note="Met in the middle.")
    assert accepted.with_changes
    (event,) = events("proposal.accepted")
    assert event.details["mode"] == "conflict" and event.details["previous_text_id"] == meanwhile.id
    assert event.details["carried_over"]["body"] == (
        "We will train 15,000 analysts across Scotland's public sector by 2030, and openly publish what we learn."
    )
    assert event.details["not_carried_over"] == ["replace “10,000” with “20,000”"]

    decision = panels.decision_for(fresh(Proposal, proposal.id), None)
    changed = lambda diff: [(c.op, c.text.strip()) for c in diff.body.changes if c.op != "equal"]  # noqa: E731
    assert changed(decision.proposed_diff) == [("delete", "10,000"), ("insert", "20,000"), ("insert", "openly")]
    assert changed(decision.meanwhile_diff) == [("delete", "10,000"), ("insert", "15,000"), ("delete", "the"), ("insert", "Scotland's")]
    assert changed(decision.changes_diff) == [("delete", "15,000"), ("insert", "18,000")]
    assert decision.not_carried_over == ["replace “10,000” with “20,000”"] and not decision.changes_mixed


def test_the_proposal_page_shows_the_resolve_record_in_three_parts(client, vision, people):
    set_text(vision, BASE)
    proposal = open_proposal(vision, people.author, body=PROPOSED)
    set_text(vision, MEANWHILE)
    accept(proposal, people.facilitator, RESOLVED, note="Met in the middle.")
    page = page_of(client, proposal)
    assert "Three differences are shown apart" in words(page)
    proposed = section(page, "What the author proposed", "What changed in the working text meanwhile")
    meanwhile = section(page, "What changed in the working text meanwhile", "What the facilitator changed in it")
    own = section(page, "What the facilitator changed in it", "Decision history")
    assert "added: 20,000" in proposed and "added: openly" in proposed
    assert "added: 15,000" in meanwhile and "added: Scotland's" in meanwhile
    assert "Replace “10,000” with “20,000”" in own and "resolved them by hand" in own
    assert "removed: 15,000" in own and "added: 18,000" in own
    assert "added: Scotland's" not in own and "added: openly" not in own
    assert re.fullmatch(r"Accepted with changes by Fran Facilitator on .+?\. Note: Met in the middle\.", history_on(page))


def test_an_edited_clean_rebase_counts_only_the_facilitators_words_as_theirs(client, vision, people):
    set_text(vision, "One two three. Four five six.")
    proposal = open_proposal(vision, people.author, body="One two three. Four five six seven.")
    set_text(vision, "Zero. One two three. Four five six.")
    accept(proposal, people.facilitator, "Zero. One two three. Four five six seven eight.")
    (event,) = events("proposal.accepted")
    assert event.details["mode"] == "rebased"
    assert event.details["carried_over"]["body"] == "Zero. One two three. Four five six seven."
    assert event.details["not_carried_over"] == []
    page = page_of(client, proposal)
    own = section(page, "What the facilitator changed in it", "Decision history")
    assert "added: eight" in own and "Zero." in own and "added: Zero" not in own and "resolved them by hand" not in own
    assert "added: Zero." in section(page, "What changed in the working text meanwhile", "What the facilitator changed in it")


def test_an_edit_of_an_up_to_date_proposal_shows_two_parts(client, vision, people):
    proposal = open_proposal(vision, people.author, body="Objective 1.1 body, made clearer.")
    accept(proposal, people.facilitator, "Objective 1.1 body, made much clearer.")
    assert "carried_over" not in events("proposal.accepted")[0].details
    page = page_of(client, proposal)
    assert "Both differences are shown" in page and "What changed in the working text meanwhile" not in page
    assert "added: much" in section(page, "What the facilitator changed in it", "Decision history")


def test_an_older_record_that_mixes_both_says_so(client, vision, people):
    """Accepted before the record was kept apart: the difference from the proposal is shown as one,
    named for what it is, beside what changed meanwhile."""
    set_text(vision, BASE)
    proposal = open_proposal(vision, people.author, body=PROPOSED)
    set_text(vision, MEANWHILE)
    accept(proposal, people.facilitator, RESOLVED)
    (event,) = events("proposal.accepted")
    details = {k: v for k, v in event.details.items() if k not in ("carried_over", "not_carried_over", "mode")}
    db.session.execute(update(AuditEvent).where(AuditEvent.id == event.id).values(details=details))
    db.session.commit()
    decision = panels.decision_for(fresh(Proposal, proposal.id), None)
    assert decision.changes_mixed and decision.meanwhile_diff is not None
    page = page_of(client, proposal)
    assert "What differs from the proposal" in page and "holds both" in page
    assert "What the facilitator changed in it" not in page


def test_the_resolve_record_runs_a_bounded_number_of_queries(client, vision, people, count_queries):
    set_text(vision, BASE)
    plain = open_proposal(vision, people.author, body=PROPOSED)
    accept(plain, people.facilitator, PROPOSED)
    page_of(client, plain)
    with count_queries() as as_proposed:
        page_of(client, plain)
    set_text(vision, BASE)
    resolved = open_proposal(vision, people.author, body=PROPOSED)
    set_text(vision, MEANWHILE)
    accept(resolved, people.facilitator, RESOLVED)
    page_of(client, resolved)
    with count_queries() as with_record:
        page_of(client, resolved)
    assert with_record.count <= as_proposed.count + 1  # the three texts, in one query
