"""Facilitators' direct edits of the working draft, the draft page, and the consultation window."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench.models import (
    DraftChange,
    ElementText,
    Proposal,
    Role,
    Vision,
    db,
    utcnow,
)
from workbench.visions.services import working_tree

from .factories import element_of, entry_of, events, fresh, open_proposal
from .test_drafting_support import (  # noqa: F401  (fixtures: per_request_login is autouse; facilitator)
    accept,
    edit_text,
    facilitator,
    hidden_value,
    per_request_login,
)


def labels(vision) -> dict[str, str]:
    return {e["key"]: e["label"] for e in working_tree(fresh(Vision, vision.id))}


def text_count() -> int:
    return db.session.scalar(select(func.count(ElementText.id)))


# --- editing an element's text --------------------------------------------------------------------


def test_a_facilitator_edits_an_element_and_the_draft_shows_the_word_diff(client, make_vision, facilitator) -> None:
    vision = make_vision()
    before = entry_of(vision, "objective-1")
    page = client.get("/visions/test-vision/draft/elements/objective-1/edit").get_data(as_text=True)
    assert hidden_value(page, "lock_version") == str(before.lock_version)
    assert "Objective 1.1 body." in page

    response = edit_text(client, vision, "objective-1", "Objective 1.1 body, now sharper.", reason="Sharper words.")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/visions/test-vision/draft#element-objective-1")

    after = entry_of(vision, "objective-1")
    assert after.text.body == "Objective 1.1 body, now sharper."
    assert after.text.created_by_id == facilitator.id
    assert after.lock_version == before.lock_version + 1
    assert db.session.get(ElementText, before.text_id).body == "Objective 1.1 body."  # never updated
    change = db.session.scalar(select(DraftChange).where(DraftChange.kind == "edit"))
    assert (change.actor_id, change.reason, change.text_id, change.version_id) == (facilitator.id, "Sharper words.", after.text_id, None)
    [event] = events("draft.element_edited")
    assert event.actor_id == facilitator.id and event.details["reason"] == "Sharper words."

    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "has a new text in the working draft" in page  # the flash
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>, now sharper' in page
    assert "Text changed" in page
    assert "text edited by Fiona Facilitator" in page and "Sharper words." in page


def test_an_edit_from_an_out_of_date_page_is_a_friendly_conflict_and_can_be_saved_again(client, make_vision, facilitator) -> None:
    vision = make_vision()
    stale_lock = entry_of(vision, "objective-1").lock_version
    edit_text(client, vision, "objective-1", "Someone else's newer text.")
    texts = text_count()

    response = client.post(
        "/visions/test-vision/draft/elements/objective-1/edit",
        data={"title": "Objective 1.1", "body": "My older edit.", "reason": "Mine.", "lock_version": str(stale_lock), "action": "save"},
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Someone changed this element&#39;s text while you were editing it" in page
    assert "Someone else&#39;s newer text." in page  # the current text is shown
    assert "My older edit." in page  # what they typed is kept
    assert text_count() == texts
    assert entry_of(vision, "objective-1").text.body == "Someone else's newer text."

    # The page now carries the current lock version: saving again, knowingly, replaces the text.
    response = client.post(
        "/visions/test-vision/draft/elements/objective-1/edit",
        data={"title": "Objective 1.1", "body": "My older edit.", "reason": "Mine.", "lock_version": hidden_value(page, "lock_version"), "action": "save"},
    )
    assert response.status_code == 302
    assert entry_of(vision, "objective-1").text.body == "My older edit."


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"body": ""}, "body", "Enter the text"),
        ({"reason": ""}, "reason", "Say why you are making this change"),
        ({"title": ""}, "title", "Enter a title"),
        ({"title": "x" * 201}, "title", "The title must be 200 characters or fewer"),
        ({"body": "x" * 20_001}, "body", "The text must be 20,000 characters or fewer"),
        ({"body": "Evil\u202etext"}, "body", "Remove the hidden formatting characters"),
        ({"body": "Objective 1.1 body."}, "body", "The text is the same as the current text"),
        ({"lock_version": "abc"}, None, "Someone changed this element"),
    ],
)
def test_bad_edits_are_refused_with_a_message_and_write_nothing(client, make_vision, facilitator, data, field, message) -> None:
    make_vision()
    texts = text_count()
    form = {"title": "Objective 1.1", "body": "A new text.", "reason": "Why.", "lock_version": "1", "action": "save", **data}
    response = client.post("/visions/test-vision/draft/elements/objective-1/edit", data=form)
    assert response.status_code in (409, 422)
    page = response.get_data(as_text=True)
    assert message in page.replace("&#39;", "'")
    assert "There is a problem" in page
    if field:
        assert f'id="{field}-error"' in page
    assert text_count() == texts
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind == "edit")) == 0


def test_markup_in_an_edit_is_shown_as_text(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", 'Now <script>alert(1)</script> and <img src=x onerror=alert(1)> data-hx-post="/x"')
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "<script>alert(1)" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


def test_preview_shows_the_diff_and_saves_nothing(client, make_vision, facilitator) -> None:
    make_vision()
    texts = text_count()
    response = client.post(
        "/visions/test-vision/draft/elements/objective-1/edit",
        data={"title": "Objective 1.1", "body": "Objective 1.1 text.", "reason": "", "lock_version": "1", "action": "preview"},
    )
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Preview of your changes" in page
    assert '<del class="diff__del"><span class="visually-hidden">removed: </span>body' in page
    assert text_count() == texts


def test_unknown_or_removed_elements_cannot_be_edited(client, make_vision, facilitator) -> None:
    make_vision()
    make_vision(slug="other")
    assert client.get("/visions/test-vision/draft/elements/objective-99/edit").status_code == 404
    assert client.get("/visions/nope/draft/elements/objective-1/edit").status_code == 404
    client.post("/visions/test-vision/draft/elements/objective-1/remove", data={"reason": "Gone."})
    assert client.get("/visions/test-vision/draft/elements/objective-1/edit").status_code == 409
    response = client.post(
        "/visions/test-vision/draft/elements/objective-1/edit",
        data={"title": "T", "body": "B", "reason": "R", "lock_version": "2", "action": "save"},
    )
    assert response.status_code == 409
    assert "has been removed from the working draft" in response.get_data(as_text=True)


def test_a_volunteer_cannot_edit_even_with_a_valid_form(client, make_vision, make_user, login_as) -> None:
    vision = make_vision()
    login_as(make_user(Role.VOLUNTEER))
    response = edit_text(client, vision, "objective-1", "Volunteer text.")
    assert response.status_code == 403
    assert entry_of(vision, "objective-1").text.body == "Objective 1.1 body."


def test_an_edit_without_a_csrf_token_is_refused(client, make_vision, facilitator) -> None:
    vision = make_vision()
    response = client.post(
        "/visions/test-vision/draft/elements/objective-1/edit",
        data={"title": "Objective 1.1", "body": "New.", "reason": "Why.", "lock_version": "1", "action": "save"},
        csrf=False,
    )
    assert response.status_code == 400
    assert entry_of(vision, "objective-1").text.body == "Objective 1.1 body."


# --- adding elements ------------------------------------------------------------------------------


def test_adding_an_objective_at_the_end_gives_a_new_key_and_number(client, make_vision, facilitator) -> None:
    vision = make_vision()  # objectives 1-4 exist
    page = client.get("/visions/test-vision/draft/add?kind=objective&parent=ambition-1").get_data(as_text=True)
    assert "Add an objective to Ambition 1" in page
    assert "Before Objective 1.1" in page
    response = client.post(
        "/visions/test-vision/draft/add?kind=objective&parent=ambition-1",
        data={"title": "Open by default", "body": "Publish data openly.", "position": "end", "reason": "It was missing."},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#element-objective-5")
    assert labels(vision)["objective-5"] == "Objective 1.3"
    change = db.session.scalar(select(DraftChange).where(DraftChange.kind == "add"))
    assert (change.actor_id, change.reason) == (facilitator.id, "It was missing.")
    assert events("draft.element_added")[0].details["key"] == "objective-5"
    assert "Objective 1.3 was added to the working draft" in client.get("/visions/test-vision/draft").get_data(as_text=True)


def test_adding_before_a_sibling_renumbers_without_touching_lock_versions(client, make_vision, facilitator) -> None:
    vision = make_vision()
    locks = {key: entry_of(vision, key).lock_version for key in ("objective-1", "objective-2")}
    client.post(
        "/visions/test-vision/draft/add?kind=objective&parent=ambition-1",
        data={"title": "First now", "body": "Goes first.", "position": "objective-1", "reason": "Most important."},
    )
    found = labels(vision)
    assert (found["objective-5"], found["objective-1"], found["objective-2"]) == ("Objective 1.1", "Objective 1.2", "Objective 1.3")
    assert {key: entry_of(vision, key).lock_version for key in locks} == locks


def test_adding_an_ambition_at_the_top_level(client, make_vision, facilitator) -> None:
    vision = make_vision()
    response = client.post(
        "/visions/test-vision/draft/add?kind=ambition",
        data={"title": "A third ambition", "body": "Its text.", "position": "end", "reason": "Asked for."},
    )
    assert response.status_code == 302
    assert labels(vision)["ambition-3"] == "Ambition 3"


@pytest.mark.parametrize(
    "query",
    [
        "kind=statement",
        "kind=objective",
        "kind=objective&parent=objective-1",
        "kind=objective&parent=ambition-99",
        "kind=ambition&parent=ambition-1",
        "kind=evil",
        "",
    ],
)
def test_adding_where_nothing_can_go_is_a_404(client, make_vision, facilitator, query) -> None:
    make_vision()
    assert client.get(f"/visions/test-vision/draft/add?{query}").status_code == 404
    assert client.post(f"/visions/test-vision/draft/add?{query}", data={"title": "T", "body": "B", "reason": "R"}).status_code == 404


def test_adding_with_an_unknown_place_or_missing_words_is_refused(client, make_vision, facilitator) -> None:
    make_vision()
    response = client.post(
        "/visions/test-vision/draft/add?kind=objective&parent=ambition-1",
        data={"title": "T", "body": "B", "reason": "R", "position": "objective-3"},  # objective-3 is under ambition 2
    )
    assert response.status_code == 422
    assert "Choose where to put it" in response.get_data(as_text=True)
    response = client.post(
        "/visions/test-vision/draft/add?kind=objective&parent=ambition-1", data={"title": "", "body": "", "reason": "", "position": "end"}
    )
    page = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Enter a title" in page and "Enter the text" in page and "Say why" in page
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind == "add")) == 0


def test_keys_are_never_reused_after_a_removal(client, make_vision, facilitator) -> None:
    vision = make_vision()
    client.post("/visions/test-vision/draft/elements/objective-4/remove", data={"reason": "Duplicate."})
    client.post(
        "/visions/test-vision/draft/add?kind=objective&parent=ambition-2",
        data={"title": "New", "body": "New.", "position": "end", "reason": "Replacement."},
    )
    assert "objective-5" in labels(vision) and "objective-4" not in labels(vision)
    assert element_of(vision, "objective-4") is not None  # never deleted


# --- removing elements ----------------------------------------------------------------------------


def test_removing_an_element_closes_its_open_proposals_with_the_reason(client, make_vision, make_user, facilitator) -> None:
    vision = make_vision()
    author = make_user(Role.VOLUNTEER)
    first = open_proposal(vision, author, "objective-2", "Better objective 1.2.")
    second = open_proposal(vision, author, "objective-2", "Another objective 1.2.")
    elsewhere = open_proposal(vision, author, "objective-1", "Leave me alone.")

    page = client.get("/visions/test-vision/draft/elements/objective-2/remove").get_data(as_text=True)
    assert "2 open proposals to change Objective 1.2 will be closed" in page
    response = client.post("/visions/test-vision/draft/elements/objective-2/remove", data={"reason": "It repeats Objective 1.1."})
    assert response.status_code == 302

    entry = entry_of(vision, "objective-2")
    assert entry.is_removed
    for proposal in (first, second):
        closed = fresh(Proposal, proposal.id)
        assert closed.status == "rejected"
        assert closed.decision_reason == "The element was removed from the draft: It repeats Objective 1.1."
        assert closed.decided_by_id == facilitator.id
    assert fresh(Proposal, elsewhere.id).status == "open"
    assert sorted(e.subject_id for e in events("proposal.rejected")) == sorted([first.id, second.id])
    assert events("draft.element_removed")[0].details["closed_proposals"] == [first.id, second.id]
    assert db.session.scalar(select(DraftChange).where(DraftChange.kind == "remove")).reason == "It repeats Objective 1.1."
    assert "objective-2" not in labels(vision)
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "2 open proposals on it were closed with your reason" in page
    assert "Removed" in page and "Renumbered" not in page  # objective 1.2 was last of its kind


def test_an_ambition_with_objectives_cannot_be_removed_until_they_are(client, make_vision, facilitator) -> None:
    vision = make_vision()
    page = client.get("/visions/test-vision/draft/elements/ambition-1/remove").get_data(as_text=True)
    assert "Remove each of them first" in page
    assert 'href="/visions/test-vision/draft/elements/objective-1/remove"' in page
    response = client.post("/visions/test-vision/draft/elements/ambition-1/remove", data={"reason": "Too much."})
    assert response.status_code == 422
    assert "Remove its 2 objectives and 1 enabling condition first" in response.get_data(as_text=True)
    assert not entry_of(vision, "ambition-1").is_removed
    for key in ("objective-1", "objective-2", "condition-1"):
        assert client.post(f"/visions/test-vision/draft/elements/{key}/remove", data={"reason": "Folding it."}).status_code == 302
    assert client.post("/visions/test-vision/draft/elements/ambition-1/remove", data={"reason": "Folded."}).status_code == 302
    found = labels(vision)
    assert "ambition-1" not in found and found["ambition-2"] == "Ambition 1"


def test_the_statement_cannot_be_removed_and_a_reason_is_required(client, make_vision, facilitator) -> None:
    vision = make_vision()
    assert "cannot be removed" in client.get("/visions/test-vision/draft/elements/statement-1/remove").get_data(as_text=True)
    assert client.post("/visions/test-vision/draft/elements/statement-1/remove", data={"reason": "x"}).status_code == 422
    response = client.post("/visions/test-vision/draft/elements/objective-1/remove", data={"reason": "  "})
    assert response.status_code == 422
    assert not entry_of(vision, "objective-1").is_removed


def test_removing_twice_says_it_was_already_removed(client, make_vision, facilitator) -> None:
    make_vision()
    client.post("/visions/test-vision/draft/elements/objective-1/remove", data={"reason": "Gone."})
    response = client.post("/visions/test-vision/draft/elements/objective-1/remove", data={"reason": "Gone again."})
    assert response.status_code == 302
    assert "had already been removed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind == "remove")) == 1


# --- moving elements ------------------------------------------------------------------------------


def test_moving_an_objective_up_renumbers_it_and_a_double_click_moves_it_once(client, make_vision, facilitator) -> None:
    vision = make_vision()
    locks = {key: entry_of(vision, key).lock_version for key in ("objective-1", "objective-2")}
    response = client.post("/visions/test-vision/draft/elements/objective-2/move", data={"direction": "up", "from_place": "2"})
    assert response.status_code == 302
    assert response.headers["Location"].endswith("#element-objective-2")
    found = labels(vision)
    assert (found["objective-2"], found["objective-1"]) == ("Objective 1.1", "Objective 1.2")
    assert {key: entry_of(vision, key).lock_version for key in locks} == locks
    assert "Moved up: it is now Objective 1.1" in client.get("/visions/test-vision/draft").get_data(as_text=True)

    again = client.post("/visions/test-vision/draft/elements/objective-2/move", data={"direction": "up", "from_place": "2"})
    assert "had already moved" in client.get(again.headers["Location"]).get_data(as_text=True)
    assert labels(vision)["objective-2"] == "Objective 1.1"
    changes = db.session.scalars(select(DraftChange).where(DraftChange.kind == "reorder")).all()
    assert len(changes) == 1 and changes[0].actor_id == facilitator.id
    assert events("draft.element_moved")[0].details == {"key": "objective-2", "direction": "up", "from_place": 2, "to_place": 1}


def test_moving_past_the_ends_or_a_bad_direction_is_refused_with_a_message(client, make_vision, facilitator) -> None:
    vision = make_vision()
    response = client.post("/visions/test-vision/draft/elements/objective-1/move", data={"direction": "up", "from_place": "1"})
    assert "It is already the first of its objectives" in client.get(response.headers["Location"]).get_data(as_text=True)
    response = client.post("/visions/test-vision/draft/elements/ambition-1/move", data={"direction": "sideways"})
    assert "Choose to move it up or down" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert client.post("/visions/test-vision/draft/elements/objective-77/move", data={"direction": "up"}).status_code == 404
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind == "reorder")) == 0
    assert labels(vision)["objective-1"] == "Objective 1.1"


def test_moving_an_ambition_moves_its_children_numbers_with_it(client, make_vision, facilitator) -> None:
    vision = make_vision()
    client.post("/visions/test-vision/draft/elements/ambition-2/move", data={"direction": "up", "from_place": "2"})
    found = labels(vision)
    assert (found["ambition-2"], found["objective-3"], found["ambition-1"], found["objective-1"]) == (
        "Ambition 1", "Objective 1.1", "Ambition 2", "Objective 2.1"
    )


# --- the draft page -------------------------------------------------------------------------------


def test_the_draft_is_public_and_only_facilitators_see_edit_controls(client, make_vision, make_user, login_as) -> None:
    make_vision()
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "Draft of version 2" in page
    assert "The draft is the same as version 1." in page
    assert "/draft/elements/objective-1/edit" not in page and "Publish version 2" not in page
    login_as(make_user(Role.VOLUNTEER))
    assert "/draft/elements/objective-1/edit" not in client.get("/visions/test-vision/draft").get_data(as_text=True)
    login_as(make_user(Role.FACILITATOR))
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert 'href="/visions/test-vision/draft/elements/objective-1/edit"' in page
    assert "Publish version 2" in page and "Move down" in page


def test_the_draft_of_an_unpublished_vision_shows_everything_as_new(client, make_vision) -> None:
    make_vision(publish=False)
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "Draft of version 1" in page
    assert "everything in this draft will be in version 1" in page
    assert "Added" in page


def test_the_draft_lists_its_changes_with_who_what_why_and_the_proposal(client, make_vision, make_user, facilitator) -> None:
    vision = make_vision()
    author = make_user(Role.VOLUNTEER, name="Vera Volunteer")
    proposal = open_proposal(vision, author, "objective-3", "Objective 2.1 body, made better.")
    accept(proposal, facilitator, note="Good catch.")
    edit_text(client, vision, "objective-1", "Objective 1.1 body, edited.", reason="Tighter.")
    client.post("/visions/test-vision/draft/elements/condition-2/remove", data={"reason": "Out of scope."})
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "3 changes made to the draft since version 1" in page
    assert f'<a href="/proposals/{proposal.id}">proposal {proposal.id}</a>' in page
    assert "by Vera Volunteer accepted by Fiona Facilitator" in page and "Good catch." in page
    assert "text edited by Fiona Facilitator" in page and "Tighter." in page
    assert "removed by Fiona Facilitator" in page and "Out of scope." in page
    assert "3 elements differ: 2 changed and 1 removed" in page


def test_a_change_that_was_undone_leaves_the_draft_the_same(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Temporary.")
    edit_text(client, vision, "objective-1", "Objective 1.1 body.")
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert "The draft is the same as version 1." in page
    assert "Together these changes leave the text as it was in version 1" in page


@pytest.mark.parametrize("view", ["inline", "side-by-side", "list", "evil", "author.email"])
def test_the_draft_views_are_whitelisted(client, make_vision, facilitator, view) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Objective 1.1 text.")
    response = client.get(f"/visions/test-vision/draft?view={view}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Objective 1.1" in page
    if view == "list":
        assert "Replaced" in page and "Objective 2.1 body." not in page  # only what differs
    elif view == "side-by-side":
        assert "diff--side-by-side" in page
    else:
        assert "diff--inline" in page and "Objective 2.1 body." in page


def draft_queries(client, count_queries, slug: str) -> int:
    with count_queries() as log:
        assert client.get(f"/visions/{slug}/draft").status_code == 200
    return log.count


def test_the_draft_page_runs_the_same_queries_however_big_the_vision(client, make_vision, facilitator, count_queries) -> None:
    small = make_vision(slug="small", ambitions=1, objectives=1, conditions=1)
    large = make_vision(slug="large", ambitions=5, objectives=6, conditions=3)
    for vision in (small, large):
        edit_text(client, vision, "objective-1", "Edited once.")
    for n in range(2, 9):
        edit_text(client, large, f"objective-{n}", f"Edited {n}.")
        client.post(f"/visions/{large.slug}/publish", data={"notes": f"v{n}"})
    client.post("/visions/large/draft/elements/condition-1/remove", data={"reason": "Gone."})
    assert draft_queries(client, count_queries, "small") == draft_queries(client, count_queries, "large")
    # +1 (issue 15): the header's unread notifications count for the signed-in facilitator.
    assert draft_queries(client, count_queries, "large") <= 7


# --- the consultation window ----------------------------------------------------------------------


def test_setting_the_window_times_in_uk_time(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert "All times are in UK time (GMT in winter, BST in summer)" in page
    assert 'type="date"' in page and 'type="time"' in page
    response = client.post(
        "/visions/test-vision/window",
        data={"opens_date": "2031-03-01", "opens_time": "09:30", "closes_date": "2031-04-30", "closes_time": "17:00"},
    )
    assert response.status_code == 302
    saved = fresh(Vision, vision.id)
    assert saved.opens_at.isoformat() == "2031-03-01T09:30:00+00:00"  # GMT is UTC
    assert saved.closes_at.isoformat() == "2031-04-30T16:00:00+00:00"  # 17:00 BST
    assert saved.window_state() == "upcoming"
    [event] = events("window.updated")
    assert event.details["closes_at"] == "2031-04-30T16:00:00+00:00" and event.actor_id == facilitator.id
    page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert "it opens on 1 March 2031, 09:30 GMT and closes on 30 April 2031, 17:00 BST" in page
    assert 'value="2031-03-01"' in page and 'value="17:00"' in page


@pytest.mark.parametrize(
    "data, field, message",
    [
        ({"opens_date": "2031-03-01", "closes_date": "2031-02-01"}, "closes_date", "The closing time must be after the opening time"),
        ({"opens_date": "2031-03-01", "opens_time": "10:00", "closes_date": "2031-03-01", "closes_time": "10:00"}, "closes_date", "must be after"),
        ({"opens_date": "2031-02-30"}, "opens_date", "Enter the opening date as a real date"),
        ({"opens_date": "tomorrow"}, "opens_date", "as a real date"),
        ({"opens_date": "2031-03-01", "opens_time": "25:00"}, "opens_time", "Enter the opening time on the 24-hour clock"),
        ({"closes_date": "2031-03-01"}, "opens_date", "Enter when the consultation opens"),
        ({"opens_time": "09:00"}, "opens_date", "Enter the opening date, or clear the time too"),
    ],
)
def test_bad_window_times_get_clear_messages_and_change_nothing(client, make_vision, facilitator, data, field, message) -> None:
    vision = make_vision()
    before = (vision.opens_at, vision.closes_at)
    response = client.post("/visions/test-vision/window", data=data)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and f'id="{field}-error"' in page
    saved = fresh(Vision, vision.id)
    assert (saved.opens_at, saved.closes_at) == before
    assert not events("window.updated")


def test_clearing_both_times_means_no_consultation(client, make_vision, facilitator) -> None:
    vision = make_vision()
    assert client.post("/visions/test-vision/window", data={}).status_code == 302
    assert fresh(Vision, vision.id).window_state() == "unscheduled"


def test_closing_now_and_reopening_for_some_days(client, make_vision, facilitator) -> None:
    vision = make_vision()
    response = client.post("/visions/test-vision/window/close")
    assert response.status_code == 302
    assert "The consultation is closed" in client.get(response.headers["Location"]).get_data(as_text=True)
    assert fresh(Vision, vision.id).window_state() == "closed"
    assert events("window.closed")[0].actor_id == facilitator.id

    response = client.post("/visions/test-vision/window/close")
    assert "not open, so there is nothing to close" in client.get(response.headers["Location"]).get_data(as_text=True)

    for days in ("0", "abc", "366", "-1", "²"):
        response = client.post("/visions/test-vision/window/reopen", data={"days": days})
        assert response.status_code == 422
        assert "Enter a whole number of days from 1 to 365" in response.get_data(as_text=True)
    response = client.post("/visions/test-vision/window/reopen", data={"days": "7"})
    assert response.status_code == 302
    reopened = fresh(Vision, vision.id)
    assert reopened.is_open()
    assert timedelta(days=6, hours=23) < reopened.closes_at - utcnow() <= timedelta(days=7)
    assert events("window.reopened")[0].details["days"] == 7
    response = client.post("/visions/test-vision/window/reopen", data={"days": "7"})
    assert response.status_code == 422 and "already open" in response.get_data(as_text=True)


def test_closing_now_asks_first_and_says_which_closing_time_it_replaces(client, make_vision, facilitator) -> None:
    vision = make_vision()
    closes_at = fresh(Vision, vision.id).closes_at
    window_page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert 'href="/visions/test-vision/window/close"' in window_page
    assert 'action="/visions/test-vision/window/close"' not in window_page  # no one-click close

    confirm = client.get("/visions/test-vision/window/close")
    page = confirm.get_data(as_text=True)
    assert confirm.status_code == 200 and "Close the consultation now?" in page
    assert "Closing it now replaces that time" in page and 'href="/visions/test-vision/window"' in page
    assert fresh(Vision, vision.id).is_open()  # asking changes nothing

    response = client.post("/visions/test-vision/window/close")
    assert response.status_code == 302 and fresh(Vision, vision.id).window_state() == "closed"
    assert events("window.closed")[0].details["previous_closes_at"] == closes_at.isoformat()
    # Nothing to confirm once closed: back to the window page, saying why.
    again = client.get("/visions/test-vision/window/close")
    assert again.status_code == 302
    assert "nothing to close" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_opening_an_upcoming_window_now_keeps_its_closing_time_when_asked(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    client.post(
        "/visions/test-vision/window",
        data={"opens_date": "2031-03-01", "opens_time": "09:00", "closes_date": "2031-11-30", "closes_time": "23:59"},
    )
    page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert "When should it close?" in page and "At the time already set: 30 November 2031, 23:59 GMT" in page

    # No choice made (an old page, a hand-made post): refused, nothing replaced.
    response = client.post("/visions/test-vision/window/reopen", data={"days": "7"})
    assert response.status_code == 422
    assert "Choose whether it closes at the time already set, 30 November 2031, 23:59 GMT" in response.get_data(as_text=True)
    assert 'id="closing-error"' in response.get_data(as_text=True)
    assert fresh(Vision, vision.id).window_state() == "upcoming"

    response = client.post("/visions/test-vision/window/reopen", data={"closing": "keep", "days": ""})
    assert response.status_code == 302
    opened = fresh(Vision, vision.id)
    assert opened.is_open() and opened.closes_at.isoformat() == "2031-11-30T23:59:00+00:00"
    assert utcnow() - opened.opens_at < timedelta(minutes=1)
    assert events("window.reopened")[0].details["days"] is None


def test_opening_an_upcoming_window_now_for_some_days_replaces_its_closing_time_when_chosen(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    client.post("/visions/test-vision/window", data={"opens_date": "2031-03-01", "closes_date": "2031-11-30"})
    response = client.post("/visions/test-vision/window/reopen", data={"closing": "days", "days": "0"})
    assert response.status_code == 422 and "Enter a whole number of days" in response.get_data(as_text=True)
    assert client.post("/visions/test-vision/window/reopen", data={"closing": "days", "days": "7"}).status_code == 302
    opened = fresh(Vision, vision.id)
    assert opened.is_open() and timedelta(days=6, hours=23) < opened.closes_at - utcnow() <= timedelta(days=7)


def test_the_services_check_the_permission_again(make_vision, make_user) -> None:
    from workbench.drafting import edits, window
    from workbench.drafting.publishing import publish_version
    from workbench.exceptions import NotAllowed

    vision = make_vision()
    volunteer = make_user(Role.VOLUNTEER)
    lock = entry_of(vision, "objective-1").lock_version
    attempts = [
        lambda: edits.edit_element_text(vision, "objective-1", title="T", body="B", reason="R", lock_version=lock, actor=volunteer),
        lambda: edits.add_element_to_draft(vision, kind="ambition", parent_key=None, title="T", body="B", reason="R", before_key=None, actor=volunteer),
        lambda: edits.remove_element_from_draft(vision, "objective-1", reason="R", actor=volunteer),
        lambda: edits.move_element_in_draft(vision, "objective-2", "up", from_place=2, actor=volunteer),
        lambda: window.set_window(vision, opens_at=None, closes_at=None, actor=volunteer),
        lambda: window.close_window(vision, actor=volunteer),
        lambda: window.reopen_window(vision, days=3, actor=volunteer),
        lambda: publish_version(vision, actor=volunteer, notes="No."),
    ]
    for attempt in attempts:
        with pytest.raises(NotAllowed):
            attempt()
        db.session.rollback()
    assert entry_of(vision, "objective-1").text.body == "Objective 1.1 body."
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind != "import")) == 0
