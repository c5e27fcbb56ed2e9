"""Word diffs, side-by-side rows, change lists, strict rebase and competing proposals.

Pure tests of workbench.diffing (no app, no database), plus the diff macros rendered
with a bare Jinja environment (and workbench.diff_markup's filters) to check that user
text comes out escaped.
"""

from __future__ import annotations

import html.parser
import re
from collections import Counter
from pathlib import Path

import pytest
from diff_match_patch import diff_match_patch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jinja2 import Environment, FileSystemLoader

from workbench import diff_markup, diffing
from workbench.diffing import (
    Change,
    DiffViews,
    ListedChange,
    change_list,
    changed_ranges,
    compete,
    diff_words,
    rebase,
    side_by_side,
    tokenize,
)

# Pure: nothing here reads a database (conftest runs it once, in the SQLite run).
pytestmark = pytest.mark.database_free

FUND = "The fund is 10,000 pounds."
# Examples are quick, but the first one compiles the token pattern and CI machines are
# shared: a per-example deadline would only add flakiness.
no_deadline = settings(deadline=None)
XSS = "</del><script>alert(1)</script>"


def old_of(changes: list[Change]) -> str:
    return "".join(c.text for c in changes if c.op != "insert")


def new_of(changes: list[Change]) -> str:
    return "".join(c.text for c in changes if c.op != "delete")


def token_boundaries(text: str) -> set[int]:
    bounds, position = {0}, 0
    for token in tokenize(text):
        position += len(token)
        bounds.add(position)
    return bounds


def change_boundaries(changes: list[Change]) -> tuple[set[int], set[int]]:
    """Offsets in the old and the new text where one change ends and the next begins."""
    old_bounds, new_bounds = {0}, {0}
    old_at = new_at = 0
    for change in changes:
        if change.op != "insert":
            old_at += len(change.text)
        if change.op != "delete":
            new_at += len(change.text)
        old_bounds.add(old_at)
        new_bounds.add(new_at)
    return old_bounds, new_bounds


# ---- strategies ------------------------------------------------------------------------

WORDS = [
    "the", "fund", "is", "10,000", "pounds", "don't", "well-being", "café", "cafe\u0301",
    "हिन्दी", "東京", "👍🏽", "👨\u200d👩\u200d👧", "\x07bell", "tab\tbed", XSS,
    '" onmouseover="x', 'hx-get="/x"', "a", "b", "Zürich", "x̂",
]
SEPARATORS = [" ", " ", " ", "  ", "\n", "\n\n", "\r\n", "\r\n\r\n", "\t", ", ", ". ", "! "]

wordy_text = st.lists(
    st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=30
).map(lambda pairs: "".join(word + sep for word, sep in pairs))
any_text = st.text(max_size=60)  # any code point but surrogates: NUL, controls, emoji, ...
texts = st.one_of(wordy_text, any_text)

VOCABULARY = [
    "alpha", "bravo", "charlie", "delta", "echo", "foxtrot", "golf", "hotel", "india",
    "juliet", "kilo", "lima", "mike", "november", "oscar", "papa", "quebec", "romeo",
    "sierra", "tango", "uniform", "victor", "whiskey", "xray", "yankee", "zulu",
    "amber", "basalt", "cedar", "dune", "ember", "fjord", "glade", "heath", "islet",
    "jetty", "knoll", "loch", "moor", "nook",
]
word_lists = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=25)
paragraph = st.lists(st.sampled_from(VOCABULARY), min_size=14, max_size=22)
paragraphs = st.lists(paragraph, min_size=2, max_size=5)


def render(paras: list[list[str]]) -> str:
    return "\n\n".join(" ".join(words) for words in paras)


# ---- tokenize --------------------------------------------------------------------------


@no_deadline
@given(texts)
def test_tokens_rebuild_any_text(text):
    assert "".join(tokenize(text)) == text


@no_deadline
@given(st.text(alphabet=st.characters(max_codepoint=127), max_size=60) | st.text(alphabet="ab19 .,'-_\n\t\x1c", max_size=40))
def test_ascii_text_gets_the_tokens_of_the_full_pattern(text):
    assert diffing._ASCII_TOKEN.findall(text) == diffing._token_pattern().findall(text)


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Hello, world!", ["Hello", ",", " ", "world", "!"]),
        ("10,000 and 3.5", ["10,000", " ", "and", " ", "3.5"]),
        ("don't well-being", ["don't", " ", "well-being"]),
        ("a  \n\nb", ["a", "  \n\n", "b"]),
        ("हिन्दी café", ["हिन्दी", " ", "café"]),
        ("cafe\u0301!", ["cafe\u0301", "!"]),
        ("👨\u200d👩\u200d👧 👍🏽", ["👨\u200d👩\u200d👧", " ", "👍🏽"]),
        ("", []),
    ],
)
def test_tokens_are_words_spaces_and_marks(text, tokens):
    assert tokenize(text) == tokens


# ---- diff_words ------------------------------------------------------------------------


@no_deadline
@given(texts, texts)
def test_changes_rebuild_both_texts_exactly(old, new):
    changes = diff_words(old, new)
    assert old_of(changes) == old
    assert new_of(changes) == new


@no_deadline
@given(texts, texts)
def test_no_change_starts_or_ends_inside_a_word(old, new):
    changes = diff_words(old, new)
    old_bounds, new_bounds = change_boundaries(changes)
    assert old_bounds <= token_boundaries(old)
    assert new_bounds <= token_boundaries(new)


@no_deadline
@given(texts, texts)
def test_changes_are_merged_and_deletions_come_first(old, new):
    changes = diff_words(old, new)
    assert all(change.text for change in changes)
    for first, second in zip(changes, changes[1:]):
        assert first.op != second.op
        assert (first.op, second.op) != ("insert", "delete")


@no_deadline
@given(word_lists, st.data())
def test_a_one_word_change_is_the_whole_word_out_and_the_new_word_in(words, data):
    index = data.draw(st.integers(0, len(words) - 1))
    replacement = data.draw(st.sampled_from([w.upper() for w in VOCABULARY]))
    old = " ".join(words)
    new = " ".join(words[:index] + [replacement] + words[index + 1 :])
    edits = [c for c in diff_words(old, new) if c.op != "equal"]
    assert edits == [Change("delete", words[index]), Change("insert", replacement)]


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            FUND,
            "The fund is 20,000 pounds.",
            [
                Change("equal", "The fund is "),
                Change("delete", "10,000"),
                Change("insert", "20,000"),
                Change("equal", " pounds."),
            ],
        ),
        (
            "The unbelievable result",
            "The unbelievably good result",
            [
                Change("equal", "The "),
                Change("delete", "unbelievable"),
                Change("insert", "unbelievably good"),
                Change("equal", " result"),
            ],
        ),
        # The shared start and end are set aside first, never inside a word or a run of spaces.
        (
            "Publish 10,000 datasets",
            "Publish 10,500 datasets",
            [Change("equal", "Publish "), Change("delete", "10,000"), Change("insert", "10,500"), Change("equal", " datasets")],
        ),
        (
            "Spaces  between words",
            "Spaces between words",
            [Change("equal", "Spaces"), Change("delete", "  "), Change("insert", " "), Change("equal", "between words")],
        ),
        (
            "We share data.\n\nThen more.",
            "We share data well.\n\nThen more.",
            [Change("equal", "We share data"), Change("insert", " well"), Change("equal", ".\n\nThen more.")],
        ),
        ("same text", "same text", [Change("equal", "same text")]),
        ("", "", []),
        ("", "new", [Change("insert", "new")]),
        ("old", "", [Change("delete", "old")]),
    ],
)
def test_word_diff_examples(old, new, expected):
    assert diff_words(old, new) == expected


def test_markup_in_text_stays_plain_text_in_the_changes():
    changes = diff_words("Keep this.", f"Keep {XSS} this.")
    assert Change("insert", f"{XSS} ") in changes
    assert new_of(changes) == f"Keep {XSS} this."


def test_edits_in_two_paragraphs_stay_two_edits():
    old = "A para one.\n\nB two.\n\nC three."
    new = "A para 1.\n\nB two.\n\nC three and more."
    edits = [c for c in diff_words(old, new) if c.op != "equal"]
    assert edits == [Change("delete", "one"), Change("insert", "1"), Change("insert", " and more")]


@settings(deadline=None, max_examples=25)
@given(texts, texts)
def test_past_the_token_limit_the_diff_is_coarse_but_still_whole_words(old, new):
    limit = diffing.MAX_DISTINCT_TOKENS
    diffing.MAX_DISTINCT_TOKENS = 3
    try:
        changes = diff_words(old, new)
    finally:
        diffing.MAX_DISTINCT_TOKENS = limit
    assert (old_of(changes), new_of(changes)) == (old, new)
    old_bounds, new_bounds = change_boundaries(changes)
    assert old_bounds <= token_boundaries(old) and new_bounds <= token_boundaries(new)


def test_a_timed_out_diff_still_rebuilds_both_texts(monkeypatch):
    monkeypatch.setattr(diffing, "DIFF_TIMEOUT_SECONDS", 1e-9)
    old = " ".join(VOCABULARY * 20)
    new = " ".join(reversed(VOCABULARY * 20))
    changes = diff_words(old, new)
    assert (old_of(changes), new_of(changes)) == (old, new)


def test_a_2000_word_text_with_thousands_of_distinct_words_diffs():
    words = [f"w{i}" for i in range(2000)]
    edited = [w.upper() if i % 20 == 0 else w for i, w in enumerate(words)]
    changes = diff_words(" ".join(words), " ".join(edited))
    assert sum(1 for c in changes if c.op == "delete") == 100
    assert new_of(changes) == " ".join(edited)


# ---- side by side ----------------------------------------------------------------------


def test_side_by_side_pairs_paragraphs():
    rows = side_by_side(diff_words("One a.\n\nTwo b.\n\nThree c.", "One a.\n\nTwo B.\n\nThree c."))
    assert [(old_of(r.old), new_of(r.new)) for r in rows] == [
        ("One a.", "One a."),
        ("Two b.", "Two B."),
        ("Three c.", "Three c."),
    ]
    assert rows[1].old == [Change("equal", "Two "), Change("delete", "b"), Change("equal", ".")]
    assert rows[1].new == [Change("equal", "Two "), Change("insert", "B"), Change("equal", ".")]


def test_side_by_side_gives_a_new_paragraph_its_own_row():
    rows = side_by_side(diff_words("A.\n\nB.", "A.\n\nNew.\n\nB."))
    assert [(r.old, r.new) for r in rows] == [
        ([Change("equal", "A.")], [Change("equal", "A.")]),
        ([], [Change("insert", "New.")]),
        ([Change("equal", "B.")], [Change("equal", "B.")]),
    ]


def test_side_by_side_gives_a_removed_paragraph_its_own_row():
    rows = side_by_side(diff_words("A.\n\nGone.\n\nB.", "A.\n\nB."))
    assert [(r.old, r.new) for r in rows][1] == ([Change("delete", "Gone.")], [])


def test_side_by_side_of_no_changes_is_the_paragraphs():
    rows = side_by_side(diff_words("A.\n\nB.", "A.\n\nB."))
    assert [(r.old, r.new) for r in rows] == [
        ([Change("equal", "A.")], [Change("equal", "A.")]),
        ([Change("equal", "B.")], [Change("equal", "B.")]),
    ]


@no_deadline
@given(texts, texts)
def test_side_by_side_keeps_each_side_whole(old, new):
    rows = side_by_side(diff_words(old, new))
    breaks = re.compile(r"\n[^\S\n]*\n\s*")
    assert all(c.op in ("equal", "delete") for row in rows for c in row.old)
    assert all(c.op in ("equal", "insert") for row in rows for c in row.new)
    assert "".join(c.text for row in rows for c in row.old) == breaks.sub("", old)
    assert "".join(c.text for row in rows for c in row.new) == breaks.sub("", new)


# ---- changes as a list -----------------------------------------------------------------


def test_change_list_names_replacements_additions_and_removals():
    items = change_list(
        diff_words(
            "The fund is 10,000 pounds. We hope to raise more soon.",
            "The big fund is 20,000 pounds. We hope to raise soon.",
        )
    )
    assert [(i.kind, i.removed.strip(), i.added.strip()) for i in items] == [
        ("added", "", "big"),
        ("replaced", "10,000", "20,000"),
        ("removed", "more", ""),
    ]
    assert items[1].before == "The big fund is "
    assert items[1].after == " pounds. We hope to raise"
    assert items[1].more_after and not items[1].more_before


def test_change_list_context_stops_at_the_paragraph_and_the_word_count():
    items = change_list(
        diff_words(
            "Other words here.\n\nOne two three four five six old end",
            "Other words here.\n\nOne two three four five six new end",
        ),
        context_words=3,
    )
    assert items == [
        ListedChange("replaced", "old", "new", "four five six ", " end", True, False)
    ]
    first = change_list(diff_words("Intro.\n\nold start", "Intro.\n\nnew start"))[0]
    assert (first.before, first.more_before) == ("", False)


def test_change_list_of_no_changes_is_empty():
    assert change_list(diff_words("same", "same")) == []


@no_deadline
@given(texts, texts)
def test_change_list_accounts_for_every_change(old, new):
    changes = diff_words(old, new)
    items = change_list(changes)
    assert "".join(i.removed for i in items) == "".join(c.text for c in changes if c.op == "delete")
    assert "".join(i.added for i in items) == "".join(c.text for c in changes if c.op == "insert")
    assert all((i.kind == "replaced") == bool(i.removed and i.added) for i in items)


def test_diff_views_bundle_the_three_views():
    views = DiffViews(diff_words(FUND, "The fund is 20,000 pounds."))
    assert views.has_changes
    assert views.rows == side_by_side(views.changes)
    assert views.items == change_list(views.changes)
    assert not DiffViews(diff_words("same", "same")).has_changes


# ---- rebase ----------------------------------------------------------------------------


def test_two_edits_of_the_same_figure_conflict_instead_of_inventing_a_third():
    first, second = "The fund is 20,000 pounds.", "The fund is 15,000 pounds."
    accepted = rebase(FUND, first, FUND)
    assert accepted.ok and accepted.text == first

    result = rebase(FUND, second, accepted.text)

    assert not result.ok
    assert result.text is None
    assert result.failed_hunks == 1
    assert [(c.removed, c.added) for c in result.conflicts] == [("10,000", "15,000")]
    assert result.conflicts[0].description == "replace “10,000” with “15,000”"


def test_the_library_defaults_would_have_invented_25000():
    """Why rebase is strict: the fuzzy defaults report success with made-up text."""
    loose = diff_match_patch()
    text, applied = loose.patch_apply(
        loose.patch_make(FUND, "The fund is 15,000 pounds."), "The fund is 20,000 pounds."
    )
    assert applied == [True] and text == "The fund is 25,000 pounds."
    assert rebase(FUND, "The fund is 15,000 pounds.", "The fund is 20,000 pounds.").text is None


def test_rebase_onto_an_unchanged_text_returns_the_proposal():
    assert rebase("a b c", "a x c", "a b c") == diffing.RebaseResult(ok=True, text="a x c")


def test_rebase_of_no_change_returns_the_current_text():
    assert rebase("a b c", "a b c", "a B c") == diffing.RebaseResult(ok=True, text="a B c")


def test_a_change_already_made_is_a_clean_rebase_that_changes_nothing():
    result = rebase(FUND, "The fund is 20,000 pounds.", "The fund is 20,000 pounds.")
    assert result.ok and result.text == "The fund is 20,000 pounds."
    assert result.already_applied == 1


def test_a_hunk_already_made_is_skipped_and_the_rest_applies():
    base = "First paragraph says 10,000 here.\n\nSecond paragraph keeps its words."
    proposed = "First paragraph says 20,000 here.\n\nSecond paragraph keeps all its words."
    current = "Intro.\n\nFirst paragraph says 20,000 here.\n\nSecond paragraph keeps its words."
    result = rebase(base, proposed, current)
    assert result.ok and result.already_applied == 1
    assert result.text == (
        "Intro.\n\nFirst paragraph says 20,000 here.\n\nSecond paragraph keeps all its words."
    )


@pytest.mark.parametrize(
    ("base", "proposed", "current"),
    [
        ("", "x", "xy"),  # the proposal wanted exactly "x"
        ("A.", "A. B.", "A. B. C."),  # its addition ended the text; now it does not
    ],
)
def test_a_change_at_the_edge_of_the_text_must_still_be_at_the_edge(base, proposed, current):
    assert not rebase(base, proposed, current).ok


def test_edits_in_different_paragraphs_keep_both():
    base = "Our city is green.\n\nWe plant many trees every year.\n\nEveryone can walk to a park."
    proposed = base.replace("many trees", "ten thousand trees")
    current = base.replace("Our city is green.", "Our whole city is green and calm.").replace(
        "walk to a park", "walk to a park or a beach"
    )
    result = rebase(base, proposed, current)
    assert result.ok
    assert result.text == (
        "Our whole city is green and calm.\n\nWe plant ten thousand trees every year."
        "\n\nEveryone can walk to a park or a beach."
    )


def test_a_proposal_on_a_removed_paragraph_conflicts():
    base = "Keep this paragraph as it is.\n\nThis paragraph will be cut out."
    proposed = base.replace("will be cut", "should be kept")
    current = "Keep this paragraph as it is."
    result = rebase(base, proposed, current)
    assert not result.ok and result.text is None


def test_two_additions_at_the_end_conflict():
    result = rebase(
        "We start here.", "We start here. Then we grow.", "We start here. Then we rest."
    )
    assert not result.ok


def test_an_edit_next_to_another_edit_conflicts():
    # Within PATCH_MARGIN characters: left to a person, not merged.
    result = rebase("the quick brown fox", "the slow brown fox", "the quick red fox")
    assert not result.ok


@settings(deadline=None, max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(paragraphs, st.data())
def test_edits_in_different_paragraphs_rebase_cleanly(paras, data):
    mine, theirs = data.draw(
        st.lists(st.integers(0, len(paras) - 1), min_size=2, max_size=2, unique=True)
    )

    def edit(index: int, label: str) -> list[list[str]]:
        words = list(paras[index])
        at = data.draw(st.integers(5, len(words) - 6), label=f"{label} at")
        kind = data.draw(st.sampled_from(["replace", "insert", "delete"]), label=label)
        if kind == "replace":
            words[at] = f"{label.upper()}WORD"
        elif kind == "insert":
            words.insert(at, f"{label}-added")
        else:
            del words[at]
        return [words if i == index else p for i, p in enumerate(paras)]

    proposed = edit(mine, "mine")
    current = edit(theirs, "theirs")
    expected = [proposed[i] if i == mine else current[i] for i in range(len(paras))]

    result = rebase(render(paras), render(proposed), render(current))

    assert result.ok, result.conflicts
    assert result.text == render(expected)


@settings(deadline=None, max_examples=100)
@given(paragraphs, st.data())
def test_edits_of_the_same_word_conflict(paras, data):
    index = data.draw(st.integers(0, len(paras) - 1))
    at = data.draw(st.integers(0, len(paras[index]) - 1))

    def replace(word: str) -> str:
        words = list(paras[index])
        words[at] = word
        return render([words if i == index else p for i, p in enumerate(paras)])

    result = rebase(render(paras), replace("MINE"), replace("THEIRS"))
    assert not result.ok and result.text is None and result.failed_hunks >= 1


def token_edit(text_words: list[str], data, label: str) -> list[str]:
    words = list(text_words)
    for _ in range(data.draw(st.integers(0, 3), label=f"{label} edits")):
        at = data.draw(st.integers(0, len(words)), label=f"{label} at")
        action = data.draw(st.sampled_from(["replace", "insert", "delete"]), label=label)
        new_word = data.draw(st.sampled_from(VOCABULARY + ["NEW", "10,000", "20,000"]))
        if action == "insert" or not words or at == len(words):
            words.insert(at, new_word)
        elif action == "replace":
            words[at] = new_word
        else:
            del words[at]
    return words


@settings(deadline=None, max_examples=300)
@given(word_lists, st.data())
def test_rebase_never_invents_text(base_words, data):
    base = " ".join(base_words)
    proposed = " ".join(token_edit(base_words, data, "proposal"))
    current = " ".join(token_edit(base_words, data, "current"))

    result = rebase(base, proposed, current)

    if not result.ok:
        assert result.text is None
        return
    proposal = diff_words(base, proposed)
    inserted = Counter("".join(c.text for c in proposal if c.op == "insert"))
    deleted = Counter("".join(c.text for c in proposal if c.op == "delete"))
    # Whatever the result gained came from the proposal's insertions, whatever it lost
    # from the proposal's deletions...
    assert Counter(result.text) - Counter(current) <= inserted
    assert Counter(current) - Counter(result.text) <= deleted
    # ...every insertion is there in full...
    for change in proposal:
        if change.op == "insert" and not result.already_applied:
            assert change.text in result.text
    # ...and nothing else moved.
    if not result.already_applied:
        assert len(result.text) - len(current) == len(proposed) - len(base)


@settings(deadline=None)
@given(texts, texts, texts)
def test_rebase_of_any_texts_is_ok_with_text_or_a_conflict_without(base, proposed, current):
    result = rebase(base, proposed, current)
    assert (result.text is not None) == result.ok
    assert result.ok or result.failed_hunks == len(result.conflicts) > 0
    if base == current:
        assert result.text == proposed


# ---- changed ranges and competing proposals ----------------------------------------------


@pytest.mark.parametrize(
    ("proposed", "ranges"),
    [
        ("The fund is 20,000 pounds.", [(12, 18)]),
        ("The new fund is 10,000 pounds.", [(4, 4)]),
        ("The fund is pounds.", [(12, 19)]),
        ("A fund is 10,000 euros.", [(0, 3), (19, 25)]),
        (FUND, []),
    ],
)
def test_changed_ranges(proposed, ranges):
    assert changed_ranges(FUND, proposed) == ranges


@pytest.mark.parametrize(
    ("a", "b", "competing"),
    [
        ("The fund is 20,000 pounds.", "The fund is 15,000 pounds.", True),  # same word
        ("The fund is 20,000 pounds.", "The fund is 20,000 pounds.", True),  # same edit
        ("The new fund is 10,000 pounds.", "The old fund is 10,000 pounds.", True),  # same point
        ("The fund is pounds.", "The fund is 10,000 pounds.", False),  # a: removal; b: nothing
        ("A fund is 10,000 pounds.", "The fund is 10,000 euros.", False),  # far apart
        ("The fund is 20,000 pounds.", "The fund is 10,000 euros.", False),  # neighbours
        ("The fund is 20,000 pounds.", "The fund is 10,000 sterling pounds.", False),
    ],
)
def test_compete(a, b, competing):
    assert compete(FUND, a, b) is competing
    assert compete(FUND, b, a) is competing


def test_an_insertion_inside_a_replaced_range_competes():
    base = "The quick brown fox"
    removal = "The fox"  # removes "quick brown " at 4..16
    insertion = "The quick very brown fox"  # inserts "very " at 10
    assert changed_ranges(base, removal) == [(4, 16)]
    assert changed_ranges(base, insertion) == [(10, 10)]
    assert compete(base, removal, insertion)


def test_ranges_that_only_touch_do_not_compete():
    base = "The quick brown fox"
    a = "The slow brown fox"  # "quick" at 4..9
    b = "The quick, brown fox"  # inserts "," at 9, where a's range ends
    assert changed_ranges(base, a) == [(4, 9)]
    assert changed_ranges(base, b) == [(9, 9)]
    assert not compete(base, a, b)


@no_deadline
@given(texts, texts, texts)
def test_compete_is_symmetric(base, a, b):
    assert compete(base, a, b) == compete(base, b, a)


def test_fields_compete_when_any_field_they_share_competes():
    title = [[0, 5]]
    assert diffing.fields_compete({"title": title, "body": []}, {"title": [[2, 3]], "body": [[40, 41]]})
    assert diffing.fields_compete({"title": [], "body": [[10, 10]]}, {"title": [], "body": [[10, 10]]})
    # The same ranges in different fields are different words: no competition.
    assert not diffing.fields_compete({"title": title, "body": []}, {"title": [], "body": title})
    assert not diffing.fields_compete({"title": [], "body": []}, {"title": [], "body": [[0, 9]]})


@no_deadline
@given(texts, texts, texts)
def test_fields_compete_agrees_with_compete_on_stored_ranges(base, a, b):
    stored = lambda proposed: {"body": [list(r) for r in changed_ranges(base, proposed)]}  # noqa: E731  as JSON keeps them
    assert diffing.fields_compete(stored(a), stored(b)) is compete(base, a, b)


# ---- the macros: escaping and valid markup -----------------------------------------------

TEMPLATES = Path(__file__).resolve().parents[1] / "templates"


@pytest.fixture(scope="module")
def macros():
    env = Environment(autoescape=True, loader=FileSystemLoader(str(TEMPLATES)))
    diff_markup.install(env)
    return env.from_string(
        '{% from "macros/diff.html" import diff_legend, diff_view %}'
        "{{ diff_legend() }}{{ diff_view(views, mode) }}"
    )


class _TagChecker(html.parser.HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.problems: list[str] = []
        self.attributes: set[str] = set()

    def handle_starttag(self, tag, attrs):
        self.open.append(tag)
        self.attributes.update(name for name, _ in attrs)

    def handle_endtag(self, tag):
        if not self.open or self.open.pop() != tag:
            self.problems.append(tag)


@pytest.mark.parametrize("mode", ["inline", "side-by-side", "list"])
@pytest.mark.parametrize(
    "hostile",
    [
        XSS,
        '" onmouseover="x',
        '<div hx-get="/x" hx-trigger="load">',
        "<img src=x onerror=alert(1)>",
        "\u202eevil\u200b",
    ],
)
def test_the_macros_escape_user_text_and_close_every_tag(macros, mode, hostile):
    old = "Keep this.\n\nAnd this paragraph too."
    new = f"Keep {hostile} this.\n\nAnd this {hostile}\n\n{hostile}"
    html_out = macros.render(views=DiffViews(diff_words(old, new)), mode=mode)

    checker = _TagChecker()
    checker.feed(html_out)
    checker.close()
    assert checker.problems == [] and checker.open == []
    assert checker.attributes <= {"class", "aria-hidden"}
    assert "<script" not in html_out and "<img" not in html_out and "<div hx-get" not in html_out
    assert "added: " in html_out


@pytest.mark.parametrize("mode", ["inline", "side-by-side", "list"])
def test_the_macros_say_no_changes(macros, mode):
    assert "No changes." in macros.render(views=DiffViews(diff_words("same", "same")), mode=mode)


def test_the_inline_macro_marks_changes_for_screen_readers(macros):
    views = DiffViews(diff_words(FUND, "The fund is 20,000 pounds."))
    out = macros.render(views=views, mode="inline")
    assert (
        '<del class="diff__del"><span class="visually-hidden">removed: </span>10,000'
        '<span class="visually-hidden"> (end of removal)</span></del>'
    ) in out
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>20,000' in out
    assert "Replaced" not in out


def test_whitespace_changes_show_a_mark_and_say_what_they_are(macros):
    # A blank cannot be underlined or struck through: ¶ or ␣ shows it, words name it.
    out = macros.render(views=DiffViews(diff_words("One.\n\nTwo. Three.", "One. Two.\nThree.")), mode="inline")
    assert (
        '<del class="diff__del"><span class="visually-hidden">removed: </span>'
        '<span class="diff__mark" aria-hidden="true">¶</span><span class="visually-hidden">paragraph break</span>'
        '<span class="visually-hidden"> (end of removal)</span></del>'
    ) in out
    assert (
        '<ins class="diff__ins"><span class="visually-hidden">added: </span>'
        '<span class="diff__mark" aria-hidden="true">␣</span><span class="visually-hidden">space</span> '
    ) in out
    assert '<span class="visually-hidden">line break</span>\n<span class="visually-hidden"> (end of addition)</span></ins>' in out


def test_the_list_macro_describes_each_change(macros):
    views = DiffViews(
        diff_words(
            "One line.\nWe plant trees in the spring here.",
            "One line. We plant many trees in the spring.",
        )
    )
    out = macros.render(views=views, mode="list")
    assert "Replaced a line break with a space" in out
    assert "Added “many”" in out
    assert "Removed “here”" in out


ranges_lists = st.lists(st.tuples(st.integers(0, 30), st.integers(0, 6)), max_size=4).map(
    lambda pairs: [[start, start + length] for start, length in pairs]
)


@given(st.dictionaries(st.integers(1, 40), st.fixed_dictionaries({"title": ranges_lists, "body": ranges_lists}), max_size=8))
def test_competing_pairs_are_the_pairs_that_compete(changes):
    # The sweep must find exactly what comparing every pair finds (insertions, touching ends and all).
    expected = {
        (a, b) for a in changes for b in changes if a < b and diffing.fields_compete(changes[a], changes[b])
    }
    assert diffing.competing_pairs(changes) == expected


def test_competing_pairs_examples():
    changes = {
        1: {"title": [], "body": [[4, 9]]},  # replaces "quick"
        2: {"title": [], "body": [[6, 6]]},  # inserts inside "quick"
        3: {"title": [], "body": [[9, 9]]},  # inserts where 1's range ends: no
        4: {"title": [], "body": [[9, 9]]},  # the same point as 3
        5: {"title": [[0, 3]], "body": [[4, 9]]},  # the same words as 1
    }
    assert diffing.competing_pairs(changes) == {(1, 2), (1, 5), (2, 5), (3, 4)}
