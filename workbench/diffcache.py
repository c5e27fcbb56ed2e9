"""Word diffs and what follows from them, computed once per process for each set of texts.

`diffing` is pure, so a result depends on the texts alone. Pages ask for the same diffs again and
again (the queue checks whether each stale proposal still rebases cleanly on every visit; a
comparison of versions diffs the same pairs of texts as its neighbours), so the results are kept
in the app's caches, keyed by a digest of the texts (never by ids, which mean other texts in
another database). The diff cache is bounded by count and by the characters
it holds, so previews of long texts cannot crowd out memory.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

from . import diffing
from .caching import app_cache

DIFFS_CACHED = 4096
DIFF_CHARACTERS_CACHED = 3 * 1024 * 1024
FLAGS_CACHED = 8192


def _key(kind: str, *texts: str) -> bytes:
    digest = hashlib.blake2b(kind.encode(), digest_size=16)
    for text in texts:
        encoded = text.encode("utf-8", "surrogatepass")
        digest.update(len(encoded).to_bytes(8, "big"))
        digest.update(encoded)
    return digest.digest()


def _characters(changes: tuple[diffing.Change, ...]) -> int:
    return sum(len(change.text) for change in changes)


def diff(old: str, new: str) -> tuple[diffing.Change, ...]:
    """`diffing.diff_words(old, new)`, computed once per process for each pair of texts.

    A pair whose diff ran out of its budget (a replaced block, `diffing.is_rewritten`) is also
    remembered in the small cache of flags: when its diff has been pushed out of the bounded diff
    cache (long rewritten texts fill it fast), it comes back as `diffing.replaced_block`, the same
    result without spending the budget again."""
    if old == new:
        return (diffing.Change("equal", old),) if old else ()
    cache = app_cache("text_diff", DIFFS_CACHED, max_weight=DIFF_CHARACTERS_CACHED, weigh=_characters)
    return cache.get_or_compute(_key("diff", old, new), lambda: _word_diff(old, new))


def _word_diff(old: str, new: str) -> tuple[diffing.Change, ...]:
    flags = app_cache("text_flags", FLAGS_CACHED)
    key = _key("rewritten", old, new)
    if flags.get(key):
        return tuple(diffing.replaced_block(old, new))
    changes = tuple(diffing.diff_words(old, new))
    if diffing.is_rewritten(changes):
        flags.put(key, True)
    return changes


def _small(kind: str, texts: tuple[str, ...], compute: Callable[[], Any]) -> Any:
    """A small result (a flag, a few ranges) kept per set of texts."""
    return app_cache("text_flags", FLAGS_CACHED).get_or_compute(_key(kind, *texts), compute)


def rebases_cleanly(base: str, proposed: str, current: str) -> bool:
    """Whether `diffing.rebase(base, proposed, current)` finds no conflict (one field; the title
    and body of a proposal are asked through `proposals.rebase.rebases_cleanly`)."""
    return _small("rebase", (base, proposed, current), lambda: diffing.rebase(base, proposed, current).ok)
