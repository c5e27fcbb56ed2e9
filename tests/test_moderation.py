"""Reporting and moderation (issue 5): any signed-in person reports a comment, reflection or proposal
with a reason; facilitators see open reports grouped by what they are about, hide content with a
public reason (resolving its reports), show it again, or dismiss the reports. Every moderation
action is an audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workbench.discussion import moderation, services
from workbench.models import Comment, Proposal, Report, Role, db

from .factories import add_comment, events, fresh, open_proposal

SLUG = "test-vision"


@pytest.fixture
def proposal(vision, author):
    return open_proposal(vision, author, rationale="Because.")


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR, name="Fergus Facilitator")


def comment_by(proposal, user, body="Offensive words here.") -> Comment:
    return add_comment(proposal, user, body)


def report(client, subject_type: str, subject_id: int, reason: str = "It insults someone."):
    return client.post(f"/reports?subject_type={subject_type}&subject_id={subject_id}", data={"reason": reason})


# --- reporting ------------------------------------------------------------------------------------


def test_a_volunteer_reports_a_comment_with_a_reason(client, proposal, author, make_user, login_as) -> None:
    comment = comment_by(proposal, author)
    reporter = login_as(make_user())
    form = client.get(f"/reports/new?subject_type=comment&subject_id={comment.id}")
    assert form.status_code == 200
    page = form.get_data(as_text=True)
    assert "Report a comment to the facilitators" in page and "Offensive words here." in page
    assert f'action="/reports?subject_id={comment.id}&amp;subject_type=comment"' in page or f'action="/reports?subject_type=comment&amp;subject_id={comment.id}"' in page

    response = report(client, "comment", comment.id)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{comment.id}"
    row = db.session.scalar(select(Report))
    assert (row.subject_type, row.subject_id, row.reporter_id, row.reason, row.resolved_at) == (
        "comment", comment.id, reporter.id, "It insults someone.", None,
    )
    assert "Thank you for your report." in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    # Reporting again while it is open adds nothing.
    report(client, "comment", comment.id, "Again.")
    assert db.session.scalar(select(func.count(Report.id))) == 1
    assert "You have already reported this." in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


def test_the_form_fields_name_the_subject_too(client, proposal, author, make_user, login_as) -> None:
    login_as(make_user())
    response = client.post("/reports", data={"subject_type": "proposal", "subject_id": str(proposal.id), "reason": "Spam."})
    assert response.status_code == 302
    assert db.session.scalar(select(Report.subject_type)) == "proposal"


def test_a_report_needs_a_reason(client, proposal, author, make_user, login_as) -> None:
    comment = comment_by(proposal, author)
    login_as(make_user())
    response = report(client, "comment", comment.id, "  ")
    assert response.status_code == 422
    assert "Enter your reason" in response.get_data(as_text=True)
    response = report(client, "comment", comment.id, "x" * 1001)
    assert response.status_code == 422
    assert "1,000 characters or fewer" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_nobody_reports_their_own_words_or_anonymously(client, proposal, author, make_user, login_as) -> None:
    comment = comment_by(proposal, author)
    response = report(client, "comment", comment.id)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login")
    login_as(author)
    assert report(client, "comment", comment.id).status_code == 403
    assert report(client, "proposal", proposal.id).status_code == 403
    assert client.get(f"/reports/new?subject_type=comment&subject_id={comment.id}").status_code == 403
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f"subject_id={comment.id}" not in page  # no "Report" link on one's own comment
    assert db.session.scalar(select(func.count(Report.id))) == 0


@pytest.mark.parametrize("query", ["subject_type=user&subject_id=1", "subject_type=comment&subject_id=999", "subject_type=comment&subject_id=abc", "subject_type=comment"])
def test_reporting_something_that_does_not_exist_is_a_404(client, make_user, login_as, query) -> None:
    login_as(make_user())
    assert client.get(f"/reports/new?{query}").status_code == 404
    assert client.post(f"/reports?{query}", data={"reason": "x"}).status_code == 404


# --- the moderation list --------------------------------------------------------------------------


def test_facilitators_see_open_reports_grouped_with_the_content_and_reasons(client, proposal, author, make_user, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    for reason in ("Insulting.", "Names a private person."):
        login_as(make_user())
        report(client, "comment", comment.id, reason)
    login_as(make_user())
    report(client, "proposal", proposal.id, "Advertising.")
    login_as(facilitator)
    page = client.get("/moderation").get_data(as_text=True)
    assert "<h1" in page and "Moderation" in page
    assert "2 reported items" in page
    assert "Comment by Alice Author: 2 reports from 2 people" in page
    assert "Offensive words here." in page and "Insulting." in page and "Names a private person." in page
    assert f"Proposal by Alice Author: 1 report from 1 person" in page
    assert page.index("2 reports from 2 people") < page.index("1 report from 1 person")  # most reported first
    assert f'action="/moderation/comment/{comment.id}/dismiss"' in page
    assert f'href="/moderation/comment/{comment.id}/hide"' in page


def test_an_empty_moderation_list_says_so(client, login_as, facilitator) -> None:
    login_as(facilitator)
    page = client.get("/moderation").get_data(as_text=True)
    assert "No open reports" in page and "Nothing is waiting for the facilitators." in page
    assert "Nothing is hidden" in client.get("/moderation?show=hidden").get_data(as_text=True)


@pytest.mark.parametrize("role, status", [(Role.VOLUNTEER, 403), (Role.FACILITATOR, 200), (Role.ADMIN, 200)])
def test_only_facilitators_moderate(client, proposal, author, make_user, login_as, role, status) -> None:
    comment = comment_by(proposal, author)
    login_as(make_user(role))
    assert client.get("/moderation").status_code == status
    assert client.get(f"/moderation/comment/{comment.id}/hide").status_code == status
    response = client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Abuse."})
    assert response.status_code == (403 if status == 403 else 302)
    assert (fresh(Comment, comment.id).hidden_at is None) == (status == 403)


def test_the_moderation_list_is_paginated_and_its_queries_do_not_grow(client, vision, proposal, author, make_user, login_as, facilitator, count_queries) -> None:
    reporters = [make_user() for _ in range(2)]

    def reported_comments(n: int) -> None:
        for i in range(n):
            comment = comment_by(proposal, author, f"Comment {i}.")
            for reporter in reporters:
                services.file_report("comment", comment, reporter, f"Reason {i} by {reporter.id}.")
        db.session.commit()

    reported_comments(3)
    login_as(facilitator)
    client.get("/moderation")
    with count_queries() as small:
        client.get("/moderation")
    reported_comments(22)
    with count_queries() as large:
        page = client.get("/moderation").get_data(as_text=True)
    assert large.count == small.count
    assert "25 reported items, showing 1–20" in page
    assert 'aria-label="Pages of reports"' in page
    assert client.get("/moderation?page=2").status_code == 200
    assert client.get("/moderation?page=3").status_code == 404


# --- hiding, showing again, dismissing ------------------------------------------------------------


def test_hiding_a_comment_resolves_its_reports_and_is_audited(client, proposal, author, make_user, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(make_user())
    report(client, "comment", comment.id)
    assert fresh(Proposal, proposal.id).comment_count == 1
    login_as(facilitator)
    form = client.get(f"/moderation/comment/{comment.id}/hide").get_data(as_text=True)
    assert "Hide this comment" in form and "Offensive words here." in form
    response = client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Personal abuse."})
    assert response.status_code == 302 and response.headers["Location"] == "/moderation"
    row = fresh(Comment, comment.id)
    assert (row.hidden_by_id, row.hidden_reason) == (facilitator.id, "Personal abuse.") and row.hidden_at
    assert fresh(Proposal, proposal.id).comment_count == 0
    resolved = db.session.scalar(select(Report))
    assert (resolved.outcome, resolved.resolved_by_id) == ("hidden", facilitator.id) and resolved.resolved_at
    [event] = events("comment.hidden")
    assert (event.actor_id, event.subject_id, event.details["reason"]) == (facilitator.id, comment.id, "Personal abuse.")
    page = client.get("/moderation").get_data(as_text=True)
    assert "The comment is hidden." in page and "1 open report closed." in page and "No open reports" in page
    hidden = client.get("/moderation?show=hidden").get_data(as_text=True)
    assert "1 hidden item" in hidden and "Personal abuse." in hidden and "Offensive words here." in hidden


def test_hiding_needs_a_reason_and_happens_once(client, proposal, author, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(facilitator)
    response = client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": ""})
    assert response.status_code == 422 and "Enter your reason" in response.get_data(as_text=True)
    assert fresh(Comment, comment.id).hidden_at is None
    client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Abuse."})
    response = client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Again."})
    assert response.status_code == 302
    assert fresh(Comment, comment.id).hidden_reason == "Abuse."
    assert len(events("comment.hidden")) == 1


def test_showing_a_comment_again_is_audited_and_counts_it_again(client, proposal, author, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(facilitator)
    client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Abuse."})
    response = client.post(f"/moderation/comment/{comment.id}/unhide", data={"next": f"/comments/{comment.id}"})
    assert response.status_code == 302 and response.headers["Location"] == f"/comments/{comment.id}"
    row = fresh(Comment, comment.id)
    assert (row.hidden_at, row.hidden_reason) == (None, "")
    assert fresh(Proposal, proposal.id).comment_count == 1
    [event] = events("comment.unhidden")
    assert event.details["previous_reason"] == "Abuse."


def test_dismissing_reports_keeps_the_content_and_is_audited(client, proposal, author, make_user, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(make_user())
    report(client, "comment", comment.id)
    login_as(facilitator)
    response = client.post(f"/moderation/comment/{comment.id}/dismiss")
    assert response.status_code == 302
    assert db.session.scalar(select(Report.outcome)) == "dismissed"
    assert fresh(Comment, comment.id).hidden_at is None
    [event] = events("reports.dismissed")
    assert event.details["reports_resolved"] == 1
    assert "1 report dismissed" in client.get("/moderation").get_data(as_text=True)


def test_hiding_a_proposal(client, proposal, author, make_user, login_as, facilitator) -> None:
    login_as(make_user())
    report(client, "proposal", proposal.id, "Spam.")
    login_as(facilitator)
    response = client.post(f"/moderation/proposal/{proposal.id}/hide", data={"reason": "Advertising.", "next": f"/proposals/{proposal.id}"})
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert fresh(Proposal, proposal.id).hidden_reason == "Advertising."
    assert [e.subject_id for e in events("proposal.hidden")] == [proposal.id]
    assert db.session.scalar(select(Report.outcome)) == "hidden"
    login_as(make_user())
    assert client.get(f"/proposals/{proposal.id}").status_code == 404
    login_as(author)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Advertising." in page


def test_facilitators_can_hide_from_the_thread(client, proposal, author, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(facilitator)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="/moderation/comment/{comment.id}/hide?next=/comments/{comment.id}"' in page
    client.post(f"/moderation/comment/{comment.id}/hide?next=/comments/{comment.id}", data={"reason": "Abuse."})
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Hidden by the facilitators: Abuse." in page and "Only its author and the facilitators can see it." in page
    assert f'action="/moderation/comment/{comment.id}/unhide"' in page


def test_unsafe_next_addresses_go_to_the_moderation_list(client, proposal, author, login_as, facilitator) -> None:
    comment = comment_by(proposal, author)
    login_as(facilitator)
    response = client.post(f"/moderation/comment/{comment.id}/hide", data={"reason": "Abuse.", "next": "https://evil.example/"})
    assert response.headers["Location"] == "/moderation"


def test_the_services_refuse_volunteers(app, proposal, author, make_user) -> None:
    comment = comment_by(proposal, author)
    volunteer = make_user()
    for action in (
        lambda: services.hide_content("comment", comment, volunteer, "x"),
        lambda: services.unhide_content("comment", comment, volunteer),
        lambda: services.dismiss_reports("comment", comment, volunteer),
    ):
        with pytest.raises(services.NotAllowed):
            action()
    assert moderation.open_reports().total == 0


def test_a_retracted_comment_cannot_be_reported(client, proposal, author, make_user, login_as) -> None:
    comment = comment_by(proposal, author)
    services.retract_comment(comment, author)
    db.session.commit()
    login_as(make_user())
    response = report(client, "comment", comment.id)
    assert response.status_code == 403
    assert "retracted" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Report.id))) == 0


def test_the_proposal_page_offers_reporting_and_hiding_the_proposal(client, proposal, author, make_user, login_as, facilitator) -> None:
    login_as(make_user())
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'href="/reports/new?subject_type=proposal&amp;subject_id={proposal.id}"' in page
    assert "/moderation/proposal/" not in page
    login_as(author)
    assert "Report this proposal" not in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    login_as(facilitator)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f"/moderation/proposal/{proposal.id}/hide?next=/proposals/{proposal.id}" in page
    client.post(f"/moderation/proposal/{proposal.id}/hide?next=/proposals/{proposal.id}", data={"reason": "Spam."})
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'action="/moderation/proposal/{proposal.id}/unhide"' in page
