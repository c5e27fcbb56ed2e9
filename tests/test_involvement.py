"""The "Get involved" page (issue 17, item 1): the deadline in words from the consultation window
(before it opens and after it closed said plainly), the asks with their links, the next webinars,
the ways in, and the links to it from the vision's page and the home page."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from workbench.involvement.pages import deadline_in_words, moment_in_words
from workbench.involvement.services import offer_to_help
from workbench.models import Role, Webinar, db, utcnow

LONDON = ZoneInfo("Europe/London")


def text_of(page: str) -> str:
    """The page's words, without tags, on one line."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def page_of(client, vision) -> str:
    response = client.get(f"/visions/{vision.slug}/get-involved")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_webinar(vision, title: str, starts_in: timedelta, *, capacity: int = 30) -> Webinar:
    starts = (utcnow() + starts_in).replace(second=0, microsecond=0)
    webinar = Webinar(
        vision_id=vision.id, title=title, description="", starts_at=starts, ends_at=starts + timedelta(hours=1),
        capacity=capacity, joining_link="https://meet.example.org/secret-room", recording_link="", places_given=0,
    )
    db.session.add(webinar)
    db.session.commit()
    return webinar


# --- the deadline in words ---------------------------------------------------------------------------


def test_the_deadline_is_said_in_words_on_the_uk_clock(client, vision):
    vision.closes_at = datetime(2030, 11, 30, 23, 59, tzinfo=LONDON)
    db.session.commit()
    assert "You can respond until 30 November 2030, 23:59 UK time." in text_of(page_of(client, vision))


def test_a_deadline_in_summer_is_the_time_on_a_uk_clock_not_utc():
    assert moment_in_words(datetime(2030, 6, 30, 16, 0, tzinfo=ZoneInfo("UTC"))) == "30 June 2030, 17:00 UK time"


def test_before_the_consultation_opens_the_page_says_when_it_will(client, make_vision):
    vision = make_vision(open_window=False)
    vision.opens_at = datetime(2030, 3, 1, 9, 0, tzinfo=LONDON)
    vision.closes_at = datetime(2030, 5, 31, 17, 0, tzinfo=LONDON)
    db.session.commit()
    words = text_of(page_of(client, vision))
    assert "The consultation has not opened yet. You can respond from 1 March 2030, 09:00 UK time until 31 May 2030, 17:00 UK time." in words
    assert "while the consultation is open" in words


def test_after_the_consultation_closed_the_page_says_so_plainly(client, vision):
    vision.opens_at = utcnow() - timedelta(days=60)
    vision.closes_at = datetime(2026, 1, 15, 12, 0, tzinfo=LONDON)
    db.session.commit()
    words = text_of(page_of(client, vision))
    assert "The consultation closed on 15 January 2026, 12:00 UK time, so responses are no longer accepted." in words
    assert "You can respond until" not in words


@pytest.mark.parametrize(
    "opens, closes, expected",
    [
        (None, None, "There is no consultation open at the moment."),
        (timedelta(days=-1), None, "You can respond now: no closing date has been set yet."),
    ],
)
def test_a_window_without_dates_is_said_plainly(make_vision, opens, closes, expected):
    vision = make_vision(open_window=False)
    vision.opens_at = utcnow() + opens if opens is not None else None
    vision.closes_at = None
    assert deadline_in_words(vision).startswith(expected)


# --- the asks and the ways in --------------------------------------------------------------------------


def test_the_asks_link_to_the_permalink_the_ambitions_aligned_work_and_volunteering(client, vision):
    page = page_of(client, vision)
    assert "<h1" in page and "Get involved" in page
    assert f'href="/visions/{vision.slug}/v/1/"' in page
    for key, name in (("ambition-1", "Ambition 1: Ambition 1"), ("ambition-2", "Ambition 2: Ambition 2")):
        assert f'href="/visions/{vision.slug}/elements/{key}">{name}</a>' in page
    assert f'href="/visions/{vision.slug}/aligned-work/new"' in page
    assert f'href="/visions/{vision.slug}/volunteer"' in page
    assert f'href="/visions/{vision.slug}/webinars"' in page
    words = text_of(page)
    for ask in ("Read the draft", "Reflect on the vision and its ambitions", "Tell us about aligned work",
                "Volunteer to help refine it", "Join a webinar"):
        assert ask in words


def test_an_unpublished_vision_says_its_draft_is_not_out_yet(client, make_vision):
    vision = make_vision(publish=False, slug="not-yet")
    words = text_of(page_of(client, vision))
    assert "The first version has not been published yet." in words
    assert "/v/1/" not in page_of(client, vision)


def test_the_next_three_sessions_are_listed_in_order_and_past_ones_are_not(client, vision):
    add_webinar(vision, "Already over", timedelta(days=-3))
    add_webinar(vision, "Fourth session", timedelta(days=40))
    second = add_webinar(vision, "Second session", timedelta(days=10), capacity=12)
    add_webinar(vision, "First session", timedelta(days=2))
    add_webinar(vision, "Third session", timedelta(days=20))
    page = page_of(client, vision)
    words = text_of(page)
    assert words.index("First session") < words.index("Second session") < words.index("Third session")
    assert "Fourth session" not in words and "Already over" not in words
    assert f'href="/webinars/{second.id}"' in page and "12 of 12 places left" in words
    assert "secret-room" not in page  # the joining link is for people registered


def test_without_sessions_the_page_points_to_the_webinars_page(client, vision):
    words = text_of(page_of(client, vision))
    assert "No webinars are scheduled at the moment." in words


def test_anonymous_visitors_are_shown_how_to_take_part(client, vision):
    page = page_of(client, vision)
    assert 'href="/auth/register"' in page and "/auth/login?next=" in page
    assert "may be published with your name" in text_of(page)


def test_someone_who_offered_to_help_sees_it_and_where_to_change_it(client, vision, make_user, login_as):
    person = login_as(make_user(name="Vera Volunteer"))
    offer_to_help(vision, person, ambitions={}, ambition_keys=[], skills="Plain English.", availability="hour-a-month")
    db.session.commit()
    words = text_of(page_of(client, vision))
    assert "You offered to help on" in words and "Change or withdraw your offer" in words
    assert "You are signed in as Vera Volunteer" in words


def test_the_vision_page_and_the_home_page_link_to_it(client, vision):
    link = f'href="/visions/{vision.slug}/get-involved"'
    assert link in client.get(f"/visions/{vision.slug}/").get_data(as_text=True)
    assert link in client.get("/").get_data(as_text=True)


def test_an_unknown_vision_is_a_404(client):
    assert client.get("/visions/no-such-vision/get-involved").status_code == 404


def test_the_page_runs_a_bounded_number_of_queries(client, vision, make_user, login_as, count_queries):
    person = login_as(make_user())

    def count() -> int:
        with count_queries() as log:
            assert client.get(f"/visions/{vision.slug}/get-involved").status_code == 200
        return log.count

    add_webinar(vision, "The first session", timedelta(days=1))
    before = count()
    for n in range(5):
        add_webinar(vision, f"Session {n}", timedelta(days=n + 2))
    offer_to_help(vision, person, ambitions={"ambition-1": "A"}, ambition_keys=["ambition-1"], skills="Skills.", availability="hour-a-month")
    for _ in range(3):
        offer_to_help(vision, make_user(), ambitions={}, ambition_keys=[], skills="Skills.", availability="days-a-month")
    db.session.commit()
    assert count() == before


def test_a_facilitator_is_not_shown_volunteers_emails_on_the_public_page(client, vision, make_user, login_as):
    offer_to_help(vision, make_user(email="hidden.person@example.org"), ambitions={}, ambition_keys=[], skills="S.", availability="hour-a-month")
    db.session.commit()
    login_as(make_user(Role.FACILITATOR))
    assert "hidden.person@example.org" not in page_of(client, vision)


def test_facilitators_find_the_volunteers_from_the_page_and_nobody_else_does(client, vision, make_user, login_as):
    link = f'href="/visions/{vision.slug}/facilitate/volunteers"'
    assert link not in page_of(client, vision)
    login_as(make_user())
    assert link not in page_of(client, vision)
    login_as(make_user(Role.FACILITATOR))
    assert link in page_of(client, vision)
