"""Webinars (issue 17, item 5): scheduling, registering with a waiting list, cancelling (also by a
mail's link without signing in), the .ics file, the reminder the day before, who sees the joining
link and the attendees, and bad input. The concurrency test runs against a live server (threads),
on SQLite and, with WORKBENCH_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import icalendar
import pytest
from sqlalchemy import select

from workbench.mail import read_outbox
from workbench.models import AuditEvent, OutgoingMail, Registration, Role, User, Webinar, db, utcnow
from workbench.webinars import mails as webinar_mails
from workbench import worker
from workbench.webinars.registrations import cancel_registration, lock_webinar, register_for_webinar

from .test_facilitation_concurrency import browser_for, post_together, server  # noqa: F401 (a fixture)

JOIN = "https://meet.example.org/secret-room-4711"
LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def make_webinar(app, vision, make_user):
    facilitator = make_user(Role.FACILITATOR, name="Fran Facilitator")

    def make(*, capacity: int = 5, starts_in: timedelta = timedelta(days=10), title: str = "Data for wellbeing") -> Webinar:
        starts = (utcnow() + starts_in).replace(second=0, microsecond=0)
        if not starts_in % timedelta(days=1):
            # Days away: at 10:00, so that the hour it ends is on the same day whenever the tests run
            # (from 23:00 UK time the edit form's end time came before its start, and was refused).
            starts = starts.replace(hour=10, minute=0)
        webinar = Webinar(
            vision_id=vision.id, title=title, description="An hour on the vision.\n\nQuestions welcome.",
            starts_at=starts, ends_at=starts + timedelta(hours=1), capacity=capacity, joining_link=JOIN,
            recording_link="", places_given=0, created_by_id=facilitator.id,
        )
        db.session.add(webinar)
        db.session.commit()
        return webinar

    return make


def register(person: User, webinar_id: int) -> Registration:
    """Register as the view does: lock, register, commit (no mail delivery here: the test reads the outbox rows)."""
    with worker.links_context():
        registration = register_for_webinar(lock_webinar(webinar_id), person)
        db.session.commit()
    return registration


def cancel(registration: Registration) -> None:
    with worker.links_context():
        cancel_registration(registration, db.session.get(User, registration.user_id))
        db.session.commit()


def states(webinar_id: int) -> dict[str, str]:
    db.session.remove()
    rows = db.session.execute(
        select(User.display_name, Registration.state).join(User, User.id == Registration.user_id)
        .where(Registration.webinar_id == webinar_id).order_by(Registration.place)
    )
    return dict(rows.tuples().all())


def mails_to(app, address: str):
    return [m for m in read_outbox(app.config["MAIL_OUTBOX"]) if m["To"] == address]


def calendar_of(message) -> icalendar.Calendar:
    parts = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(parts) == 1 and parts[0].get_filename() == "webinar.ics"
    return icalendar.Calendar.from_ical(parts[0].get_content())


def csrf_of(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


# --- the journey without JavaScript -----------------------------------------------------------------


def test_a_facilitator_schedules_a_session_and_a_volunteer_registers_and_cancels(app, client, vision, make_user, login_as):
    facilitator = login_as(make_user(Role.FACILITATOR))
    day = (datetime.now(LONDON) + timedelta(days=20)).date().isoformat()
    response = client.post(
        f"/visions/{vision.slug}/webinars/new",
        data={"title": "Ambition 1 explained", "description": "What it means.", "date": day, "starts": "10:00",
              "ends": "11:30", "capacity": "40", "joining_link": JOIN},
    )
    assert response.status_code == 303
    webinar = db.session.scalars(select(Webinar)).one()
    assert webinar.starts_at.astimezone(LONDON).strftime("%Y-%m-%d %H:%M") == f"{day} 10:00"
    assert webinar.ends_at - webinar.starts_at == timedelta(minutes=90)
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is scheduled" in page and "40 of 40 places left" in page

    volunteer = login_as(make_user(name="Vera Volunteer"))
    assert volunteer.id != facilitator.id
    page = client.get(f"/webinars/{webinar.id}").get_data(as_text=True)
    assert JOIN not in page and ">Register<" in page
    response = client.post(f"/webinars/{webinar.id}/register")
    assert response.status_code == 303
    page = client.get(f"/webinars/{webinar.id}").get_data(as_text=True)
    assert "You are registered for" in page and "You are registered." in page and JOIN in page
    assert "39 of 40 places left" in page
    listing = client.get(f"/visions/{vision.slug}/webinars").get_data(as_text=True)
    assert "Ambition 1 explained" in listing and "39 of 40 places left" in listing and JOIN not in listing

    [confirmation] = mails_to(app, volunteer.email)
    assert confirmation["Subject"] == "You are registered for Ambition 1 explained"
    assert JOIN in confirmation.get_body().get_content()

    response = client.post(f"/webinars/{webinar.id}/cancel")
    assert response.status_code == 303
    page = client.get(f"/webinars/{webinar.id}").get_data(as_text=True)
    assert "Your place at" in page and "is cancelled" in page and JOIN not in page and "40 of 40 places left" in page
    assert states(webinar.id) == {"Vera Volunteer": "cancelled"}  # a state: nothing deleted


def test_the_vision_page_links_to_its_webinars(client, vision):
    assert f'href="/visions/{vision.slug}/webinars"' in client.get(f"/visions/{vision.slug}/").get_data(as_text=True)


def test_the_joining_link_never_appears_on_public_pages(client, vision, make_webinar, make_user):
    webinar = make_webinar(capacity=1)
    register(make_user(), webinar.id)
    for url in (f"/visions/{vision.slug}/webinars", f"/webinars/{webinar.id}", f"/visions/{vision.slug}/"):
        response = client.get(url)
        assert response.status_code == 200 and JOIN not in response.get_data(as_text=True)


def test_someone_waiting_does_not_see_the_joining_link(client, make_webinar, make_user, login_as):
    webinar = make_webinar(capacity=1)
    register(make_user(), webinar.id)
    login_as(make_user())
    client.post(f"/webinars/{webinar.id}/register")
    page = client.get(f"/webinars/{webinar.id}").get_data(as_text=True)
    assert "You are on the waiting list: first in line." in page and JOIN not in page


# --- capacity and the waiting list ----------------------------------------------------------------


def test_a_full_session_offers_the_waiting_list_and_a_cancellation_promotes_the_first_waiting(app, client, make_webinar, make_user, login_as):
    webinar = make_webinar(capacity=2)
    ann, bob, cat, dan = (make_user(name=n) for n in ("Ann", "Bob", "Cat", "Dan"))
    for person in (ann, bob, cat, dan):
        register(person, webinar.id)
    assert states(webinar.id) == {"Ann": "registered", "Bob": "registered", "Cat": "waiting", "Dan": "waiting"}
    assert "Full: join the waiting list" in client.get(f"/webinars/{webinar.id}").get_data(as_text=True)
    waiting = [m.subject for m in db.session.scalars(select(OutgoingMail).where(OutgoingMail.recipient == dan.email))]
    assert waiting == [f"You are on the waiting list for {webinar.title}"]

    login_as(bob)
    assert client.post(f"/webinars/{webinar.id}/cancel").status_code == 303
    assert states(webinar.id) == {"Ann": "registered", "Bob": "cancelled", "Cat": "registered", "Dan": "waiting"}
    [promoted] = [m for m in mails_to(app, cat.email) if "place became free" in m["Subject"]]
    assert JOIN in promoted.get_body().get_content()
    calendar_of(promoted)


def test_registering_twice_keeps_one_place(client, make_webinar, make_user, login_as):
    webinar = make_webinar(capacity=3)
    login_as(make_user(name="Twice"))
    client.post(f"/webinars/{webinar.id}/register")
    client.post(f"/webinars/{webinar.id}/register")
    assert states(webinar.id) == {"Twice": "registered"}
    assert "2 of 3 places left" in client.get(f"/webinars/{webinar.id}").get_data(as_text=True)


def test_more_places_go_to_the_people_waiting_in_order(client, make_webinar, make_user, login_as):
    webinar = make_webinar(capacity=1)
    for name in ("Ann", "Bob", "Cat"):
        register(make_user(name=name), webinar.id)
    login_as(make_user(Role.FACILITATOR))
    form = client.get(f"/webinars/{webinar.id}/edit").get_data(as_text=True)
    data = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', form).group(1) for name in ("title", "date", "starts", "ends", "joining_link")}
    response = client.post(f"/webinars/{webinar.id}/edit", data={**data, "capacity": "2"})
    assert response.status_code == 303
    assert states(webinar.id) == {"Ann": "registered", "Bob": "registered", "Cat": "waiting"}
    response = client.post(f"/webinars/{webinar.id}/edit", data={**data, "capacity": "1"})
    assert response.status_code == 422
    assert "2 people are registered already" in response.get_data(as_text=True)


def test_a_past_session_gets_its_recording_and_an_upcoming_one_cannot(client, make_webinar, make_user, login_as):
    upcoming, past = make_webinar(), make_webinar(starts_in=timedelta(days=-2))
    login_as(make_user(Role.FACILITATOR))
    recording = "https://video.example.org/recording-1"
    answers = {}
    for webinar in (upcoming, past):
        form = client.get(f"/webinars/{webinar.id}/edit").get_data(as_text=True)
        data = {n: re.search(rf'name="{n}"[^>]*value="([^"]*)"', form).group(1) for n in ("title", "date", "starts", "ends", "capacity", "joining_link")}
        answers[webinar.id] = client.post(f"/webinars/{webinar.id}/edit", data={**data, "recording_link": recording})
    assert answers[upcoming.id].status_code == 422
    assert "You can add the recording once the session has taken place" in answers[upcoming.id].get_data(as_text=True)
    assert answers[past.id].status_code == 303
    db.session.remove()
    assert (db.session.get(Webinar, upcoming.id).recording_link, db.session.get(Webinar, past.id).recording_link) == ("", recording)
    listing = client.get("/visions/test-vision/webinars").get_data(as_text=True)
    assert recording in listing and "This session has taken place" in listing


# --- 20 people at once for 5 places -------------------------------------------------------------------


def test_twenty_people_registering_at_once_for_five_places(app, server, make_webinar, make_user):  # noqa: F811
    webinar = make_webinar(capacity=5)
    people = [make_user(name=f"Person {n:02d}") for n in range(20)]
    browsers = [browser_for(app, person, *server) for person in people]
    tokens = []
    for browser in browsers:
        status, _, page = browser.request("GET", f"/webinars/{webinar.id}")
        assert status == 200
        tokens.append(csrf_of(page))
    results = post_together([(b, f"/webinars/{webinar.id}/register", {"csrf_token": t}) for b, t in zip(browsers, tokens)])
    assert [status for status, _, _ in results] == [303] * 20

    db.session.remove()
    rows = db.session.execute(
        select(Registration.place, Registration.state, Registration.id).where(Registration.webinar_id == webinar.id).order_by(Registration.place)
    ).all()
    assert [place for place, _, _ in rows] == list(range(1, 21))
    assert [state for _, state, _ in rows] == ["registered"] * 5 + ["waiting"] * 15
    # The line is in the order the registrations were committed (their audit events' order).
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action.in_(("webinar.registered", "webinar.waiting"))).order_by(AuditEvent.id)
    ).all()
    assert [e.details["place"] for e in events] == list(range(1, 21))
    assert db.session.get(Webinar, webinar.id).places_given == 20

    first_waiting = next(registration_id for place, _, registration_id in rows if place == 6)
    cancel(db.session.get(Registration, rows[2][2]))
    db.session.remove()
    assert db.session.get(Registration, first_waiting).state == "registered"
    assert db.session.scalar(
        select(db.func.count()).select_from(Registration).where(Registration.webinar_id == webinar.id, Registration.state == "registered")
    ) == 5


# --- cancelling by the mail's link ----------------------------------------------------------------


def _path(url: str) -> str:
    return urlsplit(url).path


def test_the_cancel_link_works_without_signing_in_and_get_changes_nothing(app, client, make_webinar, make_user):
    webinar = make_webinar(capacity=1)
    ann, bob = make_user(name="Ann"), make_user(name="Bob")
    registration = register(ann, webinar.id)
    register(bob, webinar.id)
    with app.test_request_context():
        link = _path(webinar_mails.cancel_url(registration))
    page = client.get(link)
    assert page.status_code == 200 and "Cancel my place" in page.get_data(as_text=True)
    assert states(webinar.id) == {"Ann": "registered", "Bob": "waiting"}
    response = client.post(link)
    assert response.status_code == 200 and "is cancelled" in response.get_data(as_text=True)
    assert states(webinar.id) == {"Ann": "cancelled", "Bob": "registered"}
    again = client.get(link).get_data(as_text=True)
    assert "was cancelled already" in again


@pytest.mark.parametrize("forge", ["made-up", "altered", "earlier registration"])
def test_a_forged_or_stale_cancel_link_is_refused(app, client, make_webinar, make_user, forge):
    webinar = make_webinar(capacity=3)
    ann = make_user(name="Ann")
    registration = register(ann, webinar.id)
    with app.test_request_context():
        token = webinar_mails.cancel_token(registration)
    if forge == "made-up":
        token = "not-a-real-token"
    elif forge == "altered":
        token = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    else:  # cancelled and registered again: the old link names the old place in line
        cancel(db.session.get(Registration, registration.id))
        register(db.session.get(User, ann.id), webinar.id)
    for method in ("GET", "POST"):
        response = client.open(f"/webinars/cancel/{token}", method=method, data={"csrf_token": client.csrf_token()})
        assert response.status_code == 404 and "This link is not valid" in response.get_data(as_text=True)
    assert states(webinar.id) == {"Ann": "registered"}


# --- the calendar file ------------------------------------------------------------------------------


@pytest.mark.parametrize("month", [1, 7])  # GMT and BST
def test_the_ics_file_parses_with_the_right_time_zone_and_start(app, client, vision, make_user, login_as, month):
    year = datetime.now(LONDON).year + 1
    starts = datetime(year, month, 15, 18, 30, tzinfo=LONDON)
    webinar = Webinar(
        vision_id=vision.id, title="Evening session, with; punctuation", description="Line one.\nLine two.",
        starts_at=starts.astimezone(timezone.utc), ends_at=(starts + timedelta(hours=1)).astimezone(timezone.utc),
        capacity=10, joining_link=JOIN, recording_link="", places_given=0,
    )
    db.session.add(webinar)
    db.session.commit()
    person = login_as(make_user())
    client.post(f"/webinars/{webinar.id}/register")
    [mail] = mails_to(app, person.email)
    calendar = calendar_of(mail)
    [timezone_] = calendar.walk("VTIMEZONE")
    assert str(timezone_["TZID"]) == "Europe/London"
    [event] = calendar.walk("VEVENT")
    start = event["DTSTART"].dt
    assert start.tzinfo is not None and getattr(start.tzinfo, "key", str(start.tzinfo)) == "Europe/London"
    assert event["DTSTART"].params["TZID"] == "Europe/London"
    assert (start.hour, start.minute) == (18, 30)
    assert start.astimezone(timezone.utc) == starts.astimezone(timezone.utc)
    assert event["DTEND"].dt.astimezone(timezone.utc) == (starts + timedelta(hours=1)).astimezone(timezone.utc)
    assert str(event["SUMMARY"]) == "Evening session, with; punctuation"
    assert str(event["LOCATION"]) == JOIN and JOIN in str(event["DESCRIPTION"])
    registration = db.session.scalars(select(Registration)).one()
    assert str(event["UID"]) == f"webinar-registration-{registration.id}@vision-workbench"
    # The offsets the VTIMEZONE gives that day are the zone's own.
    offset = starts.utcoffset()
    observances = [o for o in timezone_.subcomponents if o["DTSTART"].dt <= starts.replace(tzinfo=None)]
    assert observances[-1]["TZOFFSETTO"].td == offset


# --- the reminder the day before --------------------------------------------------------------------


def test_the_reminder_command_sends_once(app, runner, make_webinar, make_user):
    tomorrow = make_webinar(starts_in=timedelta(hours=30), title="Tomorrow's session")
    later = make_webinar(starts_in=timedelta(days=5), title="Next week's session")
    ann, bob = make_user(name="Ann"), make_user(name="Bob")
    register(ann, tomorrow.id)
    register(bob, later.id)
    # The next day: the first session now starts within 24 hours.
    db.session.get(Webinar, tomorrow.id).starts_at -= timedelta(hours=8)
    db.session.get(Webinar, tomorrow.id).ends_at -= timedelta(hours=8)
    db.session.commit()

    result = runner.invoke(args=["webinars", "remind"])
    assert result.exit_code == 0, result.output
    assert "1 reminder(s) queued" in result.output
    reminders = db.session.scalars(select(OutgoingMail).where(OutgoingMail.subject.startswith("Reminder:"))).all()
    assert [(m.recipient, JOIN in m.body) for m in reminders] == [(ann.email, True)]
    assert "/webinars/cancel/" in reminders[0].body

    result = runner.invoke(args=["webinars", "remind"])
    assert "0 reminder(s) queued" in result.output
    assert db.session.query(OutgoingMail).filter(OutgoingMail.subject.startswith("Reminder:")).count() == 1


def test_registering_within_a_day_gets_no_separate_reminder(app, runner, make_webinar, make_user):
    soon = make_webinar(starts_in=timedelta(hours=3))
    register(make_user(), soon.id)
    assert "0 reminder(s) queued" in runner.invoke(args=["webinars", "remind"]).output


# --- facilitators: attendees ------------------------------------------------------------------------


def test_facilitators_see_and_export_attendees_and_the_waiting_list(client, make_webinar, make_user, login_as):
    webinar = make_webinar(capacity=1)
    register(make_user(name="=HYPERLINK(\"x\")", email="ann@example.org"), webinar.id)
    register(make_user(name="Bob Waiting", email="bob@example.org"), webinar.id)
    login_as(make_user(Role.FACILITATOR))
    page = client.get(f"/webinars/{webinar.id}/attendees").get_data(as_text=True)
    assert "ann@example.org" in page and "bob@example.org" in page and "Waiting list: 1 person" in page
    response = client.get(f"/webinars/{webinar.id}/attendees.csv")
    assert response.status_code == 200 and response.headers["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0] == ["place_in_line", "state", "name", "email", "joined_at", "registered_at"]
    assert [r[:4] for r in rows[1:]] == [["1", "registered", "'=HYPERLINK(\"x\")", "ann@example.org"], ["2", "waiting", "Bob Waiting", "bob@example.org"]]
    assert JOIN not in response.get_data(as_text=True)


@pytest.mark.parametrize(
    ("role", "expected"),
    [("anonymous", {"show": 200, "register": 302, "cancel": 302, "edit": 302, "attendees": 302, "csv": 302}),
     ("volunteer", {"show": 200, "register": 303, "cancel": 303, "edit": 403, "attendees": 403, "csv": 403}),
     ("facilitator", {"show": 200, "register": 303, "cancel": 303, "edit": 200, "attendees": 200, "csv": 200}),
     ("admin", {"show": 200, "register": 303, "cancel": 303, "edit": 200, "attendees": 200, "csv": 200})],
)
def test_who_may_use_each_route_of_a_session(client, make_webinar, make_user, login_as, role, expected):
    webinar = make_webinar()
    if role != "anonymous":
        login_as(make_user(Role(role)))
    got = {
        "show": client.get(f"/webinars/{webinar.id}").status_code,
        "register": client.post(f"/webinars/{webinar.id}/register").status_code,
        "cancel": client.post(f"/webinars/{webinar.id}/cancel").status_code,
        "edit": client.get(f"/webinars/{webinar.id}/edit").status_code,
        "attendees": client.get(f"/webinars/{webinar.id}/attendees").status_code,
        "csv": client.get(f"/webinars/{webinar.id}/attendees.csv").status_code,
    }
    assert got == expected
    if role == "volunteer":
        assert client.post(f"/webinars/{webinar.id}/edit", data={"capacity": "3"}).status_code == 403


def test_a_post_without_csrf_is_refused(client, make_webinar, make_user, login_as):
    webinar = make_webinar()
    login_as(make_user())
    assert client.post(f"/webinars/{webinar.id}/register", csrf=False).status_code == 400
    assert states(webinar.id) == {}


# --- bad input ---------------------------------------------------------------------------------------


def _good(day: str) -> dict[str, str]:
    return {"title": "A session", "date": day, "starts": "10:00", "ends": "11:00", "capacity": "20", "joining_link": JOIN}


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"capacity": "0"}, "capacity", "whole number from 1 to 10,000"),
        ({"capacity": "-1"}, "capacity", "whole number from 1 to 10,000"),
        ({"capacity": "1000000000"}, "capacity", "whole number from 1 to 10,000"),
        ({"capacity": "12345678901234567890"}, "capacity", "whole number from 1 to 10,000"),
        ({"capacity": "ten"}, "capacity", "whole number from 1 to 10,000"),
        ({"date": "2020-01-01"}, "starts", "The start must be in the future"),
        ({"ends": "09:00"}, "ends", "The end time must be after the start time"),
        ({"ends": "10:00"}, "ends", "The end time must be after the start time"),
        ({"joining_link": "http://meet.example.org/x"}, "joining_link", "starting with https://"),
        ({"joining_link": "javascript:alert(1)"}, "joining_link", "starting with https://"),
        ({"joining_link": ""}, "joining_link", "Enter the joining link"),
        ({"joining_link": "https://" + "a" * 600}, "joining_link", "500 characters or fewer"),
        ({"title": "  "}, "title", "Enter a title"),
        ({"date": "2027-02-30"}, "date", "as a real date"),
        ({"starts": "25:00"}, "starts", "on the 24-hour clock"),
    ],
)
def test_bad_input_gets_a_message_beside_the_field_and_saves_nothing(client, vision, make_user, login_as, change, field, message):
    login_as(make_user(Role.FACILITATOR))
    day = (datetime.now(LONDON) + timedelta(days=20)).date().isoformat()
    response = client.post(f"/visions/{vision.slug}/webinars/new", data={**_good(day), **change})
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert re.search(rf'id="{field}-error">.*{re.escape(message)}', page), page[:3000]
    assert 'class="ds_error-summary"' in page
    assert db.session.scalars(select(Webinar)).all() == []


@pytest.mark.parametrize("url", ["/webinars/12345678901234567890", "/webinars/0", "/webinars/-1", "/webinars/abc/attendees",
                                 "/webinars/12345678901234567890/attendees.csv", "/visions/no-such-vision/webinars"])
def test_ids_that_cannot_exist_are_a_404(client, url):
    assert client.get(url).status_code == 404


def test_twenty_digit_ids_in_a_post_are_a_404(client, make_user, login_as):
    login_as(make_user())
    assert client.post("/webinars/12345678901234567890/register").status_code == 404


def test_the_pages_run_a_bounded_number_of_queries(client, vision, make_webinar, make_user, login_as, count_queries):
    def counts() -> tuple[int, int]:
        with count_queries() as listing:
            client.get(f"/visions/{vision.slug}/webinars")
        with count_queries() as attendees:
            client.get(f"/webinars/{first.id}/attendees")
        return listing.count, attendees.count

    first = make_webinar(capacity=2)
    login_as(make_user(Role.FACILITATOR))
    before = counts()
    for n in range(4):
        other = make_webinar(title=f"Session {n}")
        for _ in range(3):
            register(make_user(), other.id)
            register(make_user(), first.id)
    assert counts() == before
