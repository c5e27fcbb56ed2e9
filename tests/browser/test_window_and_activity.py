"""The confirmation pages (closing the consultation, deactivating an account), opening an upcoming
window with its closing time kept, and "your activity": each reached through plain links and form posts,
and each passing axe-core."""

from __future__ import annotations

from datetime import timedelta

from workbench.discussion.services import post_reflection
from workbench.discussion.votes import cast_vote
from workbench.extensions import db
from workbench.models import Proposal, Role, User, Vision, utcnow

from ..factories import add_comment, element_of, fresh, open_proposal
from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def goto(page, path: str, expected: str):
    response = page.goto(path)
    assert response is not None and response.status == 200, f"{path} answered {response and response.status}"
    assert expected in page.inner_text("main"), f"{path} does not show {expected!r}"
    return response


def test_closing_the_consultation_asks_first_and_opening_keeps_the_closing_time(make_vision, page, make_user, login_browser):
    vision = make_vision()
    login_browser(page, make_user(Role.FACILITATOR))
    goto(page, "/visions/test-vision/window", "Close the consultation now")
    page.get_by_role("link", name="Close the consultation now").click()
    assert "Close the consultation now?" in page.inner_text("h1")
    assert "Closing it now replaces that time" in page.inner_text("main")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Yes, close the consultation now").click()
    assert "The consultation is closed" in page.inner_text("main")
    db.session.remove()
    assert fresh(Vision, vision.id).window_state() == "closed"

    # An upcoming window with a closing time: opening now asks which closing time to use.
    upcoming = fresh(Vision, vision.id)
    upcoming.opens_at, upcoming.closes_at = utcnow() + timedelta(days=3), utcnow() + timedelta(days=40)
    db.session.commit()
    goto(page, "/visions/test-vision/window", "When should it close?")
    assert page.get_by_label("At the time already set", exact=False).is_checked()
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Open now").click()
    assert "The consultation is open" in page.inner_text("main")
    db.session.remove()
    opened = fresh(Vision, vision.id)
    assert opened.is_open() and opened.closes_at > utcnow() + timedelta(days=39)


def test_deactivating_an_account_asks_first(make_vision, page, make_user, login_browser):
    make_vision()
    login_browser(page, make_user(Role.ADMIN))
    person = make_user(email="pat@example.org", name="Pat Person")
    goto(page, f"/admin/accounts/{person.id}", "Pat Person")
    page.get_by_role("link", name="Deactivate account of Pat Person").click()
    assert "Deactivate Pat Person's account?" in page.inner_text("h1")
    assert_no_axe_violations(page)
    page.get_by_role("button", name="Yes, deactivate the account").click()
    assert "account is deactivated" in page.inner_text("main")
    db.session.remove()
    assert db.session.get(User, person.id).is_deactivated


def test_your_activity_is_readable_and_fits_a_phone(make_vision, page, make_user, login_browser):
    vision = make_vision()
    me = make_user(name="Mo Me")
    author = make_user(email="author@example.org")
    mine = open_proposal(vision, me, "objective-1")
    theirs = open_proposal(vision, author, "objective-2")
    cast_vote(fresh(Proposal, theirs.id), me, "oppose")
    add_comment(theirs, me, "A comment on someone else's proposal.")
    post_reflection(vision, element_of(vision, "ambition-1"), me, "A reflection on the ambition.")
    db.session.commit()

    login_browser(page, me)
    goto(page, "/account", "Your activity")
    page.get_by_role("link", name="See your proposals, comments, reflections and votes").click()
    main = page.inner_text("main")
    assert "Proposal" in main and "Oppose" in main and "A reflection on the ambition." in main
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
    page.get_by_role("link", name=f"Proposal {mine.id}: a change to Objective 1.1", exact=False).click()
    assert page.url.endswith(f"/proposals/{mine.id}")


def test_an_empty_activity_page_is_accessible(make_vision, page, make_user, login_browser):
    make_vision()
    login_browser(page, make_user())
    goto(page, "/account/activity", "You have not proposed any changes yet")
    assert_no_axe_violations(page)
