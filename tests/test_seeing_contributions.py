"""Who may read a contribution's words: the one rule (`permissions.can_see_contribution`) that the
proposal pages, the discussion threads and a vote all ask, and its variant for retracted comments."""

from __future__ import annotations

from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from workbench.discussion.threads import can_read_words
from workbench.permissions import can_see_contribution

pytestmark = pytest.mark.database_free

AUTHOR_ID = 7
HIDDEN = datetime(2026, 1, 1, tzinfo=timezone.utc)


def person(user_id: int, *, facilitator: bool = False) -> SimpleNamespace:
    return SimpleNamespace(id=user_id, is_authenticated=True, is_active=True, is_facilitator=facilitator)


ANONYMOUS = SimpleNamespace(is_authenticated=False, is_active=False, is_facilitator=False)
READERS = {
    "the public": ANONYMOUS,
    "another member": person(8),
    "its author": person(AUTHOR_ID),
    "a facilitator": person(9, facilitator=True),
}


def contribution(*, hidden: bool = False, publish: bool = True, author_row: bool = True, retracted: bool = False):
    author = SimpleNamespace(id=AUTHOR_ID, is_published=publish) if author_row else None
    return SimpleNamespace(
        author_id=AUTHOR_ID, author=author, hidden_at=HIDDEN if hidden else None,
        retracted_at=HIDDEN if retracted else None,
    )


@pytest.mark.parametrize(
    "what, expected",
    [
        (contribution(), {"the public", "another member", "its author", "a facilitator"}),
        (contribution(hidden=True), {"its author", "a facilitator"}),
        (contribution(publish=False), {"its author", "a facilitator"}),
        # No author row (as `can_see_contributions_of(user, None)`): published unless hidden.
        (contribution(author_row=False), {"the public", "another member", "its author", "a facilitator"}),
        (contribution(author_row=False, hidden=True), {"its author", "a facilitator"}),
    ],
    ids=["public", "hidden", "not published", "no author row", "no author row, hidden"],
)
def test_who_reads_a_contribution(what, expected):
    assert {name for name, reader in READERS.items() if can_see_contribution(reader, what)} == expected


def test_the_words_of_a_retracted_comment_are_for_its_author_and_the_facilitators():
    comment = contribution(retracted=True)
    assert {name for name, reader in READERS.items() if can_read_words(reader, comment)} == {"its author", "a facilitator"}
    assert {name for name, reader in READERS.items() if can_read_words(reader, contribution())} == set(READERS)
