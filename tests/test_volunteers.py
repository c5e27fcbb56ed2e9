"""Volunteers for the next stage (issue 17, item 4): a signed-in person offers to help (ambitions,
skills, availability), changes or withdraws the offer (a state: never deleted); facilitators see the
private list, export it as formula-safe CSV, and invite chosen people to a working group by email,
once, however often the form is sent. The double submit at the same moment runs against a live
server (threads), on SQLite and, with WORKBENCH_TEST_DATABASE_URL, on PostgreSQL."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import func, select

from workbench.exceptions import NotAllowed, ValidationError
from workbench.involvement.models import VolunteerInterest, VolunteerInvitation, VolunteerInvitee
from workbench.involvement.services import invite_volunteers, offer_to_help, withdraw_offer
from workbench.mail import read_outbox
from workbench.models import AuditEvent, OutgoingMail, Role, db

from .test_facilitation_concurrency import browser_for, post_together, server  # noqa: F401 (a fixture)

GOOD_OFFER = {"ambitions": ["ambition-2"], "skills": "Data governance.\n\nPlain English.", "availability": "hours-a-month"}


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def field_value(page: str, name: str) -> str:
    return re.search(rf'name="{name}"[^>]*value="([^"]*)"|value="([^"]*)"[^>]*name="{name}"', page).group(1)


def interests() -> list[VolunteerInterest]:
    db.session.remove()
    return list(db.session.scalars(select(VolunteerInterest).order_by(VolunteerInterest.id)))


def offer(vision, person, **changes):
    values = {"ambitions": {"ambition-1": "Ambition 1", "ambition-2": "Ambition 2"}, "ambition_keys": [],
              "skills": f"Skills of {person.display_name}.", "availability": "hour-a-month", **changes}
    interest, _ = offer_to_help(vision, person, **values)
    db.session.commit()
    return interest


def mails_to(app, address: str):
    return [m for m in read_outbox(app.config["MAIL_OUTBOX"]) if m["To"] == address]


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR, name="Fran Facilitator")


# --- offering, changing, withdrawing ------------------------------------------------------------------


def test_a_volunteer_offers_changes_withdraws_and_offers_again(client, vision, make_user, login_as):
    login_as(make_user(name="Vera Volunteer"))
    form = client.get(f"/visions/{vision.slug}/volunteer").get_data(as_text=True)
    assert "Offer to help refine the vision" in form
    assert 'value="ambition-1"' in form and "Ambition 2: Ambition 2" in form and "A few hours a month" in form

    response = client.post(f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER})
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Thank you for offering to help" in page and "Your offer to help" in page
    assert re.search(r'value="ambition-2" checked', page) and not re.search(r'value="ambition-1" checked', page)
    [interest] = interests()
    assert (interest.state, interest.ambition_keys, interest.skills, interest.availability) == (
        "interested", ["ambition-2"], "Data governance.\n\nPlain English.", "hours-a-month"
    )

    response = client.post(
        f"/visions/{vision.slug}/volunteer",
        data={"ambitions": ["ambition-2", "ambition-1"], "skills": "Facilitation.", "availability": "days-a-month"},
    )
    assert response.status_code == 303
    assert "Your offer to help is updated." in client.get(response.headers["Location"]).get_data(as_text=True)
    [changed] = interests()
    assert changed.id == interest.id and changed.ambition_keys == ["ambition-1", "ambition-2"]  # the vision's order
    assert (changed.skills, changed.availability) == ("Facilitation.", "days-a-month")

    response = client.post(f"/visions/{vision.slug}/volunteer/withdraw")
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Your offer to help is withdrawn." in page and "You withdrew your offer on" in page
    [withdrawn] = interests()
    assert withdrawn.id == interest.id and withdrawn.state == "withdrawn" and withdrawn.withdrawn_at is not None

    assert client.post(f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER}).status_code == 303
    [again] = interests()
    assert again.id == interest.id and again.state == "interested" and again.withdrawn_at is None
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.subject_type == "volunteer_interest").order_by(AuditEvent.id))
    assert list(actions) == ["volunteer.new", "volunteer.changed", "volunteer.withdrawn", "volunteer.renewed"]


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_saved(client, vision):
    response = client.get(f"/visions/{vision.slug}/volunteer")
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    response = client.post(f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER})
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    assert interests() == []


def test_an_offer_can_be_made_after_the_consultation_closed(client, make_vision, make_user, login_as):
    vision = make_vision(open_window=False)
    login_as(make_user())
    assert client.post(f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER}).status_code == 303
    assert [i.state for i in interests()] == ["interested"]


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({**GOOD_OFFER, "skills": "   "}, "skills", "Tell us about the skills and experience you would bring"),
        ({**GOOD_OFFER, "skills": "x" * 1001}, "skills", "must be 1,000 characters or fewer"),
        ({**GOOD_OFFER, "skills": "Good\u202eevil"}, "skills", "Remove the hidden formatting characters"),
        ({**GOOD_OFFER, "availability": ""}, "availability", "Choose how much time you could give"),
        ({**GOOD_OFFER, "availability": "always"}, "availability", "Choose how much time you could give"),
        ({**GOOD_OFFER, "ambitions": ["objective-1"]}, "ambitions", "Choose from the ambitions listed"),
        ({**GOOD_OFFER, "ambitions": ["ambition-99"]}, "ambitions", "Choose from the ambitions listed"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_nothing_is_saved(client, vision, make_user, login_as, data, field, message):
    login_as(make_user())
    response = client.post(f"/visions/{vision.slug}/volunteer", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and f'id="{field}-error"' in page and message in page
    assert f'href="#{field}"' in page
    assert interests() == []


def test_typed_text_comes_back_escaped_after_an_error(client, vision, make_user, login_as):
    login_as(make_user())
    page = client.post(
        f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER, "skills": "<script>alert(1)</script>", "availability": ""}
    ).get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_withdrawing_with_nothing_to_withdraw_is_a_conflict(client, vision, make_user, login_as):
    login_as(make_user())
    response = client.post(f"/visions/{vision.slug}/volunteer/withdraw")
    assert response.status_code == 409 and "nothing to withdraw" in response.get_data(as_text=True)


def test_a_post_without_its_csrf_token_is_refused(client, vision, make_user, login_as):
    login_as(make_user())
    assert client.post(f"/visions/{vision.slug}/volunteer", data={**GOOD_OFFER}, csrf=False).status_code == 400
    assert interests() == []


def test_only_members_may_offer_in_the_service(vision, make_user):
    from flask_login import AnonymousUserMixin

    with pytest.raises(NotAllowed):
        offer_to_help(vision, AnonymousUserMixin(), ambitions={}, ambition_keys=[], skills="S.", availability="hour-a-month")


# --- the facilitators' list and its CSV ------------------------------------------------------------------


def test_facilitators_see_the_list_with_emails_skills_and_withdrawn_offers(client, vision, make_user, login_as, facilitator):
    offer(vision, make_user(name="Ann Able", email="ann@example.org"), ambition_keys=["ambition-1"], availability="days-a-month")
    gone = make_user(name="Wes Withdrawn", email="wes@example.org")
    offer(vision, gone)
    withdraw_offer(vision, gone)
    db.session.commit()
    login_as(facilitator)
    page = client.get(f"/visions/{vision.slug}/facilitate/volunteers").get_data(as_text=True)
    words = text_of(page)
    assert "Private: only facilitators see" in words and "1 person has offered to help; 1 withdrew their offer." in words
    assert "ann@example.org" in page and "Skills of Ann Able." in words and "A day a month or more" in words
    assert "Ambition 1: Ambition 1" in words
    assert "Wes Withdrawn, withdrawn on" in words
    assert 'name="interest_ids"' in page and page.count('name="interest_ids"') == 1  # withdrawn: not invitable


@pytest.mark.parametrize("role", [None, Role.VOLUNTEER])
def test_nobody_else_sees_the_list_or_its_csv(client, vision, make_user, login_as, role):
    offer(vision, make_user(email="private.person@example.org"))
    if role is not None:
        login_as(make_user(role))
    for url in (f"/visions/{vision.slug}/facilitate/volunteers", f"/visions/{vision.slug}/facilitate/volunteers.csv"):
        response = client.get(url)
        assert response.status_code in ((302, 303) if role is None else (403,))
        assert "private.person@example.org" not in response.get_data(as_text=True)
    for url in (f"/visions/{vision.slug}/", f"/visions/{vision.slug}/get-involved", "/"):
        assert "private.person@example.org" not in client.get(url).get_data(as_text=True)


def test_the_csv_has_every_volunteer_and_is_safe_in_a_spreadsheet(client, vision, make_user, login_as, facilitator):
    offer(vision, make_user(name="=HYPERLINK(\"http://evil\")", email="eve@example.org"),
          ambition_keys=["ambition-2"], skills="@SUM(1+1)\n\n-2 days of work")
    offer(vision, make_user(name="Bo Brown", email="bo@example.org"))
    login_as(facilitator)
    response = client.get(f"/visions/{vision.slug}/facilitate/volunteers.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv")
    assert response.headers["Content-Disposition"] == f'attachment; filename="{vision.slug}-volunteers.csv"'
    assert "no-store" in response.headers["Cache-Control"]
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert [r["email"] for r in rows] == ["eve@example.org", "bo@example.org"]
    assert rows[0]["name"] == "'=HYPERLINK(\"http://evil\")"
    assert rows[0]["skills"].startswith("'@SUM(1+1)")
    assert rows[0]["ambitions"] == "Ambition 2: Ambition 2" and rows[1]["ambitions"] == "Any ambition"
    assert rows[0]["availability"] == "About an hour a month" and rows[0]["state"] == "interested"
    assert rows[0]["invitations"] == "0" and rows[0]["volunteered_at"].endswith("Z")


# --- inviting to a working group ---------------------------------------------------------------------


def invitation_form(client, vision) -> dict[str, str]:
    page = client.get(f"/visions/{vision.slug}/facilitate/volunteers").get_data(as_text=True)
    return {"send_key": field_value(page, "send_key")}


def test_a_facilitator_invites_chosen_volunteers_once_however_often_the_form_is_sent(app, client, vision, make_user, login_as, facilitator):
    ann = offer(vision, make_user(name="Ann Able", email="ann@example.org"))
    bo = offer(vision, make_user(name="Bo Brown", email="bo@example.org"))
    offer(vision, make_user(name="Cy Cole", email="cy@example.org"))
    login_as(facilitator)
    form = {**invitation_form(client, vision), "interest_ids": [str(ann.id), str(bo.id)],
            "subject": "Join the working group on ambition 2", "message": "We meet monthly online.\n\nReply to join."}
    response = client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "is on its way to 2 volunteers" in text_of(page)
    assert text_of(page).count("1 time, last on") == 2

    [mail] = mails_to(app, "ann@example.org")
    assert mail["Subject"] == "Join the working group on ambition 2"
    body = mail.get_body().get_content()
    assert "Hello Ann Able," in body and "We meet monthly online.\n\nReply to join." in body
    assert f"/visions/{vision.slug}/volunteer" in body
    assert len(mails_to(app, "bo@example.org")) == 1 and mails_to(app, "cy@example.org") == []
    assert "bo@example.org" not in body  # each mail names one person

    again = client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form)
    assert again.status_code == 303
    assert "was sent already: nobody was emailed twice" in client.get(again.headers["Location"]).get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 2
    assert db.session.scalar(select(func.count()).select_from(VolunteerInvitation)) == 1
    assert db.session.scalar(select(func.count()).select_from(VolunteerInvitee)) == 2


def test_a_new_filling_in_of_the_form_is_a_new_invitation(app, client, vision, make_user, login_as, facilitator):
    ann = offer(vision, make_user(email="ann@example.org"))
    login_as(facilitator)
    for subject in ("First meeting", "Second meeting"):
        form = {**invitation_form(client, vision), "interest_ids": [str(ann.id)], "subject": subject, "message": "Come."}
        assert client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form).status_code == 303
    assert [m["Subject"] for m in mails_to(app, "ann@example.org")] == ["First meeting", "Second meeting"]


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"interest_ids": []}, "interest_ids", "Choose at least one volunteer to invite"),
        ({"interest_ids": ["abc"]}, "interest_ids", "Choose at least one volunteer to invite"),
        ({"interest_ids": ["٣"]}, "interest_ids", "Choose at least one volunteer to invite"),
        ({"interest_ids": ["999999"]}, "interest_ids", "have withdrawn their offer or closed their account"),
        ({"subject": ""}, "subject", "Enter a subject for the email"),
        ({"subject": "x" * 151}, "subject", "The subject must be 150 characters or fewer"),
        ({"message": " \n "}, "message", "Enter the message"),
        ({"message": "m" * 5001}, "message", "The message must be 5,000 characters or fewer"),
        ({"message": "Hi\u200bthere"}, "message", "Remove the hidden formatting characters"),
    ],
)
def test_bad_invitations_are_refused_with_messages_and_nothing_is_sent(client, vision, make_user, login_as, facilitator, change, field, message):
    ann = offer(vision, make_user(email="ann@example.org"))
    login_as(facilitator)
    form = {**invitation_form(client, vision), "interest_ids": [str(ann.id)], "subject": "Join us", "message": "Come.", **change}
    response = client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and f'id="{field}-error"' in page and message in page
    assert field_value(page, "send_key") == form["send_key"]  # sent again after a fix, it is still one invitation
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0
    assert db.session.scalar(select(func.count()).select_from(VolunteerInvitation)) == 0


def test_someone_who_withdrew_or_belongs_to_another_vision_cannot_be_invited(client, make_vision, make_user, login_as, facilitator):
    vision = make_vision()
    other = make_vision(slug="other-vision")
    elsewhere = offer(other, make_user(email="elsewhere@example.org"))
    offer(vision, make_user(name="Still Keen"))  # the form shows while someone can be invited
    gone_person = make_user(name="Wes Withdrawn")
    gone = offer(vision, gone_person)
    withdraw_offer(vision, gone_person)
    db.session.commit()
    login_as(facilitator)
    for interest_id, words in ((gone.id, "(Wes Withdrawn)"), (elsewhere.id, "Choose again")):
        form = {**invitation_form(client, vision), "interest_ids": [str(interest_id)], "subject": "Join", "message": "Come."}
        response = client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form)
        assert response.status_code == 422 and words in response.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 0


def test_a_missing_or_made_up_send_key_is_refused(client, vision, make_user, login_as, facilitator):
    ann = offer(vision, make_user())
    login_as(facilitator)
    for key in ("", "short", "x" * 65, "<script>aaaaaaaaaaaaaaaa"):
        response = client.post(
            f"/visions/{vision.slug}/facilitate/volunteers/invite",
            data={"send_key": key, "interest_ids": [str(ann.id)], "subject": "Join", "message": "Come."},
        )
        assert response.status_code == 422 and "This form was out of date" in response.get_data(as_text=True)


def test_only_facilitators_may_invite_in_the_service(vision, make_user):
    ann = offer(vision, make_user())
    with pytest.raises(NotAllowed):
        invite_volunteers(vision, interest_ids=[ann.id], subject="S", message="M", send_key="k" * 20, actor=make_user())


def test_the_service_reports_every_problem_at_once(vision, facilitator):
    with pytest.raises(ValidationError) as raised:
        invite_volunteers(vision, interest_ids=[], subject="", message="", send_key="k" * 20, actor=facilitator)
    assert set(raised.value.errors) == {"interest_ids", "subject", "message"}


def test_the_same_form_sent_twice_at_the_same_moment_sends_one_invitation(app, server, vision, make_user, facilitator):  # noqa: F811
    people = [offer(vision, make_user(email=f"person{n}@example.org")) for n in range(3)]
    browser = browser_for(app, facilitator, *server)
    status, _, page = browser.request("GET", f"/visions/{vision.slug}/facilitate/volunteers")
    assert status == 200
    form = {"csrf_token": field_value(page, "csrf_token"), "send_key": field_value(page, "send_key"),
            "interest_ids": str(people[0].id), "subject": "Join", "message": "Come."}
    results = post_together([(browser, f"/visions/{vision.slug}/facilitate/volunteers/invite", form)] * 4)
    assert [status for status, _, _ in results] == [303] * 4
    db.session.remove()
    assert db.session.scalar(select(func.count()).select_from(VolunteerInvitation)) == 1
    assert db.session.scalar(select(func.count()).select_from(OutgoingMail)) == 1


def test_the_list_runs_a_bounded_number_of_queries(client, vision, make_user, login_as, facilitator, count_queries):
    first = offer(vision, make_user())
    left = make_user()
    offer(vision, left)
    withdraw_offer(vision, left)
    db.session.commit()
    login_as(facilitator)
    form = {**invitation_form(client, vision), "interest_ids": [str(first.id)], "subject": "S", "message": "M"}
    assert client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form).status_code == 303

    def count() -> tuple[int, int]:
        with count_queries() as page:
            assert client.get(f"/visions/{vision.slug}/facilitate/volunteers").status_code == 200
        with count_queries() as export:
            assert client.get(f"/visions/{vision.slug}/facilitate/volunteers.csv").status_code == 200
        return page.count, export.count

    before = count()
    people = [offer(vision, make_user(), ambition_keys=["ambition-1"]) for _ in range(6)]
    form = {**invitation_form(client, vision), "interest_ids": [str(p.id) for p in people[:3]], "subject": "S", "message": "M"}
    assert client.post(f"/visions/{vision.slug}/facilitate/volunteers/invite", data=form).status_code == 303
    withdraw_offer(vision, db.session.get(VolunteerInterest, people[5].id).user)
    db.session.commit()
    assert count() == before


def test_the_same_first_offer_sent_twice_at_the_same_moment_is_one_offer(app, server, vision, make_user):  # noqa: F811
    person = make_user()
    browser = browser_for(app, person, *server)
    status, _, page = browser.request("GET", f"/visions/{vision.slug}/volunteer")
    assert status == 200
    form = {"csrf_token": field_value(page, "csrf_token"), "ambitions": "ambition-1", "skills": "Writing.", "availability": "hour-a-month"}
    results = post_together([(browser, f"/visions/{vision.slug}/volunteer", form)] * 4)
    assert [status for status, _, _ in results] == [303] * 4
    assert [(i.user_id, i.state, i.ambition_keys) for i in interests()] == [(person.id, "interested", ["ambition-1"])]
