"""Time the word diff and the rebase on a 2,000-word element (budget: 20 ms per diff).

Run on demand from the project root:

    .venv/bin/python bench/diff_timing.py [--words 2000] [--runs 20] [--seed 2024]

It also times the worst pairs a volunteer can make (issue 19): two unrelated 20,000-character
texts of made-up words (the longest body allowed), and such a text revised with 60 % of its
words replaced; each diff must stay within its bound (DIFF_TIMEOUT_SECONDS of CPU, plus the
tokenizing) and a rebase over them must be a conflict. bench/diff_bombs.py measures the pages.

The text is reproducible (seeded): made-up words of 2-10 letters with commas and full
stops, in paragraphs of 60-140 words. About 5 % of the words are then edited in
scattered places (replaced, removed or followed by a new word). ``rebase`` is timed
the way the app uses it: the proposal is rebased onto a working text in which another
proposal, with its own scattered edits, was accepted first.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from workbench.diffing import DIFF_TIMEOUT_SECONDS, compete, diff_words, is_rewritten, rebase  # noqa: E402

BUDGET_MS = 20.0
#: The worst pair's bound: the diff's CPU budget and a few ms of tokenizing and mapping.
WORST_BOUND_MS = DIFF_TIMEOUT_SECONDS * 1000 + 15


def make_vocabulary(rng: random.Random, size: int = 1500) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    return ["".join(rng.choices(letters, k=rng.randint(2, 10))) for _ in range(size)]


def make_text(rng: random.Random, vocabulary: list[str], words: int) -> list[list[str]]:
    """Paragraphs of words; punctuation is attached to the words."""
    paragraphs: list[list[str]] = []
    remaining = words
    while remaining > 0:
        length = min(remaining, rng.randint(60, 140))
        paragraph = []
        for index in range(length):
            word = rng.choice(vocabulary)
            if index == 0 or paragraph[-1].endswith("."):
                word = word.capitalize()
            if index == length - 1 or rng.random() < 0.07:
                word += "."
            elif rng.random() < 0.06:
                word += ","
            paragraph.append(word)
        paragraphs.append(paragraph)
        remaining -= length
    return paragraphs


def render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(words) for words in paragraphs)


def edit(
    rng: random.Random,
    vocabulary: list[str],
    paragraphs: list[list[str]],
    share: float,
    avoid: set[tuple[int, int]] | None = None,
) -> tuple[list[list[str]], set[tuple[int, int]]]:
    """Edit about ``share`` of the words in scattered places; returns the touched spots."""
    positions = [(p, w) for p, words in enumerate(paragraphs) for w in range(len(words))]
    avoid = avoid or set()
    free = [spot for spot in positions if not any(
        (spot[0], spot[1] + d) in avoid for d in range(-3, 4))]
    chosen = set(rng.sample(free, int(len(positions) * share)))
    edited = []
    for p, words in enumerate(paragraphs):
        out = []
        for w, word in enumerate(words):
            if (p, w) not in chosen:
                out.append(word)
                continue
            action = rng.random()
            if action < 0.6:
                out.append(rng.choice(vocabulary) + ("." if word.endswith(".") else ""))
            elif action < 0.8 and w not in (0, len(words) - 1):
                continue  # removed
            else:
                out.extend([word, rng.choice(vocabulary)])
        edited.append(out)
    return edited, chosen


def timed(function: Callable[[], object], runs: int, clock: Callable[[], float] = time.perf_counter) -> list[float]:
    function()  # warm-up (compiles the token regex, fills caches)
    times = []
    for _ in range(runs):
        start = clock()
        function()
        times.append((clock() - start) * 1000)
    return times


def report(label: str, times: list[float], budget: float | None) -> None:
    median, worst = statistics.median(times), max(times)
    verdict = ""
    if budget is not None:
        verdict = "  within budget" if worst <= budget else "  OVER BUDGET"
        verdict = f"  (budget {budget:.0f} ms){verdict}"
    print(f"{label:<44} median {median:7.2f} ms   max {worst:7.2f} ms{verdict}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--words", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    vocabulary = make_vocabulary(rng)
    base_paragraphs = make_text(rng, vocabulary, args.words)
    proposed_paragraphs, spots = edit(rng, vocabulary, base_paragraphs, 0.05)
    accepted_paragraphs, _ = edit(rng, vocabulary, base_paragraphs, 0.05, avoid=spots)
    base, proposed = render(base_paragraphs), render(proposed_paragraphs)
    current = render(accepted_paragraphs)

    changes = diff_words(base, proposed)
    edits = sum(1 for change in changes if change.op != "equal")
    result = rebase(base, proposed, current)
    print(
        f"{args.words} words, {len(base_paragraphs)} paragraphs, {len(base):,} characters;"
        f" ~5 % of words edited -> {edits} changed runs; {args.runs} runs each"
    )
    report("diff_words(base, proposed)", timed(lambda: diff_words(base, proposed), args.runs),
           BUDGET_MS)
    report("compete(base, proposed, accepted)",
           timed(lambda: compete(base, proposed, current), args.runs), None)
    report("rebase onto another accepted proposal",
           timed(lambda: rebase(base, proposed, current), args.runs), None)
    print(f"rebase outcome: ok={result.ok}, failed hunks={result.failed_hunks}")
    return worst_pairs(rng, args.runs)


def twenty_thousand_characters(rng: random.Random, vocabulary: list[str]) -> str:
    paragraphs = make_text(rng, vocabulary, 4000)
    text = render(paragraphs)
    return text[: text.rfind(" ", 0, 20_000)]


def worst_pairs(rng: random.Random, runs: int) -> int:
    """Time the worst pairs; 0 when each diff stays within WORST_BOUND_MS and each rebase is a conflict."""
    vocabulary = make_vocabulary(rng, 3000)
    first, second = twenty_thousand_characters(rng, vocabulary), twenty_thousand_characters(rng, vocabulary)
    revised = " ".join(rng.choice(vocabulary) if rng.random() < 0.6 else word for word in first.split(" "))
    # CPU time, as the bound counts it: on a busy machine wall time adds whatever else runs.
    print(f"\nWorst pairs: {len(first):,} and {len(second):,} characters (bound {WORST_BOUND_MS:.0f} ms of CPU a diff)")
    ok = True
    for label, old, new in (("unrelated texts", first, second), ("revised, 60 % of words replaced", first, revised)):
        times = timed(lambda: diff_words(old, new), runs, time.thread_time)
        report(f"diff_words, {label} (CPU)", times, WORST_BOUND_MS)
        rewritten = is_rewritten(diff_words(old, new))
        moved = old.replace(".", "!", 1)  # the working text moved on a little
        outcome = rebase(old, new, moved)
        rebase_times = timed(lambda: rebase(old, new, moved), runs, time.thread_time)
        report(f"rebase, {label} (CPU)", rebase_times, 2 * WORST_BOUND_MS)
        print(f"  shown as a replaced block: {rewritten}; rebase ok={outcome.ok} (a conflict when rewritten)")
        ok = ok and max(times) <= WORST_BOUND_MS and max(rebase_times) <= 2 * WORST_BOUND_MS
        ok = ok and not (outcome.ok and rewritten)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
