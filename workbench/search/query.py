"""What a person typed into the search box, read as a search, and written in each engine's syntax.

The syntax is the one people know from web search engines (PostgreSQL's `websearch_to_tsquery`):
words, all of which must be found (`open data`); "a phrase in quotes"; `or` between two words or
phrases; `-word` for a word that must not be found. Anything else is not syntax: a word is a run of
letters and digits, and everything else only separates words, so `foo-bar` and `it's` are the
phrases "foo bar" and "it s", `AND`, `NEAR(`, `*`, `:` and unbalanced quotes are harmless, and a
query is written for each engine from the words alone (quoted for FTS5, whose own syntax raises an
error for `"`, `foo-bar` or `it's` given raw). Pure: no Flask, no database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..exceptions import ValidationError
from ..validation import clean_text

# Longer than any real search; a 10,000-character paste gets a message, not a slow query.
MOST_CHARACTERS = 200
# At most this many words are looked for, whatever was typed: a bounded query.
MOST_WORDS = 12
_WORD = re.compile(r"[^\W_]+")
# A quoted phrase (its closing quote may be missing), or a run of anything else.
_PIECE = re.compile(r'(-?)"([^"]*)"?|(\S+)')


@dataclass(frozen=True)
class Phrase:
    """Words that must be found one after the other (a single word is a phrase of one)."""

    words: tuple[str, ...]


@dataclass(frozen=True)
class Search:
    """What to look for: every group (one of its phrases, `or`) and none of `excluded`."""

    groups: tuple[tuple[Phrase, ...], ...]
    excluded: tuple[Phrase, ...]

    def fts5(self) -> str:
        """The search in SQLite FTS5's query syntax: every word quoted, so nothing typed is syntax."""
        def phrase(p: Phrase) -> str:
            return '"' + " ".join(p.words) + '"'

        found = " AND ".join("(" + " OR ".join(phrase(p) for p in group) + ")" for group in self.groups)
        if self.excluded:
            found += " NOT (" + " OR ".join(phrase(p) for p in self.excluded) + ")"
        return found

    def websearch(self) -> str:
        """The search for PostgreSQL's `websearch_to_tsquery`, written again from the words alone."""
        def phrase(p: Phrase) -> str:
            return '"' + " ".join(p.words) + '"'

        parts = [" or ".join(phrase(p) for p in group) for group in self.groups]
        parts += ["-" + phrase(p) for p in self.excluded]
        return " ".join(parts)

    @property
    def has_phrase(self) -> bool:
        """Whether a phrase of two words or more is to be found. PostgreSQL's word index (GIN) knows
        which rows hold a word, not where, so a phrase is tested on every row holding all its words
        (~14,000 rows for "public sector" at the large scale, where 415 hold the phrase)."""
        return any(len(p.words) > 1 for group in self.groups for p in group)

    def all_words_tsquery(self) -> str:
        """The search for PostgreSQL's `to_tsquery`, each phrase loosened into its words in any order
        and the words to leave out left out: what a row must hold to match the search, which the
        word index answers alone (a row matching the search always matches this). Only letters and
        digits reach the query (`_WORD`), so nothing typed is its syntax. Where every word to find
        is a stop word PostgreSQL drops them all and this matches nothing (as the search does)."""
        def words(p: Phrase) -> str:
            return "(" + " & ".join(p.words) + ")"

        return " & ".join("(" + " | ".join(words(p) for p in group) + ")" for group in self.groups)


def clean_typed(typed: str | None) -> str:
    """What was typed, as it is shown back in the search box: one line, NFC, no control characters."""
    return clean_text((typed or "")[: MOST_CHARACTERS * 4], multiline=False)


def read_search(typed: str) -> Search:
    """`typed` (cleaned by `clean_typed`) as a search.

    Raises ValidationError (field `q`) when it is too long, has no word in it (punctuation or emoji
    alone) or only words to leave out."""
    if len(typed) > MOST_CHARACTERS:
        raise ValidationError({"q": f"Search for at most {MOST_CHARACTERS} characters"})
    groups: list[list[Phrase]] = []
    excluded: list[Phrase] = []
    joining = False
    budget = MOST_WORDS
    for match in _PIECE.finditer(typed):
        minus, quoted, bare = match.groups()
        if bare is not None and bare.lower() == "or":
            joining = bool(groups)
            continue
        if bare is not None and bare.startswith("-"):
            minus, bare = "-", bare[1:]
        words = tuple(_WORD.findall((quoted if quoted is not None else bare).lower()))[:budget]
        if not words:
            continue
        budget -= len(words)
        if minus:
            excluded.append(Phrase(words))
        elif joining:
            groups[-1].append(Phrase(words))
        else:
            groups.append([Phrase(words)])
        joining = False
        if budget <= 0:
            break
    if not groups:
        message = (
            "Add a word to find: a search cannot be only words to leave out"
            if excluded
            else "Enter a word to search for, using letters or numbers"
        )
        raise ValidationError({"q": message})
    return Search(tuple(tuple(group) for group in groups), tuple(excluded))
