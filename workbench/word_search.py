"""Finding proposals by the words in them, with the database's own full-text engine.

What a person types is cut into words (letters and digits; anything else separates them, as the
engines do), and a proposal is found when its title, text or rationale holds every word, or a word
that starts with it ("access" finds "accessible"), in any case. The index is kept by the database
on every write (migration 0010): on SQLite an FTS5 table, `proposal_words`, that triggers keep in
step with `proposals`; on PostgreSQL a generated column, `proposals.search_words`, the `tsvector` of
the same three columns with the `simple` configuration (no stemming, as FTS5's `unicode61`), with a
GIN index.

Neither engine folds accents here (`unicode61 remove_diacritics 0` on SQLite, `simple` on
PostgreSQL): "donnees" does not find "données" on either.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from sqlalchemy import false, func, text
from sqlalchemy.sql import operators

from .extensions import db

# At most this many words are searched for: a bounded query whatever was typed.
MOST_WORDS = 8
_WORD = re.compile(r"[^\W_]+")



def words_of(typed: str) -> list[str]:
    """The words searched for in what was typed, in lower case, each once, at most MOST_WORDS."""
    found: list[str] = []
    for word in _WORD.findall(typed.lower()):
        if word not in found:
            found.append(word)
    return found[:MOST_WORDS]


def searching_order(order_by: Sequence[Any]) -> list[Any]:
    """The order of a list narrowed by `proposals_with_words`, as the database should follow it.

    For a search that finds few proposals (the caller has counted them). PostgreSQL cannot estimate
    how many proposals hold words that are prefixes, and guesses few: with a LIMIT it then walks the
    list's index in order testing every row's words, which reads every proposal when nothing matches
    (~200 ms at 30,000). The same order over `coalesce(column, column)`, which no index provides,
    makes it read the matches from the word index and sort them: work bounded by the matches. (When
    many match, walking the list's order is right: a page is found after a few rows.) SQLite is
    left as it is (see below)."""
    if db.session.get_bind().dialect.name != "postgresql":
        return list(order_by)
    ordered = []
    for clause in order_by:
        column = getattr(clause, "element", clause)
        wrapped = func.coalesce(column, column)
        ordered.append(wrapped.desc() if getattr(clause, "modifier", None) is operators.desc_op else wrapped.asc())
    return ordered


@contextmanager
def walking_the_order() -> Iterator[None]:
    """For the queries within: many proposals match (the caller has counted them), so a page is
    found soonest by walking the list's own index in order and testing each row's words.
    PostgreSQL guesses that few match (it has no statistics of word beginnings) and would read
    every match and sort them (25 ms for 14,000 with the word index, 95 ms without); with sorting
    off for these queries it walks the order and stops after a page. SQLite walks already (below)."""
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    if postgresql:
        db.session.execute(text("SET LOCAL enable_sort = off"))
    try:
        yield
    finally:
        if postgresql:
            db.session.execute(text("SET LOCAL enable_sort TO DEFAULT"))


def proposals_with_words(typed: str) -> Any:
    """SQL: the proposal holds every word of `typed` (or words starting with them); nothing when
    `typed` has no words (punctuation alone)."""
    words = words_of(typed)
    if not words:
        return false()
    if db.session.get_bind().dialect.name == "postgresql":
        query = " & ".join(f"{word}:*" for word in words)
        return text("proposals.search_words @@ to_tsquery('simple'::regconfig, :proposal_words)").bindparams(proposal_words=query)
    # `+proposals.id` keeps SQLite from fetching every match by its id and sorting them: it walks
    # the list's own index in order and checks each id against the matches (read once), so a page
    # stops after its rows however many match.
    query = " ".join(f'"{word}"*' for word in words)
    return text(
        "+proposals.id IN (SELECT rowid FROM proposal_words WHERE proposal_words MATCH :proposal_words)"
    ).bindparams(proposal_words=query)
