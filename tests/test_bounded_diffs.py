"""Every diff and rebase a request can trigger has a bounded cost (issue 19, item 3).

The worst pairs (two unrelated 20,000-character texts; a 20,000-character proposal revised to
other words) finish within a bound and show the changed passage as one replaced block, said in
words; ordinary pairs give exactly the diff an unbounded run gives; a rebase that hits the bound
is a conflict, never a guessed text. bench/diff_timing.py --worst measures the real figures.
"""

from __future__ import annotations

import random
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workbench import diffcache, diffing
from workbench.diffing import (
    Change,
    DiffViews,
    RewrittenChange,
    change_list,
    diff_words,
    is_rewritten,
    rebase,
    tokenize,
)

from .factories import open_proposal

# Generous: the bound is DIFF_TIMEOUT_SECONDS (30 ms of CPU) per diff; this only catches the
# unbounded seconds of before. Measured in this process's CPU time, as the budget is: on a busy
# test machine the wall clock also counts the time other processes held the CPU.
CPU_BOUND = 0.5


def random_words(seed: int, characters: int = 20_000, vocabulary: int = 3000) -> str:
    """About `characters` characters of made-up words, in paragraphs, as a volunteer's body."""
    rng = random.Random(seed)
    words = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=rng.randint(2, 10))) for _ in range(vocabulary)]
    paragraphs, length = [], 0
    while True:
        paragraph = " ".join(rng.choice(words) for _ in range(rng.randint(60, 140))) + "."
        if length + len(paragraph) + 2 > characters:
            return "\n\n".join(paragraphs)
        paragraphs.append(paragraph)
        length += len(paragraph) + 2


def reworded(text: str, seed: int, share: float) -> str:
    """`text` with about `share` of its words replaced by other words."""
    rng = random.Random(seed)
    return "".join(
        rng.choice(("other", "new", "different", "words")) if token.isalpha() and rng.random() < share else token
        for token in tokenize(text)
    )


def old_of(changes) -> str:
    return "".join(c.text for c in changes if c.op != "insert")


def new_of(changes) -> str:
    return "".join(c.text for c in changes if c.op != "delete")


def timed(function):
    """`function()` and the CPU seconds this process spent on it."""
    start = time.process_time()
    result = function()
    return result, time.process_time() - start


def unbounded_diff(monkeypatch, old: str, new: str) -> list[Change]:
    with monkeypatch.context() as patched:
        patched.setattr(diffing, "DIFF_TIMEOUT_SECONDS", 0)  # no limit, as the library reads 0
        return diff_words(old, new)


UNRELATED = (random_words(1), random_words(2))
PROPOSAL = random_words(3)
REVISION = reworded(PROPOSAL, 4, share=0.6)  # the case: revised to different words


# --- the worst pairs finish within the bound ------------------------------------------------------


@pytest.mark.parametrize("old, new", [UNRELATED, (PROPOSAL, REVISION)], ids=["unrelated", "revised"])
def test_the_worst_pairs_diff_within_the_bound(old, new) -> None:
    assert 18_000 < len(old) <= 20_000 and 18_000 < len(new) <= 20_000
    changes, seconds = timed(lambda: diff_words(old, new))
    assert seconds < CPU_BOUND
    assert (old_of(changes), new_of(changes)) == (old, new)


def test_two_unrelated_texts_show_as_one_replaced_block() -> None:
    # Unbounded, this pair costs about a second: far past the budget on any machine.
    changes = diff_words(*UNRELATED)
    assert is_rewritten(changes)
    edits = [c for c in changes if c.op != "equal"]
    assert [c.op for c in edits] == ["delete", "insert"]
    assert all(isinstance(c, RewrittenChange) for c in edits)


def test_a_replaced_block_keeps_the_shared_start_and_end_and_never_splits_a_word(monkeypatch) -> None:
    monkeypatch.setattr(diffing, "DIFF_TIMEOUT_SECONDS", 1e-9)
    changes = diff_words("Keep this start. The old middle words. Keep this end.",
                         "Keep this start. Quite other wording here. Keep this end.")
    assert changes == [
        Change("equal", "Keep this start. "),
        Change("delete", "The old middle words"),
        Change("insert", "Quite other wording here"),
        Change("equal", ". Keep this end."),
    ]
    assert is_rewritten(changes)


def test_the_budget_counts_work_not_waiting(monkeypatch) -> None:
    monkeypatch.setattr(diffing, "DIFF_TIMEOUT_SECONDS", 0.01)
    budget = diffing._Budget()
    time.sleep(0.05)  # another request holding the CPU looks like this to ours
    assert not budget.exhausted()


# --- ordinary pairs are unchanged -----------------------------------------------------------------


@pytest.mark.parametrize("share", [0.02, 0.1])
def test_an_ordinary_long_edit_is_the_unbounded_word_diff(monkeypatch, share) -> None:
    old = random_words(5)
    new = reworded(old, 6, share)
    changes, seconds = timed(lambda: diff_words(old, new))
    assert not is_rewritten(changes)
    assert changes == unbounded_diff(monkeypatch, old, new)
    assert seconds < CPU_BOUND


def test_a_small_edit_is_not_a_replaced_block() -> None:
    changes = diff_words("We will share data openly.", "We will share data safely.")
    assert not is_rewritten(changes)
    assert [c for c in changes if c.op != "equal"] == [Change("delete", "openly"), Change("insert", "safely")]


# --- rebase ---------------------------------------------------------------------------------------


def test_a_rebase_of_a_rewritten_proposal_is_a_conflict_within_the_bound() -> None:
    base, proposed = UNRELATED
    current = base.replace(".", "!", 1)  # the working text moved on a little
    result, seconds = timed(lambda: rebase(base, proposed, current))
    assert seconds < 2 * CPU_BOUND
    assert (result.ok, result.text, result.failed_hunks) == (False, None, 1)
    (conflict,) = result.conflicts
    assert conflict.rewritten
    assert conflict.description.startswith("the texts differ too much to carry the changes over word by word")


def test_a_rebase_onto_a_rewritten_working_text_is_a_conflict() -> None:
    base = PROPOSAL
    proposed = base.replace(".", "!", 1)  # a small proposal
    current = REVISION  # but the working text was rewritten meanwhile
    result, seconds = timed(lambda: rebase(base, proposed, current))
    assert seconds < 2 * CPU_BOUND
    assert not result.ok and result.text is None
    assert result.conflicts[0].rewritten


def test_a_rebase_that_runs_out_of_budget_never_applies_a_patch(monkeypatch) -> None:
    base = random_words(9, characters=2000)
    proposed, current = reworded(base, 10, 0.1), base.replace(".", "!", 1)
    assert rebase(base, proposed, current).ok  # within the budget it carries over
    monkeypatch.setattr(diffing, "DIFF_TIMEOUT_SECONDS", 1e-9)
    result = rebase(base, proposed, current)
    assert not result.ok and result.text is None and result.conflicts[0].rewritten


def test_an_ordinary_rebase_still_applies() -> None:
    base = random_words(7)
    proposed = reworded(base, 8, 0.02)
    current = base.replace("\n\n", "\n\nAdded. ", 1)
    result = rebase(base, proposed, current)
    assert result.ok and result.text == proposed.replace("\n\n", "\n\nAdded. ", 1)


# --- what people see ------------------------------------------------------------------------------


def test_the_views_of_a_replaced_block_say_so() -> None:
    views = DiffViews(diff_words(*UNRELATED))
    assert views.rewritten and views.has_changes
    (item,) = views.items
    assert item.rewritten and item.kind == "replaced"
    assert not change_list(diff_words("a b c", "a x c"))[0].rewritten


def test_a_cached_replaced_block_stays_marked(app) -> None:
    first = diffcache.diff(*UNRELATED)
    assert is_rewritten(first) and diffcache.diff(*UNRELATED) is first


def test_the_revision_page_of_a_rewritten_proposal_says_so_in_words(client, vision, author) -> None:
    proposal = open_proposal(vision, author, body=PROPOSAL)
    from workbench.extensions import db
    from workbench.proposals.services import revise_proposal

    revise_proposal(proposal, author, proposal.title, REVISION, "Reworded throughout.")
    db.session.commit()
    note = "This text was rewritten too extensively to compare word by word"
    for view in ("", "?view=side-by-side", "?view=list"):
        response, seconds = timed(lambda: client.get(f"/proposals/{proposal.id}/revisions/2{view}"))
        page = response.get_data(as_text=True)
        assert response.status_code == 200
        assert page.count(note) == 1, view
        assert seconds < 2 * CPU_BOUND
    assert "Rewrote this passage as a whole" in client.get(
        f"/proposals/{proposal.id}/revisions/2?view=list"
    ).get_data(as_text=True)


def test_an_ordinary_revision_page_has_no_such_note(client, vision, author) -> None:
    proposal = open_proposal(vision, author)
    page = client.get(f"/proposals/{proposal.id}/revisions/1").get_data(as_text=True)
    assert "rewritten too extensively" not in page
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>text' in page


def test_a_known_replaced_block_comes_back_without_spending_the_budget_again(app, monkeypatch) -> None:
    from workbench.caching import app_cache

    first = diffcache.diff(*UNRELATED)
    app_cache("text_diff", diffcache.DIFFS_CACHED).clear()  # pushed out by other long diffs
    monkeypatch.setattr(diffing, "diff_words", lambda old, new: pytest.fail("diffed again"))
    again = diffcache.diff(*UNRELATED)
    assert again == first and is_rewritten(again)


def test_the_replaced_block_is_what_running_out_of_budget_gives() -> None:
    assert diffing.replaced_block(*UNRELATED) == diff_words(*UNRELATED)
    assert is_rewritten(diffing.replaced_block("a b c", "a x c"))
    assert diffing.replaced_block("same", "same") == [Change("equal", "same")]


@settings(deadline=None, max_examples=60)
@given(st.text(alphabet="ab .,\n", max_size=60), st.text(alphabet="ab .,\n", max_size=60))
def test_within_the_budget_a_diff_is_the_unbounded_diff(old, new) -> None:
    bounded = diff_words(old, new)
    limit = diffing.DIFF_TIMEOUT_SECONDS
    diffing.DIFF_TIMEOUT_SECONDS = 0
    try:
        assert bounded == diff_words(old, new) and not is_rewritten(bounded)
    finally:
        diffing.DIFF_TIMEOUT_SECONDS = limit
