"""Invisible characters are judged by their Unicode properties, not a list (issue 19, item 7): text
that shows nothing, disguises itself or floods its neighbours is refused, while the joiners and
selectors that Persian words, emoji and flags need are kept."""

from __future__ import annotations

import pytest

from tests.test_auth import link_in, outbox
from workbench.auth.passwords import password_problem
from workbench.models import User, db
from workbench.validation import has_disguising_characters, has_something_visible

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")

SCOTLAND = "\U0001f3f4\U000e0067\U000e0062\U000e0073\U000e0063\U000e0074\U000e007f"


@pytest.mark.parametrize(
    "text",
    [
        "می\u200cخواهم",  # Persian: a zero-width non-joiner inside a word
        "👨\u200d👩\u200d👧",  # a family: emoji joined by zero-width joiners
        "❤\ufe0f and ☺\ufe0e",  # emoji and text presentation selectors
        f"Data for {SCOTLAND} Scotland",  # a subdivision flag is a tag sequence
        "Tiếng Việt, עִבְרִית, हिन्दी",  # combining marks as scripts use them
    ],
)
def test_text_that_scripts_and_emoji_need_is_accepted(text):
    assert not has_disguising_characters(text)


@pytest.mark.parametrize(
    "text",
    [
        "Looks fine\u202egnp.exe",  # a right-to-left override
        "a\u061cb",  # the Arabic letter mark
        "zero\u200bwidth",  # a zero-width space
        "\u200dleading joiner",  # a joiner with nothing to join
        "co\u00adop",  # a soft hyphen
        "tag\U000e0041ged",  # a tag character outside a flag
        "Hangul\u3164filler",
        "e" + "\u0301" * 12,  # a flood of combining marks ("Zalgo")
    ],
)
def test_text_that_hides_or_floods_is_refused(text):
    assert has_disguising_characters(text)


@pytest.mark.parametrize("name", ["\u3164", "\u2800\u2800", "\u115f", "\u00ad", "\U000e0041\U000e0042", "\u3164 \u2800"])
def test_a_display_name_that_shows_nothing_is_refused_beside_the_field(client, make_user, login_as, name):
    user = login_as(make_user(name="Kept Name"))
    response = client.post("/account/name", data={"display_name": name})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="display_name-error"' in page
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_a_persian_display_name_with_a_joiner_is_accepted(client, make_user, login_as):
    user = login_as(make_user(name="Kept Name"))
    response = client.post("/account/name", data={"display_name": "مریم\u200cها"})
    assert response.status_code == 303
    db.session.expire_all()
    assert db.session.get(User, user.id).display_name == "مریم\u200cها"


def test_something_visible_means_a_letter_number_punctuation_or_symbol():
    assert has_something_visible("Ada") and has_something_visible("7") and has_something_visible("☺")
    assert not has_something_visible("\u2800\u3164 ")


def test_a_password_of_only_spaces_is_refused():
    assert password_problem(" " * 10) == "Enter a password that is not only spaces"
    assert password_problem("  correct horse battery  ") is None


def test_only_the_newest_reset_link_works(app, client, make_user):
    make_user(email="twice@example.org")
    client.post("/auth/reset", data={"email": "twice@example.org"})
    older = link_in(outbox(app)[-1], "/auth/reset/")
    client.post("/auth/reset", data={"email": "twice@example.org"})
    newer = link_in(outbox(app)[-1], "/auth/reset/")
    assert older != newer
    refused = client.post(older, data={"password": "a brand new passphrase"})
    assert refused.status_code == 400 and "This link does not work" in refused.get_data(as_text=True)
    assert client.post(newer, data={"password": "a brand new passphrase"}).status_code == 303
