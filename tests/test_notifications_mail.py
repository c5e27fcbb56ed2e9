"""Email about notifications (issue 15), against a real SMTP server (aiosmtpd on a free port): the
immediate mail of a decision, the mail server down, the signed unsubscribe link (and RFC 8058's
one-click POST), each person's choices on /account/emails, the daily digest, and what deleting an
account does to its mail.

As in production, requests only write jobs and mail (MAIL_SEND_AT_ONCE off); a test runs the
worker's pass (`worker.one_pass`: tell the events, then deliver the mail due) itself.
"""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from itsdangerous import URLSafeSerializer, URLSafeTimedSerializer
from sqlalchemy import select, update

from workbench import worker
from workbench.discussion.services import hide_content, post_reflection
from workbench.facilitation.decisions import reject_proposal
from workbench.models import EmailChoice, Notification, OutgoingMail, Proposal, Role, User, db, utcnow
from workbench.notifications import digest, mails
from workbench.notifications.choices import email_choices
from workbench.notifications.following import follow
from workbench.notifications.kinds import KINDS
from workbench.outbox import queue
from workbench.mail import Mail

from .conftest import TEST_PASSWORD
from . import smtp
from .factories import add_comment, element_of, fresh, open_proposal

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")

# A real SMTP server (tests/smtp.py), and the app pointed at it with MAIL_SEND_AT_ONCE off.
smtp_port, app_config, mail_server = smtp.smtp_port, smtp.app_config, smtp.mail_server


def work():
    """One pass of the worker, as `flask mail send-due` runs it: tell every event due, deliver the mail due."""
    return worker.one_pass(limit=None)


def time_passes() -> None:
    """Every waiting mail's next attempt is now due (as if its wait had run out)."""
    db.session.execute(update(OutgoingMail).values(send_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def run_digest(app) -> str:
    result = app.test_cli_runner().invoke(args=["notifications", "digest"])
    assert result.exit_code == 0, result.output
    db.session.expire_all()
    return result.output


def text_of(message) -> str:
    return message.get_content().replace("\r\n", "\n")


def unsubscribe_path(message) -> str:
    """The path of the message's List-Unsubscribe link (the same link as in its footer)."""
    link = message["List-Unsubscribe"].strip("<>")
    assert link in text_of(message)
    return urlsplit(link).path


def choices_of(user: User) -> dict[str, str]:
    db.session.expire_all()
    return email_choices(fresh(User, user.id))


def choice_rows() -> list[tuple[int, str, str]]:
    return list(db.session.execute(select(EmailChoice.user_id, EmailChoice.kind, EmailChoice.how)).tuples())


@pytest.fixture
def people(make_user):
    """Ada (an author), Bo (who comments), Cy (who follows), Fay (a facilitator)."""
    return (
        make_user(name="Ada Author", email="ada@example.org"),
        make_user(name="Bo Commenter", email="bo@example.org"),
        make_user(name="Cy Follower", email="cy@example.org"),
        make_user(Role.FACILITATOR, name="Fay Facilitator", email="fay@example.org"),
    )


def reject(proposal: Proposal, facilitator: User, reason: str = "It repeats Objective 1.2.") -> None:
    reject_proposal(fresh(Proposal, proposal.id), fresh(User, facilitator.id), reason)
    db.session.commit()


# --- the immediate mail of a decision --------------------------------------------------------------


def test_a_rejection_is_mailed_to_its_author_in_plain_text_with_the_reason_and_unsubscribe_headers(
    app, client, login_as, vision, people, mail_server
):
    ada, _, _, fay = people
    proposal = open_proposal(vision, ada, title="Plainer words")
    login_as(fay)
    response = client.post(f"/proposals/{proposal.id}/reject", data={"reason": "It repeats Objective 1.2."})
    assert response.status_code in (302, 303)
    assert mail_server.received == []  # the request only wrote the event's job

    work()
    [message] = mail_server.to(ada)
    assert message["Subject"] == "Your proposal was rejected"
    assert message.get_content_type() == "text/plain" and not message.is_multipart()
    body = text_of(message)
    assert "Your proposal “Plainer words” on Objective 1.1 was rejected. The reason given: It repeats Objective 1.2." in body
    assert f"/proposals/{proposal.id}" in body
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    link = message["List-Unsubscribe"]
    assert re.fullmatch(r"<https?://[^>]+/account/unsubscribe/[^>]+>", link)
    assert "To stop these mails (decisions on my proposals), open this link (no need to sign in)" in body
    assert mail_server.to(fay) == []  # nobody is told of their own action


def test_with_the_mail_server_down_the_rejection_is_retried_later_and_delivered_exactly_once(app, vision, people, mail_server):
    ada, _, _, fay = people
    proposal = open_proposal(vision, ada)
    mail_server.stop()
    reject(proposal, fay)

    done = work()
    assert (done.sent, done.retrying) == (0, 1)
    [row] = db.session.scalars(select(OutgoingMail).where(OutgoingMail.user_id == ada.id)).all()
    assert row.state == "waiting" and "ConnectionRefusedError" in row.last_error

    mail_server.start()
    assert work().handled == 0  # not due again before its wait ends
    time_passes()
    assert work().sent == 1
    time_passes()
    assert work().handled == 0
    [message] = mail_server.to(ada)
    assert message["Message-ID"] == row.message_id and message["Subject"] == "Your proposal was rejected"


def test_two_comments_before_the_worker_runs_make_one_mail_saying_2_new_comments(app, vision, people, mail_server):
    ada, bo, _, _ = people
    proposal = open_proposal(vision, ada, title="Plainer words")
    add_comment(proposal, bo, "First thoughts.")
    add_comment(proposal, bo, "Second thoughts.")

    done = work()
    assert done.sent == 1
    [message] = mail_server.to(ada)
    assert message["Subject"] == "New comments on your proposal"
    assert "2 new comments on your proposal “Plainer words” on Objective 1.1." in text_of(message)
    [notification] = db.session.scalars(select(Notification).where(Notification.user_id == ada.id)).all()
    assert notification.event_count == 2


# --- the unsubscribe link: no need to sign in; forged or altered links refused ----------------------


def test_the_unsubscribe_link_of_a_mail_works_without_signing_in_and_get_changes_nothing(app, client, vision, people, mail_server):
    ada, _, _, fay = people
    reject(open_proposal(vision, ada), fay)
    work()
    [message] = mail_server.to(ada)
    path = unsubscribe_path(message)

    page = client.get(path)
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Press the button to stop emails about decisions on my proposals. You do not need to sign in." in html
    assert '<button class="ds_button" type="submit">Stop emails about decisions on my proposals</button>' in html
    assert choice_rows() == []  # a GET (a mail scanner opening the link) changes nothing

    done = client.post(path, csrf=False)
    assert done.status_code == 200
    assert "You will no longer get emails about decisions on my proposals." in done.get_data(as_text=True)
    assert choices_of(ada)["decision"] == "never"
    assert choices_of(ada)["comment_on_mine"] == "immediately"  # only what the link names

    reject(open_proposal(vision, ada, "objective-2"), fay)
    work()
    assert len(mail_server.to(ada)) == 1  # no mail for the next decision
    assert [n.kind for n in db.session.scalars(select(Notification).where(Notification.user_id == ada.id))] == ["decision", "decision"]


def test_a_mail_programs_one_click_post_stops_the_daily_email_without_a_csrf_token(app, client, people):
    _, _, cy, _ = people
    with app.test_request_context():
        path = urlsplit(mails.unsubscribe_url(cy.id, mails.DIGEST)).path
    response = client.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    assert "You will no longer get the daily email." in response.get_data(as_text=True)
    chosen = choices_of(cy)
    assert {kind for kind, how in chosen.items() if how == "never"} == {
        name for name, kind in KINDS.items() if kind.default == "daily"
    }
    assert chosen["decision"] == "immediately"


def _tokens(app, user: User) -> dict[str, str]:
    ours = URLSafeSerializer(app.secret_key, salt="unsubscribe")
    good = ours.dumps([user.id, "decision"])
    signature = good.rsplit(".", 1)[1]
    return {
        "altered": good[:-1] + ("A" if good[-1] != "A" else "B"),
        "another account's id under this signature": ours.dumps([user.id + 1, "decision"]).rsplit(".", 1)[0] + "." + signature,
        "signed with another key": URLSafeSerializer("not-our-secret", salt="unsubscribe").dumps([user.id, "decision"]),
        "signed for another purpose": URLSafeTimedSerializer(app.secret_key, salt="workbench-email-change").dumps([user.id, "decision"]),
        "an unknown kind of mail": ours.dumps([user.id, "everything"]),
        "made up": "not-a-real-token",
    }


@pytest.mark.parametrize(
    "which",
    ["altered", "another account's id under this signature", "signed with another key", "signed for another purpose", "an unknown kind of mail", "made up"],
)
def test_a_forged_or_altered_unsubscribe_link_is_refused_and_changes_nothing(app, client, people, which):
    ada = people[0]
    path = f"/account/unsubscribe/{_tokens(app, ada)[which]}"
    for response in (client.get(path), client.post(path, csrf=False), client.post(path, data={"List-Unsubscribe": "One-Click"}, csrf=False)):
        assert response.status_code == 404
        assert "This unsubscribe link is not one we sent, or it was changed on the way. Nothing was changed." in response.get_data(as_text=True)
    assert choice_rows() == []


def test_a_deleted_accounts_unsubscribe_link_is_refused(app, client, login_as, people):
    ada = people[0]
    with app.test_request_context():
        path = urlsplit(mails.unsubscribe_url(ada.id, "decision")).path
    login_as(ada)
    assert client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"}).status_code == 303
    assert client.post(path, csrf=False).status_code == 404
    assert choice_rows() == []


# --- the choices on /account/emails ------------------------------------------------------------------


def test_the_email_choices_page_asks_for_each_kind_with_the_current_choice(app, client, login_as, people):
    login_as(people[0])
    html = client.get("/account/emails").get_data(as_text=True)
    for name, kind in KINDS.items():
        assert f"<legend>{kind.label}</legend>" in html
        assert f'<p class="ds_hint-text" id="{name}-hint">{kind.hint}</p>' in html
        assert f'id="{name if kind.default == "immediately" else name + "-" + kind.default}" name="{name}" value="{kind.default}" checked>' in html
    assert html.count('type="radio"') == 3 * len(KINDS)
    assert "Email me straight away" in html and "In a daily email" in html and "Do not email me" in html


def test_saving_email_choices_confirms_and_the_account_page_summarises_them(app, client, login_as, people):
    ada = people[0]
    login_as(ada)
    wanted = {name: kind.default for name, kind in KINDS.items()} | {"decision": "daily", "followed_vision": "never"}
    response = client.post("/account/emails", data=wanted)
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    assert sorted(choice_rows()) == sorted([(ada.id, "decision", "daily"), (ada.id, "followed_vision", "never")])
    page = client.get("/account").get_data(as_text=True)
    assert "Your email choices are saved." in page
    assert re.search(r"Decisions on my proposals</dt>\s*<dd[^>]*><span[^>]*>In a daily email<", page)
    assert re.search(r"New versions of visions I follow</dt>\s*<dd[^>]*><span[^>]*>Do not email me<", page)
    assert re.search(r"Comments on my proposals</dt>\s*<dd[^>]*><span[^>]*>Email me straight away<", page)
    assert 'href="/account/emails"' in page

    assert client.post("/account/emails", data=wanted).status_code == 303
    assert "Your email choices are unchanged." in client.get("/account").get_data(as_text=True)


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"decision": "sometimes"}, "Choose how to be emailed about decisions on my proposals: straight away, in a daily email, or not at all"),
        ({"moderation": ""}, "Choose how to be emailed about moderation of what I wrote"),
        ({"moderation": None}, "Choose how to be emailed about moderation of what I wrote"),
    ],
)
def test_a_bad_email_choice_gets_a_message_beside_its_field_and_nothing_is_written(app, client, login_as, people, bad, message):
    login_as(people[0])
    sent = {name: kind.default for name, kind in KINDS.items()} | {"followed_vision": "never"} | bad
    sent = {name: value for name, value in sent.items() if value is not None}
    response = client.post("/account/emails", data=sent)
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    field = next(iter(bad))
    assert f'<p class="ds_question__error-message" id="{field}-error"><span class="visually-hidden">Error:</span> {message}</p>' in html
    assert f'<li><a href="#{field}">{message}</a></li>' in html  # the error summary links to its first radio
    assert f'<fieldset aria-describedby="{field}-hint {field}-error">' in html
    assert choice_rows() == []  # not even the good change to followed_vision


# --- choices change what is mailed ------------------------------------------------------------------------


def test_choosing_never_sends_no_mail_of_that_kind_but_still_notifies(app, client, login_as, vision, people, mail_server):
    ada, _, _, fay = people
    login_as(ada)
    defaults = {name: kind.default for name, kind in KINDS.items()}
    assert client.post("/account/emails", data=defaults | {"decision": "never"}).status_code == 303
    reject(open_proposal(vision, ada), fay)
    work()
    run_digest(app)
    work()
    assert mail_server.to(ada) == []
    [told] = db.session.scalars(select(Notification).where(Notification.user_id == ada.id)).all()
    assert told.kind == "decision" and told.digest_due is False


def test_choosing_daily_puts_a_decision_in_the_digest_and_not_in_a_mail_of_its_own(app, client, login_as, vision, people, mail_server):
    ada, _, _, fay = people
    login_as(ada)
    defaults = {name: kind.default for name, kind in KINDS.items()}
    assert client.post("/account/emails", data=defaults | {"decision": "daily"}).status_code == 303
    reject(open_proposal(vision, ada, title="Plainer words"), fay, "Too vague.")
    work()
    assert mail_server.to(ada) == []

    assert "Daily emails: 1 queued" in run_digest(app)
    work()
    [message] = mail_server.to(ada)
    assert message["Subject"] == "Your daily summary: 1 notification"
    assert "Your proposal “Plainer words” on Objective 1.1 was rejected. The reason given: Too vague." in text_of(message)


# --- the daily digest ----------------------------------------------------------------------------------------


@pytest.fixture
def followed_news(app, vision, people, make_user, mail_server):
    """Ada's proposal, followed by Cy and four others; Bo comments on it twice and writes a
    reflection on Objective 1.2, which Cy follows too. Everything told by the worker."""
    ada, bo, cy, fay = people
    others = {name: make_user(name=name.title(), email=f"{name}@example.org") for name in ("dee", "eve", "hal", "ivy")}
    proposal = open_proposal(vision, ada, title="Plainer words")
    for person in (cy, *others.values()):
        follow(fresh(User, person.id), fresh(Proposal, proposal.id))
    follow(fresh(User, cy.id), element_of(vision, "objective-2"))
    db.session.commit()
    add_comment(proposal, bo, "First thoughts.")
    add_comment(proposal, bo, "Second thoughts.")
    post_reflection(vision, element_of(vision, "objective-2"), fresh(User, bo.id), "A thought on this.")
    db.session.commit()
    work()
    return proposal, others


def digest_due(user: User) -> list[bool]:
    db.session.expire_all()
    return [n.digest_due for n in db.session.scalars(select(Notification).where(Notification.user_id == user.id))]


def test_the_digest_is_one_mail_per_person_listing_what_they_follow(app, people, followed_news, mail_server):
    ada, _, cy, _ = people
    proposal, others = followed_news
    assert mail_server.to(cy) == []  # what one follows waits for the daily email
    assert digest_due(cy) == [True, True]

    output = run_digest(app)
    assert "Daily emails: 5 queued for the mail worker, for 5 people with notifications waiting." in output
    work()
    [message] = mail_server.to(cy)
    assert message["Subject"] == "Your daily summary: 2 notifications"
    body = text_of(message)
    assert "2 things happened on Vision Workbench since your last daily email:" in body
    assert "- Bo Commenter wrote a reflection on Objective 1.2." in body
    assert (
        "- 2 updates on the proposal “Plainer words” on Objective 1.1. "
        "The latest: Bo Commenter commented on the proposal “Plainer words” on Objective 1.1." in body
    )
    assert re.search(rf"\n  https?://[^\s]+/proposals/{proposal.id}\n", body)
    assert re.search(r"\n  https?://[^\s]+/visions/test-vision/elements/objective-2\n", body)
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "To stop the daily email, open this link (no need to sign in)" in body
    assert digest_due(cy) == [False, False]
    assert all(len(mail_server.to(person)) == 1 for person in others.values())
    assert len(mail_server.to(ada)) == 1  # her own proposal's comments came at once, merged: no digest

    assert "Daily emails: 0 queued for the mail worker, for 0 people" in run_digest(app)  # a second run sends nothing
    work()
    assert len(mail_server.to(cy)) == 1 and len(mail_server.received) == 6


def test_the_digest_leaves_out_what_was_read_and_sends_none_to_deactivated_or_deleted_accounts(
    app, client, login_as, people, followed_news, mail_server
):
    _, _, cy, _ = people
    _, others = followed_news
    dee, eve, hal, ivy = (others[name] for name in ("dee", "eve", "hal", "ivy"))
    db.session.execute(update(Notification).where(Notification.user_id == dee.id).values(read_at=utcnow()))
    db.session.execute(update(User).where(User.id == eve.id).values(is_deactivated=True))
    db.session.execute(update(User).where(User.id == hal.id).values(is_deleted=True))  # as if deleted by another way
    db.session.commit()
    login_as(ivy)
    assert client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"}).status_code == 303
    assert digest_due(ivy) == [False]  # deleting the account cleared what waited for her digest

    assert "Daily emails: 1 queued for the mail worker, for 4 people" in run_digest(app)
    work()
    assert [message["To"] for message in mail_server.received if "daily summary" in message["Subject"]] == [cy.email]
    for person in (dee, eve, hal, ivy):
        assert digest_due(person) == [False]  # cleared all the same: not sent later either
    assert db.session.scalars(select(OutgoingMail).where(OutgoingMail.user_id.in_([eve.id, hal.id, ivy.id]))).all() == []


def test_hidden_content_never_appears_in_a_digest(app, vision, people, followed_news, mail_server):
    ada, bo, cy, fay = people
    secret = open_proposal(vision, ada, "objective-2", title="A rewording later hidden")
    follow(fresh(User, cy.id), fresh(Proposal, secret.id))
    db.session.commit()
    add_comment(secret, bo, "Something about it.")
    work()
    assert digest_due(cy) == [True, True, True]
    hide_content("proposal", fresh(Proposal, secret.id), fresh(User, fay.id), "Off topic.")
    db.session.commit()
    work()

    run_digest(app)
    work()
    [message] = mail_server.to(cy)
    body = text_of(message)
    assert message["Subject"] == "Your daily summary: 2 notifications"
    assert "A rewording later hidden" not in body and "Something about it" not in body
    assert f"/proposals/{secret.id}" not in body
    assert digest_due(cy) == [False, False, False]


def test_a_digest_that_fails_half_way_is_not_lost_and_goes_once_on_the_next_run(app, people, followed_news, mail_server, monkeypatch):
    cy = people[2]

    def broken(*args, **kwargs):
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(digest, "queue", broken)
    with app.test_request_context():
        done = digest.send_digests()
    assert (done.sent, done.failed) == (0, 5)
    assert digest_due(cy) == [True, True]  # cleared only with the mail queued: both or neither
    assert db.session.scalars(select(OutgoingMail).where(OutgoingMail.subject.like("Your daily summary%"))).all() == []

    monkeypatch.undo()
    assert "Daily emails: 5 queued" in run_digest(app)
    run_digest(app)
    work()
    assert len(mail_server.to(cy)) == 1


def test_a_long_digest_words_the_newest_and_counts_the_rest(app, people, followed_news, mail_server, monkeypatch):
    cy = people[2]
    monkeypatch.setattr(digest, "LINES", 1)
    run_digest(app)
    work()
    [message] = mail_server.to(cy)
    body = text_of(message)
    assert message["Subject"] == "Your daily summary: 2 notifications"
    assert "- Bo Commenter wrote a reflection on Objective 1.2." in body  # the newest
    assert "Plainer words" not in body
    assert "And 1 more on the site.\n\nAll your notifications: " in body


def test_the_digest_of_a_person_runs_a_bounded_number_of_queries(app, vision, people, followed_news, count_queries, monkeypatch):
    cy = people[2]
    with app.test_request_context():
        with count_queries() as few:
            assert digest.send_digest(cy.id)
        db.session.rollback()
        # As many notifications again, about other things: the same statements.
        bo = fresh(User, people[1].id)
        for key in ("ambition-1", "ambition-2", "condition-1"):
            follow(fresh(User, cy.id), element_of(vision, key))
            db.session.commit()
            post_reflection(vision, element_of(vision, key), bo, "More.")
            db.session.commit()
        work()
        with count_queries() as more:
            assert digest.send_digest(cy.id)
        db.session.rollback()
    assert more.count == few.count <= 16


# --- deleting an account ----------------------------------------------------------------------------


def test_deleting_an_account_blanks_its_mail_and_withholds_what_was_not_sent(app, client, login_as, people, mail_server):
    ada, bo, _, _ = people
    sent = queue(Mail(ada.email, "An old mail", "Dear Ada Author, ...\n"), user_id=ada.id)
    db.session.commit()
    work()
    waiting = queue(Mail(ada.email, "Your proposal was rejected", "Dear Ada Author, the reason ...\n"), user_id=ada.id)
    theirs = queue(Mail(bo.email, "For Bo", "Dear Bo.\n"), user_id=bo.id)
    db.session.commit()

    login_as(ada)
    assert client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"}).status_code == 303
    db.session.expire_all()
    rows = {row.id: row for row in db.session.scalars(select(OutgoingMail))}
    assert (rows[waiting.id].state, rows[waiting.id].last_error) == ("withheld", "Not sent: the account was deleted")
    assert rows[sent.id].state == "sent"
    for row in (rows[sent.id], rows[waiting.id]):
        assert (row.recipient, row.subject, row.body, row.headers) == ("", "", "", {})
    assert (rows[theirs.id].recipient, rows[theirs.id].state) == ("bo@example.org", "waiting")

    work()
    assert [message["Subject"] for message in mail_server.received] == ["An old mail", "For Bo"]


def test_a_deleted_account_is_told_nothing_more(app, client, login_as, vision, people, mail_server):
    ada, bo, cy, _ = people
    proposal = open_proposal(vision, ada)
    follow(fresh(User, cy.id), fresh(Proposal, proposal.id))
    db.session.commit()
    login_as(cy)
    assert client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"}).status_code == 303
    add_comment(proposal, bo, "After Cy left.")
    work()
    run_digest(app)
    work()
    assert db.session.scalars(select(Notification).where(Notification.user_id == cy.id)).all() == []
    assert db.session.scalars(select(OutgoingMail).where(OutgoingMail.user_id == cy.id)).all() == []
    assert [message["To"] for message in mail_server.received] == [ada.email]
