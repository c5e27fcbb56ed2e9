"""Telling people what happened (issue 15): the worker's part, from an audit event to
notifications and immediate mail (workbench/notifications/telling.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workbench import worker
from workbench.discussion.services import hide_content
from workbench.facilitation.decisions import reject_proposal
from workbench.models import EmailChoice, EventToTell, Notification, OutgoingMail, Role, db
from workbench.notifications import telling
from workbench.notifications.following import follow
from workbench.notifications.wording import Things, words_for

from .factories import add_comment, element_of, fresh, open_proposal


def notifications_of(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
            .execution_options(populate_existing=True)
        )
    )


def words(notification: Notification) -> str:
    return words_for(notification, Things.of([notification])).text


def mails_to(user) -> list[OutgoingMail]:
    return list(db.session.scalars(select(OutgoingMail).where(OutgoingMail.user_id == user.id).order_by(OutgoingMail.id)))


def tell_all(app) -> int:
    with app.test_request_context():
        return worker.one_pass(limit=None).told


@pytest.fixture
def people(make_user):
    return make_user(name="Ada Author"), make_user(name="Bo Commenter"), make_user(name="Cy Follower"), make_user(Role.FACILITATOR, name="Fay Facilitator")


def test_a_comment_on_my_proposal_tells_me_once_and_five_become_one(app, vision, people):
    ada, bo, cy, _ = people
    proposal = open_proposal(vision, ada)
    follow(cy, fresh(type(proposal), proposal.id))
    db.session.commit()
    add_comment(proposal, bo, "First thoughts.")
    assert tell_all(app) >= 1
    [mine] = notifications_of(ada)
    assert mine.kind == "comment_on_mine" and mine.event_count == 1
    assert words(mine) == f"Bo Commenter commented on your proposal “{proposal.title}” on Objective 1.1."
    [theirs] = notifications_of(cy)
    assert theirs.kind == "followed_proposal"
    assert notifications_of(bo) == []  # never told of one's own action
    [mail] = mails_to(ada)  # comments on my proposals: straight away, by default
    assert mail.subject == "New comments on your proposal"
    assert "List-Unsubscribe" in mail.headers and mail.headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert mails_to(cy) == []  # what I follow: in the daily digest
    assert fresh(Notification, theirs.id).digest_due

    for n in range(4):
        add_comment(proposal, bo, f"More thoughts {n}.")
    tell_all(app)
    [mine] = notifications_of(ada)
    assert mine.event_count == 5
    assert words(mine) == f"5 new comments on your proposal “{proposal.title}” on Objective 1.1."
    # The first mail had gone; the four later comments, told in one pass, made one more mail.
    first, second = mails_to(ada)
    assert "Bo Commenter commented on your proposal" in first.body
    assert "5 new comments on your proposal" in second.body
    assert db.session.scalar(select(func.count()).select_from(EventToTell)) == 0


def test_a_rejection_tells_the_author_with_the_reason_and_its_followers(app, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada)
    follow(cy, fresh(type(proposal), proposal.id))
    db.session.commit()
    reject_proposal(fresh(type(proposal), proposal.id), fay, "It repeats Objective 1.2.")
    db.session.commit()
    tell_all(app)
    [mine] = notifications_of(ada)
    assert mine.kind == "decision"
    assert words(mine) == (
        f"Your proposal “{proposal.title}” on Objective 1.1 was rejected. The reason given: It repeats Objective 1.2."
    )
    assert notifications_of(cy)[0].kind == "followed_proposal"
    assert notifications_of(fay) == []


def test_nobody_deactivated_is_told_and_a_never_choice_sends_no_mail(app, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada)
    db.session.add(EmailChoice(user_id=ada.id, kind="decision", how="never"))
    follow(cy, fresh(type(proposal), proposal.id))
    fresh(type(cy), cy.id).is_deactivated = True
    db.session.commit()
    reject_proposal(fresh(type(proposal), proposal.id), fay, "No.")
    db.session.commit()
    tell_all(app)
    assert [n.kind for n in notifications_of(ada)] == ["decision"]
    assert mails_to(ada) == []
    assert notifications_of(cy) == []


def test_hidden_comments_are_not_told_and_a_hidden_thing_is_not_worded_for_others(app, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada)
    comment = add_comment(proposal, bo, "Rude words.")
    hide_content("comment", fresh(type(comment), comment.id), fay, "Not civil.")
    db.session.commit()
    tell_all(app)  # posted, then hidden before the worker ran: only its author hears (of the hiding)
    assert notifications_of(ada) == []
    [told] = notifications_of(bo)
    assert told.kind == "moderation"
    assert "was hidden by a facilitator. The reason given: Not civil." in words(told)


def test_a_reflection_tells_the_followers_of_its_element(app, client, vision, people, login_as):
    ada, bo, cy, _ = people
    follow(cy, element_of(vision))
    db.session.commit()
    login_as(bo)
    client.post(f"/visions/{vision.slug}/elements/objective-1/reflections", data={"body": "A thought on this."})
    # MAIL_SEND_AT_ONCE: the request's own pass told it
    [told] = notifications_of(cy)
    assert told.kind == "followed_element"
    assert words(told) == "Bo Commenter wrote a reflection on Objective 1.1."


@pytest.mark.parametrize("app_config", [{"MAIL_SEND_AT_ONCE": False}])
def test_events_told_before_the_mail_went_rewrite_it_rather_than_send_two(app, vision, people):
    ada, bo, cy, _ = people
    proposal = open_proposal(vision, ada)
    add_comment(proposal, bo, "One.")
    with app.test_request_context():
        telling.tell_due(limit=None)
    add_comment(proposal, cy, "Two.")
    add_comment(proposal, bo, "Three.")
    with app.test_request_context():
        telling.tell_due(limit=None)
    [mail] = mails_to(ada)
    assert mail.state == "waiting" and mail.subject == "New comments on your proposal"
    assert f"3 new comments on your proposal “{proposal.title}”" in mail.body
    [mine] = notifications_of(ada)
    assert mine.event_count == 3 and mine.mail_id == mail.id

    with app.test_request_context():
        worker.one_pass(limit=None)  # the mail goes; a later comment makes a new one
    add_comment(proposal, cy, "Four.")
    with app.test_request_context():
        telling.tell_due(limit=None)
    first, second = mails_to(ada)
    assert first.state == "sent" and "4 new comments" in second.body and second.state == "waiting"
    assert fresh(Notification, mine.id).mail_id == second.id


def test_a_comment_hidden_after_it_was_told_leaves_no_line_naming_its_author(app, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada)
    comment = add_comment(proposal, bo, "Rude words.")
    tell_all(app)
    [mine] = notifications_of(ada)
    assert "Bo Commenter commented" in words(mine)
    hide_content("comment", fresh(type(comment), comment.id), fay, "Not civil.")
    db.session.commit()
    assert words_for(mine, Things.of([mine])) is None  # not shown at all


@pytest.mark.parametrize("app_config", [{"MAIL_SEND_AT_ONCE": False}])
def test_the_worker_command_tells_and_mails_with_links_at_the_site_address(app, runner, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada)
    reject_proposal(fresh(type(proposal), proposal.id), fay, "Out of scope.")
    db.session.commit()
    result = runner.invoke(args=["mail", "send-due"])
    assert result.exit_code == 0, result.output
    assert "event(s) told, 1 sent" in result.output
    [mail] = mails_to(ada)
    assert mail.state == "sent"
    # No PUBLIC_URL in development: links name the development server.
    assert f"See it here: http://127.0.0.1:5000/proposals/{proposal.id}\n" in mail.body
    assert mail.headers["List-Unsubscribe"].startswith("<http://127.0.0.1:5000/account/unsubscribe/")
    status = runner.invoke(args=["mail", "status"])
    assert "0 event(s) waiting for the worker to tell people of them." in status.output
