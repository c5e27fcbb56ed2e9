"""Paragraphs and sentences of an element's text, and how a sentence moves as the text changes.

Pure functions: no Flask, no database. Everything here works on plain ``str``.

*Numbering.* A body is paragraphs separated by a blank line (``snapshots.paragraphs``, which
the pages render); each paragraph that holds any text is numbered from 1, and each sentence in it
from 1, so that "paragraph 2, sentence 3" and the anchor ``objective-12-p2-s3`` name one run of
words in a published version forever. The split is deterministic (a regular expression and fixed
word lists, nothing learned or configured): a published version's anchors never change.

*Where a sentence ends.* After ``.``, ``!``, ``?`` or ``…`` (and any closing quotes or brackets),
where whitespace follows and the next word starts with a capital, a digit, an opening quote or
bracket, or a list marker, unless the full stop ends an abbreviation that is not a sentence's end
("e.g.", "i.e.", "Dr.", "No. 5", an initial "J."), or "etc." followed by a word in small letters
(``_ends_here``).
A full stop inside a number ("2.5") is never followed by whitespace, so never ends one. A line of a
paragraph that begins with a list marker ("- ", "* ", "• ", "1. ", "2) ", "(a) ") starts a sentence
of its own, whatever its punctuation, and so does the line after one ending with a colon.

*Following a sentence.* A comment on a sentence records the text and the character range of the
sentence's words. ``follow_sentence`` maps that range through each later text by the word diffs
(``diffing.diff_words``): unchanged (no word inside it removed or added), changed (some words
added or removed, some kept), or removed (none of its words kept). It never guesses a new place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal

from . import diffing

__all__ = [
    "Sentence",
    "Paragraph",
    "sentence_spans",
    "paragraphs_of",
    "find_sentence",
    "sentence_covering",
    "Followed",
    "map_range",
    "follow_sentence",
]

# Abbreviations whose full stop never ends a sentence: they are always followed by more of it.
_NEVER_ENDS = frozenset("e.g i.e cf viz vs approx ca dr mr mrs ms mx prof sr jr st incl esp".split())
# Abbreviations that never end a sentence when a number follows ("No. 5", "para. 3").
_BEFORE_NUMBER = frozenset("no nos vol p pp fig figs art sec para paras".split())
# Abbreviations that end a sentence when the next word starts with a capital (usually they end
# a list: "data, models, etc. The next ...").
_ENDS_BEFORE_CAPITAL = frozenset("etc al".split())

_CLOSERS = "\"'”’»)]}"
_OPENERS = "\"'“‘«([{"
# A candidate end: terminal punctuation, closing quotes or brackets, then whitespace.
_CANDIDATE = re.compile(rf"(?:[.!?…]+)[{re.escape(_CLOSERS)}]*(?=\s)")
_SPACE = re.compile(r"\s+")
# The word just before a full stop (letters and inner full stops, as in "e.g").
_WORD_BEFORE = re.compile(r"([^\W\d_]+(?:\.[^\W\d_]+)*)$", re.UNICODE)
# A list marker at the start of a line.
_LIST_MARKER = re.compile(r"[^\S\n]*(?:[-*•–][^\S\n]|\d{1,3}[.)][^\S\n]|\(?[a-zA-Z]\)[^\S\n]|\(\d{1,3}\)[^\S\n])")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a body: its place in words, and its characters ``body[start:end]``."""

    paragraph: int  # from 1
    number: int  # from 1, within the paragraph
    start: int
    end: int
    text: str

    @property
    def ref(self) -> str:
        """"p2-s3": the sentence's part of an anchor (``objective-12-p2-s3``)."""
        return f"p{self.paragraph}-s{self.number}"

    @property
    def words(self) -> str:
        """"paragraph 2, sentence 3"."""
        return f"paragraph {self.paragraph}, sentence {self.number}"


@dataclass(frozen=True)
class Paragraph:
    """One paragraph: its number, its sentences, and every character of it as runs of text, each
    a sentence or the space between two (``pieces``), so a page can print it whole."""

    number: int
    start: int
    end: int
    sentences: tuple[Sentence, ...]
    pieces: tuple[tuple[str, Sentence | None], ...]


def _ends_here(text: str, stop: int, end: int) -> bool:
    """Whether the punctuation `text[stop:end]` (a candidate end) ends a sentence."""
    if text[stop] != ".":
        return True  # "!", "?", "…" end a sentence wherever the next one may start
    match = _WORD_BEFORE.search(text, 0, stop)
    if match is None:
        return True
    word = match.group(1).lower()
    if word in _NEVER_ENDS:
        return False
    following = text[end:].lstrip()
    if word in _BEFORE_NUMBER and following[:1].isdigit():
        return False
    if len(word) == 1 and word.isalpha() and text[match.start()].isupper() and end - stop == 1:
        return False  # an initial: "J. Smith"
    if word in _ENDS_BEFORE_CAPITAL:
        return bool(following) and not following[0].islower()
    return True


def _may_start(text: str, at: int) -> bool:
    """Whether a sentence may start at `text[at]`: a capital (or a letter without case), a digit or
    a list marker, perhaps after opening quotes or brackets; never a word in small letters."""
    while at < len(text) and text[at] in _OPENERS:
        at += 1
    if at >= len(text):
        return False
    first = text[at]
    return first.isdigit() or first in "-*•–" or (first.isalpha() and not first.islower())


def _line_starts(text: str) -> list[int]:
    """Offsets where a line begins a sentence of its own: a list item, or the line after a colon."""
    starts = []
    position = 0
    previous = ""
    for line in text.splitlines(keepends=True):
        if position and (_LIST_MARKER.match(line) or previous.rstrip().endswith(":")) and line.strip():
            starts.append(position + len(line) - len(line.lstrip()))
        position += len(line)
        previous = line
    return starts


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """The sentences of one paragraph, as ``(start, end)`` offsets in `text`, in order.

    Each span starts at a non-space character and ends after the sentence's last character
    (closing punctuation and quotes included), so spans never overlap and only whitespace lies
    between them. Text that is only whitespace has none.
    """
    cuts = set(_line_starts(text))
    for match in _CANDIDATE.finditer(text):
        stop, end = match.start(), match.end()
        follow = _SPACE.match(text, end)
        if follow is None or not _may_start(text, follow.end()) or not _ends_here(text, stop, end):
            continue
        if text[stop] == "." and _LIST_MARKER.fullmatch(text[text.rfind("\n", 0, stop) + 1 : end + 1]):
            continue  # "1. " opening a list item is its marker, not a sentence
        cuts.add(follow.end())
    spans = []
    bounds = [0, *sorted(cuts), len(text)]
    for start, end in zip(bounds, bounds[1:]):
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        first = start + len(piece) - len(piece.lstrip())
        spans.append((first, first + len(stripped)))
    return spans


def paragraphs_of(body: str) -> list[Paragraph]:
    """The body's numbered paragraphs with their numbered sentences; offsets are in `body`.

    Paragraphs are what ``snapshots.paragraphs`` gives (split at each blank line, empty ones left
    out): the same paragraphs, in the same order, as every page prints.
    """
    found = []
    offset = 0
    for raw in body.split("\n\n"):
        start = offset
        offset += len(raw) + 2
        if not raw.strip():
            continue
        number = len(found) + 1
        sentences = tuple(
            Sentence(number, n, start + a, start + b, raw[a:b])
            for n, (a, b) in enumerate(sentence_spans(raw), start=1)
        )
        pieces: list[tuple[str, Sentence | None]] = []
        position = start
        for sentence in sentences:
            if sentence.start > position:
                pieces.append((body[position : sentence.start], None))
            pieces.append((sentence.text, sentence))
            position = sentence.end
        if start + len(raw) > position:
            pieces.append((body[position : start + len(raw)], None))
        found.append(Paragraph(number, start, start + len(raw), sentences, tuple(pieces)))
    return found


def find_sentence(body: str, paragraph: int, number: int) -> Sentence | None:
    """Sentence `number` of paragraph `paragraph` (both from 1), or None when there is none."""
    paragraphs = paragraphs_of(body)
    if not 1 <= paragraph <= len(paragraphs):
        return None
    sentences = paragraphs[paragraph - 1].sentences
    return sentences[number - 1] if 1 <= number <= len(sentences) else None


def sentence_covering(body: str, start: int, end: int) -> list[Sentence]:
    """The sentences of `body` that share characters with ``body[start:end]``, in order."""
    return [
        sentence
        for paragraph in paragraphs_of(body)
        for sentence in paragraph.sentences
        if sentence.start < end and start < sentence.end
    ]


# --- following a sentence through later texts ------------------------------------------------------

State = Literal["unchanged", "changed", "removed"]
_WORD = re.compile(r"\w", re.UNICODE)


@dataclass(frozen=True)
class Followed:
    """Where a sentence's words are in the last of a chain of texts.

    unchanged: ``texts[-1][start:end]`` are the same words, none added or removed inside;
    changed: some of its words were removed or added, some kept; ``start:end`` is what they became;
    removed: none of its words are left; ``removed_at`` is the index of the first text without them.
    """

    state: State
    start: int | None = None
    end: int | None = None
    removed_at: int | None = None


def map_range(changes: Sequence[diffing.Change], start: int, end: int) -> tuple[State, int, int]:
    """Map the range ``old[start:end]`` through one word diff old -> new.

    Returns (state, new_start, new_end). The range is "changed" when a removal overlaps it or an
    addition falls strictly inside it (an addition exactly at its start or end belongs to the text
    around it: a new sentence before or after); "removed" when no character of a word in it is
    kept. The new range starts where its first kept or added character now is and ends after its
    last one.
    """
    old = new = 0
    new_start: int | None = None
    new_end: int | None = None
    touched = kept_word = False
    for change in changes:
        size = len(change.text)
        if change.op == "insert":
            if start < old < end:
                touched = True
                if new_start is None:
                    new_start = new
                new_end = new + size
            new += size
            continue
        a, b = max(old, start), min(old + size, end)  # the part of this run inside the range
        if change.op == "delete":
            if a < b:
                touched = True
                if new_start is None:
                    new_start = new
                new_end = new if new_end is None else max(new_end, new)
            old += size
            continue
        if a < b:
            if new_start is None:
                new_start = new + (a - old)
            new_end = new + (b - old)
            if _WORD.search(change.text, a - old, b - old):
                kept_word = True
        old += size
        new += size
    if not kept_word:
        at = new_start if new_start is not None else 0
        return "removed", at, at
    assert new_start is not None and new_end is not None
    return ("changed" if touched else "unchanged"), new_start, new_end


def follow_sentence(
    texts: Sequence[str],
    start: int,
    end: int,
    diff: Callable[[str, str], Sequence[diffing.Change]] = diffing.diff_words,
) -> Followed:
    """Follow ``texts[0][start:end]`` through each later text in turn (``texts[1]``, ``texts[2]`` ...).

    Each step maps the range through the word diff of two neighbouring texts (`diff`, by default
    ``diffing.diff_words``; give a cached one). Changed once, the sentence stays "changed" unless
    its words in the last text are exactly the words it started with. Removed at a step, it stays
    removed (``removed_at`` names that step): it is never looked for elsewhere.
    """
    if not texts or not 0 <= start < end <= len(texts[0]):
        raise ValueError("the range must hold some of the first text's characters")
    original = texts[0][start:end]
    touched = False
    for index in range(1, len(texts)):
        old, new = texts[index - 1], texts[index]
        if old == new:
            continue
        state, start, end = map_range(diff(old, new), start, end)
        if state == "removed":
            return Followed("removed", removed_at=index)
        touched = touched or state == "changed"
    if touched and texts[-1][start:end] != original:
        return Followed("changed", start, end)
    return Followed("unchanged", start, end)  # untouched, or changed back to its very words
