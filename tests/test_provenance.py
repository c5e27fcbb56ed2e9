"""Who wrote each word (workbench/provenance.py): pure, no app, no database."""

from __future__ import annotations

import re

import pytest

from workbench import diffing
from workbench.provenance import (
    FIRST_DRAFT,
    AcceptedProposal,
    Provenance,
    Source,
    Step,
    Words,
    accept_steps,
    attribute,
    edit_source,
    pieces,
    words_by_person,
)

# Pure: nothing here reads a database (conftest runs it once, in the SQLite run).
pytestmark = pytest.mark.database_free

ANN, BEN, CAT, FAY = 11, 12, 13, 90  # three volunteers and a facilitator


def who(source: Source | None) -> str:
    """A source in a few letters: "draft", "p12 by 11", "f12 by 90" (facilitator's change), "e90"."""
    if source is None:
        return "-"
    if source.kind == "draft":
        return "draft"
    if source.kind == "proposal":
        return f"p{source.proposal} by {source.person}"
    if source.kind == "facilitator":
        return f"f{source.proposal} by {source.person}"
    return f"e{source.person}"


def word_authors(provenance: Provenance, field: str = "body") -> list[tuple[str, str]]:
    """Each word (and punctuation mark) of the field with its author, in order."""
    text = provenance.words.field(field)
    result = []
    for piece, source in pieces(text, provenance.spans(field)):
        for word in re.findall(r"\S+", piece):
            for token in diffing.tokenize(word):
                result.append((token, who(source)))
    return result


def first(body: str, title: str = "") -> Provenance:
    return attribute([Step(Words(title, body), FIRST_DRAFT)])


def proposal(number: int, author: int, base: str, proposed: str) -> AcceptedProposal:
    return AcceptedProposal(number, author, Words("", base), Words("", proposed))


def test_the_first_draft_is_credited_with_every_word_and_no_space():
    result = first("Data for all.\n\nShared well.", title="Our data")
    assert word_authors(result) == [
        ("Data", "draft"), ("for", "draft"), ("all", "draft"), (".", "draft"),
        ("Shared", "draft"), ("well", "draft"), (".", "draft"),
    ]
    assert word_authors(result, "title") == [("Our", "draft"), ("data", "draft")]
    # One source: one span over the words, from the first word to the last mark.
    assert [(s.start, s.end) for s in result.body] == [(0, len("Data for all.\n\nShared well."))]


def test_a_proposal_accepted_as_is_is_credited_with_the_words_it_added():
    draft = first("Data improves public services.")
    steps = accept_steps(
        draft.words,
        [proposal(12, ANN, "Data improves public services.", "Open data improves public services for everyone.")],
        Words("", "Open data improves public services for everyone."),
        facilitator=FAY,
        with_changes=False,
    )
    result = attribute(steps, draft)
    assert word_authors(result) == [
        ("Open", "p12 by 11"), ("data", "p12 by 11"), ("improves", "draft"), ("public", "draft"),
        ("services", "draft"), ("for", "p12 by 11"), ("everyone", "p12 by 11"), (".", "draft"),
    ]


def test_a_proposal_accepted_with_changes_credits_the_facilitators_own_words_to_them():
    draft = first("Data improves public services.")
    steps = accept_steps(
        draft.words,
        [proposal(12, ANN, "Data improves public services.", "Data greatly improves public services.")],
        Words("", "Data greatly improves local public services."),
        facilitator=FAY,
        with_changes=True,
    )
    result = attribute(steps, draft)
    assert word_authors(result) == [
        ("Data", "draft"), ("greatly", "p12 by 11"), ("improves", "draft"), ("local", "f12 by 90"),
        ("public", "draft"), ("services", "draft"), (".", "draft"),
    ]


def test_a_facilitator_who_drops_part_of_a_proposal_leaves_the_rest_credited_to_its_author():
    draft = first("Data improves services.")
    steps = accept_steps(
        draft.words,
        [proposal(12, ANN, "Data improves services.", "Good data quickly improves services.")],
        Words("", "Good data improves services."),
        facilitator=FAY,
        with_changes=True,
    )
    result = attribute(steps, draft)
    assert word_authors(result) == [
        ("Good", "p12 by 11"), ("data", "p12 by 11"), ("improves", "draft"), ("services", "draft"), (".", "draft"),
    ]


def test_a_proposal_accepted_after_a_rebase_is_credited_only_with_its_own_change():
    # Ann wrote against the first draft; a facilitator edited the end meanwhile.
    draft = first("Data improves public services in Scotland.")
    edited = attribute([Step(Words("", "Data improves public services across Scotland."), edit_source(FAY))], draft)
    steps = accept_steps(
        edited.words,
        [proposal(12, ANN, "Data improves public services in Scotland.", "Open data improves public services in Scotland.")],
        Words("", "Open data improves public services across Scotland."),
        facilitator=FAY,
        with_changes=False,
    )
    result = attribute(steps, edited)
    assert word_authors(result) == [
        ("Open", "p12 by 11"), ("data", "p12 by 11"), ("improves", "draft"), ("public", "draft"),
        ("services", "draft"), ("across", "e90"), ("Scotland", "draft"), (".", "draft"),
    ]


def test_several_proposals_accepted_together_are_each_credited_with_their_own_words():
    base = "Data improves public services."
    draft = first(base)
    together = [
        proposal(12, ANN, base, "Open data improves public services."),
        proposal(14, BEN, base, "Data improves public services for everyone."),
    ]
    steps = accept_steps(
        draft.words, together, Words("", "Open data improves public services for everyone."),
        facilitator=FAY, with_changes=False,
    )
    assert [who(step.source) for step in steps] == ["p12 by 11", "p14 by 12"]
    result = attribute(steps, draft)
    assert word_authors(result) == [
        ("Open", "p12 by 11"), ("data", "p12 by 11"), ("improves", "draft"), ("public", "draft"),
        ("services", "draft"), ("for", "p14 by 12"), ("everyone", "p14 by 12"), (".", "draft"),
    ]


def test_a_direct_edit_is_credited_to_the_facilitator():
    draft = first("Data improves services.")
    result = attribute([Step(Words("", "Data improves many services."), edit_source(FAY))], draft)
    assert word_authors(result) == [
        ("Data", "draft"), ("improves", "draft"), ("many", "e90"), ("services", "draft"), (".", "draft"),
    ]


def test_words_removed_and_added_again_belong_to_whoever_added_them_again():
    draft = first("Data improves public services.")
    removed = attribute([Step(Words("", "Data improves services."), edit_source(FAY))], draft)
    again = attribute(
        accept_steps(
            removed.words,
            [proposal(15, CAT, "Data improves services.", "Data improves public services.")],
            Words("", "Data improves public services."),
            facilitator=FAY,
            with_changes=False,
        ),
        removed,
    )
    assert again.words == draft.words
    assert word_authors(again) == [
        ("Data", "draft"), ("improves", "draft"), ("public", "p15 by 13"), ("services", "draft"), (".", "draft"),
    ]


def test_a_three_version_history_credits_every_word_to_its_author():
    # Version 1: the imported draft.
    v1 = first("Scotland's data advances innovation and wellbeing.", title="Vision")
    # Version 2: Ann's proposal as is; Ben's accepted with a facilitator's change to the title.
    ann = accept_steps(
        v1.words,
        [AcceptedProposal(12, ANN, v1.words, Words("Vision", "Scotland's data advances innovation and wellbeing for people."))],
        Words("Vision", "Scotland's data advances innovation and wellbeing for people."),
        facilitator=FAY, with_changes=False,
    )
    after_ann = Words("Vision", "Scotland's data advances innovation and wellbeing for people.")
    ben = accept_steps(
        after_ann,
        [AcceptedProposal(14, BEN, after_ann, Words("Our vision", after_ann.body))],
        Words("Our shared vision", after_ann.body),
        facilitator=FAY, with_changes=True,
    )
    v2 = attribute(ann + ben, v1)
    # Version 3: a direct edit removes "innovation and", Cat's proposal puts "innovation" back.
    v2_words = v2.words
    edit = Step(Words(v2_words.title, "Scotland's data advances wellbeing for people."), edit_source(FAY))
    cat = accept_steps(
        edit.words,
        [AcceptedProposal(15, CAT, edit.words, Words(v2_words.title, "Scotland's data advances innovation, wellbeing for people and planet."))],
        Words(v2_words.title, "Scotland's data advances innovation, wellbeing for people and planet."),
        facilitator=FAY, with_changes=False,
    )
    v3 = attribute([edit, *cat], v2)

    assert word_authors(v2, "title") == [("Our", "p14 by 12"), ("shared", "f14 by 90"), ("vision", "p14 by 12")]
    assert word_authors(v3, "title") == word_authors(v2, "title")
    assert word_authors(v3) == [
        ("Scotland's", "draft"), ("data", "draft"), ("advances", "draft"), ("innovation", "p15 by 13"),
        (",", "p15 by 13"), ("wellbeing", "draft"), ("for", "p12 by 11"), ("people", "p12 by 11"),
        ("and", "p15 by 13"), ("planet", "p15 by 13"), (".", "draft"),
    ]
    # "Vision" was the draft's; Ben replaced it ("vision" is a different word) and his words stay.
    assert words_by_person(v3) == {BEN: 2, FAY: 1, ANN: 2, CAT: 3}


def test_spans_cover_words_in_order_and_never_overlap():
    draft = first("One two three four five six.")
    result = attribute(
        [
            Step(Words("", "One 2 three four five six."), edit_source(FAY)),
            Step(Words("", "One 2 three 4 five six seven."), Source("proposal", 12, ANN)),
        ],
        draft,
    )
    ends = [0]
    for span in result.body:
        assert ends[-1] <= span.start < span.end
        assert not result.words.body[span.start].isspace() and not result.words.body[span.end - 1].isspace()
        ends.append(span.end)
    text = result.words.body
    assert "".join(piece for piece, _ in pieces(text, result.body)) == text


def test_stored_spans_read_back_the_same():
    draft = first("Data improves services.")
    result = attribute([Step(Words("T", "Data improves many services."), edit_source(FAY))], draft)
    assert Provenance.from_json(result.words, result.to_json()) == result


def test_continuing_from_stored_spans_equals_attributing_the_whole_chain():
    chain = [
        Step(Words("", "Data improves services."), FIRST_DRAFT),
        Step(Words("", "Data improves public services."), Source("proposal", 12, ANN)),
        Step(Words("", "Open data improves public services."), edit_source(FAY)),
    ]
    whole = attribute(chain)
    stored = attribute(chain[:2])
    assert attribute(chain[2:], Provenance.from_json(stored.words, stored.to_json())) == whole


def test_an_unchanged_chain_keeps_the_spans_it_started_with():
    draft = first("Data improves services.")
    assert attribute([], draft) == draft
    assert attribute([Step(draft.words, edit_source(FAY))], draft) == draft
