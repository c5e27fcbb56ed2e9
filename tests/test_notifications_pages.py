"""Notifications in the app and following (issue 15, the pages): the notifications page, marking
read, the header's unread count, and the follow forms on the vision, element and proposal pages."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench import worker
from workbench.discussion.services import hide_content
from workbench.facilitation.decisions import reject_proposal
from workbench.models import AuditEvent, Follow, Notification, Proposal, Role, db, utcnow
from workbench.notifications.following import follow
from workbench.notifications.reading import time_in_words

from .factories import add_comment, element_of, fresh, open_proposal

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")


def tell_all(app) -> None:
    with app.test_request_context():
        worker.one_pass(limit=None)


def notifications_of(user) -> list[Notification]:
    return list(
        db.session.scalars(
            select(Notification).where(Notification.user_id == user.id).order_by(Notification.id)
            .execution_options(populate_existing=True)
        )
    )


def follows_of(user) -> list[tuple[str, int]]:
    return list(db.session.execute(select(Follow.thing_type, Follow.thing_id).where(Follow.user_id == user.id)).tuples())


def text_of(response) -> str:
    """The page's words, tags removed and spaces squeezed."""
    html = response.get_data(as_text=True)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" )", ")").replace("( ", "(")


@pytest.fixture
def people(make_user):
    return make_user(name="Ada Author"), make_user(name="Bo Commenter"), make_user(name="Cy Follower"), make_user(Role.FACILITATOR, name="Fay Facilitator")


@pytest.fixture
def rejected(app, vision, people):
    """Ada's proposal, rejected by Fay with a reason, and Ada told of it."""
    ada, _, _, fay = people
    proposal = open_proposal(vision, ada, title="Shorter words")
    reject_proposal(fresh(Proposal, proposal.id), fay, "It repeats Objective 1.2.")
    db.session.commit()
    tell_all(app)
    return proposal


# --- the page -------------------------------------------------------------------------------------


def test_the_page_says_each_notification_in_words_and_links_to_what_it_is_about(client, login_as, people, rejected):
    ada = people[0]
    login_as(ada)
    response = client.get("/notifications")
    assert response.status_code == 200
    assert response.headers["Cache-Control"].startswith("private")
    page = text_of(response)
    assert "You have 1 unread notification." in page
    assert (
        "Unread Your proposal “Shorter words” on Objective 1.1 was rejected. The reason given: It repeats Objective 1.2." in page
    )
    html = response.get_data(as_text=True)
    assert f'href="/proposals/{rejected.id}"' in html
    assert "just now" in page
    assert "Mark as read" in page and "Mark all as read" in page
    assert 'href="/account"' in html and "emailed to you" in page


def test_a_new_account_sees_the_empty_state_and_no_buttons(client, login_as, people):
    login_as(people[1])
    page = text_of(client.get("/notifications"))
    assert "You have no notifications yet." in page
    assert "You have no unread notifications." in page
    assert "Mark all as read" not in page and "Mark as read" not in page


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get("/notifications")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]


def test_the_header_counts_unread_notifications_for_signed_in_people_only(app, client, login_as, vision, people, rejected):
    ada, bo, _, _ = people
    add_comment(rejected, bo, "A thought.")
    tell_all(app)
    login_as(ada)
    page = text_of(client.get("/"))
    assert "Notifications (2 unread)" in page
    assert 'href="/notifications"' in client.get("/").get_data(as_text=True)
    login_as(bo)
    assert "Notifications" in text_of(client.get("/")) and "unread)" not in text_of(client.get("/"))
    client.post("/auth/logout")
    assert "Notifications" not in text_of(client.get("/"))


def test_marking_one_read_without_javascript(client, login_as, people, rejected):
    ada = people[0]
    [told] = notifications_of(ada)
    login_as(ada)
    response = client.post(f"/notifications/{told.id}/read", data={"next": "/notifications"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert notifications_of(ada)[0].read_at is not None
    page = text_of(client.get("/notifications"))
    assert "The notification is marked as read." in page
    assert "You have no unread notifications." in page
    assert "Unread" not in page and "Mark as read" not in page
    assert "was rejected" in page and "Read" in page  # still listed, as read
    # Twice is harmless.
    client.post(f"/notifications/{told.id}/read")
    assert "already marked as read" in text_of(client.get("/notifications"))


def test_marking_all_read(app, client, login_as, people, rejected):
    ada, bo, _, _ = people
    add_comment(rejected, bo, "A thought.")
    tell_all(app)
    login_as(ada)
    response = client.post("/notifications/read-all", data={"next": "https://evil.example/"})
    assert response.status_code == 302 and response.headers["Location"] == "/notifications"
    assert all(n.read_at is not None for n in notifications_of(ada)) and len(notifications_of(ada)) == 2
    page = text_of(client.get("/notifications"))
    assert "2 notifications marked as read." in page
    assert "Notifications (" not in page


def test_marking_all_read_leaves_unread_what_arrived_after_the_page_was_shown(app, client, login_as, people, rejected):
    ada, bo, cy, _ = people
    login_as(ada)
    page = client.get("/notifications").get_data(as_text=True)
    shown_at = re.search(r'name="shown_at" value="([^"]+)"', page).group(1)
    # While Ada reads the page, Cy comments on her rejected proposal: news she has not seen.
    add_comment(rejected, cy, "Arrived later.")
    tell_all(app)
    response = client.post("/notifications/read-all", data={"shown_at": shown_at})
    assert response.status_code == 302
    assert [(n.kind, n.read_at is None) for n in notifications_of(ada)] == [("decision", False), ("comment_on_mine", True)]
    assert "1 notification marked as read." in text_of(client.get("/notifications"))
    # Not our form's value: refused in words, nothing marked.
    assert client.post("/notifications/read-all", data={"shown_at": "yesterday"}).status_code == 400
    assert notifications_of(ada)[1].read_at is None


def test_nobody_can_read_or_mark_another_persons_notifications(client, login_as, people, rejected):
    ada, bo, _, fay = people
    [told] = notifications_of(ada)
    for someone in (bo, fay):
        login_as(someone)
        assert client.post(f"/notifications/{told.id}/read").status_code == 404
        client.post("/notifications/read-all")
        assert "It repeats Objective 1.2." not in text_of(client.get("/notifications"))
    assert notifications_of(ada)[0].read_at is None
    assert client.post("/notifications/99999/read").status_code == 404


def test_marking_read_needs_a_csrf_token_and_a_post(client, login_as, people, rejected):
    ada = people[0]
    [told] = notifications_of(ada)
    login_as(ada)
    assert client.post(f"/notifications/{told.id}/read", csrf=False).status_code == 400
    assert client.get(f"/notifications/{told.id}/read").status_code == 405
    assert client.get("/notifications/read-all").status_code == 405
    assert notifications_of(ada)[0].read_at is None


def test_hidden_content_never_appears_on_the_page(app, client, login_as, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada, title="Bold words")
    follow(cy, fresh(Proposal, proposal.id))
    db.session.commit()
    comment = add_comment(proposal, bo, "Something rude.")
    tell_all(app)
    login_as(cy)
    assert "Bo Commenter commented on the proposal “Bold words” on Objective 1.1." in text_of(client.get("/notifications"))

    # The comment is hidden after it was told: its words never were in the notification, and are not now.
    hide_content("comment", fresh(type(comment), comment.id), fay, "Not civil.")
    db.session.commit()
    tell_all(app)
    for person in (ada, cy):
        login_as(person)
        assert "Something rude." not in client.get("/notifications").get_data(as_text=True)

    # The proposal is hidden: nothing of it is shown to its follower, who is told why the page is shorter.
    hide_content("proposal", fresh(Proposal, proposal.id), fay, "Off topic.")
    db.session.commit()
    tell_all(app)
    login_as(cy)
    response = client.get("/notifications")
    html = response.get_data(as_text=True)
    assert "Bold words" not in html and f"/proposals/{proposal.id}" not in html
    assert "1 notification on this page is about something that can no longer be shown" in text_of(response)
    # Its author still sees it (they can still open the proposal).
    login_as(ada)
    assert "Bold words" in client.get("/notifications").get_data(as_text=True)


def test_the_unread_count_leaves_out_what_was_hidden_since(app, client, login_as, vision, people):
    ada, bo, cy, fay = people
    proposal = open_proposal(vision, ada, title="Bold words")
    follow(cy, fresh(Proposal, proposal.id))
    db.session.commit()
    rude = add_comment(proposal, bo, "Something rude.")
    tell_all(app)
    assert [n.read_at for n in notifications_of(cy)] == [None]

    # Hidden after it was told: Cy's only line about it is no longer shown, so no longer counted.
    hide_content("comment", fresh(type(rude), rude.id), fay, "Not civil.")
    db.session.commit()
    tell_all(app)
    assert [n.read_at is not None for n in notifications_of(cy)] == [True]
    login_as(cy)
    assert text_of(client.get("/notifications")).count("Unread") == 0
    # Bo, its author, is told of the hiding: that one is unread.
    assert [(n.kind, n.read_at) for n in notifications_of(bo)] == [("moderation", None)]

    # Two comments merged into one line, one of them hidden: the line still shows ("Someone"), unread.
    add_comment(proposal, bo, "A fair point.")
    second = add_comment(proposal, bo, "Another rude one.")
    tell_all(app)
    hide_content("comment", fresh(type(second), second.id), fay, "Not civil.")
    db.session.commit()
    tell_all(app)
    unread = [n for n in notifications_of(cy) if n.read_at is None]
    assert [n.event_count for n in unread] == [2]

    # The proposal is hidden: nothing of it is shown to Cy, so nothing is counted; Ada still sees hers.
    hide_content("proposal", fresh(Proposal, proposal.id), fay, "Off topic.")
    db.session.commit()
    tell_all(app)
    assert all(n.read_at is not None for n in notifications_of(cy))
    assert any(n.read_at is None for n in notifications_of(ada))


# --- paging and queries ---------------------------------------------------------------------------


def make_notifications(user, vision, proposal, count: int) -> None:
    """`count` notifications for `user`, newest last, about a proposal, an element and the vision in
    turn; the newest of each kind unread, the others read (one unread per kind and thing)."""
    element = element_of(vision)
    kinds = [
        ("decision", "proposal", proposal.id, "proposal.rejected", {"reason": "No."}),
        ("followed_element", "element", element.id, "reflection.posted", {}),
        ("followed_vision", "vision", vision.id, "version.published", {"number": 1}),
        ("comment_on_mine", "proposal", proposal.id, "comment.posted", {}),
    ]
    start = utcnow() - timedelta(hours=count)
    for n in range(count):
        kind, about_type, about_id, action, details = kinds[n % len(kinds)]
        event = AuditEvent(action=action, subject_type=about_type, subject_id=about_id, vision_id=vision.id, details=details)
        db.session.add(event)
        db.session.flush()
        moment = start + timedelta(hours=n)
        db.session.add(
            Notification(
                user_id=user.id, kind=kind, about_type=about_type, about_id=about_id, vision_id=vision.id,
                first_event_id=event.id, last_event_id=event.id, created_at=moment, updated_at=moment,
                read_at=None if n >= count - len(kinds) else moment,
            )
        )
    db.session.commit()


def test_the_page_runs_as_many_queries_for_40_notifications_as_for_5(client, login_as, make_user, vision, people, count_queries):
    ada = people[0]
    proposal = open_proposal(vision, ada)
    few, lots = make_user(name="Few"), make_user(name="Lots")
    make_notifications(few, vision, proposal, 5)
    make_notifications(lots, vision, proposal, 40)
    counts = []
    for person, shown in ((few, 5), (lots, 20)):
        login_as(person)
        client.get("/notifications")  # warm the caches a first request fills
        with count_queries() as log:
            response = client.get("/notifications")
        assert len(re.findall(r'<li class="app-notification', response.get_data(as_text=True))) == shown
        counts.append(log.count)
    assert counts[0] == counts[1]
    # The person, the page, what it is about (Things.of: about six), and the unread count once for
    # the header and the page together.
    assert counts[1] <= 12
    assert sum("FROM notifications" in statement and "count(" in statement for statement in log.statements) == 1


def test_pages_of_notifications_newest_first(client, login_as, make_user, vision, people):
    ada = people[0]
    proposal = open_proposal(vision, ada)
    reader = make_user(name="Reader")
    make_notifications(reader, vision, proposal, 25)
    ids = [n.id for n in notifications_of(reader)]
    login_as(reader)
    first = client.get("/notifications").get_data(as_text=True)
    assert "You have 4 unread notifications." in text_of(client.get("/notifications"))
    shown = [int(i) for i in re.findall(r'<li class="app-notification[^"]*" id="notification-(\d+)"', first)]
    assert shown == ids[::-1][:20]
    assert "Next page" in first and "Previous page" not in first
    second = client.get(f"/notifications?after={shown[-1]}").get_data(as_text=True)
    rest = [int(i) for i in re.findall(r'<li class="app-notification[^"]*" id="notification-(\d+)"', second)]
    assert rest == ids[::-1][20:]
    assert "Previous page" in second and "Next page" not in second
    for bad in ("after=abc", "after=-1", "before=99999999999999999999", "last=2"):
        assert client.get(f"/notifications?{bad}").status_code == 200


def test_time_in_words():
    now = utcnow()
    assert time_in_words(now - timedelta(seconds=20), now) == "just now"
    assert time_in_words(now - timedelta(minutes=1, seconds=5), now) == "1 minute ago"
    assert time_in_words(now - timedelta(minutes=42), now) == "42 minutes ago"
    assert time_in_words(now - timedelta(hours=5, minutes=3), now) == "5 hours ago"
    assert re.fullmatch(r"\d{1,2} \w+ \d{4}, \d\d:\d\d \w+", time_in_words(now - timedelta(days=3), now))


# --- following ------------------------------------------------------------------------------------


def test_follow_and_unfollow_a_proposal_without_javascript(client, login_as, vision, people):
    ada, _, cy, _ = people
    proposal = open_proposal(vision, ada)
    login_as(cy)
    page = text_of(client.get(f"/proposals/{proposal.id}"))
    assert "Follow this proposal to be told of its comments and the decision on it" in page
    url = f"/proposals/{proposal.id}"
    response = client.post("/follow", data={"thing": "proposal", "id": str(proposal.id), "next": url})
    assert response.status_code == 302 and response.headers["Location"] == url
    assert follows_of(cy) == [("proposal", proposal.id)]
    page = text_of(client.get(url))
    assert f"You now follow proposal {proposal.id}: you are told of its comments and the decision on it." in page
    assert "Following – Unfollow this proposal" in page
    # Twice: still one follow.
    client.post("/follow", data={"thing": "proposal", "id": str(proposal.id), "next": url})
    assert follows_of(cy) == [("proposal", proposal.id)]
    response = client.post("/unfollow", data={"thing": "proposal", "id": str(proposal.id), "next": url})
    assert response.status_code == 302
    assert follows_of(cy) == []
    page = text_of(client.get(url))
    assert f"You no longer follow proposal {proposal.id}." in page
    assert "Follow this proposal" in page


def test_authors_follow_their_proposals_from_the_start(client, login_as, vision, people):
    ada = people[0]
    proposal = open_proposal(vision, ada)
    login_as(ada)
    assert "Following – Unfollow this proposal" in text_of(client.get(f"/proposals/{proposal.id}"))


def test_follow_a_vision_and_an_element_and_be_told(app, client, login_as, vision, people):
    ada, bo, cy, _ = people
    element = element_of(vision)
    login_as(cy)
    vision_page = text_of(client.get(f"/visions/{vision.slug}/"))
    assert "Follow this vision to be told when a new version of it is published" in vision_page
    element_page = text_of(client.get(f"/visions/{vision.slug}/elements/objective-1"))
    assert "Follow this part of the vision to be told of new proposals and reflections on it" in element_page
    client.post("/follow", data={"thing": "vision", "id": str(vision.id)})
    response = client.post("/follow", data={"thing": "element", "id": str(element.id)})
    assert response.headers["Location"] == f"/visions/{vision.slug}/elements/objective-1"
    assert sorted(follows_of(cy)) == [("element", element.id), ("vision", vision.id)]
    assert "Following – Unfollow this vision" in text_of(client.get(f"/visions/{vision.slug}/"))
    assert "Following – Unfollow this part of the vision" in text_of(client.get(f"/visions/{vision.slug}/elements/objective-1"))
    login_as(bo)
    client.post(f"/visions/{vision.slug}/elements/objective-1/reflections", data={"body": "A thought on this."})
    login_as(cy)
    page = text_of(client.get("/notifications"))
    assert "Bo Commenter wrote a reflection on Objective 1.1." in page


def test_signed_out_visitors_are_asked_to_sign_in_to_follow(client, vision, people):
    proposal = open_proposal(vision, people[0])
    for url in (f"/visions/{vision.slug}/", f"/visions/{vision.slug}/elements/objective-1", f"/proposals/{proposal.id}"):
        response = client.get(url)
        assert "Sign in to follow" in text_of(response)
        assert "/auth/login?next=" in response.get_data(as_text=True)
    response = client.post("/follow", data={"thing": "proposal", "id": str(proposal.id), "next": f"/proposals/{proposal.id}"})
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert db.session.scalar(select(func.count()).select_from(Follow)) == 1  # the author's own


def test_bad_follow_requests_are_refused_and_write_nothing(client, login_as, vision, people):
    ada, _, cy, fay = people
    proposal = open_proposal(vision, ada)
    login_as(cy)
    for data, status in (
        ({"thing": "banana", "id": "1"}, 400),
        ({"thing": "proposal", "id": "abc"}, 400),
        ({"thing": "proposal", "id": "-1"}, 400),
        ({"thing": "proposal", "id": "١"}, 400),
        ({"thing": "proposal"}, 400),
        ({}, 400),
        ({"thing": "proposal", "id": "99999999999999999999999"}, 400),
        ({"thing": "proposal", "id": "99999"}, 404),
        ({"thing": "element", "id": "99999"}, 404),
        ({"thing": "vision", "id": "99999"}, 404),
    ):
        assert client.post("/follow", data=data).status_code == status, data
        assert client.post("/unfollow", data=data).status_code == status, data
    assert client.get("/follow").status_code == 405
    assert client.post("/follow", data={"thing": "vision", "id": str(vision.id)}, csrf=False).status_code == 400
    # A hidden proposal is not there for anyone but its author and the facilitators.
    hide_content("proposal", fresh(Proposal, proposal.id), fay, "Off topic.")
    db.session.commit()
    assert client.post("/follow", data={"thing": "proposal", "id": str(proposal.id)}).status_code == 404
    assert follows_of(cy) == []
    # Only pages of this site to come back to.
    response = client.post("/follow", data={"thing": "vision", "id": str(vision.id), "next": "//evil.example/"})
    assert response.headers["Location"] == f"/visions/{vision.slug}/"


def test_follow_with_htmx_answers_the_form_in_place(client, login_as, vision, people):
    cy = people[2]
    login_as(cy)
    response = client.post(
        "/follow", data={"thing": "vision", "id": str(vision.id), "next": f"/visions/{vision.slug}/"}, headers={"HX-Request": "true"}
    )
    assert response.status_code == 200 and "HX-Request" in response.headers["Vary"]
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<section class="app-follow" id="follow-vision-{vision.id}"')
    assert "You now follow “Vision test-vision”" in html and "Following – Unfollow" in html
    assert "<html" not in html
