"""Who wrote each word: an element's text as spans, each credited to where its words came from.

Pure functions: no Flask, no database. Everything here works on plain values.

An element's history is a chain of texts, from its first text (the imported draft, or the text it
was added with) to its text in a published version. Each step of the chain has a **source**:

* ``draft``: the imported first draft;
* ``proposal``: proposal N by its author, as the author wrote it (accepted as is, or carried over
  onto a working text that had moved on: a rebase);
* ``facilitator``: the facilitator's own changes when accepting proposal N with changes, that is
  the difference between the proposal (carried over) and the text accepted;
* ``edit``: a facilitator's direct edit of the working draft.

Each step is compared with the text before it by the word diff (``diffing.diff_words``): words kept
keep their source; words added take the step's source. A word removed and later added again belongs
to whoever added it again. Whitespace belongs to nobody: a span covers words (and punctuation),
with the spaces between two words of the same source inside it.

Spans are ``(start, end, source)`` with character offsets (Python string indices) into the field,
end exclusive, in order, never overlapping. Title and body are attributed separately.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, Literal

from . import diffing

SourceKind = Literal["draft", "proposal", "facilitator", "edit"]
SOURCE_KINDS: tuple[str, ...] = ("draft", "proposal", "facilitator", "edit")
FIELDS = ("title", "body")

_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Source:
    """Where words came from. `person` is the author (proposal) or facilitator (facilitator, edit)
    as an account id (None when unknown); `proposal` the proposal's number."""

    kind: SourceKind
    proposal: int | None = None
    person: int | None = None

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {"kind": self.kind}
        if self.proposal is not None:
            data["proposal"] = self.proposal
        if self.person is not None:
            data["person"] = self.person
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> "Source":
        return cls(kind=data["kind"], proposal=data.get("proposal"), person=data.get("person"))


FIRST_DRAFT = Source("draft")


def proposal_source(proposal: int, author: int | None) -> Source:
    return Source("proposal", proposal=proposal, person=author)


def facilitator_source(proposal: int, facilitator: int | None) -> Source:
    return Source("facilitator", proposal=proposal, person=facilitator)


def edit_source(facilitator: int | None) -> Source:
    return Source("edit", person=facilitator)


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    source: Source


@dataclass(frozen=True)
class Words:
    """An element's text: its title and body."""

    title: str = ""
    body: str = ""

    def field(self, name: str) -> str:
        return self.title if name == "title" else self.body


@dataclass(frozen=True)
class Step:
    """One text of the chain and where its changes (against the text before) came from."""

    words: Words
    source: Source


@dataclass(frozen=True)
class Provenance:
    """Who wrote each part of one text: spans over its title and over its body."""

    words: Words
    title: tuple[Span, ...] = ()
    body: tuple[Span, ...] = ()

    def spans(self, name: str) -> tuple[Span, ...]:
        return self.title if name == "title" else self.body

    def to_json(self) -> dict[str, Any]:
        """The stored form (without the words, which the version's snapshot holds)."""
        return {
            name: [[span.start, span.end, span.source.to_json()] for span in self.spans(name)] for name in FIELDS
        }

    @classmethod
    def from_json(cls, words: Words, data: dict[str, Any]) -> "Provenance":
        spans = {
            name: tuple(Span(start, end, Source.from_json(source)) for start, end, source in data.get(name, ()))
            for name in FIELDS
        }
        return cls(words=words, **spans)


# --- one field: tokens and their sources ------------------------------------------------------------


@dataclass
class _Attributed:
    tokens: list[str] = field(default_factory=list)
    sources: list[Source | None] = field(default_factory=list)


def _is_space(token: str) -> bool:
    return token.isspace()


def _fresh(text: str, source: Source) -> _Attributed:
    tokens = diffing.tokenize(text)
    return _Attributed(tokens, [None if _is_space(t) else source for t in tokens])


def _offsets(tokens: Sequence[str]) -> list[int]:
    """Where each token starts, and the text's length last."""
    return [0, *accumulate(map(len, tokens))]


def _from_spans(text: str, spans: Sequence[Span], fallback: Source) -> _Attributed:
    """The tokens of `text` with the sources `spans` give them (a word no span covers: `fallback`)."""
    tokens = diffing.tokenize(text)
    starts = _offsets(tokens)
    sources: list[Source | None] = [fallback] * len(tokens)
    for span in spans:
        # Spans start and end on token edges: the tokens from the one at `start` to the one ending at `end`.
        first, last = bisect_left(starts, span.start), bisect_left(starts, span.end)
        sources[first:last] = [span.source] * (last - first)
    for i, token in enumerate(tokens):
        if token.isspace():
            sources[i] = None
    return _Attributed(tokens, sources)


def _carry(old: _Attributed, new_text: str, source: Source) -> _Attributed:
    """`new_text` with the sources of the words it keeps from `old`, and `source` for the rest."""
    old_text = "".join(old.tokens)
    if old_text == new_text:
        return old
    starts = _offsets(old.tokens)
    result = _Attributed()
    offset, i = 0, 0  # where in the old text, and its token there
    for change in diffing.diff_words(old_text, new_text):
        if change.op == "insert":
            added = _fresh(change.text, source)
            result.tokens += added.tokens
            result.sources += added.sources
            continue
        # Kept or removed: the old tokens it covers (a change never ends inside a token).
        offset += len(change.text)
        j = bisect_left(starts, offset, lo=i)
        if change.op == "equal":
            result.tokens += old.tokens[i:j]
            result.sources += old.sources[i:j]
        i = j
    if "".join(result.tokens) != new_text:  # never expected: credit the whole text rather than guess
        return _fresh(new_text, source)
    return result


def _spans(attributed: _Attributed) -> tuple[Span, ...]:
    spans: list[Span] = []
    start = end = None
    current: Source | None = None
    offset = 0
    for token, source in zip(attributed.tokens, attributed.sources):
        token_end = offset + len(token)
        if source is not None:
            if current is not None and (source is current or source == current):
                end = token_end
            else:
                if current is not None:
                    spans.append(Span(start, end, current))  # type: ignore[arg-type]
                current, start, end = source, offset, token_end
        offset = token_end
    if current is not None:
        spans.append(Span(start, end, current))  # type: ignore[arg-type]
    return tuple(spans)


# --- the chain ----------------------------------------------------------------------------------------


def attribute(steps: Sequence[Step], previous: Provenance | None = None) -> Provenance:
    """Who wrote each part of the last text of `steps`.

    `previous` is where the chain starts: the spans of the text before the first step (as stored
    with the previous version); None starts from an empty text, so the first step's words are all
    its source's. No steps: `previous` itself (an empty text when None).
    """
    words = previous.words if previous is not None else Words()
    spans: dict[str, tuple[Span, ...]] = {}
    for name in FIELDS:
        text = words.field(name)
        if all(step.words.field(name) == text for step in steps):
            # Unchanged all along: its spans as they were (the usual case for titles).
            spans[name] = previous.spans(name) if previous is not None else _spans(_Attributed(*_unattributed(text)))
            continue
        if previous is not None:
            field_ = _from_spans(text, previous.spans(name), FIRST_DRAFT)
        else:
            field_ = _Attributed(*_unattributed(text))
        for step in steps:
            field_ = _carry(field_, step.words.field(name), step.source)
        spans[name] = _spans(field_)
    if steps:
        words = steps[-1].words
    return Provenance(words=words, title=spans["title"], body=spans["body"])


def _unattributed(text: str) -> tuple[list[str], list[Source | None]]:
    tokens = diffing.tokenize(text)
    return tokens, [None] * len(tokens)


@dataclass(frozen=True)
class AcceptedProposal:
    """An accepted proposal as it was written: its number, author, the text it was written
    against (`base`) and the text it proposed."""

    id: int
    author: int | None
    base: Words
    proposed: Words


def strict_carry_over(base: str, proposed: str, current: str) -> str:
    """The change `base` -> `proposed` carried over onto `current` when it applies strictly
    (`diffing.rebase`); otherwise `current` unchanged."""
    if base == current:
        return proposed
    rebased = diffing.rebase(base, proposed, current)
    return rebased.text if rebased.ok and rebased.text is not None else current


def accept_steps(
    previous: Words,
    proposals: Sequence[AcceptedProposal],
    result: Words,
    *,
    facilitator: int | None,
    with_changes: bool,
    carry_over: Callable[[str, str, str], str] = strict_carry_over,
) -> list[Step]:
    """The steps of accepting `proposals` (one, or several together in their order) into the
    working text `previous`, giving `result`.

    Each proposal's changes are carried over onto the text before it (`carry_over`: its words as
    written when it was written against that text; a rebase otherwise) and credited to it. What
    then still differs from `result` is the facilitator's change at acceptance when accepted
    `with_changes`, and otherwise the last proposal's (a carry-over is then the accepted text).
    """
    steps: list[Step] = []
    current = previous
    for proposal in proposals:
        carried = Words(
            *(
                carry_over(proposal.base.field(name), proposal.proposed.field(name), current.field(name))
                for name in FIELDS
            )
        )
        if carried != current:
            steps.append(Step(carried, proposal_source(proposal.id, proposal.author)))
            current = carried
    if current != result and proposals:
        last = proposals[-1]
        source = facilitator_source(last.id, facilitator) if with_changes else proposal_source(last.id, last.author)
        steps.append(Step(result, source))
    elif current != result:
        steps.append(Step(result, edit_source(facilitator)))
    return steps


# --- counting --------------------------------------------------------------------------------------


def word_count(text: str) -> int:
    """How many words (tokens holding a letter or digit) `text` has."""
    return sum(1 for token in diffing.tokenize(text) if _WORD.search(token))


def words_by_person(provenance: Provenance) -> dict[int, int]:
    """How many words of the text each person wrote (as a proposal's author, or as a facilitator
    in their changes and edits), by account id."""
    counts: dict[int, int] = {}
    for name in FIELDS:
        text = provenance.words.field(name)
        for span in provenance.spans(name):
            if span.source.person is not None:
                counts[span.source.person] = counts.get(span.source.person, 0) + word_count(text[span.start : span.end])
    return counts


def pieces(text: str, spans: Iterable[Span]) -> list[tuple[str, Source | None]]:
    """`text` cut into its spans and the text between them (source None), in order: what a page
    renders."""
    result: list[tuple[str, Source | None]] = []
    offset = 0
    for span in spans:
        if span.start > offset:
            result.append((text[offset : span.start], None))
        result.append((text[span.start : span.end], span.source))
        offset = span.end
    if offset < len(text):
        result.append((text[offset:], None))
    return result
