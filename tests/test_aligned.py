"""Aligned work: submitting an initiative, checking what is sent, screening, changing it."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from workbench import permissions
from workbench.aligned import screening, services, wording
from workbench.models import AlignedWork, AlignedWorkElement, Role, db
from workbench.exceptions import NotAllowed, ValidationError

from .factories import events
from .test_aligned_support import *  # noqa: F403 (fixtures)
from .test_aligned_support import SECRET_EMAIL, element_id, reload, valid_form


def work_count() -> int:
    db.session.remove()
    return db.session.scalar(select(func.count(AlignedWork.id)))


def only_work() -> AlignedWork:
    db.session.remove()
    return db.session.scalars(select(AlignedWork)).one()


# --- the form -------------------------------------------------------------------------------------


def test_the_form_groups_elements_by_ambition_with_their_display_labels(client, vision, submitter, sign_in):
    sign_in(submitter)
    page = client.get(f"/visions/{vision.slug}/aligned-work/new")
    assert page.status_code == 200
    html = page.text
    assert "<h1" in html and "Record your organisation" in html
    assert '<legend class="ds_label">Ambition 1: Ambition 1</legend>' in html
    assert '<legend class="ds_label">Ambition 2: Ambition 2</legend>' in html
    assert "Objective 2.1: Objective 2.1" in html
    assert "Enabling condition 1.1: Condition 1.1" in html
    # Ambition 2's objectives sit inside Ambition 2's group, after its legend.
    assert html.index("Ambition 2: Ambition 2</legend>") < html.index("Objective 2.1: Objective 2.1")
    # The statement cannot be chosen.
    assert f'value="{element_id(vision, "statement-1")}"' not in html
    assert 'name="element_ids" value="%d"' % element_id(vision, "condition-2") in html


def test_the_form_can_start_with_an_element_ticked(client, vision, submitter, sign_in):
    sign_in(submitter)
    html = client.get(f"/visions/{vision.slug}/aligned-work/new?element=objective-3").text
    ticked = f'value="{element_id(vision, "objective-3")}" checked'
    assert ticked in html
    assert html.count(" checked") == 1


def test_anonymous_visitors_are_sent_to_sign_in_and_nothing_is_written(client, vision):
    page = client.get(f"/visions/{vision.slug}/aligned-work/new")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/auth/login?next=/visions/test-vision/aligned-work/new")
    sent = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision))
    assert sent.status_code == 302 and "/auth/login" in sent.headers["Location"]
    assert work_count() == 0


@pytest.mark.parametrize("query", ["slug=other", "_external=1", "element=objective-1&_anchor=x", "element=%00"])
def test_odd_query_arguments_on_the_form_are_harmless(client, vision, query):
    page = client.get(f"/visions/{vision.slug}/aligned-work/new?{query}")
    assert page.status_code == 302
    assert page.headers["Location"].startswith("/auth/login?next=/visions/test-vision/aligned-work/new")
    assert "other" not in page.headers["Location"] and "http" not in page.headers["Location"]


# --- submitting -----------------------------------------------------------------------------------


def test_a_submission_waits_for_screening_and_only_its_submitter_and_facilitators_see_it(
    client, vision, submitter, facilitator, make_user, sign_in
):
    sign_in(submitter)
    sent = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision))
    assert sent.status_code == 303
    work = only_work()
    assert sent.headers["Location"] == f"/aligned-work/{work.id}"
    assert work.state == "pending" and work.submitter_id == submitter.id
    assert work.pending == {
        "organisation": "Highland Data Trust",
        "title": "Open bus timetables",
        "description": "We publish every bus timetable as open data.\n\nUpdated weekly.",
        "status": "current",
        "link": "https://www.example.org/buses",
        "contact": SECRET_EMAIL,
        "element_ids": [element_id(vision, "objective-1")],
        "submitted_at": work.pending["submitted_at"],
    }
    # Nothing approved yet: no public wording, no element rows.
    assert work.title == "" and work.approved_at is None
    assert db.session.scalar(select(func.count()).select_from(AlignedWorkElement)) == 0
    assert [e.actor_id for e in events("aligned_work.submitted")] == [submitter.id]

    page = client.get(sent.headers["Location"])
    assert "Waiting for screening" in page.text and "Thank you" in page.text
    assert SECRET_EMAIL in page.text  # the submitter sees their contact

    sign_in(make_user(Role.VOLUNTEER))
    assert client.get(f"/aligned-work/{work.id}").status_code == 404
    sign_in(None)
    assert client.get(f"/aligned-work/{work.id}").status_code == 404
    register = client.get(f"/visions/{vision.slug}/aligned-work").text
    assert "Open bus timetables" not in register
    sign_in(facilitator)
    page = client.get(f"/aligned-work/{work.id}")
    assert page.status_code == 200 and SECRET_EMAIL in page.text and "Approve and publish" in page.text


def test_missing_answers_get_a_message_beside_each_field_and_nothing_is_written(client, vision, submitter, sign_in):
    sign_in(submitter)
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data={"organisation": "  "})
    assert page.status_code == 422
    html = page.text
    assert "There is a problem" in html
    for message, field in [
        ("Enter the organisation name", "organisation"),
        ("Enter the title", "title"),
        ("Enter the description", "description"),
        ("Choose whether the initiative is planned, current or completed", "status"),
        ("Choose at least one ambition, objective or enabling condition", "element_ids"),
    ]:
        assert message in html
        assert f'href="#{field}"' in html  # the summary links to the field
        assert f'id="{field}-error"' in html  # and the message sits beside it
    assert html.startswith("<!DOCTYPE html>") and "<title>Error: " in html
    assert work_count() == 0


def test_what_was_typed_is_kept_when_the_form_comes_back(client, vision, submitter, sign_in):
    sign_in(submitter)
    html = client.post(
        f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, status="", link="javascript:alert(1)")
    ).text
    assert 'value="Highland Data Trust"' in html
    assert f'value="{element_id(vision, "objective-1")}" checked' in html


BAD_LINKS = [
    "javascript:alert(1)",
    "JaVaScRiPt:alert(document.cookie)",
    "  javascript:alert(1)",
    "java\tscript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:msgbox(1)",
    "//evil.example.org/path",
    "/relative/path",
    "https://user:password@example.org/",
    "https://user@example.org/",
    "https://exa mple.org/",
    "https://example.org/a b",
    "ftp://example.org/file",
    "https:example.org",
    "http://",
    "https://localhost/",
    "https://127.0.0.1/",
    "https://example.org:99999/",
    "https://exa_mple.org/",
    "https://example.org\\@evil.org",
    "https://example.org/\u202etxt.exe",
    "https://" + "a" * 490 + ".org",
]


@pytest.mark.parametrize("link", BAD_LINKS)
def test_links_that_are_not_plain_web_addresses_are_refused(client, vision, submitter, sign_in, link):
    sign_in(submitter)
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, link=link))
    assert page.status_code == 422
    assert 'id="link-error"' in page.text
    assert work_count() == 0


@pytest.mark.parametrize(
    "link, stored",
    [
        ("", ""),
        ("https://www.example.org/buses", "https://www.example.org/buses"),
        ("HTTPS://WWW.Example.ORG", "https://www.example.org/"),
        ("http://example.org:80/a?b=c#d", "http://example.org/a?b=c#d"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("www.example.org/page", "https://www.example.org/page"),
        ("  https://example.org/path  ", "https://example.org/path"),
        ("https://bücher.example/café", "https://xn--bcher-kva.example/caf%C3%A9"),
        ("https://example.org/a%20b", "https://example.org/a%20b"),
    ],
)
def test_links_are_normalised(link, stored):
    assert wording.normalise_link(link) == stored


@pytest.mark.parametrize(
    "contact, stored",
    [
        ("", ""),
        ("Name.Surname@Example.ORG", "Name.Surname@example.org"),
        ("0131 496  0000", "0131 496 0000"),
        ("+44 (0)131 496-0000", "+44 (0)131 496-0000"),
    ],
)
def test_contacts_are_an_email_address_or_a_phone_number(contact, stored):
    assert wording.normalise_contact(contact) == stored


@pytest.mark.parametrize("contact", ["not an email", "a@b", "@example.org", "12345", "<script>@x.org", "a" * 255, "tel:0131"])
def test_other_contacts_are_refused(client, vision, submitter, sign_in, contact):
    sign_in(submitter)
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, contact=contact))
    assert page.status_code == 422 and 'id="contact-error"' in page.text
    assert work_count() == 0


@pytest.mark.parametrize(
    "choose",
    [
        lambda v, other: [str(element_id(other, "objective-1"))],  # another vision's element
        lambda v, other: [str(element_id(v, "objective-1")), str(element_id(other, "objective-2"))],
        lambda v, other: [str(element_id(v, "statement-1"))],  # the statement is not a choice
        lambda v, other: ["999999"],
        lambda v, other: ["abc"],
        lambda v, other: ["-1"],
        lambda v, other: ["1; DROP TABLE aligned_work"],
        lambda v, other: ["12345678901234567890"],
    ],
    ids=["foreign", "mixed-foreign", "statement", "missing", "abc", "negative", "sql", "huge"],
)
def test_element_choices_must_be_elements_of_this_vision(client, vision, make_vision, submitter, sign_in, choose):
    other = make_vision(slug="another-vision")
    sign_in(submitter)
    page = client.post(
        f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, element_ids=choose(vision, other))
    )
    assert page.status_code == 422
    assert "one of your choices is not part of this vision" in page.text
    assert work_count() == 0


def test_an_element_removed_from_the_working_draft_is_not_a_choice(client, vision, submitter, sign_in):
    from workbench.models import DraftEntry

    removed = element_id(vision, "objective-2")
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == removed))
    entry.is_removed = True
    db.session.commit()
    sign_in(submitter)
    assert f'value="{removed}"' not in client.get(f"/visions/{vision.slug}/aligned-work/new").text
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, element_ids=[str(removed)]))
    assert page.status_code == 422


def test_several_elements_are_stored_once_each_in_order(vision, submitter):
    ids = [element_id(vision, k) for k in ("condition-1", "ambition-1", "objective-1")]
    work = services.submit_aligned_work(vision, submitter, **valid_form(vision, element_ids=[str(i) for i in ids + ids]))
    assert work.pending["element_ids"] == sorted(ids)


XSS = [
    "<script>alert('x')</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    '" onmouseover="alert(1)',
    "<div hx-get=\"/auth/logout\" data-hx-post=\"/x\" hx-on:click=\"alert(1)\">htmx</div>",
    "</del><script>alert(1)</script>",
]


@pytest.mark.parametrize("payload", XSS)
def test_markup_in_text_is_shown_as_text_everywhere(client, vision, submitter, facilitator, sign_in, make_work, payload):
    work = make_work(vision, organisation=f"Org {payload}", title=f"Title {payload}", description=f"Body {payload}")
    for user in (None, submitter, facilitator):
        sign_in(user)
        for url in (f"/aligned-work/{work.id}", f"/visions/{vision.slug}/aligned-work", "/aligned-work/yours"):
            if user is not submitter and url.endswith("yours"):
                continue
            html = client.get(url).text
            assert payload not in html, url
            for raw in ("<script>alert", "<img src=x", "<svg onload", '" onmouseover="', "<div hx-get", "</del><script>"):
                assert raw not in html, (url, raw)
            assert "&lt;" in html or "&#34;" in html  # shown, escaped


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("title", "Open \u202ebus", "invisible or direction-changing characters"),
        ("organisation", "Data\u200bTrust", "invisible or direction-changing characters"),
        ("description", "Hello\x00world", "NUL character"),
        ("title", "x" * 201, "200 characters or fewer"),
        ("organisation", "x" * 201, "200 characters or fewer"),
        ("description", "word " * 1001 + "end", "5,000 characters or fewer"),
    ],
)
def test_disguised_or_oversized_text_is_refused_with_a_message(client, vision, submitter, sign_in, field, value, message):
    sign_in(submitter)
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, **{field: value}))
    assert page.status_code == 422
    assert message in page.text and f'id="{field}-error"' in page.text
    assert work_count() == 0


def test_text_is_normalised(vision, submitter):
    work = services.submit_aligned_work(
        vision,
        submitter,
        **valid_form(vision, organisation="  Cafe\u0301   Data  ", description="One.\r\n\r\n\r\n\r\nTwo.\tThree."),
    )
    assert work.pending["organisation"] == "Café Data"
    assert work.pending["description"] == "One.\n\nTwo. Three."


def test_a_huge_body_is_refused_before_anything_is_read(client, vision, submitter, sign_in):
    sign_in(submitter)
    page = client.post(
        f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision, description="x" * (2 * 1024 * 1024))
    )
    assert page.status_code == 413
    assert work_count() == 0


def test_invalid_utf8_is_not_a_server_error(client, vision, submitter, sign_in):
    sign_in(submitter)
    body = (
        f"csrf_token={client.csrf_token()}&organisation=Org%FF%FE&title=T&description=D&status=current"
        f"&element_ids={element_id(vision, 'objective-1')}"
    )
    page = client.post(
        f"/visions/{vision.slug}/aligned-work/new",
        data=body,
        content_type="application/x-www-form-urlencoded",
        csrf=False,
    )
    assert page.status_code in (303, 400, 422)


def test_extra_fields_cannot_approve_or_reassign_a_submission(client, vision, submitter, make_user, sign_in):
    other = make_user(Role.VOLUNTEER)
    sign_in(submitter)
    data = valid_form(
        vision, state="approved", submitter_id=str(other.id), approved_at="2020-01-01", role="admin", id="77", pending=""
    )
    assert client.post(f"/visions/{vision.slug}/aligned-work/new", data=data).status_code == 303
    work = only_work()
    assert work.state == "pending" and work.submitter_id == submitter.id and work.approved_at is None and work.id != 77


def test_a_form_without_its_csrf_token_is_refused(client, vision, submitter, sign_in):
    sign_in(submitter)
    page = client.post(f"/visions/{vision.slug}/aligned-work/new", data=valid_form(vision), csrf=False)
    assert page.status_code == 400
    assert work_count() == 0


def test_the_service_refuses_people_who_are_not_signed_in(vision):
    from flask_login import AnonymousUserMixin

    with pytest.raises(NotAllowed):
        services.submit_aligned_work(vision, AnonymousUserMixin(), **valid_form(vision))


# --- screening ------------------------------------------------------------------------------------


def test_the_queue_lists_what_waits_oldest_first_and_approving_publishes_it(
    client, vision, submitter, facilitator, sign_in, make_work
):
    first = make_work(vision, approved=False, title="First initiative")
    second = make_work(vision, approved=False, title="Second initiative")
    make_work(vision, approved=True, title="Already published")
    sign_in(facilitator)
    queue = client.get(f"/visions/{vision.slug}/aligned-work/screening")
    assert queue.status_code == 200
    html = queue.text
    assert "2 waiting" in html
    assert html.index("First initiative") < html.index("Second initiative")
    assert "Already published" not in html
    assert SECRET_EMAIL in html  # facilitators see the contact

    done = client.post(
        f"/aligned-work/{first.id}/approve",
        data={"submitted_at": first.pending["submitted_at"], "return_to": "queue"},
    )
    assert done.status_code == 303 and done.headers["Location"] == f"/visions/{vision.slug}/aligned-work/screening"
    work = reload(first)
    assert work.state == "approved" and work.pending is None and work.title == "First initiative"
    assert work.contact == SECRET_EMAIL and work.approved_at is not None
    assert [row.element_id for row in db.session.scalars(select(AlignedWorkElement))] == [
        element_id(vision, "objective-1")
    ] * 2  # the one approved by make_work and this one
    event = [e for e in events("aligned_work.approved") if e.subject_id == first.id][0]
    assert event.actor_id == facilitator.id and event.vision_id == vision.id
    assert SECRET_EMAIL not in str(event.details)
    assert "1 waiting" in client.get(f"/visions/{vision.slug}/aligned-work/screening").text

    sign_in(None)
    assert "First initiative" in client.get(f"/visions/{vision.slug}/aligned-work").text
    assert client.get(f"/aligned-work/{first.id}").status_code == 200
    assert client.get(f"/aligned-work/{second.id}").status_code == 404


def test_the_empty_queue_says_so(client, vision, facilitator, sign_in):
    sign_in(facilitator)
    assert "Nothing is waiting for screening" in client.get(f"/visions/{vision.slug}/aligned-work/screening").text


def test_rejecting_needs_a_reason_which_the_submitter_then_sees(client, vision, submitter, facilitator, sign_in, make_work):
    work = make_work(vision, approved=False)
    sign_in(facilitator)
    page = client.post(f"/aligned-work/{work.id}/reject", data={"reason": "  ", "submitted_at": work.pending["submitted_at"]})
    assert page.status_code == 422
    assert "Enter the reason for not publishing it" in page.text
    assert f'id="reason-{work.id}-error"' in page.text and f'href="#reason-{work.id}"' in page.text
    assert reload(work).state == "pending" and events("aligned_work.rejected") == []

    done = client.post(
        f"/aligned-work/{work.id}/reject",
        data={"reason": "Please say which council runs it.", "submitted_at": work.pending["submitted_at"]},
    )
    assert done.status_code == 303 and done.headers["Location"] == f"/aligned-work/{work.id}"
    work = reload(work)
    assert work.state == "rejected" and work.screening_reason == "Please say which council runs it."
    assert work.pending is not None  # kept so that the submitter can correct it
    [event] = events("aligned_work.rejected")
    assert event.actor_id == facilitator.id and event.details["reason"] == "Please say which council runs it."

    sign_in(submitter)
    assert "Not published: Please say which council runs it." in client.get(f"/aligned-work/{work.id}").text
    assert "Not published: Please say which council runs it." in client.get("/aligned-work/yours").text
    sign_in(None)
    assert client.get(f"/aligned-work/{work.id}").status_code == 404


def test_a_rejected_submission_can_be_corrected_and_sent_again(client, vision, submitter, facilitator, sign_in, make_work):
    work = make_work(vision, approved=False)
    services.reject_aligned_work(work, facilitator, reason="Too vague.", expected_submitted_at=None)
    db.session.commit()
    sign_in(submitter)
    sent = client.post(f"/aligned-work/{work.id}/edit", data=valid_form(vision, description="Now precise."))
    assert sent.status_code == 303
    work = reload(work)
    assert work.state == "pending" and work.screening_reason == "" and work.pending["description"] == "Now precise."
    assert "Waiting for screening" in client.get("/aligned-work/yours").text


def test_a_decision_on_a_wording_the_facilitator_did_not_see_is_refused(client, vision, submitter, facilitator, sign_in, make_work):
    work = make_work(vision, approved=False)
    seen = work.pending["submitted_at"]
    services.change_aligned_work(work, submitter, **valid_form(vision, title="A sneaky new title"))
    db.session.commit()
    sign_in(facilitator)
    answer = client.post(f"/aligned-work/{work.id}/approve", data={"submitted_at": seen}, follow_redirects=True)
    assert "The wording changed after you opened this page" in answer.text
    assert reload(work).state == "pending"
    answer = client.post(f"/aligned-work/{work.id}/approve", data={}, follow_redirects=True)
    assert "The wording changed after you opened this page" in answer.text
    assert reload(work).state == "pending"


def test_a_second_approval_finds_nothing_waiting(client, vision, facilitator, sign_in, make_work):
    work = make_work(vision, approved=False)
    sign_in(facilitator)
    data = {"submitted_at": work.pending["submitted_at"]}
    assert client.post(f"/aligned-work/{work.id}/approve", data=data).status_code == 303
    again = client.post(f"/aligned-work/{work.id}/approve", data=data, follow_redirects=True)
    assert "already been screened" in again.text
    assert len(events("aligned_work.approved")) == 1


def test_facilitators_do_not_screen_their_own_initiative(client, vision, facilitator, sign_in, make_work):
    work = make_work(vision, approved=False, by=facilitator)
    assert not permissions.can_decide_aligned_work(facilitator, work)
    sign_in(facilitator)
    page = client.get(f"/aligned-work/{work.id}")
    assert "Approve and publish" not in page.text
    assert "another facilitator screens it" in client.get(f"/visions/{vision.slug}/aligned-work/screening").text
    refused = client.post(f"/aligned-work/{work.id}/approve", data={"submitted_at": work.pending["submitted_at"]})
    assert refused.status_code == 403
    assert reload(work).state == "pending"
    with pytest.raises(NotAllowed):
        services.approve_aligned_work(work, facilitator, expected_submitted_at=None)


# --- changing an initiative -----------------------------------------------------------------------


def test_changes_wait_for_screening_while_the_approved_wording_stays_public(
    client, vision, submitter, facilitator, sign_in, make_work
):
    work = make_work(vision, title="Old title", description="Old words here.")
    sign_in(submitter)
    form = client.get(f"/aligned-work/{work.id}/edit")
    assert form.status_code == 200 and 'value="Old title"' in form.text and SECRET_EMAIL in form.text
    new_elements = [str(element_id(vision, "objective-3")), str(element_id(vision, "ambition-1"))]
    sent = client.post(
        f"/aligned-work/{work.id}/edit",
        data=valid_form(vision, title="New title", description="New words here.", element_ids=new_elements),
    )
    assert sent.status_code == 303
    work = reload(work)
    assert work.state == "approved" and work.title == "Old title" and work.pending["title"] == "New title"
    assert "Changes waiting for screening" in client.get("/aligned-work/yours").text

    sign_in(None)
    public = client.get(f"/aligned-work/{work.id}").text
    assert "Old title" in public and "New title" not in public and "New words" not in public
    register = client.get(f"/visions/{vision.slug}/aligned-work").text
    assert "Old title" in register and "New title" not in register

    sign_in(facilitator)
    queue = client.get(f"/visions/{vision.slug}/aligned-work/screening").text
    assert "Changes to a published initiative" in queue
    assert '<del class="diff__del">' in queue and '<ins class="diff__ins">' in queue  # the word diff
    assert "Also changed: the parts of the vision it supports." in queue
    assert client.post(f"/aligned-work/{work.id}/approve", data={"submitted_at": work.pending["submitted_at"]}).status_code == 303
    work = reload(work)
    assert work.title == "New title" and work.pending is None
    assert sorted(r.element_id for r in db.session.scalars(select(AlignedWorkElement))) == sorted(int(i) for i in new_elements)
    sign_in(None)
    assert "New title" in client.get(f"/aligned-work/{work.id}").text


def test_rejected_changes_leave_the_published_wording(client, vision, submitter, facilitator, sign_in, make_work):
    work = make_work(vision, title="Published title")
    services.change_aligned_work(work, submitter, **valid_form(vision, title="Rejected title"))
    db.session.commit()
    services.reject_aligned_work(work, facilitator, reason="Keep the old name.", expected_submitted_at=None)
    db.session.commit()
    work = reload(work)
    assert work.state == "approved" and work.title == "Published title"
    sign_in(submitter)
    mine = client.get(f"/aligned-work/{work.id}").text
    assert "Published; changes not accepted: Keep the old name." in mine and "Rejected title" in mine
    sign_in(None)
    public = client.get(f"/aligned-work/{work.id}").text
    assert "Published title" in public and "Rejected title" not in public and "Keep the old name" not in public


def test_sending_the_same_wording_again_changes_nothing(client, vision, submitter, sign_in, make_work):
    work = make_work(vision)
    sign_in(submitter)
    page = client.post(f"/aligned-work/{work.id}/edit", data=valid_form(vision))
    assert page.status_code == 422 and "You have not changed anything" in page.text
    assert reload(work).pending is None


def test_going_back_to_the_published_wording_withdraws_the_changes(client, vision, submitter, sign_in, make_work):
    work = make_work(vision)
    services.change_aligned_work(work, submitter, **valid_form(vision, title="Changed"))
    db.session.commit()
    sign_in(submitter)
    sent = client.post(f"/aligned-work/{work.id}/edit", data=valid_form(vision), follow_redirects=True)
    assert "back to its published wording" in sent.text
    assert reload(work).pending is None


def test_only_the_submitter_changes_an_initiative(client, vision, make_user, facilitator, sign_in, make_work):
    work = make_work(vision)
    for user in (make_user(Role.VOLUNTEER), facilitator):
        sign_in(user)
        assert client.get(f"/aligned-work/{work.id}/edit").status_code == 403
        assert client.post(f"/aligned-work/{work.id}/edit", data=valid_form(vision, title="Hijacked")).status_code == 403
    assert reload(work).pending is None
    with pytest.raises(NotAllowed):
        services.change_aligned_work(work, facilitator, **valid_form(vision, title="Hijacked"))


def test_your_initiatives_lists_each_state_in_words(client, vision, submitter, facilitator, sign_in, make_work):
    make_work(vision, approved=False, title="Waiting one")
    make_work(vision, title="Published one")
    changed = make_work(vision, title="Changed one")
    services.change_aligned_work(changed, submitter, **valid_form(vision, title="Changed one, again"))
    rejected = make_work(vision, approved=False, title="Rejected one")
    services.reject_aligned_work(rejected, facilitator, reason="Not about this vision.", expected_submitted_at=None)
    db.session.commit()
    sign_in(submitter)
    html = client.get("/aligned-work/yours").text
    assert "Waiting for screening" in html
    assert ">Published<" in html
    assert "Changes waiting for screening" in html
    assert "Not published: Not about this vision." in html
    assert "Changed one, again" in html  # the submitter sees their latest wording's title


def test_your_initiatives_when_there_are_none(client, submitter, sign_in):
    sign_in(submitter)
    assert "You have not recorded any initiatives yet" in client.get("/aligned-work/yours").text


def test_services_state_in_words(vision, submitter, facilitator, make_work):
    work = make_work(vision, approved=False)
    assert screening.screening_state(work).words == "Waiting for screening"
    services.approve_aligned_work(work, facilitator, expected_submitted_at=None)
    assert screening.screening_state(work).words == "Published"
    services.change_aligned_work(work, submitter, **valid_form(vision, title="Another"))
    assert screening.screening_state(work).words == "Changes waiting for screening"
    services.reject_aligned_work(work, facilitator, reason="No.", expected_submitted_at=None)
    assert screening.screening_state(work).words == "Published; changes not accepted: No."


def test_check_wording_reports_every_problem_at_once(vision):
    with pytest.raises(ValidationError) as caught:
        wording.check_wording(
            vision, organisation="", title="", description="", status="done", link="javascript:x", contact="x", element_ids=[]
        )
    assert set(caught.value.errors) == {"organisation", "title", "description", "status", "link", "contact", "element_ids"}


# --- markup ---------------------------------------------------------------------------------------


class _Structure(HTMLParser):
    """Every element closed in order, and no id used twice."""

    VOID = {"meta", "link", "input", "br", "img", "hr", "source", "area", "base", "col", "embed", "param", "track", "wbr", "use"}

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.ids: set[str] = set()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        element_id = dict(attrs).get("id")
        if element_id in self.ids:
            self.problems.append(f"id {element_id} used twice")
        if element_id:
            self.ids.add(element_id)
        if tag not in self.VOID:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes {self.open[-3:]}")
        while tag in self.open and self.open.pop() != tag:
            pass


def test_every_aligned_work_page_is_well_formed_with_unique_ids(client, vision, submitter, facilitator, sign_in, make_work):
    changed = make_work(vision)
    services.change_aligned_work(changed, submitter, **valid_form(vision, title="Changed title"))
    rejected = make_work(vision, approved=False)
    services.reject_aligned_work(rejected, facilitator, reason="No.", expected_submitted_at=None)
    db.session.commit()
    make_work(vision, approved=False)
    public = [
        f"/visions/{vision.slug}/aligned-work",
        f"/visions/{vision.slug}/aligned-work?element=objective-99",
        f"/visions/{vision.slug}/aligned-work/about-the-data",
    ]
    pages = {
        submitter: public + [
            f"/visions/{vision.slug}/aligned-work/new",
            f"/aligned-work/{changed.id}",
            f"/aligned-work/{rejected.id}",
            f"/aligned-work/{changed.id}/edit",
            "/aligned-work/yours",
        ],
        facilitator: [f"/visions/{vision.slug}/aligned-work/screening", f"/aligned-work/{changed.id}"],
    }
    answers = []
    for user, urls in pages.items():
        sign_in(user)
        answers += [(url, client.get(url).text) for url in urls]
    sign_in(submitter)
    answers.append(("form with errors", client.post(f"/visions/{vision.slug}/aligned-work/new", data={}).text))
    sign_in(facilitator)
    answers.append(
        ("reject without a reason", client.post(f"/aligned-work/{changed.id}/reject", data={"reason": "", "submitted_at": changed.pending["submitted_at"]}).text)
    )
    for url, html in answers:
        parser = _Structure()
        parser.feed(html)
        assert not parser.problems and parser.open == [], (url, parser.problems[:5], parser.open)
