"""Cached diffs give exactly what the pure functions give, once per set of texts, within bounds."""

from __future__ import annotations

import pytest

from workbench import diffcache, diffing
from workbench.caching import app_cache

BASE = "The programme will publish 10,000 open datasets by 2030, with a named owner for each."
PAIRS = [
    ("", ""),
    ("same text", "same text"),
    ("", "new text"),
    ("old text", ""),
    (BASE, BASE.replace("10,000", "15,000")),
    (BASE, BASE.replace("by 2030", "by 2028") + "\n\nA second paragraph."),
]


@pytest.mark.parametrize(("old", "new"), PAIRS)
def test_a_cached_diff_is_the_pure_diff(app, old, new) -> None:
    assert list(diffcache.diff(old, new)) == diffing.diff_words(old, new)


def test_a_diff_is_computed_once_per_pair_of_texts(app) -> None:
    first = diffcache.diff(BASE, BASE.replace("open", "reusable"))
    assert diffcache.diff(BASE, BASE.replace("open", "reusable")) is first
    assert diffcache.diff(BASE.replace("open", "reusable"), BASE) is not first


def test_rebase_matches_the_pure_function(app) -> None:
    # REFERENCE.md's "10,000" case: two edits of the same number never merge.
    a = BASE.replace("10,000", "15,000")
    b = BASE.replace("10,000", "20,000")
    c = BASE.replace("a named owner", "an accountable owner")
    assert diffcache.rebases_cleanly(BASE, a, b) is diffing.rebase(BASE, a, b).ok is False
    assert diffcache.rebases_cleanly(BASE, a, c) is diffing.rebase(BASE, a, c).ok is True


def test_the_diff_cache_holds_a_bounded_number_of_characters(app, monkeypatch) -> None:
    monkeypatch.setattr(diffcache, "DIFF_CHARACTERS_CACHED", 5_000)
    for n in range(20):  # twenty previews of long texts, each diff about 1,200 characters
        diffcache.diff("word " * 120, f"{n} " + "text " * 120)
    cache = app_cache("text_diff", 0)
    assert 0 < cache.weight <= 5_000
    assert len(cache) < 20


def test_a_cache_size_set_in_the_environment_bounds_the_cache(app) -> None:
    app.config["TEXT_FLAGS_CACHE_SIZE"] = "2"  # as WORKBENCH_TEXT_FLAGS_CACHE_SIZE=2 arrives
    for n in range(3):
        diffcache.rebases_cleanly(BASE, BASE.replace("2030", str(2031 + n)), BASE)
    assert len(app_cache("text_flags", 0)) == 2
