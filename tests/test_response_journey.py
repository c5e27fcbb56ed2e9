"""Responding in one guided journey (issue 17, item 2), without JavaScript: a few short steps saved as
a draft (resumable until the deadline), "Check your answers", and a submission that turns each
answer into a reflection, an aligned-work record and an offer to help, with a reference number, a
confirmation and an emailed copy. The deadline passing between two steps loses nothing and makes
nothing; sending twice makes nothing twice; bad input is refused beside its field."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench.exceptions import ValidationError
from workbench.involvement.models import VolunteerInterest
from workbench.mail import read_outbox
from workbench.models import AlignedWork, Comment, Element, User, Vision, db, utcnow
from workbench.responses import services
from workbench.responses.models import ConsultationResponse

from .test_facilitation_concurrency import browser_for, post_together, server  # noqa: F401 (a fixture)

REFERENCE = re.compile(r"VW-[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}")
ABOUT_YOU = {"responding_as": "organisation", "organisation": "Data Lab Scotland", "publish_as": "anonymous"}
ALIGNED = {
    "organisation": "Data Lab Scotland", "title": "Open data for councils", "description": "We help councils publish data.",
    "status": "current", "link": "", "contact": "team@example.org",
}
HELP = {"ambitions": ["ambition-2"], "skills": "Plain English editing.", "availability": "hours-a-month"}


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


def page_text(response) -> str:
    return text_of(response.get_data(as_text=True))


def element_id(vision, key: str) -> int:
    return db.session.scalar(select(Element.id).where(Element.vision_id == vision.id, Element.key == key))


def responses() -> list[ConsultationResponse]:
    db.session.remove()
    return list(db.session.scalars(select(ConsultationResponse).order_by(ConsultationResponse.id)))


def count(model) -> int:
    db.session.remove()
    return db.session.scalar(select(func.count()).select_from(model))


def answered_about_you(person: User) -> User:
    person.responding_as, person.publish_as = "individual", "name"
    db.session.commit()
    return person


def close_window(vision) -> None:
    db.session.remove()
    db.session.get(Vision, vision.id).closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


@pytest.fixture
def person(make_user, login_as):
    return login_as(make_user(name="Rhona Respondent", email="rhona@example.org"))


def url(vision, step: str) -> str:
    return f"/visions/{vision.slug}/respond/{step}"


# --- the whole journey ------------------------------------------------------------------------------


def test_the_whole_journey_makes_a_reflection_aligned_work_and_an_offer_with_a_reference_and_a_mail(app, client, vision, person):
    start = page_text(client.get(f"/visions/{vision.slug}/respond"))
    assert "Start your response" in start and "About you" in start and "Helping to refine the vision" in start
    assert "Respond to the consultation" in page_text(client.get(f"/visions/{vision.slug}/get-involved"))

    page = page_text(client.get(url(vision, "about-you")))
    assert "Step 1 of 5" in page and "Are you responding as an individual or for an organisation?" in page
    response = client.post(url(vision, "about-you"), data={**ABOUT_YOU})
    assert (response.status_code, response.headers["Location"]) == (303, url(vision, "vision"))

    page = page_text(client.get(url(vision, "vision")))
    assert "Step 2 of 5" in page and "Our data serves everyone." in page and "Back" in page
    response = client.post(url(vision, "vision"), data={"body": "Say more about wellbeing.\n\nAnd the planet."})
    assert response.headers["Location"] == url(vision, "ambitions")

    page = page_text(client.get(url(vision, "ambitions")))
    assert "Step 3 of 5" in page and "Ambition 1: Ambition 1 (optional)" in page
    response = client.post(url(vision, "ambitions"), data={"ambition_1": "Skills come first.", "ambition_2": "  "})
    assert response.headers["Location"] == url(vision, "aligned-work")

    assert "Step 4 of 5" in page_text(client.get(url(vision, "aligned-work")))
    data = {**ALIGNED, "element_ids": [str(element_id(vision, "objective-1"))]}
    response = client.post(url(vision, "aligned-work"), data=data)
    assert response.headers["Location"] == url(vision, "help")

    assert "Step 5 of 5" in page_text(client.get(url(vision, "help")))
    response = client.post(url(vision, "help"), data={**HELP})
    assert response.headers["Location"] == f"/visions/{vision.slug}/respond/check"

    check = client.get(f"/visions/{vision.slug}/respond/check").get_data(as_text=True)
    words = text_of(check)
    for expected in ("Data Lab Scotland", "Without my name", "Say more about wellbeing.", "Skills come first.",
                     "Open data for councils", "Objective 1.1", "Plain English editing.", "A few hours a month"):
        assert expected in words
    assert f'href="{url(vision, "ambitions")}?then=check"' in check and "Change" in words
    assert f'href="{url(vision, "about-you")}?then=check"' in check
    [draft] = responses()
    assert (draft.state, draft.reference) == ("in_progress", None)
    assert count(Comment) == 0 and count(AlignedWork) == 0 and count(VolunteerInterest) == 0  # nothing yet

    response = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    assert response.status_code == 303
    confirmation = page_text(client.get(response.headers["Location"]))
    [sent] = responses()
    assert sent.state == "submitted" and REFERENCE.fullmatch(sent.reference)
    assert f"Your reference number is {sent.reference}" in confirmation and "What happens next" in confirmation

    comments = db.session.scalars(select(Comment).order_by(Comment.id)).all()
    assert [(c.element_id, c.body, c.author_id) for c in comments] == [
        (element_id(vision, "statement-1"), "Say more about wellbeing.\n\nAnd the planet.", person.id),
        (element_id(vision, "ambition-1"), "Skills come first.", person.id),
    ]
    work = db.session.scalars(select(AlignedWork)).one()
    assert (work.state, work.pending["title"], work.pending["element_ids"]) == (
        "pending", "Open data for councils", [element_id(vision, "objective-1")]
    )
    interest = db.session.scalars(select(VolunteerInterest)).one()
    assert (interest.state, interest.ambition_keys, interest.availability) == ("interested", ["ambition-2"], "hours-a-month")
    assert sent.made == {"reflections": [c.id for c in comments], "aligned_work": work.id, "volunteer_interest": interest.id}
    user = db.session.get(User, person.id)
    assert (user.responding_as, user.organisation, user.publish_as) == ("organisation", "Data Lab Scotland", "anonymous")

    [mail] = [m for m in read_outbox(app.config["MAIL_OUTBOX"]) if m["To"] == "rhona@example.org"]
    body = mail.get_content()
    assert sent.reference in mail["Subject"] and sent.reference in body
    for expected in ("Say more about wellbeing.", "Skills come first.", "Open data for councils", "Plain English editing."):
        assert expected in body


def test_a_person_who_answered_about_you_skips_it_and_resumes_where_they_left_off(client, vision, person):
    answered_about_you(person)
    assert "Step 1 of 4" in page_text(client.get(url(vision, "vision")))
    client.post(url(vision, "vision"), data={"body": "A first thought."})
    client.post(url(vision, "ambitions"), data={"ambition_2": "On ambition two."})

    start = client.get(f"/visions/{vision.slug}/respond").get_data(as_text=True)
    assert "You have a response in progress, saved on" in text_of(start)
    assert f'href="{url(vision, "aligned-work")}">Continue your response' in start
    involved = page_text(client.get(f"/visions/{vision.slug}/get-involved"))  # said where they come in, too
    assert "You have a response in progress, saved on" in involved and "Continue your response" in involved
    assert "A first thought." in client.get(url(vision, "vision")).get_data(as_text=True)  # answers come back
    assert "On ambition two." in client.get(url(vision, "ambitions")).get_data(as_text=True)

    # Changing an earlier answer from "Check your answers" goes back there, and resumes at the same place.
    response = client.post(url(vision, "vision"), data={"body": "A better thought.", "then": "check"})
    assert response.headers["Location"] == f"/visions/{vision.slug}/respond/check"
    assert f'href="{url(vision, "aligned-work")}">Continue' in client.get(f"/visions/{vision.slug}/respond").get_data(as_text=True)
    [draft] = responses()  # one draft, however many steps were saved
    assert draft.answers == {"vision": "A better thought.", "ambitions": {"ambition-2": "On ambition two."}}


def test_anonymous_visitors_are_sent_to_sign_in_and_come_back(client, vision):
    response = client.get(url(vision, "vision"))
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]
    assert "next=/visions/test-vision/respond/vision" in response.headers["Location"].replace("%2F", "/")


# --- the deadline -----------------------------------------------------------------------------------


def test_the_deadline_passing_between_two_steps_keeps_the_draft_and_makes_nothing(client, vision, person):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": "Written before the deadline."})
    close_window(vision)

    response = client.post(url(vision, "ambitions"), data={"ambition_1": "Written after the deadline."})
    assert response.status_code == 409
    page = page_text(response)
    assert "The consultation closed on" in page and "so responses are no longer accepted" in page
    assert "Written after the deadline." in page  # still there, to copy
    assert "Save and continue" not in page
    [draft] = responses()
    assert (draft.state, draft.answers) == ("in_progress", {"vision": "Written before the deadline."})

    check = page_text(client.get(f"/visions/{vision.slug}/respond/check"))
    assert "Your saved answers" in check and "Written before the deadline." in check
    assert "Send your response" not in check and "Change" not in check
    response = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    assert response.status_code == 409 and "so responses are no longer accepted" in page_text(response)
    assert count(Comment) == 0
    [draft] = responses()
    assert (draft.state, draft.reference) == ("in_progress", None)
    assert "You have a response in progress" in page_text(client.get(f"/visions/{vision.slug}/respond"))


# --- sending twice ----------------------------------------------------------------------------------


def test_sending_twice_or_coming_back_to_a_step_makes_nothing_twice(app, client, vision, person):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": "Only once."})
    assert client.post(url(vision, "help"), data={**HELP}).status_code == 303
    [draft] = responses()
    first = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    again = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    assert first.headers["Location"] == again.headers["Location"]
    assert "it was sent once" in page_text(client.get(again.headers["Location"]))
    # The Back button to a step of the response already sent, and its form sent again.
    back = client.post(url(vision, "vision"), data={"body": "Only once.", "response_id": str(draft.id)})
    assert back.headers["Location"] == first.headers["Location"]

    [sent] = responses()
    assert sent.state == "submitted"
    assert count(Comment) == 1 and count(VolunteerInterest) == 1
    assert len([m for m in read_outbox(app.config["MAIL_OUTBOX"]) if m["To"] == "rhona@example.org"]) == 1


def test_a_new_response_can_follow_a_sent_one(client, vision, person):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": "First response."})
    [draft] = responses()
    client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    client.post(url(vision, "vision"), data={"body": "Second response."})
    start = page_text(client.get(f"/visions/{vision.slug}/respond"))
    assert "You sent a response on" in start and "You have a response in progress" in start
    assert [r.state for r in responses()] == ["submitted", "in_progress"]


# --- bad input --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("step", "data", "field", "message"),
    [
        ("about-you", {"responding_as": "organisation", "publish_as": "name"}, "organisation",
         "Enter the name of the organisation you are responding for"),
        ("about-you", {"publish_as": "name"}, "responding_as", "Say whether you are responding as an individual or for an organisation"),
        ("vision", {"body": "x" * 5001}, "body", "Your reflection must be 5,000 characters or fewer"),
        ("vision", {"body": "Hidden\u202echaracters"}, "body", "Remove the hidden formatting characters"),
        ("ambitions", {"ambition_1": "Fine.", "ambition_2": "y" * 5001}, "ambition_2", "5,000 characters or fewer"),
        ("aligned-work", {"title": "Only a title"}, "organisation", "Enter the organisation"),
        ("aligned-work", {**ALIGNED, "link": "javascript:alert(1)"}, "link", "Enter a web address that starts with https://"),
        ("help", {"skills": "Writing."}, "availability", "Choose how much time you could give"),
        ("help", {"ambitions": ["ambition-9"], "skills": "Writing.", "availability": "hour-a-month"}, "ambitions",
         "Choose from the ambitions listed"),
    ],
)
def test_bad_input_is_refused_beside_its_field_and_saves_nothing(client, vision, person, step, data, field, message):
    response = client.post(url(vision, step), data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and f'href="#{field}"' in page
    assert re.search(rf'id="{field}-error"[^>]*>.*?{re.escape(message)}', page, re.S)
    assert responses() == [] and db.session.get(User, person.id).responding_as is None


def test_an_empty_response_is_refused_on_submit(client, vision, person):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": ""})
    [draft] = responses()
    response = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    assert response.status_code == 422
    assert "Your response is empty" in page_text(response)
    assert responses()[0].state == "in_progress"


def test_an_answer_that_no_longer_fits_refuses_the_whole_submission(client, vision, person):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": "Fine."})
    client.post(url(vision, "aligned-work"), data={**ALIGNED, "element_ids": [str(element_id(vision, "objective-1"))]})
    [draft] = responses()
    broken = dict(draft.answers)
    broken["aligned_work"] = {**broken["aligned_work"], "element_ids": [999_999]}
    draft.answers = broken
    db.session.commit()
    response = client.post(f"/visions/{vision.slug}/respond/submit", data={"response_id": str(draft.id)})
    assert response.status_code == 422
    assert 'href="#change-aligned-work"' in response.get_data(as_text=True)
    assert count(Comment) == 0 and count(AlignedWork) == 0  # nothing half-written
    assert responses()[0].state == "in_progress"


# --- services ---------------------------------------------------------------------------------------


def test_one_draft_per_person_and_vision_and_references_are_readable(app, vision, make_user):
    person = answered_about_you(make_user())
    first = services.save_step(vision, person, "vision", {"body": "One."})
    second = services.save_step(vision, person, "ambitions", {"ambition_1": "Two."})
    db.session.commit()
    assert first.id == second.id and len(responses()) == 1
    references = {services.new_reference() for _ in range(200)}
    assert len(references) == 200 and all(REFERENCE.fullmatch(r) for r in references)
    with pytest.raises(ValidationError) as refused:
        services.check_help_answers({}, [], "", "soon")  # a partly answered offer is checked whole
    assert set(refused.value.errors) == {"skills", "availability"}


def test_nobody_sees_someone_elses_response(app, client, vision, make_user, login_as):
    owner = answered_about_you(make_user())
    with app.test_request_context():  # the emailed copy links to the confirmation
        services.save_step(vision, owner, "vision", {"body": "Mine."})
        sent = services.submit_response(vision, owner, None).response
        db.session.commit()
        reference = sent.reference
    login_as(make_user())
    assert client.get(f"/visions/{vision.slug}/responses/{reference}").status_code == 404
    login_as(owner)
    assert reference in page_text(client.get(f"/visions/{vision.slug}/responses/{reference}"))


def test_a_double_click_on_send_makes_one_response(app, server, vision, make_user):  # noqa: F811
    person = answered_about_you(make_user(email="double@example.org"))
    with app.test_request_context():
        services.save_step(vision, person, "vision", {"body": "Sent with a double click."})
        db.session.commit()
    browser = browser_for(app, person, *server)
    status, _, page = browser.request("GET", f"/visions/{vision.slug}/respond/check")
    assert status == 200
    form = {name: re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1) for name in ("csrf_token", "response_id")}
    answers = post_together([(browser, f"/visions/{vision.slug}/respond/submit", form)] * 2)
    assert [status for status, _, _ in answers] == [303, 303]
    assert answers[0][1] == answers[1][1]  # both to the one confirmation
    [sent] = responses()
    assert sent.state == "submitted" and count(Comment) == 1
    assert len([m for m in read_outbox(app.config["MAIL_OUTBOX"]) if m["To"] == "double@example.org"]) == 1


def test_the_pages_run_the_same_queries_however_many_answers(client, vision, person, count_queries):
    answered_about_you(person)
    client.post(url(vision, "vision"), data={"body": "One answer."})

    def queries() -> dict[str, int]:
        found = {}
        for page in ("respond", "respond/check", "respond/ambitions", "respond/aligned-work", "respond/help"):
            with count_queries() as log:
                assert client.get(f"/visions/{vision.slug}/{page}").status_code == 200
            found[page] = log.count
        return found

    few = queries()
    client.post(url(vision, "ambitions"), data={"ambition_1": "Two.", "ambition_2": "Three."})
    client.post(url(vision, "aligned-work"), data={**ALIGNED, "element_ids": [str(element_id(vision, "objective-1")), str(element_id(vision, "ambition-2"))]})
    client.post(url(vision, "help"), data={**HELP, "ambitions": ["ambition-1", "ambition-2"]})
    assert queries() == few
    assert max(few.values()) <= 8, few
