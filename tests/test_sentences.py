"""Numbered paragraphs and sentences (workbench/sentences.py), and following a sentence through the
texts that come after the one it was written on. Pure functions: no app, no database."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import diffing
from workbench.sentences import find_sentence, follow_sentence, map_range, paragraphs_of, sentence_covering, sentence_spans

# Pure: nothing here reads a database (conftest runs it once, in the SQLite run).
pytestmark = pytest.mark.database_free


def split(text: str) -> list[str]:
    return [text[a:b] for a, b in sentence_spans(text)]


# --- where a sentence ends ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, sentences",
    [
        ("Data helps people. It helps the planet too.", ["Data helps people.", "It helps the planet too."]),
        ("Is it open? Yes! It is.", ["Is it open?", "Yes!", "It is."]),
        # abbreviations that never end a sentence
        ("Share tools, e.g. notebooks, with others. Then review.", ["Share tools, e.g. notebooks, with others.", "Then review."]),
        ("Use open formats, i.e. CSV and JSON. Publish them.", ["Use open formats, i.e. CSV and JSON.", "Publish them."]),
        ("Dr. Smith and Prof. Jones agree. Others do not.", ["Dr. Smith and Prof. Jones agree.", "Others do not."]),
        ("See No. 5 and para. 3 for details. Then act.", ["See No. 5 and para. 3 for details.", "Then act."]),
        ("Written by J. Smith in 2024. Reviewed later.", ["Written by J. Smith in 2024.", "Reviewed later."]),
        # "etc." ends a sentence before a capital, not before a word in small letters
        ("Costs, staff, etc. are shared. Data, models, etc. The rest follows.",
         ["Costs, staff, etc. are shared.", "Data, models, etc.", "The rest follows."]),
        # numbers
        ("The rate rose to 2.5 per cent. It was 1,000.5 before.", ["The rate rose to 2.5 per cent.", "It was 1,000.5 before."]),
        ("We met in 2024. 2025 will be busier.", ["We met in 2024.", "2025 will be busier."]),
        # quotes and brackets
        ('People said "Data matters." Then they left.', ['People said "Data matters."', "Then they left."]),
        ("“Is it fair?” she asked. Nobody knew.", ["“Is it fair?” she asked.", "Nobody knew."]),
        ("It works (mostly.) Next step.", ["It works (mostly.)", "Next step."]),
        ("He wrote: “We agree.” ‘Fine,’ they said.", ["He wrote: “We agree.”", "‘Fine,’ they said."]),
        # ellipses and small letters after a full stop
        ("Wait... What now? The end", ["Wait...", "What now?", "The end"]),
        ("version 3.x is fine. see above.", ["version 3.x is fine. see above."]),
        # lists: each item is a sentence of its own, with or without a full stop
        ("Our aims:\n- open data\n- better services.\n- fewer forms", ["Our aims:", "- open data", "- better services.", "- fewer forms"]),
        ("Steps:\n1. Collect the data. Check it\n2. Publish it", ["Steps:", "1. Collect the data.", "Check it", "2. Publish it"]),
        ("Choose one:\n(a) now\n(b) later", ["Choose one:", "(a) now", "(b) later"]),
        # no sentence in whitespace; one without a full stop
        ("   ", []),
        ("A title without a full stop", ["A title without a full stop"]),
        ("Ünïcode sentences end too. Écoles open. 東京 too.", ["Ünïcode sentences end too.", "Écoles open.", "東京 too."]),
    ],
)
def test_sentences_end_where_a_reader_expects(text, sentences) -> None:
    assert split(text) == sentences


def test_paragraphs_and_sentences_are_numbered_with_offsets_in_the_body() -> None:
    body = "First one. Second one.\n\nA second paragraph.\n\n\n\nThird? Yes."
    paragraphs = paragraphs_of(body)
    assert [p.number for p in paragraphs] == [1, 2, 3]
    assert [[s.text for s in p.sentences] for p in paragraphs] == [
        ["First one.", "Second one."], ["A second paragraph."], ["Third?", "Yes."]
    ]
    for paragraph in paragraphs:
        # every character of the paragraph is printed once, in order
        assert "".join(text for text, _ in paragraph.pieces) == body[paragraph.start : paragraph.end]
        for sentence in paragraph.sentences:
            assert body[sentence.start : sentence.end] == sentence.text
    third = find_sentence(body, 3, 2)
    assert (third.ref, third.words, third.text) == ("p3-s2", "paragraph 3, sentence 2", "Yes.")
    assert find_sentence(body, 3, 3) is None and find_sentence(body, 4, 1) is None and find_sentence(body, 0, 1) is None
    assert [s.ref for s in sentence_covering(body, 5, 30)] == ["p1-s1", "p1-s2", "p2-s1"]


def test_the_split_is_the_same_every_time_so_published_anchors_never_move() -> None:
    body = "Data, e.g. tables, etc. Move. “Quoted.” 2.5 is a number.\n\n- a list\n- of items"
    first = [(s.ref, s.start, s.end) for p in paragraphs_of(body) for s in p.sentences]
    for _ in range(3):
        assert [(s.ref, s.start, s.end) for p in paragraphs_of(body) for s in p.sentences] == first


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab A.?!\n“”\"'()-12,e.g")), max_size=80))
def test_spans_cover_every_word_once_in_order_without_overlap(text) -> None:
    spans = sentence_spans(text)
    position = 0
    for start, end in spans:
        assert position <= start < end <= len(text)
        assert text[position:start].strip() == ""  # only whitespace between sentences
        assert text[start:end] == text[start:end].strip()
        position = end
    assert text[position:].strip() == ""


# --- following a sentence -------------------------------------------------------------------------

V1 = "Data helps people, and it helps the planet. Open data is good. We publish it."
SENTENCE = (0, V1.index(" Open"))  # "Data helps people, and it helps the planet."


def test_a_sentence_whose_words_stay_is_unchanged_and_its_range_moves_with_the_text() -> None:
    v2 = "A new opening sentence. " + V1.replace("We publish it.", "We publish it weekly.")
    followed = follow_sentence([V1, v2], *SENTENCE)
    assert followed.state == "unchanged"
    assert v2[followed.start : followed.end] == "Data helps people, and it helps the planet."


def test_a_sentence_with_a_word_changed_is_changed_and_maps_to_its_new_words() -> None:
    v2 = V1.replace("helps the planet", "helps nature")
    followed = follow_sentence([V1, v2], *SENTENCE)
    assert followed.state == "changed"
    assert v2[followed.start : followed.end] == "Data helps people, and it helps nature."


def test_a_sentence_split_into_two_is_changed_and_covers_both() -> None:
    v2 = V1.replace("people, and it helps", "people. It helps")
    followed = follow_sentence([V1, v2], *SENTENCE)
    assert followed.state == "changed"
    assert v2[followed.start : followed.end] == "Data helps people. It helps the planet."
    assert [s.text for s in sentence_covering(v2, followed.start, followed.end)] == ["Data helps people.", "It helps the planet."]


def test_a_removed_sentence_is_removed_at_the_text_that_dropped_it_and_never_found_elsewhere() -> None:
    v2 = V1.replace("Open data is good. ", "")
    # the same words come back later: the comment does not jump to them
    v3 = v2 + " Open data is good."
    sentence = (V1.index("Open"), V1.index(" We"))
    followed = follow_sentence([V1, v2, v3], *sentence)
    assert (followed.state, followed.removed_at) == ("removed", 1)


def test_a_sentence_followed_across_three_versions() -> None:
    v2 = "Our first sentence. " + V1  # unchanged by v2
    v3 = v2.replace("helps the planet", "helps the whole planet")  # changed by v3
    v4 = v3.replace("Data helps people, and it helps the whole planet. ", "")  # removed by v4
    assert follow_sentence([V1, v2], *SENTENCE).state == "unchanged"
    changed = follow_sentence([V1, v2, v3], *SENTENCE)
    assert changed.state == "changed"
    assert v3[changed.start : changed.end] == "Data helps people, and it helps the whole planet."
    removed = follow_sentence([V1, v2, v3, v4], *SENTENCE)
    assert (removed.state, removed.removed_at) == ("removed", 3)


def test_a_sentence_changed_and_changed_back_reads_as_unchanged() -> None:
    v2 = V1.replace("helps the planet", "helps nature")
    followed = follow_sentence([V1, v2, V1], *SENTENCE)
    assert followed.state == "unchanged"
    assert V1[followed.start : followed.end] == V1[slice(*SENTENCE)]


def test_a_new_sentence_added_right_after_or_before_does_not_change_this_one() -> None:
    middle = (V1.index("Open"), V1.index(" We"))
    after = V1.replace("good.", "good. Closed data is not.")
    before = V1.replace("Open data", "Some say so. Open data")
    for text in (after, before):
        followed = follow_sentence([V1, text], *middle)
        assert followed.state == "unchanged"
        assert text[followed.start : followed.end] == "Open data is good."


def test_only_punctuation_left_counts_as_removed() -> None:
    old, new = "One. Two words here. Three.", "One. . Three."
    state, _, _ = map_range(diffing.diff_words(old, new), old.index("Two"), old.index(" Three"))
    assert state == "removed"


def test_a_range_outside_the_text_is_refused() -> None:
    with pytest.raises(ValueError):
        follow_sentence(["short"], 3, 30)
