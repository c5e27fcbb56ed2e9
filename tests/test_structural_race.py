"""A removal racing an edit's accept on the same element, against a live server (issue 16), on
SQLite and PostgreSQL: one wins, the other is told in words, nothing is lost or half-written."""

from __future__ import annotations

from sqlalchemy import func, select

from workbench.extensions import db
from workbench.models import DraftChange, DraftEntry, Proposal, Role

from .factories import element_of, entry_of
from .test_facilitation import propose
from .test_facilitation_concurrency import browser_for, post_together, prepared_form, server, statuses  # noqa: F401  (server: fixture)


def test_a_removal_and_an_edit_accepted_at_the_same_moment(app, server, make_vision, make_user):  # noqa: F811
    from workbench.proposals.structural import propose_removal

    vision = make_vision()
    edit = propose(vision, make_user(Role.VOLUNTEER), "Objective 1.1 body, made clearer.")
    removal = propose_removal(vision, element_of(vision), make_user(Role.VOLUNTEER), "It repeats Objective 1.2.")
    db.session.commit()
    edit_id, removal_id = edit.id, removal.id
    first, second = (browser_for(app, make_user(Role.FACILITATOR), *server) for _ in range(2))
    edit_form, removal_form = prepared_form(first, edit_id), prepared_form(second, removal_id)

    results = post_together([(first, f"/proposals/{edit_id}/accept", edit_form), (second, f"/proposals/{removal_id}/accept", removal_form)])

    codes = [status for status, _, _ in results]
    assert sorted(codes) == [302, 409], codes
    db.session.rollback()
    state = statuses([edit_id, removal_id])
    entry = entry_of(vision)
    accepts = db.session.scalar(select(func.count()).select_from(DraftChange).where(DraftChange.kind == "accept"))
    assert accepts == 1
    if codes[0] == 302:  # the edit won: the removal is still open, and told the text changed
        assert state == {edit_id: "accepted", removal_id: "open"}
        assert not entry.is_removed and entry.text.body == "Objective 1.1 body, made clearer."
        assert "Nothing has been saved yet" in results[1][2]
    else:  # the removal won: the edit was closed with the reason, and its accept is refused
        assert state == {edit_id: "rejected", removal_id: "accepted"}
        assert entry.is_removed and entry.text.body == "Objective 1.1 body."
        assert "rejected, so it cannot be accepted" in results[0][2]
        reason = db.session.scalar(select(Proposal.decision_reason).where(Proposal.id == edit_id))
        assert reason.startswith(f"The element was removed from the working draft by accepting proposal {removal_id}")
    removed = db.session.scalar(select(func.count()).select_from(DraftEntry).where(DraftEntry.is_removed.is_(True)))
    assert removed == (1 if codes[1] == 302 else 0)
