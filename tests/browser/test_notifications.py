"""Told in the app (issue 15), in a real browser: a facilitator rejects a proposal with a reason; its
author sees the unread count in the header, opens the notifications page, follows the notification
to the proposal and reads the reason. axe-core finds no WCAG 2.2 AA violation on the notifications
page, the keyboard reaches its "Mark as read" buttons, and marking read empties the header's count.
"""

from __future__ import annotations

import re

from workbench import worker
from workbench.extensions import db
from workbench.facilitation.decisions import reject_proposal
from workbench.models import Follow, Notification, Proposal, Role

from tests.factories import open_proposal

from .helpers import NARROW, assert_no_horizontal_scroll

REASON = "It repeats Objective 1.2 word for word."


def test_the_author_is_told_of_the_rejection_and_reads_the_reason(
    app, page, new_page, login_browser, make_user, make_vision, axe
):
    vision = make_vision()
    author = make_user(name="Ada Author")
    facilitator = make_user(Role.FACILITATOR, name="Fay Facilitator")
    proposal = open_proposal(vision, author, title="Plainer words")

    # The facilitator rejects it with a public reason.
    login_browser(page, facilitator)
    page.goto(f"/proposals/{proposal.id}/reject")
    page.get_by_label("Reason for rejecting (shown publicly)").fill(REASON)
    page.get_by_role("button", name=f"Reject proposal {proposal.id}").click()
    assert f"You rejected proposal {proposal.id}" in page.inner_text("main")

    # Its author sees the count in the header, in words.
    mine = new_page()
    login_browser(mine, author)
    mine.goto(f"/visions/{vision.slug}/")
    header_link = mine.get_by_role("link", name=re.compile(r"^Notifications"))
    assert mine.get_by_role("link", name="Notifications (1 unread)", exact=True).count() == 1
    header_link.click()
    mine.wait_for_url(re.compile(r"/notifications$"))
    main = mine.inner_text("main")
    assert "You have 1 unread notification." in main
    assert "Unread" in main
    axe(mine)

    # The keyboard reaches the mark-as-read button (after the notification's link).
    button = mine.get_by_role("button", name="Mark as read")
    for _ in range(60):
        mine.keyboard.press("Tab")
        if button.evaluate("el => el === document.activeElement"):
            break
    else:
        raise AssertionError("Tab never reached the Mark as read button")

    # The notification leads to the proposal, where the reason is.
    mine.get_by_role("link", name=re.compile(r"Your proposal “Plainer words” on Objective 1\.1 was rejected")).click()
    mine.wait_for_url(re.compile(rf"/proposals/{proposal.id}$"))
    assert REASON in mine.inner_text("main")

    # Back on the page, marking it read (Enter on the focused button) empties the count.
    mine.goto("/notifications")
    mine.get_by_role("button", name="Mark as read").focus()
    with mine.expect_navigation():
        mine.keyboard.press("Enter")
    assert "The notification is marked as read." in mine.inner_text("main")
    assert mine.get_by_role("link", name=re.compile(r"^Notifications")).inner_text().strip() == "Notifications"
    db.session.remove()
    assert db.session.query(Notification).filter_by(user_id=author.id).one().read_at is not None
    axe(mine)


def test_the_notifications_page_reflows_at_320_pixels(app, new_page, login_browser, make_user, make_vision):
    vision = make_vision()
    author = make_user(name="Ada Author")
    facilitator = make_user(Role.FACILITATOR, name="Fay Facilitator")
    proposal = open_proposal(vision, author, title="A rather long title that has to wrap on a narrow screen")
    reject_proposal(db.session.get(Proposal, proposal.id), facilitator, REASON)
    db.session.commit()
    with app.test_request_context():
        worker.one_pass(limit=None)
    narrow = new_page(viewport=NARROW)
    login_browser(narrow, author)
    narrow.goto("/notifications")
    assert "was rejected" in narrow.inner_text("main")
    assert_no_horizontal_scroll(narrow)


def test_following_a_proposal_in_place_and_back(app, page, login_browser, make_user, make_vision, axe):
    vision = make_vision()
    proposal = open_proposal(vision, make_user(name="Ada Author"))
    reader = make_user(name="Cy Follower")
    login_browser(page, reader)
    page.goto(f"/proposals/{proposal.id}")
    page.get_by_role("button", name="Follow this proposal").click()
    status = page.get_by_role("status").filter(has_text="You now follow")
    status.wait_for()
    assert f"You now follow proposal {proposal.id}: you are told of its comments and the decision on it." in status.inner_text()
    assert page.url.endswith(f"/proposals/{proposal.id}")  # swapped in place, no new page
    axe(page)
    page.get_by_role("button", name="Following – Unfollow this proposal").click()
    page.get_by_role("status").filter(has_text="You no longer follow").wait_for()
    page.get_by_role("button", name="Follow this proposal").wait_for()
    db.session.remove()
    assert db.session.query(Follow).filter_by(user_id=reader.id).count() == 0
