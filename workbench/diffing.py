"""Word-level diffs, strict rebase and overlap checks for element texts.

Pure functions: no Flask, no database. Everything here works on plain ``str``.

Approach
--------
*Diffs are word diffs.* ``diff-match-patch`` diffs characters, and even after
``diff_cleanupSemantic`` a character diff can show "10,000 -> 15,000" as a change of
one digit, or a change *inside* a word. So, as ``diff_linesToChars`` does for lines,
each distinct token (a word, a run of whitespace, or a punctuation mark; see
``tokenize``) is mapped to one code point, ``diff_main`` and ``diff_cleanupSemantic``
run on those encoded strings, and only then are the code points mapped back to
tokens. Because the cleanup sees whole tokens as single characters, no change can
ever start or end inside a word. Two refinements: ``diff_main`` runs between anchor
tokens that occur once in each text (a "patience" diff: about 3x faster on a
2,000-word text and closer to what a reader expects), and the cleanup runs paragraph
by paragraph, so edits in two paragraphs never fuse into one replacement. Before any of
that, the text both versions begin and end with is set aside, cut where a token starts or
ends in both (between a space and a non-space), so that only the part that changed is
tokenized and diffed.

*Encoding limit.* The encoded strings hold only token codes, never characters of the
texts themselves, so a code can never be confused with the text's own characters.
Codes are taken first from the supplementary private-use planes (U+F0000 upward) and
then from the rest of the code space: 1,114,112 distinct tokens across both texts.
A 2,000-word text has a few thousand. Beyond the limit ``diff_words`` falls back to a
coarse but correct diff (common leading and trailing tokens kept, the middle replaced:
the replaced block described below), which still never splits a word.

*Bounded work.* One word diff may spend ``DIFF_TIMEOUT_SECONDS`` (30 ms) of CPU time on
``diff_main`` and ``diff_cleanupSemantic`` together, counted on this thread's CPU clock
(``time.thread_time``), so that other requests on a busy machine do not eat into it and an
ordinary pair gives the same diff however loaded the server is. Two unrelated
20,000-character texts would otherwise cost about a second (most of it in the cleanup,
whose elimination passes are quadratic on such a diff). When the budget runs out the
diff is not guessed at: the part between the shared ends is shown as one replaced
block (``RewrittenChange`` runs: all of it removed, all of it added), which is true, and
the pages say in words that the text was rewritten too extensively to compare word by
word. A 2,000-word text with ~5 % of its words edited takes about 5 ms (the budget for
it is 30 ms; the cycle collector is paused meanwhile, so that its pauses do not count) and a 20,000-character one about 7 ms, far inside the bound;
``bench/diff_timing.py`` measures them and the worst pairs.

*Rebase is strict.* ``rebase`` turns the word diff base -> proposed into patches with
``patch_make(base, diffs)`` (never ``patch_make(base, proposed)``, which re-diffs by
character) and applies them to the current text with ``Match_Threshold = 0`` and
``Patch_DeleteThreshold = 0``. A zero threshold also forbids finding a hunk anywhere
but at its expected offset, so each hunk is first placed where its base text now stands
in the current text (through the word diff base -> current); it then applies only if
its removed text and ``PATCH_MARGIN`` characters of context either side are exactly
there. Anything else is a conflict for a person to resolve: with the library's fuzzy
defaults two edits of "10,000" were once merged into an invented "25,000". A rebase
whose word diffs ran out of their budget is a conflict too (``Conflict.rewritten``): a
replaced block is a true diff but too coarse to place safely, so a person decides.
"""

from __future__ import annotations

import contextlib
import gc
import re
import time
import unicodedata
from bisect import bisect_left, bisect_right
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache, cached_property
from heapq import heappop, heappush
from typing import Literal, NamedTuple

from diff_match_patch import diff_match_patch

__all__ = [
    "Op",
    "Change",
    "RewrittenChange",
    "Row",
    "ListedChange",
    "Conflict",
    "RebaseResult",
    "DiffViews",
    "DIFF_TIMEOUT_SECONDS",
    "MAX_DISTINCT_TOKENS",
    "PATCH_MARGIN",
    "tokenize",
    "diff_words",
    "is_rewritten",
    "replaced_block",
    "side_by_side",
    "change_list",
    "rebase",
    "changed_ranges",
    "ranges_of",
    "ranges_compete",
    "any_ranges_compete",
    "fields_compete",
    "competing_pairs",
    "compete",
]

Op = Literal["equal", "insert", "delete"]

#: CPU seconds one word diff may spend in ``diff_main`` and its cleanup together; past
#: them the changed middle is shown as one replaced block (see the module docstring).
#: Read at each diff, so a test can lower it.
DIFF_TIMEOUT_SECONDS = 0.03

#: How many of the cleanup's steps (its passes ask the list's length once per step) run
#: between two looks at the CPU clock.
_CLEANUP_STEPS_PER_CHECK = 256

#: Characters of unchanged context each rebase hunk must find intact on each side
#: (the library default). Edits in current text that close to a proposal's edit make
#: it a conflict: near-neighbour edits are left to a person, not merged.
PATCH_MARGIN = 4

# Token codes start in the supplementary private-use planes and wrap round the rest
# of the code space (see the module docstring).
_CODE_START = 0xF0000
_CODE_SPACE = 0x110000
#: How many distinct tokens (both texts together) the encoding can represent.
MAX_DISTINCT_TOKENS = _CODE_SPACE

_DMP_OP = {"equal": 0, "insert": 1, "delete": -1}
_OP_NAME: dict[int, Op] = {0: "equal", 1: "insert", -1: "delete"}

# A blank line (possibly holding spaces) separates paragraphs.
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n\s*")
_WORDLIKE = re.compile(r"\w", re.UNICODE)


class Change(NamedTuple):
    """One run of text that is kept (``equal``), added (``insert``) or removed (``delete``)."""

    op: Op
    text: str


class RewrittenChange(Change):
    """A run of a replaced block: the removal or the addition of a whole passage that a
    bounded diff did not compare word by word (it would have cost too much). Equal to
    the plain ``Change`` with the same op and text; ``is_rewritten`` finds them."""

    __slots__ = ()


def is_rewritten(changes: Iterable[Change]) -> bool:
    """Whether a word diff (or a part of one) holds a replaced block (``RewrittenChange``)."""
    return any(isinstance(change, RewrittenChange) for change in changes)


class Row(NamedTuple):
    """One paragraph row of a side-by-side diff.

    ``old`` holds equal and delete changes, ``new`` equal and insert changes. An empty
    list means the paragraph does not exist on that side (wholly added or removed).
    """

    old: list[Change]
    new: list[Change]


@dataclass(frozen=True)
class ListedChange:
    """One item of the "changes as a list" view.

    ``kind`` is ``"added"``, ``"removed"`` or ``"replaced"``. ``before`` and ``after`` are
    a few words of the proposed text around the change, never crossing a paragraph
    break; ``more_before`` / ``more_after`` say whether the paragraph goes on beyond
    them (for an ellipsis).
    """

    kind: Literal["added", "removed", "replaced"]
    removed: str
    added: str
    before: str
    after: str
    more_before: bool = False
    more_after: bool = False
    rewritten: bool = False


@dataclass(frozen=True)
class Conflict:
    """A proposal hunk that could not be applied: the text it removes and adds."""

    removed: str
    added: str
    #: The texts differ too much to carry the change over word by word (a word diff ran
    #: out of its budget): the whole change is this one conflict.
    rewritten: bool = False

    @property
    def description(self) -> str:
        """A plain-words summary, e.g. ``replace “10,000” with “15,000”``."""
        if self.rewritten:
            return (
                "the texts differ too much to carry the changes over word by word: "
                "compare them and make the changes by hand"
            )
        removed, added = self.removed.strip(), self.added.strip()
        if removed and added:
            return f"replace “{removed}” with “{added}”"
        if added:
            return f"add “{added}”"
        if removed:
            return f"remove “{removed}”"
        return "change spacing or line breaks"


@dataclass(frozen=True)
class RebaseResult:
    """Outcome of ``rebase``.

    ``ok`` is True only when every hunk of the proposal applied exactly (or was already
    present); then ``text`` is the rebased text. Otherwise ``text`` is None,
    ``failed_hunks`` counts the hunks that could not apply and ``conflicts`` describes
    them. ``already_applied`` counts hunks whose result was already in the current
    text (both proposals made the same edit); those are skipped, never applied twice.
    """

    ok: bool
    text: str | None
    failed_hunks: int = 0
    conflicts: tuple[Conflict, ...] = ()
    already_applied: int = 0


# --------------------------------------------------------------------------- tokens


@cache
def _token_pattern() -> re.Pattern[str]:
    """Compile the token regex, with combining marks kept inside words.

    Python's ``\\w`` leaves out combining marks (Devanagari vowel signs, a decomposed
    accent, emoji variation selectors), which would split words such as "हिन्दी" into
    pieces; the marks are listed here from ``unicodedata`` once, on first use.
    """
    ranges: list[tuple[int, int]] = []
    for cp in (*range(0x300, 0x20000), *range(0xE0100, 0xE01F0)):
        if unicodedata.category(chr(cp))[0] == "M":
            if ranges and ranges[-1][1] == cp - 1:
                ranges[-1] = (ranges[-1][0], cp)
            else:
                ranges.append((cp, cp))
    marks = "".join(
        re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"
        for a, b in ranges
    )
    # ZWNJ/ZWJ join letters in Persian and Indic words and emoji sequences;
    # U+1F3FB..U+1F3FF are emoji skin-tone modifiers.
    joiners = f"[{marks}\u200c\u200d\U0001f3fb-\U0001f3ff]"
    # All joiners are above U+02FF: the cheap look-ahead keeps plain text off the long
    # character class (about twice as fast on English text).
    joiner = rf"(?=[^\x00-\u02ff]){joiners}"
    word_part = rf"(?:\w+|{joiner})+"
    # Numbers keep their separators ("10,000", "3.5"); words keep inner apostrophes and
    # hyphens ("don't", "well-being").
    word = rf"{word_part}(?:(?:['’\-]|(?<=\d)[.,](?=\d)){word_part})*"
    flag = r"[\U0001f1e6-\U0001f1ff]{2}"
    symbol = rf"[^\w\s](?:{joiner}|(?<=\u200d)[^\w\s])*"
    return re.compile(rf"{word}|\s+|{flag}|{symbol}", re.UNICODE)


# The token pattern for ASCII text, where no combining mark, joiner, curly apostrophe or flag
# can occur: the same tokens as _token_pattern() gives (a property test checks it), in about
# two thirds of the time.
_ASCII_TOKEN = re.compile(r"\w+(?:(?:['\-]|(?<=\d)[.,](?=\d))\w+)*|\s+|[^\w\s]")


def tokenize(text: str) -> list[str]:
    """Split ``text`` into words, whitespace runs and punctuation marks.

    Promises ``"".join(tokenize(text)) == text`` for every string. A word keeps its
    combining marks, inner apostrophes and hyphens, and a number its separators
    ("10,000"); every other non-space character is its own token.
    """
    return (_ASCII_TOKEN if text.isascii() else _token_pattern()).findall(text)


# --------------------------------------------------------------------------- diffs


def _dmp() -> diff_match_patch:
    dmp = diff_match_patch()
    # Always positive, so that diff_main tries its half-match speed-up as it always has (at 0
    # it skips it, and diffs come out differently); the word diffs pass their own deadline
    # (_Budget). Character diffs inside patch_apply (which rebase only reaches with exact
    # text, see there) keep this as a wall-clock bound.
    dmp.Diff_Timeout = DIFF_TIMEOUT_SECONDS if DIFF_TIMEOUT_SECONDS > 0 else 2.0
    return dmp


class _OverBudget(Exception):
    """A word diff ran out of its CPU budget."""


class _Budget:
    """The CPU time one word diff may spend (``DIFF_TIMEOUT_SECONDS``), shared by its pieces.

    It is handed to ``diff_main`` as its ``deadline``. The library bails out of a bisection
    when ``time.time() > deadline``; against this object Python answers that comparison with
    ``__lt__`` (the reflection of ``>``), which reads this thread's CPU clock instead, so
    another request's work on the machine never makes an ordinary diff coarse. ``spent``
    stays True once the budget has been seen to run out.
    """

    def __init__(self) -> None:
        # As for the library's Diff_Timeout, zero or less means no limit.
        seconds = DIFF_TIMEOUT_SECONDS if DIFF_TIMEOUT_SECONDS > 0 else float("inf")
        self.until = time.thread_time() + seconds
        self.spent = False

    def exhausted(self) -> bool:
        if not self.spent and time.thread_time() > self.until:
            self.spent = True
        return self.spent

    def __lt__(self, _now: object) -> bool:  # time.time() > deadline
        return self.exhausted()


class _Metered(list):  # type: ignore[type-arg]
    """Diff runs that look at the budget while ``diff_cleanupSemantic`` works on them.

    Every pass of the cleanup asks ``len(diffs)`` at each step; every
    ``_CLEANUP_STEPS_PER_CHECK`` asks, this raises ``_OverBudget`` once the budget is spent.
    (On two unrelated texts the cleanup's first pass goes back over the edits it has merged
    after each equality it removes: about a second for 20,000 characters.)
    """

    __slots__ = ("budget", "steps")

    def __init__(self, diffs: list[tuple[int, str]], budget: _Budget) -> None:
        super().__init__(diffs)
        self.budget = budget
        self.steps = 0

    def __len__(self) -> int:
        self.steps += 1
        if not self.steps % _CLEANUP_STEPS_PER_CHECK and self.budget.exhausted():
            raise _OverBudget
        return super().__len__()


def _normalise(pairs: Iterable[tuple[Op, str]]) -> list[Change]:
    """Drop empty runs, merge neighbours with the same op, and put each run of
    deletions before the insertions that replace it."""
    out: list[Change] = []
    pending_delete: list[str] = []
    pending_insert: list[str] = []

    def flush() -> None:
        if pending_delete:
            out.append(Change("delete", "".join(pending_delete)))
        if pending_insert:
            out.append(Change("insert", "".join(pending_insert)))
        pending_delete.clear()
        pending_insert.clear()

    for op, text in pairs:
        if not text:
            continue
        if op == "delete":
            pending_delete.append(text)
        elif op == "insert":
            pending_insert.append(text)
        else:
            flush()
            if out and out[-1].op == "equal":
                out[-1] = Change("equal", out[-1].text + text)
            else:
                out.append(Change("equal", text))
    flush()
    return out


def _coarse_diff(old_tokens: list[str], new_tokens: list[str]) -> list[Change]:
    """Keep common leading and trailing tokens, replace the middle (the fallback).

    The middle comes as ``RewrittenChange`` runs: a replaced block, not a word diff."""
    limit = min(len(old_tokens), len(new_tokens))
    head = 0
    while head < limit and old_tokens[head] == new_tokens[head]:
        head += 1
    tail = 0
    while tail < limit - head and old_tokens[-1 - tail] == new_tokens[-1 - tail]:
        tail += 1
    old_end, new_end = len(old_tokens) - tail, len(new_tokens) - tail
    return _as_rewritten(
        _normalise(
            [
                ("equal", "".join(old_tokens[:head])),
                ("delete", "".join(old_tokens[head:old_end])),
                ("insert", "".join(new_tokens[head:new_end])),
                ("equal", "".join(old_tokens[old_end:])),
            ]
        )
    )


def _as_rewritten(changes: list[Change]) -> list[Change]:
    """The same runs, with every removal and addition marked as part of a replaced block."""
    return [change if change.op == "equal" else RewrittenChange(*change) for change in changes]


def _cleanup_by_paragraph(
    dmp: diff_match_patch, diffs: list[tuple[int, str]], breaks: set[str], budget: _Budget
) -> list[tuple[int, str]]:
    """``diff_cleanupSemantic`` on the encoded diff, one paragraph at a time.

    It runs on token codes, so it can only move whole tokens. Cutting at the paragraph
    breaks both texts keep stops it from fusing edits in neighbouring paragraphs into
    one big replacement (it weighs a blank line like a word). Raises ``_OverBudget`` when
    the diff's budget runs out on the way.
    """
    if not breaks:
        metered = _Metered(diffs, budget)
        dmp.diff_cleanupSemantic(metered)
        return list(metered)
    cleaned: list[tuple[int, str]] = []
    segment: list[tuple[int, str]] = []

    def flush() -> None:
        if segment:
            metered = _Metered(segment, budget)
            dmp.diff_cleanupSemantic(metered)
            cleaned.extend(metered)
            segment.clear()

    for op, codes_run in diffs:
        if op != 0 or not breaks.intersection(codes_run):
            segment.append((op, codes_run))
            continue
        start = 0
        for index, code in enumerate(codes_run):
            if code in breaks:
                if index > start:
                    segment.append((0, codes_run[start:index]))
                flush()
                cleaned.append((0, code))
                start = index + 1
        if start < len(codes_run):
            segment.append((0, codes_run[start:]))
    flush()
    return cleaned


def _anchored_diff(dmp: diff_match_patch, old: str, new: str, budget: _Budget) -> list[tuple[int, str]]:
    """``diff_main`` on encoded texts, between anchors found first (patience diff).

    Anchors are tokens that occur exactly once in each text, kept in the longest run
    that is in the same order in both. Diffing the short gaps between them with
    ``diff_main`` costs a fraction of one bisection over the whole text (a 2,000-word
    text with scattered edits: ~3 ms instead of ~15 ms), and anchoring on distinctive
    words tends to give the diff a person expects. The gaps share one budget; once it is
    spent the result is a valid diff but maybe far from minimal (``budget.spent`` says so).
    """
    deadline = budget  # what diff_main takes as its deadline (see _Budget)
    # Positions of the tokens that occur once in each text, in old order. (dict(zip(...)) keeps a
    # code's last position, which for such a token is its only one.)
    old_counts, new_counts = Counter(old), Counter(new)
    once = [code for code, count in old_counts.items() if count == 1 and new_counts[code] == 1]
    old_position, new_position = dict(zip(old, range(len(old)))), dict(zip(new, range(len(new))))
    candidates = sorted((old_position[code], new_position[code]) for code in once)
    # Longest increasing run of new positions (patience sorting, O(n log n)).
    tails: list[int] = []  # smallest tail new-position of a run of each length
    tail_index: list[int] = []  # candidate index ending that run
    previous: list[int] = [-1] * len(candidates)
    for index, (_, j) in enumerate(candidates):
        length = bisect_left(tails, j)
        if length == len(tails):
            tails.append(j)
            tail_index.append(index)
        else:
            tails[length] = j
            tail_index[length] = index
        previous[index] = tail_index[length - 1] if length else -1
    chain: list[tuple[int, int]] = []
    index = tail_index[-1] if tail_index else -1
    while index != -1:
        chain.append(candidates[index])
        index = previous[index]
    chain.reverse()

    diffs: list[tuple[int, str]] = []
    old_start = new_start = 0
    for i, j in chain:
        old_gap, new_gap = old[old_start:i], new[new_start:j]
        if old_gap == new_gap:  # most gaps: the same space between two anchors
            diffs.append((0, old_gap))
        else:
            diffs.extend(dmp.diff_main(old_gap, new_gap, False, deadline))
        diffs.append((0, old[i]))
        old_start, new_start = i + 1, j + 1
    diffs.extend(dmp.diff_main(old[old_start:], new[new_start:], False, deadline))
    return _merge_runs(diffs)


def _merge_runs(diffs: list[tuple[int, str]]) -> list[tuple[int, str]]:
    """Join neighbouring runs with the same op; deletions before insertions.

    A linear stand-in for ``diff_cleanupMerge`` (quadratic on long lists) where only
    the joins between separately diffed pieces need mending.
    """
    merged: list[tuple[int, str]] = []
    equal: list[str] = []
    deleted: list[str] = []
    inserted: list[str] = []
    for op, text in diffs:
        if not text:
            continue
        if op == 0:
            if deleted or inserted:
                if deleted:
                    merged.append((-1, "".join(deleted)))
                    deleted = []
                if inserted:
                    merged.append((1, "".join(inserted)))
                    inserted = []
            equal.append(text)
        else:
            if equal:
                merged.append((0, "".join(equal)))
                equal = []
            (deleted if op == -1 else inserted).append(text)
    if equal:
        merged.append((0, "".join(equal)))
    if deleted:
        merged.append((-1, "".join(deleted)))
    if inserted:
        merged.append((1, "".join(inserted)))
    return merged


def _token_edge(text: str, i: int) -> bool:
    """Whether a token starts or ends at ``i`` whatever surrounds ``text``: its ends, and every
    change between space and non-space (no token but a run of whitespace holds whitespace)."""
    return i == 0 or i == len(text) or text[i - 1].isspace() != text[i].isspace()


def _shared_ends(dmp: diff_match_patch, old: str, new: str) -> tuple[int, int]:
    """How many leading and trailing characters ``old`` and ``new`` share, each cut back to a
    token edge in both texts, so that what lies between tokenizes as it does in the whole."""
    head = dmp.diff_commonPrefix(old, new)
    while not (_token_edge(old, head) and _token_edge(new, head)):
        head -= 1
    tail = min(dmp.diff_commonSuffix(old, new), len(old) - head, len(new) - head)
    while not (_token_edge(old, len(old) - tail) and _token_edge(new, len(new) - tail)):
        tail -= 1
    return head, tail


def _diff_tokens(old: str, new: str, *, cleanup: bool, block: bool = False) -> list[Change]:
    """Word diff of ``old`` -> ``new``; ``cleanup`` runs ``diff_cleanupSemantic``; ``block`` gives
    the replaced block at once (what running out of the budget gives).

    The text both begin and end with is set aside first (as ``diff_main`` does): most edits
    leave long stretches alone, and the rest costs time in proportion to the text it sees.
    """
    if old == new:
        return [Change("equal", old)] if old else []
    dmp = _dmp()
    head, tail = _shared_ends(dmp, old, new)
    middle, rewritten = _diff_middle(dmp, old[head : len(old) - tail], new[head : len(new) - tail], cleanup, block)
    changes = _normalise([("equal", old[:head]), *middle, ("equal", old[len(old) - tail :])])
    return _as_rewritten(changes) if rewritten else changes


def _diff_middle(
    dmp: diff_match_patch, old: str, new: str, cleanup: bool, block: bool = False
) -> tuple[list[tuple[Op, str]], bool]:
    """The word diff of what lies between the shared ends, as (op, text) runs, and whether
    it is a replaced block instead (asked for, too many distinct tokens, or the budget ran out)."""
    old_tokens, new_tokens = tokenize(old), tokenize(new)
    if block:
        return _replaced_block(old_tokens, new_tokens), True
    distinct = dict.fromkeys(old_tokens)
    distinct.update(dict.fromkeys(new_tokens))  # each token once, in order of first appearance
    if len(distinct) > MAX_DISTINCT_TOKENS:
        return _replaced_block(old_tokens, new_tokens), True
    code_of = {token: chr((_CODE_START + i) % _CODE_SPACE) for i, token in enumerate(distinct)}
    old_codes = "".join(map(code_of.__getitem__, old_tokens))
    new_codes = "".join(map(code_of.__getitem__, new_tokens))
    token_of = dict(zip(code_of.values(), code_of))

    with _collector_paused():
        budget = _Budget()
        diffs = _anchored_diff(dmp, old_codes, new_codes, budget)
        if budget.spent:
            return _replaced_block(old_tokens, new_tokens), True
        if cleanup:
            breaks = {code for code, token in token_of.items() if "\n" in token and _PARAGRAPH_BREAK.search(token)}
            try:
                diffs = _cleanup_by_paragraph(dmp, diffs, breaks, budget)
            except _OverBudget:
                return _replaced_block(old_tokens, new_tokens), True
    return [(_OP_NAME[op], "".join(map(token_of.__getitem__, codes_run))) for op, codes_run in diffs], False


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cycle collector while a diff spends its budget: one of its full passes over a
    large heap (tens of ms) would count against the diff's CPU time and turn an ordinary edit into
    a replaced block. The diff makes no reference cycles; everything it drops is freed at once."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _replaced_block(old_tokens: list[str], new_tokens: list[str]) -> list[tuple[Op, str]]:
    return [(change.op, change.text) for change in _coarse_diff(old_tokens, new_tokens)]


def diff_words(old: str, new: str) -> list[Change]:
    """Word-level diff of ``old`` -> ``new``, cleaned up for people to read.

    Promises: the equal and delete texts joined give ``old``; the equal and insert texts
    joined give ``new``; no change starts or ends inside a token (a one-word change is
    that whole word deleted, then the new word inserted); neighbouring changes with
    the same op are merged and a deletion comes before the insertion replacing it.
    Identical texts give one equal change (none for two empty strings). Texts are
    returned as given: escaping is the template's job.

    The work is bounded (``DIFF_TIMEOUT_SECONDS`` of CPU): past it, or past
    ``MAX_DISTINCT_TOKENS``, the text between the shared ends comes as one replaced block
    of ``RewrittenChange`` runs (``is_rewritten``), all the promises above still kept.
    """
    return _diff_tokens(old, new, cleanup=True)


def replaced_block(old: str, new: str) -> list[Change]:
    """Exactly what ``diff_words(old, new)`` gives when it runs out of its budget, without
    spending it: for a pair already known to be too costly (``diffcache`` remembers them), so
    that showing it again costs only the tokenizing."""
    if old == new:
        return diff_words(old, new)
    return _diff_tokens(old, new, cleanup=True, block=True)


# --------------------------------------------------------------------- side by side


def _split_paragraphs(text: str) -> list[str]:
    return _PARAGRAPH_BREAK.split(text)


def side_by_side(changes: Sequence[Change]) -> list[Row]:
    """Pair the old and new text paragraph by paragraph (paragraphs end at a blank line).

    Each ``Row`` holds the old paragraph (equal + delete changes) and the new one
    (equal + insert changes). Blank lines kept by both texts become row boundaries and
    are not repeated in the rows; a paragraph that is wholly added or removed gets a
    row of its own with an empty list on the other side.
    """
    rows: list[Row] = []
    # One block = the text between two paragraph breaks that both texts keep.
    block_old: list[list[Change]] = [[]]
    block_new: list[list[Change]] = [[]]

    def add(side: list[list[Change]], op: Op, text: str) -> None:
        pieces = _split_paragraphs(text)
        for index, piece in enumerate(pieces):
            if index:
                side.append([])
            if piece:
                side[-1].append(Change(op, piece))

    def close_block() -> None:
        old_paras = [p for p in block_old if p]
        new_paras = [p for p in block_new if p]
        rows.extend(_pair_paragraphs(old_paras, new_paras))
        block_old[:] = [[]]
        block_new[:] = [[]]

    for change in _normalise(changes):
        if change.op == "equal":
            pieces = _split_paragraphs(change.text)
            for index, piece in enumerate(pieces):
                if index:
                    close_block()
                if piece:
                    block_old[-1].append(Change("equal", piece))
                    block_new[-1].append(Change("equal", piece))
        elif change.op == "delete":
            add(block_old, "delete", change.text)
        else:
            add(block_new, "insert", change.text)
    close_block()
    return [Row(_normalise(old), _normalise(new)) for old, new in rows]


def _pair_paragraphs(
    old_paras: list[list[Change]], new_paras: list[list[Change]]
) -> list[tuple[list[Change], list[Change]]]:
    """Pair the paragraphs of one block.

    A wholly removed (or added) paragraph stands alone unless the other side has a
    wholly added (removed) one at the same point, which replaced it.
    """

    def pure(paragraph: list[Change]) -> bool:
        return all(change.op != "equal" for change in paragraph)

    pairs: list[tuple[list[Change], list[Change]]] = []
    i = j = 0
    while i < len(old_paras) or j < len(new_paras):
        if i == len(old_paras):
            pairs.append(([], new_paras[j]))
            j += 1
        elif j == len(new_paras):
            pairs.append((old_paras[i], []))
            i += 1
        elif pure(old_paras[i]) == pure(new_paras[j]):
            # Both kept (with edits) or both wholly replaced: one row.
            pairs.append((old_paras[i], new_paras[j]))
            i += 1
            j += 1
        elif pure(old_paras[i]):
            pairs.append((old_paras[i], []))
            i += 1
        else:
            pairs.append(([], new_paras[j]))
            j += 1
    return pairs


# ------------------------------------------------------------------- changes as list


def _context_before(tokens: list[str], words: int) -> tuple[str, bool]:
    """The last ``words`` words of ``tokens``, stopping at a paragraph break."""
    taken: list[str] = []
    count = 0
    for token in reversed(tokens):
        if _PARAGRAPH_BREAK.search(token):
            return "".join(reversed(taken)).lstrip(), False
        if _WORDLIKE.match(token):
            if count == words:
                return "".join(reversed(taken)).lstrip(), True
            count += 1
        taken.append(token)
    return "".join(reversed(taken)).lstrip(), False


def _context_after(tokens: list[str], words: int) -> tuple[str, bool]:
    """The first ``words`` words of ``tokens``, stopping at a paragraph break."""
    taken: list[str] = []
    count = 0
    for token in tokens:
        if _PARAGRAPH_BREAK.search(token):
            return "".join(taken).rstrip(), False
        if _WORDLIKE.match(token):
            if count == words:
                return "".join(taken).rstrip(), True
            count += 1
        taken.append(token)
    return "".join(taken).rstrip(), False


def change_list(changes: Sequence[Change], context_words: int = 5) -> list[ListedChange]:
    """The changes as a list of items for people to read.

    A deletion next to an insertion is one ``"replaced"`` item; a lone insertion is
    ``"added"`` and a lone deletion ``"removed"``. ``before``/``after`` hold up to
    ``context_words`` words of the new text around the change, within its paragraph.
    A replaced block (``is_rewritten``) is one item with ``rewritten`` set.
    """
    rewritten = is_rewritten(changes)
    changes = _normalise(changes)
    items: list[ListedChange] = []
    # Only the text near each change matters: keep a bounded tail of the new text.
    window = 2000
    new_tail = ""
    i = 0
    while i < len(changes):
        change = changes[i]
        if change.op == "equal":
            new_tail = (new_tail + change.text)[-window:]
            i += 1
            continue
        removed = added = ""
        while i < len(changes) and changes[i].op != "equal":
            if changes[i].op == "delete":
                removed += changes[i].text
            else:
                added += changes[i].text
            i += 1
        following = ""
        for k in range(i, len(changes)):
            if len(following) >= window:
                break
            if changes[k].op != "delete":
                following += changes[k].text
        before, more_before = _context_before(tokenize(new_tail), context_words)
        after, more_after = _context_after(tokenize(following[:window]), context_words)
        kind: Literal["added", "removed", "replaced"] = (
            "replaced" if removed and added else "added" if added else "removed"
        )
        items.append(
            ListedChange(kind, removed, added, before, after, more_before, more_after, rewritten=rewritten)
        )
        new_tail = (new_tail + added)[-window:]
    return items


class DiffViews:
    """Everything the ``diff_view`` macro needs, built lazily from one word diff.

    ``changes`` (inline view), ``rows`` (side by side), ``items`` (changes as a list),
    ``has_changes`` and ``rewritten`` (the change is shown as one replaced block, see
    ``diff_words``). Build it in the view: ``DiffViews(diff_words(old, new))``.
    It is not a mapping, so ``views.items`` in a template is this list.
    """

    def __init__(self, changes: Sequence[Change], context_words: int = 5) -> None:
        self.changes = list(changes)
        self._context_words = context_words

    @cached_property
    def rows(self) -> list[Row]:
        return side_by_side(self.changes)

    @cached_property
    def items(self) -> list[ListedChange]:
        return change_list(self.changes, self._context_words)

    @property
    def has_changes(self) -> bool:
        return any(change.op != "equal" for change in self.changes)

    @cached_property
    def rewritten(self) -> bool:
        return is_rewritten(self.changes)


# --------------------------------------------------------------------------- rebase


def _strict_dmp() -> diff_match_patch:
    dmp = _dmp()
    dmp.Match_Threshold = 0  # exact text at the exact place, nothing fuzzy
    dmp.Patch_DeleteThreshold = 0  # a long deletion must find exactly what it removes
    dmp.Patch_Margin = PATCH_MARGIN
    return dmp


def _as_dmp(changes: Iterable[Change]) -> list[tuple[int, str]]:
    return [(_DMP_OP[change.op], change.text) for change in changes]


def _hunk_texts(patch_diffs: list[tuple[int, str]]) -> tuple[str, str, int]:
    """(removed, added, prefix length) of one patch."""
    removed = "".join(text for op, text in patch_diffs if op == -1)
    added = "".join(text for op, text in patch_diffs if op == 1)
    prefix = patch_diffs[0][1] if patch_diffs and patch_diffs[0][0] == 0 else ""
    return removed, added, len(prefix)


class _PositionMap:
    """``diff_xIndex`` (a position in text1 -> the same place in text2) in O(log n)."""

    def __init__(self, diffs: list[tuple[int, str]]) -> None:
        self.ops: list[int] = []
        self.ends1: list[int] = []
        self.ends2: list[int] = []
        chars1 = chars2 = 0
        for op, text in diffs:
            if op != 1:
                chars1 += len(text)
            if op != -1:
                chars2 += len(text)
            self.ops.append(op)
            self.ends1.append(chars1)
            self.ends2.append(chars2)

    def __call__(self, location: int) -> int:
        if not self.ops:
            return location
        k = bisect_right(self.ends1, location)
        if k == len(self.ops):
            k -= 1
            if self.ops[k] == -1:
                return self.ends2[k]
            return self.ends2[k] + location - self.ends1[k]
        last1 = self.ends1[k - 1] if k else 0
        last2 = self.ends2[k - 1] if k else 0
        if self.ops[k] == -1:  # the place was deleted: where the deletion was
            return last2
        return last2 + location - last1


def rebase(base: str, proposed: str, current: str) -> RebaseResult:
    """Re-apply the change ``base`` -> ``proposed`` to ``current``, strictly.

    Promises:

    * ``current == base``: ok, the proposed text unchanged.
    * ``proposed == base`` (no change): ok, the current text.
    * ``current == proposed``: ok, the current text (the change is already there).
    * Otherwise each hunk of the word diff base -> proposed must find its removed text
      and its context (``PATCH_MARGIN`` characters each side, more where that is not
      unique in the base; the very start or end of the text where the hunk touches
      it) exactly where the base text it came from now stands in ``current``.
    * A hunk whose whole result (context included) already stands there counts as
      already applied and is skipped (``already_applied``): both proposals made the
      same edit.
    * Any other hunk fails, and then the result is ``ok=False, text=None`` with the
      failed hunks in ``conflicts``. Text is never guessed: when ok, the result is the
      current text with exactly the proposal's deletions and insertions made.
    * When either word diff (base -> proposed, base -> current) ran out of its budget
      (``is_rewritten``), the result is one conflict with ``rewritten`` set: a replaced
      block is never used to place or apply a change.
    """
    if current == base:
        return RebaseResult(ok=True, text=proposed)
    if proposed == base:
        return RebaseResult(ok=True, text=current)
    if current == proposed:
        return RebaseResult(ok=True, text=current, already_applied=1)

    proposal = diff_words(base, proposed)
    if is_rewritten(proposal):
        return _too_different(proposal)
    # Where each base position now stands in current: a minimal (uncleaned) word diff.
    placing = _diff_tokens(base, current, cleanup=False)
    if is_rewritten(placing):
        return _too_different(proposal)
    dmp = _strict_dmp()
    patches = dmp.patch_make(base, _as_dmp(proposal))
    moved = _PositionMap(_as_dmp(placing))

    text = current
    rolled = 0  # length change of the hunks before this one, as patch_make assumed
    skipped = 0  # length change of those hunks that were not applied
    conflicts: list[Conflict] = []
    already = 0
    for patch in patches:
        removed, added, prefix = _hunk_texts(patch.diffs)
        # patch_make positions count earlier hunks as applied ("rolling context").
        base_start = patch.start1 - rolled
        anchor = base_start + prefix  # the hunk's first edit, in base coordinates
        shift = moved(anchor) - anchor
        rolled += patch.length2 - patch.length1

        placed = dmp.patch_deepCopy([patch])[0]
        placed.start1 = placed.start2 = at = patch.start1 + shift - skipped
        before_image = dmp.diff_text1(patch.diffs)
        after_image = dmp.diff_text2(patch.diffs)
        if at >= 0 and text[at : at + len(before_image)] == before_image:
            # patch_apply also holds a hunk at the start or end of the base to that edge.
            text, applied = dmp.patch_apply([placed], text)
            if all(applied):
                continue
        already_there = (
            at >= 0
            and text[at : at + len(after_image)] == after_image
            and (base_start > 0 or at == 0)
            and (base_start + patch.length1 < len(base) or at + len(after_image) == len(text))
        )
        skipped += patch.length2 - patch.length1
        if already_there:
            already += 1
        else:
            conflicts.append(Conflict(removed=removed, added=added))

    if conflicts:
        return RebaseResult(
            ok=False,
            text=None,
            failed_hunks=len(conflicts),
            conflicts=tuple(conflicts),
            already_applied=already,
        )
    return RebaseResult(ok=True, text=text, already_applied=already)


def _too_different(proposal: list[Change]) -> RebaseResult:
    """The one conflict of a rebase whose word diffs ran out of their budget."""
    removed = "".join(change.text for change in proposal if change.op == "delete")
    added = "".join(change.text for change in proposal if change.op == "insert")
    return RebaseResult(
        ok=False, text=None, failed_hunks=1, conflicts=(Conflict(removed, added, rewritten=True),)
    )


# ---------------------------------------------------------------- overlap / compete


def changed_ranges(base: str, proposed: str) -> list[tuple[int, int]]:
    """Character ranges ``(start, end)`` of ``base`` that the change to ``proposed`` touches.

    Ranges are half-open, in order and never overlap; a replacement is one range over
    the removed text; a pure insertion at position ``p`` is the empty range ``(p, p)``.
    """
    return ranges_of(diff_words(base, proposed))


def ranges_of(changes: Iterable[Change]) -> list[tuple[int, int]]:
    """``changed_ranges`` of an existing word diff (base -> proposed)."""
    ranges: list[tuple[int, int]] = []
    position = 0
    in_change = False
    for change in changes:
        if change.op == "equal":
            position += len(change.text)
            in_change = False
            continue
        end = position + len(change.text) if change.op == "delete" else position
        if in_change:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((position, end))
        in_change = True
        position = end
    return ranges


def ranges_compete(a: tuple[int, int], b: tuple[int, int]) -> bool:
    (a_start, a_end), (b_start, b_end) = a, b
    if a_start == a_end and b_start == b_end:
        return a_start == b_start  # two insertions at the same point
    if a_start == a_end:
        return b_start < a_start < b_end  # insertion strictly inside a removal
    if b_start == b_end:
        return a_start < b_start < a_end
    return a_start < b_end and b_start < a_end  # shared characters


def any_ranges_compete(ranges_a: Iterable[tuple[int, int]], ranges_b: Sequence[tuple[int, int]]) -> bool:
    """True when any range of one change competes with any range of the other (``compete``)."""
    return any(ranges_compete(a, b) for a in ranges_a for b in ranges_b)


def fields_compete(
    ranges_a: Mapping[str, Sequence[Sequence[int]]], ranges_b: Mapping[str, Sequence[Sequence[int]]]
) -> bool:
    """True when two changes to the same fields (each field's ``changed_ranges``, such as a
    proposal's title and body) compete in any field they both have."""
    return any(any_ranges_compete(ranges_a[name], ranges_b[name]) for name in ranges_a.keys() & ranges_b.keys())


def competing_pairs(changes: Mapping[int, Mapping[str, Sequence[Sequence[int]]]]) -> set[tuple[int, int]]:
    """Every pair ``(a, b)`` (``a < b``) of the given changes that compete (``fields_compete``).

    ``changes`` maps a number (a proposal's id) to its changed ranges per field, all measured
    in one base text. A sweep over each field's ranges in order of position finds the pairs
    without comparing every change with every other (fifty proposals on one text are 1,225
    pairs).
    """
    pairs: set[tuple[int, int]] = set()
    for name in {name for fields in changes.values() for name in fields}:
        # Insertions (empty ranges) at a position come before the ranges that start there: an
        # insertion competes only with a range that began before it.
        events = sorted(
            (start, end != start, end, key)
            for key, fields in changes.items()
            for start, end in fields.get(name, ())
        )
        active: list[tuple[int, int]] = []  # a heap of (end, key): ranges begun, not yet ended
        inserted_at: dict[int, list[int]] = {}
        for start, is_range, end, key in events:
            while active and active[0][0] <= start:
                heappop(active)
            rivals = [k for _, k in active]
            if is_range:
                heappush(active, (end, key))
            else:
                rivals += inserted_at.setdefault(start, [])
                inserted_at[start].append(key)
            pairs.update((k, key) if k < key else (key, k) for k in rivals if k != key)
    return pairs


def compete(base: str, proposed_a: str, proposed_b: str) -> bool:
    """True when two proposals on the same ``base`` change overlapping parts of it.

    Overlap means: ranges sharing at least one character, two insertions at the same
    point, or an insertion strictly inside the other's replaced or removed range.
    Ranges that only meet end to start do not compete (``rebase`` may still find them
    too close to merge without a person).
    """
    return any_ranges_compete(changed_ranges(base, proposed_a), changed_ranges(base, proposed_b))
