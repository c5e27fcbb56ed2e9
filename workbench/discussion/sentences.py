"""Reflections on one sentence of an element, and where that sentence is now.

A reflection on a sentence records the element text it was written on and the character range of
the sentence's words in it (`Comment.sentence_*`). The element's later texts are the chain of its
working-draft texts (`DraftChange.text_id`, in order), each published in a version or still waiting
in the draft; the comment's sentence is followed through that chain by the word diffs
(`workbench.sentences.follow_sentence`), never re-found by matching words elsewhere.

Bounded work: one query reads the element's chain of text ids (with the version that published
each); what a sentence became is kept per (written-on text, range, chain), content that never
changes, so the bodies are read (a second query) and diffed only for a chain not seen yet in
this process.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from .. import diffcache, diffing, sentences
from ..caching import app_cache
from ..exceptions import NotFound
from ..models import Comment, DraftChange, DraftEntry, Element, ElementText, Version, db

FOLLOWED_CACHED = 4096
_REF = re.compile(r"p([1-9][0-9]{0,3})-s([1-9][0-9]{0,3})")


@dataclass(frozen=True)
class TextStep:
    """One text in an element's history: its id, and the version that published it (None while it
    waits in the working draft)."""

    text_id: int
    version: int | None


@dataclass(frozen=True)
class History:
    """An element's working texts, oldest first, and whether (and in which version) the element
    itself was removed from the working draft."""

    steps: tuple[TextStep, ...]
    removed: bool = False
    removed_in: int | None = None

    @property
    def current_text_id(self) -> int | None:
        return self.steps[-1].text_id if self.steps else None

    def index_of(self, text_id: int) -> int | None:
        """The last place of `text_id` in the history (a text may come back, as after an undo)."""
        for index in range(len(self.steps) - 1, -1, -1):
            if self.steps[index].text_id == text_id:
                return index
        return None


def text_history(element_id: int) -> History:
    """The element's history of working texts, in one query."""
    rows = db.session.execute(
        select(DraftChange.text_id, DraftChange.kind, Version.number, DraftEntry.text_id, DraftEntry.is_removed)
        .outerjoin(Version, Version.id == DraftChange.version_id)
        .outerjoin(DraftEntry, DraftEntry.element_id == DraftChange.element_id)
        .where(DraftChange.element_id == element_id)
        .order_by(DraftChange.created_at, DraftChange.id)
    ).all()
    steps: list[TextStep] = []
    removed_in = None
    entry_text_id, removed = None, False
    for text_id, kind, version, entry_text_id, removed in rows:
        if kind == "remove":
            removed_in = version
        if text_id is None:
            continue
        if steps and steps[-1].text_id == text_id:
            # Several proposals accepted together share one text; its first change says when.
            continue
        steps.append(TextStep(text_id, version))
    if entry_text_id is not None and (not steps or steps[-1].text_id != entry_text_id):
        steps.append(TextStep(entry_text_id, None))  # a draft text no change row names (never expected)
    return History(tuple(steps), bool(removed), removed_in if removed else None)


# --- the sentence a reflection is written on ------------------------------------------------------


@dataclass(frozen=True)
class ChosenSentence:
    """A sentence of one of the element's texts, chosen to comment on."""

    element: Element
    text_id: int
    sentence: sentences.Sentence
    is_current: bool  # written on the working text as it stands


def parse_ref(ref: str) -> tuple[int, int] | None:
    """"p2-s3" -> (2, 3); None for anything else."""
    match = _REF.fullmatch(ref or "")
    return (int(match.group(1)), int(match.group(2))) if match else None


def choose_sentence(element: Element, text_id: int | None, ref: str) -> ChosenSentence:
    """Sentence `ref` ("p2-s3") of the element's text `text_id` (None: its current working text),
    which must be one of its working texts (current or earlier: a page read before the text moved
    on). Raises NotFound otherwise. Two queries."""
    numbers = parse_ref(ref)
    history = text_history(element.id)
    if text_id is None:
        text_id = history.current_text_id
    if numbers is None or text_id is None or history.index_of(text_id) is None:
        raise NotFound("There is no such sentence in this element's text.")
    body = db.session.scalar(select(ElementText.body).where(ElementText.id == text_id, ElementText.element_id == element.id))
    sentence = sentences.find_sentence(body or "", *numbers)
    if sentence is None:
        raise NotFound("There is no such sentence in this element's text.")
    return ChosenSentence(element, text_id, sentence, text_id == history.current_text_id)


# --- where a commented sentence is now ------------------------------------------------------------


@dataclass(frozen=True)
class Followed:
    """What became of the sentence, computed from immutable texts only (so it is kept)."""

    quoted: str  # the sentence as the comment was written on it
    written_ref: str  # "p2-s3" in that text
    state: str  # unchanged | changed | removed
    now: str = ""  # its words in the current text (unchanged or changed)
    now_refs: tuple[str, ...] = ()  # the current sentences holding them ("p2-s3", ...)
    changes: tuple[diffing.Change, ...] = ()  # quoted -> now, when changed
    removed_at: int | None = None  # the step of the history that removed it


@dataclass(frozen=True)
class SentenceState:
    """What a page says about a reflection's sentence."""

    followed: Followed
    anchor: str  # the element page's anchor for where it is now ("objective-12-p2-s3"), or ""
    removed_in: int | None = None  # the version that published its removal
    element_removed: bool = False
    page_url: str = ""  # the living element page, where `anchor` is (set by the page that shows it)

    @property
    def state(self) -> str:
        """unchanged, changed or removed (with its element, or from its text)."""
        return "removed" if self.element_removed else self.followed.state

    @property
    def written_words(self) -> str:
        """"paragraph 2, sentence 3"."""
        numbers = parse_ref(self.followed.written_ref)
        return f"paragraph {numbers[0]}, sentence {numbers[1]}" if numbers else "a sentence"

    @property
    def now_words(self) -> str:
        """Where its words are now: "paragraph 2, sentence 3" or "paragraph 2, sentences 3 and 4"."""
        refs = [parse_ref(ref) for ref in self.followed.now_refs]
        refs = [r for r in refs if r]
        if not refs:
            return ""
        if len(refs) == 1 or all(r[0] == refs[0][0] for r in refs):
            numbers = [str(r[1]) for r in refs]
            if len(numbers) == 1:
                return f"paragraph {refs[0][0]}, sentence {numbers[0]}"
            return f"paragraph {refs[0][0]}, sentences {', '.join(numbers[:-1])} and {numbers[-1]}"
        return ", ".join(f"paragraph {p}, sentence {s}" for p, s in refs)

    @property
    def removal_words(self) -> str:
        """"removed in version 4" or "removed from the working draft"."""
        if self.removed_in is not None:
            return f"removed in version {self.removed_in}"
        return "removed from the working draft"


def _follow(texts: Sequence[str], start: int, end: int) -> Followed:
    written = sentences.sentence_covering(texts[0], start, end)
    quoted = texts[0][start:end]
    written_ref = written[0].ref if written else ""
    result = sentences.follow_sentence(texts, start, end, diff=diffcache.diff)
    if result.state == "removed":
        return Followed(quoted, written_ref, "removed", removed_at=result.removed_at)
    assert result.start is not None and result.end is not None
    now = texts[-1][result.start : result.end]
    refs = tuple(s.ref for s in sentences.sentence_covering(texts[-1], result.start, result.end))
    changes = tuple(diffcache.diff(quoted, now)) if result.state == "changed" else ()
    return Followed(quoted, written_ref, result.state, now, refs, changes)


def sentence_states(element: Element, comments: Iterable[Comment]) -> dict[int, SentenceState]:
    """For each of `comments` written on a sentence, what became of it, by comment id.

    No query when none is; otherwise one (the element's history), and one more (the texts'
    bodies) only for sentences whose history was not followed yet in this process.
    """
    wanted = {
        c.id: (c.sentence_text_id, c.sentence_start, c.sentence_end)
        for c in comments
        if c.sentence_text_id is not None and c.element_id == element.id
    }
    return _states(element, wanted) if wanted else {}


def chosen_state(chosen: ChosenSentence) -> SentenceState | None:
    """What became of a sentence chosen on an earlier text (a page read before the text moved on)."""
    ranges = {0: (chosen.text_id, chosen.sentence.start, chosen.sentence.end)}
    return _states(chosen.element, ranges).get(0)


def _states(element: Element, ranges: dict[int, tuple[int, int, int]]) -> dict[int, SentenceState]:
    """`sentence_states` for (text id, start, end) ranges by any key."""
    history = text_history(element.id)
    ids = tuple(step.text_id for step in history.steps)
    cache = app_cache("sentence_followed", FOLLOWED_CACHED)
    found: dict[int, tuple[int, Followed]] = {}  # key -> (where its chain starts, what became of it)
    missing: list[tuple[int, int, int, int]] = []  # key, where its chain starts, start, end
    for key, (text_id, start, end) in ranges.items():
        index = history.index_of(text_id)
        if index is None:  # not one of the element's working texts: nothing can be said of it
            continue
        followed = cache.get((ids[index:], start, end))
        if followed is None:
            missing.append((key, index, start, end))
        else:
            found[key] = (index, followed)
    if missing:
        needed = {text_id for _, index, _, _ in missing for text_id in ids[index:]}
        bodies = dict(db.session.execute(select(ElementText.id, ElementText.body).where(ElementText.id.in_(needed))).all())
        for key, index, start, end in missing:
            texts = [bodies.get(text_id, "") for text_id in ids[index:]]
            if not 0 <= start < end <= len(texts[0]):
                continue
            found[key] = (index, cache.put((ids[index:], start, end), _follow(texts, start, end)))
    states = {}
    for key, (index, followed) in found.items():
        if history.removed:
            states[key] = SentenceState(followed, "", history.removed_in, element_removed=True)
        elif followed.state == "removed":
            assert followed.removed_at is not None
            states[key] = SentenceState(followed, "", history.steps[index + followed.removed_at].version)
        else:
            states[key] = SentenceState(followed, f"{element.key}-{followed.now_refs[0]}" if followed.now_refs else "")
    return states


def sentence_range(chosen: ChosenSentence) -> dict[str, Any]:
    """The comment's columns that name the chosen sentence."""
    return {
        "sentence_text_id": chosen.text_id,
        "sentence_start": chosen.sentence.start,
        "sentence_end": chosen.sentence.end,
    }
