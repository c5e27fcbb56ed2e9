"""People found by a part of their name ("Proposed by" on the proposals list and the queue).

A name search finds only people whose name the public sees beside their contributions: not deleted
accounts ("a former participant"), and not people who chose to be published without their name or
not at all (workbench/publication.py): searching their name must not reveal their proposals.

How a fragment is found without reading every account (migration 0028):
- 3 characters or more, from an index of the trigrams of those people's names: on SQLite the FTS5
  table `account_words_trigrams` (tokenizer `trigram`, which folds case, non-ASCII letters too), kept
  in step by triggers on `users`; on PostgreSQL the partial GIN index `ix_users_search_words_trigrams`
  (pg_trgm) on `lower(display_name)`. Both hold the publicly named people only.
- 1 or 2 characters (no trigram in them): the narrow index of names, read until enough people are
  found (ASCII letters only fold on SQLite, whose lower() folds nothing else). A fragment that short is
  in most names, so the read stops early.

Either way at most MOST_PEOPLE_NAMED people, in one statement: a fragment more people share finds
nothing, and the note asks for more of it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import false, func, select, text
from sqlalchemy.orm import aliased

from .extensions import db
from .models import Proposal, User
from .publication import PUBLISH_CHOICES, WITH_NAME

# Finding proposals by their author's name reads at most this many people.
MOST_PEOPLE_NAMED = 200
# The trigram indexes find fragments at least this long.
SHORTEST_INDEXED = 3
# Migration 0028's index of named people's names (SQLite) and its PostgreSQL counterpart.
NAME_TRIGRAMS_TABLE = "account_words_trigrams"
NAME_TRIGRAMS_INDEX = "ix_users_search_words_trigrams"
# Their proposals, beside the list's own (made once: a new alias is adapted afresh on each use).
_THEIRS = aliased(Proposal, name="their_proposal")


@dataclass(frozen=True)
class AuthorsNamed:
    """The condition "written by someone whose name contains `name`", and what to say about it."""

    condition: Any
    note: str = ""


def written_by_someone_named(name: str) -> AuthorsNamed:
    """SQL: the proposal's author is publicly named (see the module's docstring) and their display
    name contains `name` (typed as is: `%` and `_` are no wildcards), in any case. One statement
    finds at most MOST_PEOPLE_NAMED + 1 people; more than MOST_PEOPLE_NAMED find nothing, with a note
    asking for more of the name."""
    people = people_named(name, MOST_PEOPLE_NAMED + 1)
    if len(people) > MOST_PEOPLE_NAMED:
        return AuthorsNamed(
            false(), f"More than {MOST_PEOPLE_NAMED} people have “{name}” in their name: type more of the name to find theirs."
        )
    # As the ids of their proposals (from ix_proposals_author_id): a list walking an index of the
    # vision's proposals then tests ids the index holds, rather than reading each row's author
    # (10 ms against 1 ms at the large scale on SQLite).
    return AuthorsNamed(Proposal.id.in_(select(_THEIRS.id).where(_THEIRS.author_id.in_(people))))


def people_named(name: str, limit: int) -> list[int]:
    """The ids of at most `limit` publicly named people whose display name contains `name`, in any
    case; none for an empty `name`. One statement."""
    if not name:
        return []
    if len(name) < SHORTEST_INDEXED:
        return _scanning_names(name, limit)
    if db.session.get_bind().dialect.name == "postgresql":
        return list(
            db.session.scalars(
                select(User.id)
                .where(
                    # The partial index's own condition, written as the migration wrote it.
                    text("is_deleted = false AND publish_as = 'name'"),
                    func.lower(User.display_name).contains(name.lower(), autoescape=True),
                )
                .limit(limit)
            )
        )
    # A quoted FTS5 string is matched as it is: nothing in it is query syntax.
    phrase = '"' + name.replace('"', '""') + '"'
    return list(
        db.session.scalars(
            text(f"SELECT rowid FROM {NAME_TRIGRAMS_TABLE} WHERE {NAME_TRIGRAMS_TABLE} MATCH :phrase LIMIT :limit"),
            {"phrase": phrase, "limit": limit},
        )
    )


def _scanning_names(name: str, limit: int) -> list[int]:
    """The bounded read of ix_users_display_name for a fragment without a trigram; the few people
    not named publicly are read from ix_users_publish_as and left out."""
    # The other choices named, so that their few rows are looked up in ix_users_publish_as, not all read.
    not_named = select(User.id).where(User.publish_as.in_([c for c in PUBLISH_CHOICES if c != WITH_NAME]))
    return list(
        db.session.scalars(
            select(User.id)
            .where(
                User.is_deleted.is_(False),
                func.lower(User.display_name).contains(name.lower(), autoescape=True),
                User.id.not_in(not_named),
            )
            .limit(limit)
        )
    )
