"""Numbers are parsed in one place (issue 19, item 5): only ASCII digits make a number, so a
superscript or another script's digit in a URL or a form is refused, never a 500."""

from __future__ import annotations

import pytest

from tests.factories import open_proposal
from workbench.models import Role
from workbench.numbers import whole_number


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("1", 1), (" 42 ", 42), ("999999999", 999_999_999), (7, 7), ("0", None), ("-1", None), ("+3", None),
     ("1.5", None), ("1 2", None), ("²", None), ("٣", None), ("１", None), ("1234567890", None), ("", None), (None, None)],
)
def test_only_ascii_digits_make_a_whole_number(raw, expected):
    assert whole_number(raw) == expected


def test_bounds_are_kept():
    assert whole_number("5", maximum=4) is None
    assert whole_number("0", minimum=0) == 0


@pytest.mark.parametrize("value", ["²", "³", "٣", "-1", "1e3"])
def test_odd_digits_in_the_accept_form_are_an_out_of_date_form_not_a_500(client, vision, author, make_user, login_as, value):
    proposal = open_proposal(vision, author)
    login_as(make_user(Role.FACILITATOR))
    response = client.post(
        f"/proposals/{proposal.id}/accept",
        data={"title": "Objective 1.1", "body": "Accepted text.", "note": "", "expected_text_id": value, "revision": value},
    )
    assert response.status_code in (400, 409, 422)


@pytest.mark.parametrize("page", ["²", "٣", "-1", "0"])
def test_odd_page_numbers_never_500(client, vision, page):
    for path in (f"/visions/{vision.slug}/versions?page={page}", f"/visions/{vision.slug}/aligned-work?page={page}",
                 f"/visions/{vision.slug}/proposals?page={page}"):
        assert client.get(path).status_code in (200, 404), path


@pytest.mark.parametrize("value", ["²", "٣", "0", "-1"])
def test_odd_version_numbers_in_the_compare_form_get_a_message(client, vision, value):
    response = client.get(f"/visions/{vision.slug}/compare?from={value}&to=1")
    assert response.status_code == 400 or "Choose a version" in response.get_data(as_text=True)


@pytest.mark.parametrize("parent_id", ["-1", "²", "abc", "0"])
def test_a_reply_to_a_comment_that_is_not_a_number_is_refused_not_made_a_new_comment(client, vision, author, make_user, login_as, parent_id):
    from sqlalchemy import func, select

    from workbench.models import Comment, db

    proposal = open_proposal(vision, author)
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "A reply.", "parent_id": parent_id})
    assert response.status_code == 404
    assert "The comment you are replying to does not exist" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(Comment)) == 0


@pytest.mark.parametrize("value", ["²", "٣"])
def test_odd_digits_in_the_revision_form_never_500(client, vision, author, login_as, value):
    proposal = open_proposal(vision, author)
    login_as(author)
    response = client.post(
        f"/proposals/{proposal.id}/edit",
        data={"title": "Objective 1.1", "body": "Objective 1.1 new words.", "rationale": "Better.", "base_text_id": value},
    )
    assert response.status_code < 500
