"""Proposals (issue 4): propose an edit to one element, see it as a word diff, revise, withdraw, list.

Each test reads as a rule of the product and asserts what a person sees or what the database holds.
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench.models import (
    AuditEvent,
    DraftChange,
    ElementText,
    ImmutableError,
    Proposal,
    ProposalRevision,
    ProposalStatus,
    Role,
    db,
    utcnow,
)
from workbench.proposals import services
from workbench.exceptions import ValidationError

from .factories import element_of, entry_of, fresh, open_proposal

SLUG = "test-vision"
PROPOSE = f"/visions/{SLUG}/elements/objective-1/propose"
PREVIEW = f"/visions/{SLUG}/elements/objective-1/propose/preview"
CURRENT_BODY = "Objective 1.1 body."  # the fixture's text of objective-1 (Objective 1.1)
HX = {"HX-Request": "true"}


# --- helpers --------------------------------------------------------------------------------------


def edit_draft(vision, key: str, body: str, title: str | None = None) -> ElementText:
    """A facilitator's direct edit of the working draft (what issue 6 builds), done by hand here."""
    entry = entry_of(vision, key)
    text = ElementText(
        element_id=entry.element_id, title=entry.text.title if title is None else title, body=body
    )
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.add(DraftChange(vision_id=vision.id, element_id=entry.element_id, kind="edit", text_id=text.id))
    db.session.commit()
    return text


def form(body: str = "Objective 1.1 improved body.", title: str = "Objective 1.1", rationale: str = "Clearer.", **extra) -> dict:
    return {"title": title, "body": body, "rationale": rationale, **extra}


def html(response) -> str:
    return response.get_data(as_text=True)


def proposal_count() -> int:
    return db.session.scalar(select(func.count()).select_from(Proposal))


def revision_count() -> int:
    return db.session.scalar(select(func.count()).select_from(ProposalRevision))


@pytest.fixture
def volunteer(make_user, login_as):
    return login_as(make_user(Role.VOLUNTEER, name="Ada Volunteer"))


@pytest.fixture
def someone(make_user):
    return make_user(Role.VOLUNTEER, name="Someone Else")


# --- the propose page -----------------------------------------------------------------------------


def test_an_anonymous_visitor_is_sent_to_sign_in_and_back(client, vision) -> None:
    response = client.get(PROPOSE)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/auth/login?next=/visions/{SLUG}/elements/objective-1/propose"
    posted = client.post(PROPOSE, data=form())
    assert posted.status_code == 302 and "/auth/login?next=" in posted.headers["Location"]
    assert proposal_count() == 0


def test_the_form_starts_from_the_current_working_text_and_says_so(client, vision, volunteer) -> None:
    edit_draft(vision, "objective-1", "A newer working text.")
    page = html(client.get(PROPOSE))
    assert "<h1" in page and "Propose a change" in page
    assert "current working text" in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*A newer working text\.</textarea>', page)
    assert re.search(r'<input[^>]*name="title"[^>]*value="Objective 1.1"', page) or re.search(
        r'<input[^>]*value="Objective 1.1"[^>]*name="title"', page
    )
    assert '<textarea class="ds_input" id="rationale"' in page or 'name="rationale"' in page


def test_the_form_previews_live_with_htmx_and_without_javascript(client, vision, volunteer) -> None:
    page = html(client.get(PROPOSE))
    assert f'data-hx-post="{PREVIEW}"' in page
    assert 'data-hx-trigger="input changed delay:500ms"' in page
    assert 'data-hx-target="#proposal-preview"' in page
    assert 'aria-live="polite"' in page
    assert 'name="action" value="preview"' in page  # the button that works without JavaScript
    assert " hx-" not in page  # only data-hx-* attributes


@pytest.mark.parametrize(
    ("opens", "closes", "message"),
    [
        (timedelta(days=3), None, "The consultation opens on"),
        (timedelta(days=-30), timedelta(days=-1), "the consultation closed on"),
        (None, None, "no consultation is open"),
    ],
)
def test_outside_the_window_proposing_is_refused_with_when(client, vision, volunteer, opens, closes, message) -> None:
    vision.opens_at = utcnow() + opens if opens is not None else None
    vision.closes_at = utcnow() + closes if closes is not None else None
    db.session.commit()
    response = client.get(PROPOSE)
    assert response.status_code == 403
    page = html(response)
    assert message in page
    assert 'name="body"' not in page and "<form method=\"post\" action=\"/visions" not in page
    posted = client.post(PROPOSE, data=form())
    assert posted.status_code == 403
    assert client.post(PREVIEW, data=form(), headers=HX).status_code == 403
    assert proposal_count() == 0


def test_a_removed_or_unknown_element_cannot_be_proposed_on(client, vision, volunteer) -> None:
    entry = entry_of(vision, "objective-2")
    entry.is_removed = True
    db.session.commit()
    removed = client.get(f"/visions/{SLUG}/elements/objective-2/propose")
    assert removed.status_code == 409  # it exists, but takes no new proposals: said in words
    assert "Objective 1.2 has been removed from the working draft, so it takes no new proposals" in html(removed)
    assert client.get(f"/visions/{SLUG}/elements/objective-99/propose").status_code == 404
    assert client.get("/visions/no-such-vision/elements/objective-1/propose").status_code == 404


def test_sending_a_proposal_opens_it_with_its_base_and_first_revision(client, vision, volunteer) -> None:
    base_id = entry_of(vision, "objective-1").text_id
    response = client.post(PROPOSE, data=form(rationale="Say what improves."))
    proposal = db.session.scalar(select(Proposal))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}"
    assert (proposal.author_id, proposal.base_text_id, proposal.status) == (volunteer.id, base_id, "open")
    assert (proposal.body, proposal.rationale, proposal.revision_count) == ("Objective 1.1 improved body.", "Say what improves.", 1)
    revision = db.session.scalar(select(ProposalRevision))
    assert (revision.proposal_id, revision.number, revision.base_text_id, revision.body) == (proposal.id, 1, base_id, proposal.body)
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.opened"))
    assert (event.actor_id, event.subject_id, event.vision_id) == (volunteer.id, proposal.id, vision.id)
    page = html(client.get(response.headers["Location"]))
    assert "Your proposal is open" in page  # the confirmation
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>improved' in page


def test_the_preview_button_shows_the_diff_without_javascript_and_saves_nothing(client, vision, volunteer) -> None:
    response = client.post(PROPOSE, data=form(body="Objective 1.1 better body.", action="preview"))
    assert response.status_code == 200
    page = html(response)
    assert "<del class=\"diff__del\">" not in page or "removed: </span>" in page
    assert '<span class="visually-hidden">added: </span>better' in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Objective 1.1 better body\.</textarea>', page)
    assert proposal_count() == 0


def test_the_live_preview_returns_the_fragment_with_the_diff(client, vision, volunteer) -> None:
    response = client.post(PREVIEW, data=form(body="Objective 1.1 changed body."), headers=HX)
    assert response.status_code == 200
    fragment = html(response)
    assert "<html" not in fragment
    assert '<span class="visually-hidden">added: </span>changed' in fragment
    assert 'id="preview-status" data-hx-swap-oob="innerHTML"' in fragment
    assert "Preview updated: 1 addition or removal." in fragment
    unchanged = html(client.post(PREVIEW, data=form(body=CURRENT_BODY), headers=HX))
    assert "No changes yet" in unchanged
    assert proposal_count() == 0


def test_the_live_preview_sends_an_anonymous_visitor_to_sign_in(client, vision) -> None:
    response = client.post(PREVIEW, data=form(), headers=HX)
    assert response.status_code == 401
    assert response.headers["HX-Redirect"].startswith("/auth/login?next=")


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        (form(body=CURRENT_BODY), "body", "Your proposal is the same as the current text"),
        (form(body="  Objective 1.1 body.\r\n\r\n"), "body", "Your proposal is the same as the current text"),
        (form(rationale="   "), "rationale", "Explain why you propose this change"),
        (form(body=""), "body", "Enter the text you propose"),
        (form(title="T" * 201), "title", "The title must be 200 characters or fewer (it has 201)"),
        (form(body="x" * 20_001), "body", "The proposed text must be 20,000 characters or fewer (it has 20,001)"),
        (form(rationale="r" * 5_001), "rationale", "The reason must be 5,000 characters or fewer"),
        (form(body="Objective 1.1 \u202ebody gnol."), "body", "Remove the hidden formatting characters"),
        (form(title="Objective\u200b 1.1"), "title", "Remove the hidden formatting characters"),
        (form(rationale="Because\u2066 hidden"), "rationale", "Remove the hidden formatting characters"),
    ],
)
def test_bad_proposals_are_refused_beside_the_field(client, vision, volunteer, fields, field, message) -> None:
    response = client.post(PROPOSE, data=fields)
    assert response.status_code == 422
    page = html(response)
    assert "There is a problem" in page  # the error summary
    assert f'<a href="#{field}">{message}' in page  # ... linking to the field
    assert re.search(rf'id="{field}-error"><span class="visually-hidden">Error:</span> {re.escape(message)}', page)
    assert proposal_count() == 0 and revision_count() == 0


def test_every_problem_is_reported_at_once(client, vision, volunteer) -> None:
    page = html(client.post(PROPOSE, data=form(body=CURRENT_BODY, rationale="")))
    assert '<a href="#body">Your proposal is the same as the current text' in page
    assert '<a href="#rationale">Explain why you propose this change' in page


def test_a_50000_word_proposal_is_refused_cleanly(client, vision, volunteer) -> None:
    body = " ".join(f"word{n % 97}" for n in range(50_000))  # ~340 KB: under the 1 MiB request limit
    response = client.post(PROPOSE, data=form(body=body))
    assert response.status_code == 422
    assert "The proposed text must be 20,000 characters or fewer" in html(response)
    assert proposal_count() == 0
    preview = client.post(PREVIEW, data=form(body=body), headers=HX)
    assert preview.status_code == 200
    assert "The preview cannot be shown" in html(preview) and "diff__ins" not in html(preview)


def test_nul_and_control_characters_are_removed_and_the_title_is_one_line(client, vision, volunteer) -> None:
    response = client.post(PROPOSE, data=form(title="Better\ntitle\x00", body="Objective 1.1\x00 new\x07 body.", rationale="Why\x00."))
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    assert (proposal.title, proposal.body, proposal.rationale) == ("Better title", "Objective 1.1 new body.", "Why.")


def test_extra_fields_cannot_set_status_author_or_base(client, vision, volunteer, someone) -> None:
    other_text = entry_of(vision, "objective-2").text_id
    response = client.post(
        PROPOSE,
        data=form(status="accepted", author_id=str(someone.id), base_text_id=str(other_text), revision_count="9", role="admin"),
    )
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    assert (proposal.status, proposal.author_id, proposal.revision_count) == ("open", volunteer.id, 1)
    assert proposal.base_text_id == entry_of(vision, "objective-1").text_id


def test_a_proposal_without_a_csrf_token_is_refused(client, vision, volunteer) -> None:
    response = client.post(PROPOSE, data=form(), csrf=False)
    assert response.status_code == 400
    assert proposal_count() == 0


XSS = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    '" onmouseover="alert(1)',
    "</del><script>alert(2)</script>",
    '<a hx-get="/evil" data-hx-post="/evil" hx-on:click="alert(3)">click</a>',
]


@pytest.mark.parametrize("attack", XSS)
def test_markup_in_a_proposal_comes_out_as_text(client, vision, volunteer, attack) -> None:
    response = client.post(PROPOSE, data=form(title=f"Title {attack}", body=f"Objective 1.1 {attack} body.", rationale=f"Because {attack}"))
    assert response.status_code == 302
    proposal = db.session.scalar(select(Proposal))
    for url in (f"/proposals/{proposal.id}", f"/proposals/{proposal.id}?view=side-by-side", f"/proposals/{proposal.id}?view=list",
                f"/visions/{SLUG}/proposals", f"/visions/{SLUG}/elements/objective-1", f"/proposals/{proposal.id}/revisions/1"):
        page = html(client.get(url))
        for raw in ("<script>alert", "<img src=x", 'onmouseover="alert', "<a hx-get", 'data-hx-post="/evil"', "hx-on:click=\"alert"):
            assert raw not in page, (url, raw)
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "&lt;" in page or "&#34;" in page  # the text is there, escaped
    edit = html(client.get(f"/proposals/{proposal.id}/edit"))
    assert "<script>alert" not in edit and "<img src=x" not in edit and '" onmouseover="alert' not in edit
    preview = html(client.post(PREVIEW, data=form(body=f"Objective 1.1 {attack} body."), headers=HX))
    assert "<script>alert" not in preview and "<img src=x" not in preview and "<a hx-get" not in preview


# --- the services ---------------------------------------------------------------------------------


def test_open_proposal_refuses_outside_the_window_and_for_anonymous(app, vision, make_user) -> None:
    from flask_login import AnonymousUserMixin

    author = make_user()
    element = element_of(vision, "objective-1")
    with pytest.raises(services.NotAllowed):
        services.open_proposal(vision, element, AnonymousUserMixin(), "T", "New text.", "Why.")
    vision.closes_at = utcnow() - timedelta(minutes=1)
    with pytest.raises(services.NotAllowed):
        services.open_proposal(vision, element, author, "T", "New text.", "Why.")
    assert proposal_count() == 0


def test_revisions_are_new_rows_and_old_ones_never_change(app, vision, make_user) -> None:
    author = make_user()
    proposal = open_proposal(vision, author, body="Objective 1.1 first body.")
    services.revise_proposal(proposal, author, proposal.title, "Objective 1.1 second body.", "Better reason.")
    db.session.commit()
    rows = services.revisions(proposal)
    assert [(r.number, r.body, r.rationale) for r in rows] == [
        (1, "Objective 1.1 first body.", "It reads better."),
        (2, "Objective 1.1 second body.", "Better reason."),
    ]
    stored = fresh(Proposal, proposal.id)
    assert (stored.body, stored.rationale, stored.revision_count) == ("Objective 1.1 second body.", "Better reason.", 2)
    rows[0].body = "tampered"
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()


def test_each_revision_keeps_the_words_it_changes_in_its_base(app, vision, make_user) -> None:
    # The queue tells competing proposals apart from these ranges alone, without a word diff.
    author = make_user()
    proposal = open_proposal(vision, author, title="Objective one", body="Objective 1.1 text.")
    db.session.commit()
    assert fresh(Proposal, proposal.id).changed_ranges == {"title": [[10, 13]], "body": [[14, 18]]}  # "1.1" and "body"
    services.revise_proposal(proposal, author, "Objective 1.1", "Objective 1.1 body. Added.", "Why.")
    db.session.commit()
    assert fresh(Proposal, proposal.id).changed_ranges == {"title": [], "body": [[19, 19]]}
    current = edit_draft(vision, "objective-1", "The Objective 1.1 body.")
    services.revise_proposal(proposal, author, "Objective 1.1", "The Objective 1.1 body. Added.", "Why.", base_text_id=current.id)
    db.session.commit()
    assert fresh(Proposal, proposal.id).changed_ranges == {"title": [], "body": [[23, 23]]}  # now measured in the new base


def test_only_the_author_may_revise_or_withdraw_and_only_while_open(app, vision, make_user) -> None:
    author, other = make_user(), make_user()
    proposal = open_proposal(vision, author)
    with pytest.raises(services.NotAllowed):
        services.revise_proposal(proposal, other, "T", "Other text.", "Why.")
    with pytest.raises(services.NotAllowed):
        services.withdraw_proposal(proposal, other)
    services.withdraw_proposal(proposal, author)
    db.session.commit()
    with pytest.raises(services.NotAllowed):
        services.revise_proposal(proposal, author, "T", "Other text.", "Why.")
    with pytest.raises(services.NotAllowed):
        services.withdraw_proposal(proposal, author)
    assert revision_count() == 1


def test_a_revision_must_change_something(app, vision, make_user) -> None:
    author = make_user()
    proposal = open_proposal(vision, author)
    with pytest.raises(ValidationError) as unchanged:
        services.revise_proposal(proposal, author, proposal.title, proposal.body, proposal.rationale)
    assert "You have not changed anything" in unchanged.value.errors["form"][0]
    with pytest.raises(ValidationError) as as_base:
        services.revise_proposal(proposal, author, proposal.title, CURRENT_BODY, "Why.")
    assert "the same as the text it is based on" in as_base.value.errors["body"][0]


def test_a_revision_may_move_only_onto_the_current_text(app, vision, make_user) -> None:
    author = make_user()
    proposal = open_proposal(vision, author, body="Objective 1.1 body. Added sentence.")
    original_base = proposal.base_text_id
    current = edit_draft(vision, "objective-1", "Objective 1.1 body, edited.")
    other = entry_of(vision, "objective-2").text_id
    with pytest.raises(ValidationError) as foreign:
        services.revise_proposal(proposal, author, proposal.title, "Anything new.", "Why.", base_text_id=other)
    assert "The element's text changed while you were editing" in foreign.value.errors["form"][0]
    services.revise_proposal(proposal, author, proposal.title, "Objective 1.1 body, edited. Added sentence.", "Why.", base_text_id=current.id)
    db.session.commit()
    stored = fresh(Proposal, proposal.id)
    assert stored.base_text_id == current.id
    first, second = services.revisions(stored)
    assert (first.base_text_id, second.base_text_id) == (original_base, current.id)


def test_status_words(app) -> None:
    assert services.status_label(Proposal(status="open")) == "Open"
    assert services.status_label(Proposal(status="accepted", accepted_with_changes=False)) == "Accepted"
    assert services.status_label(Proposal(status="accepted", accepted_with_changes=True)) == "Accepted with changes"
    assert services.status_label(Proposal(status="rejected")) == "Rejected"
    assert services.status_label(Proposal(status="withdrawn")) == "Withdrawn"


# --- the proposal page ----------------------------------------------------------------------------


def test_the_proposal_page_shows_what_who_when_and_why(client, vision, make_user) -> None:
    author = make_user(name="Grace Author")
    proposal = open_proposal(vision, author, body="Objective 1.1 clearer body.", rationale="Plainer words help.")
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "A change to Objective 1.1" in page
    assert f'href="/visions/{SLUG}/elements/objective-1">Objective 1.1' in page
    assert f'href="/visions/{SLUG}/v/1/objective-1">Version 1</a>' in page
    assert "Grace Author" in page
    assert proposal.created_at.strftime("%B %Y") in page
    assert '<strong class="ds_tag app-status app-status--open">Open</strong>' in page
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>clearer' in page
    assert "Plainer words help." in page
    assert f'href="/proposals/{proposal.id}/revisions/1">Revision 1</a>' in page
    assert "Edit your proposal" not in page and "Withdraw" not in page  # not the author


def test_a_proposal_on_an_unpublished_text_is_based_on_the_working_draft(client, vision, make_user) -> None:
    base = edit_draft(vision, "objective-1", "An unpublished working text.")
    proposal = open_proposal(vision, make_user(), body="An unpublished working text, improved.")
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert f"The working draft of {base.created_at.day} {base.created_at:%B %Y}" in page
    assert "Version 1</a>" not in page


def test_the_base_version_is_the_newest_published_version_holding_the_base_text(client, vision, make_user) -> None:
    from workbench.drafting.publishing import publish_version

    edit_draft(vision, "objective-2", "Another element changes.")  # objective-1 keeps its text in v2
    publish_version(vision, actor=None, notes="v2")
    db.session.commit()
    proposal = open_proposal(vision, make_user())
    assert services.based_on(proposal, proposal.base_text).version_number == 2
    assert 'href="/visions/test-vision/v/2/objective-1">Version 2</a>' in html(client.get(f"/proposals/{proposal.id}"))


@pytest.mark.parametrize(
    ("query", "marker"),
    [
        ("", "diff diff--inline"),
        ("?view=inline", "diff diff--inline"),
        ("?view=side-by-side", "diff diff--side-by-side"),
        ("?view=list", "diff diff-list"),
        ("?view=nonsense", "diff diff--inline"),
        ("?view=%3Cscript%3E", "diff diff--inline"),
    ],
)
def test_the_diff_view_is_chosen_from_a_whitelist(client, vision, make_user, query, marker) -> None:
    proposal = open_proposal(vision, make_user())
    response = client.get(f"/proposals/{proposal.id}{query}")
    assert response.status_code == 200
    assert marker in html(response)
    assert "<script>" not in html(response)


def test_a_title_change_is_shown_as_its_own_diff(client, vision, make_user) -> None:
    proposal = open_proposal(vision, make_user(), title="A better title", body=CURRENT_BODY + " More.")
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert ">Title</h3>" in page and ">Text</h3>" in page
    assert "added: </span>A better title" in page or "added: </span>A better" in page


@pytest.mark.parametrize("path", ["/proposals/-1", "/proposals/abc", "/proposals/0", "/proposals/12345678901234567890", "/proposals/999999",
                                  "/proposals/1/revisions/0", "/proposals/1/revisions/abc", "/proposals/1/revisions/-1", "/proposals/1/revisions/2",
                                  "/proposals/-1/edit", "/proposals/abc/edit", "/proposals/12345678901234567890/edit"])
def test_bad_ids_are_404(client, vision, make_user, path) -> None:
    open_proposal(vision, make_user())
    assert client.get(path).status_code == 404


@pytest.mark.parametrize("path", ["/proposals/-1/withdraw", "/proposals/abc/withdraw", "/proposals/12345678901234567890/withdraw"])
def test_bad_ids_in_a_post_are_404(client, vision, volunteer, path) -> None:
    assert client.post(path).status_code == 404


def test_a_hidden_proposal_is_404_except_for_its_author_and_facilitators(client, vision, make_user, login_as) -> None:
    author = make_user(name="Hidden Author")
    proposal = open_proposal(vision, author, body="Objective 1.1 hidden body.")
    proposal.hidden_at = utcnow()
    proposal.hidden_reason = "It names a private person."
    db.session.commit()
    url = f"/proposals/{proposal.id}"
    assert client.get(url).status_code == 404
    assert client.get(url + "/revisions/1").status_code == 404
    assert "Proposal " + str(proposal.id) not in html(client.get(f"/visions/{SLUG}/proposals"))
    assert f'href="/proposals/{proposal.id}"' not in html(client.get(f"/visions/{SLUG}/elements/objective-1"))
    login_as(make_user())
    assert client.get(url).status_code == 404
    login_as(author)
    page = html(client.get(url))
    assert "The facilitators have hidden this proposal" in page and "It names a private person." in page
    login_as(make_user(Role.FACILITATOR))
    assert client.get(url).status_code == 200


def test_a_stale_proposal_shows_the_rebased_change_on_the_current_text(client, vision, make_user) -> None:
    edit_draft(vision, "objective-1", "First paragraph stays.\n\nSecond paragraph here.")
    proposal = open_proposal(vision, make_user(), body="First paragraph stays.\n\nSecond paragraph improved here.")
    edit_draft(vision, "objective-1", "First paragraph was edited.\n\nSecond paragraph here.")
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "working text has changed since this proposal was written" in page
    assert "app-status--stale\">Stale</strong>" in page
    assert "Its changes still apply exactly to the current text" in page
    stale_section = page.split('id="rebase-offer-heading"')[1].split('</section>')[0]
    assert "First paragraph was edited." in stale_section  # the current text, kept
    assert "added: </span>improved" in stale_section  # with the proposal's change applied


def test_a_conflicted_proposal_explains_the_conflict_in_words(client, vision, make_user) -> None:
    edit_draft(vision, "objective-1", "We will publish 10,000 datasets.")
    proposal = open_proposal(vision, make_user(), body="We will publish 15,000 datasets.")
    edit_draft(vision, "objective-1", "We will publish 20,000 datasets.")
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "app-status--conflicted\">Conflicted</strong>" in page
    assert "Replace “10,000” with “15,000”" in page
    assert "25,000" not in page  # never an invented merge
    assert "We will publish 20,000 datasets." in page  # the current text, shown


def test_a_decided_proposal_is_not_marked_stale(client, vision, make_user) -> None:
    proposal = open_proposal(vision, make_user())
    edit_draft(vision, "objective-1", "Something else entirely.")
    stored = fresh(Proposal, proposal.id)
    stored.status = ProposalStatus.REJECTED.value
    stored.decision_reason = "Out of scope."
    db.session.commit()
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "working text has changed since" not in page
    assert "Rejected" in page and "Out of scope." in page


def test_competing_proposals_are_listed(client, vision, make_user) -> None:
    edit_draft(vision, "objective-1", "Alpha beta gamma delta.\n\nEpsilon zeta eta theta.")
    mine = open_proposal(vision, make_user(), body="Alpha BETA gamma delta.\n\nEpsilon zeta eta theta.")
    rival = open_proposal(vision, make_user(name="Rival Person"), body="Alpha bravo gamma delta.\n\nEpsilon zeta eta theta.")
    elsewhere = open_proposal(vision, make_user(name="Calm Person"), body="Alpha beta gamma delta.\n\nEpsilon zeta eta iota.")
    edit_draft(vision, "objective-1", "Alpha beta gamma delta.\n\nEpsilon zeta eta theta. More.")
    later = open_proposal(vision, make_user(name="Later Person"), body="Alpha beta gamma delta.\n\nEpsilon zeta eta theta. Most.")
    page = html(client.get(f"/proposals/{mine.id}"))
    section = page.split('id="others-heading"')[1]
    rival_line = section.split(f'/proposals/{rival.id}"')[1].split("</li>")[0]
    calm_line = section.split(f'/proposals/{elsewhere.id}"')[1].split("</li>")[0]
    later_line = section.split(f'/proposals/{later.id}"')[1].split("</li>")[0]
    assert "Competes" in rival_line
    assert "Competes" not in calm_line and "different text" not in calm_line
    assert "written against a different text" in later_line


# --- revision pages -------------------------------------------------------------------------------


def test_each_revision_is_diffable_against_the_previous_one_and_the_base(client, vision, make_user) -> None:
    author = make_user()
    proposal = open_proposal(vision, author, body="Objective 1.1 first body.")
    services.revise_proposal(proposal, author, proposal.title, "Objective 1.1 second body.", "Why now.")
    db.session.commit()
    against_previous = html(client.get(f"/proposals/{proposal.id}/revisions/2"))
    assert "What changed from revision 1" in against_previous
    assert "removed: </span>first" in against_previous and "added: </span>second" in against_previous
    against_base = html(client.get(f"/proposals/{proposal.id}/revisions/2?against=base"))
    assert "changes in the original text" in against_base
    assert "added: </span>second" in against_base and "removed: </span>first" not in against_base
    first = html(client.get(f"/proposals/{proposal.id}/revisions/1?against=previous"))  # none before 1: the base
    assert "added: </span>first" in first
    assert client.get(f"/proposals/{proposal.id}/revisions/2?against=%27;--&view=side-by-side").status_code == 200
    assert client.get(f"/proposals/{proposal.id}/revisions/3").status_code == 404


# --- editing and withdrawing ----------------------------------------------------------------------


def test_the_author_edits_into_a_new_revision(client, vision, volunteer) -> None:
    proposal = open_proposal(vision, volunteer, body="Objective 1.1 first body.")
    page = html(client.get(f"/proposals/{proposal.id}/edit"))
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*Objective 1.1 first body\.</textarea>', page)
    assert "Save as revision 2" in page
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(body="Objective 1.1 second body.", rationale="Better.", status="accepted", author_id="1"))
    assert response.status_code == 302 and response.headers["Location"] == f"/proposals/{proposal.id}"
    stored = fresh(Proposal, proposal.id)
    assert (stored.body, stored.rationale, stored.revision_count, stored.status, stored.author_id) == (
        "Objective 1.1 second body.", "Better.", 2, "open", volunteer.id
    )
    assert [r.body for r in services.revisions(stored)] == ["Objective 1.1 first body.", "Objective 1.1 second body."]
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.revised")).details["revision"] == 2
    assert "saved as revision 2" in html(client.get(f"/proposals/{proposal.id}"))


def test_an_edit_that_changes_nothing_is_refused(client, vision, volunteer) -> None:
    proposal = open_proposal(vision, volunteer)
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(title=proposal.title, body=proposal.body, rationale=proposal.rationale))
    assert response.status_code == 422
    assert "You have not changed anything" in html(response)
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(body="x" * 20_001))
    assert response.status_code == 422 and "20,000 characters or fewer" in html(response)
    assert revision_count() == 1


def test_the_edit_preview_diffs_against_the_base(client, vision, volunteer, someone, login_as) -> None:
    proposal = open_proposal(vision, volunteer)
    response = client.post(f"/proposals/{proposal.id}/edit/preview", data=form(body="Objective 1.1 fresh body."), headers=HX)
    assert response.status_code == 200 and "added: </span>fresh" in html(response)
    no_js = client.post(f"/proposals/{proposal.id}/edit", data=form(body="Objective 1.1 fresh body.", action="preview"))
    assert no_js.status_code == 200 and "added: </span>fresh" in html(no_js)
    assert revision_count() == 1
    login_as(someone)
    assert client.post(f"/proposals/{proposal.id}/edit/preview", data=form(), headers=HX).status_code == 403


def test_the_author_can_bring_a_stale_proposal_up_to_date(client, vision, volunteer) -> None:
    edit_draft(vision, "objective-1", "One two three.\n\nFour five six.")
    proposal = open_proposal(vision, volunteer, body="One two three.\n\nFour FIVE six.")
    current = edit_draft(vision, "objective-1", "One 2 three.\n\nFour five six.")
    page = html(client.get(f"/proposals/{proposal.id}/edit"))
    assert "Bring your proposal up to date with the current text" in page
    page = html(client.get(f"/proposals/{proposal.id}/edit?onto=current"))
    assert "Your earlier changes have been carried over" in page
    assert re.search(r'<textarea[^>]*name="body"[^>]*>\s*One 2 three\.\n\nFour FIVE six\.</textarea>', page)
    assert f'name="base_text_id" type="hidden" value="{current.id}"' in page or f'value="{current.id}"' in page
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(body="One 2 three.\n\nFour FIVE six.", base_text_id=str(current.id)))
    assert response.status_code == 302
    assert fresh(Proposal, proposal.id).base_text_id == current.id
    assert "working text has changed since" not in html(client.get(f"/proposals/{proposal.id}"))


def test_an_edit_against_a_foreign_text_is_refused(client, vision, volunteer) -> None:
    proposal = open_proposal(vision, volunteer)
    other = entry_of(vision, "objective-2").text_id
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(body="Objective 1.1 other body.", base_text_id=str(other)))
    assert response.status_code == 422
    assert "changed while you were editing" in html(response)
    assert fresh(Proposal, proposal.id).base_text_id != other


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.FACILITATOR, Role.ADMIN])
def test_nobody_else_may_edit_or_withdraw(client, vision, make_user, login_as, role) -> None:
    proposal = open_proposal(vision, make_user())
    login_as(make_user(role))
    assert client.get(f"/proposals/{proposal.id}/edit").status_code == 403
    assert client.post(f"/proposals/{proposal.id}/edit", data=form(body="Hijacked text.")).status_code == 403
    assert client.get(f"/proposals/{proposal.id}/withdraw").status_code == 403
    assert client.post(f"/proposals/{proposal.id}/withdraw").status_code == 403
    stored = fresh(Proposal, proposal.id)
    assert (stored.status, stored.revision_count, stored.body) == ("open", 1, proposal.body)


def test_anonymous_edit_and_withdraw_go_to_sign_in(client, vision, make_user) -> None:
    proposal = open_proposal(vision, make_user())
    for response in (
        client.get(f"/proposals/{proposal.id}/edit"),
        client.get(f"/proposals/{proposal.id}/withdraw"),
        client.post(f"/proposals/{proposal.id}/withdraw"),
    ):
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")
    assert fresh(Proposal, proposal.id).status == "open"


def test_the_author_withdraws_and_then_cannot_edit(client, vision, volunteer) -> None:
    proposal = open_proposal(vision, volunteer)
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "Edit your proposal" in page
    # The proposal page links to a confirmation; reading it changes nothing.
    assert f'href="/proposals/{proposal.id}/withdraw">Withdraw your proposal</a>' in page
    confirm = html(client.get(f"/proposals/{proposal.id}/withdraw"))
    assert ">Withdraw your proposal?</h1>" in confirm
    assert "stays on the site, marked “Withdrawn”" in confirm
    assert f'<form method="post" action="/proposals/{proposal.id}/withdraw">' in confirm and 'name="csrf_token"' in confirm
    assert f'href="/proposals/{proposal.id}">Keep it open</a>' in confirm
    assert fresh(Proposal, proposal.id).status == "open"
    response = client.post(f"/proposals/{proposal.id}/withdraw")
    assert response.status_code == 302 and response.headers["Location"] == f"/proposals/{proposal.id}"
    assert fresh(Proposal, proposal.id).status == "withdrawn"
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "proposal.withdrawn")).actor_id == volunteer.id
    page = html(client.get(f"/proposals/{proposal.id}"))
    assert "You withdrew your proposal" in page
    assert "app-status--withdrawn\">Withdrawn</strong>" in page
    assert "Edit your proposal" not in page
    for response in (
        client.get(f"/proposals/{proposal.id}/edit"),
        client.post(f"/proposals/{proposal.id}/edit", data=form(body="Objective 1.1 late body.")),
        client.get(f"/proposals/{proposal.id}/withdraw"),
        client.post(f"/proposals/{proposal.id}/withdraw"),
    ):
        assert response.status_code == 409
        assert "This proposal has been withdrawn, so it can no longer be edited or withdrawn" in html(response)
    assert revision_count() == 1


def test_an_accepted_proposal_cannot_be_edited(client, vision, volunteer) -> None:
    proposal = open_proposal(vision, volunteer)
    stored = fresh(Proposal, proposal.id)
    stored.status, stored.accepted_with_changes = "accepted", True
    db.session.commit()
    response = client.post(f"/proposals/{proposal.id}/edit", data=form(body="Objective 1.1 late body."))
    assert response.status_code == 409
    assert "has been accepted with changes, so it can no longer be edited" in html(response)
    assert "Accepted with changes" in html(client.get(f"/proposals/{proposal.id}"))


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True, "RATELIMIT_PROPOSAL_WRITE": "2/minute", "RATELIMIT_PROPOSAL_PREVIEW": "3/minute"}])
def test_sending_and_previewing_are_rate_limited_per_person(client, vision, volunteer) -> None:
    assert [client.post(PROPOSE, data=form(rationale="")).status_code for _ in range(3)] == [422, 422, 429]
    assert client.get(PROPOSE).status_code == 200  # reading the form is not limited
    assert [client.post(PREVIEW, data=form(), headers=HX).status_code for _ in range(4)] == [200, 200, 200, 429]
    assert proposal_count() == 0


def test_after_the_window_closes_an_author_may_withdraw_but_not_edit(client, vision, make_user, login_as) -> None:
    from datetime import timedelta

    from workbench.models import utcnow

    author = make_user()
    proposal = open_proposal(vision, author)
    stored = db.session.get(type(vision), vision.id)
    stored.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()
    login_as(author)
    refused = client.post(f"/proposals/{proposal.id}/edit", data={"title": "T", "body": "New words.", "rationale": "Why."})
    assert refused.status_code == 409
    assert "consultation is closed" in html(refused)
    assert fresh(Proposal, proposal.id).revision_count == 1
    withdrawn = client.post(f"/proposals/{proposal.id}/withdraw")
    assert withdrawn.status_code in (302, 303)
    assert fresh(Proposal, proposal.id).status == "withdrawn"
