"""A proposal against the element's working text as it is now: the one rebase, and staleness.

`rebase_onto` is the only place a proposal's change (base -> proposed) is carried over to the
current text, strictly (`diffing.rebase`: text is never guessed), title and body together. The
facilitators' accept page, the accept itself, the author's one-click update, the proposal page and
the queue all use it; lists that ask the same question of many proposals on every visit use its
cached yes/no, `rebases_cleanly`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from sqlalchemy import select

from .. import diffcache, diffing
from ..models import DraftEntry, ElementText, Proposal, db
from ..text_diff import TextDiff


class HasText(Protocol):
    """Anything with a title and a body: an ElementText, a Proposal, `Texts`."""

    title: str
    body: str


@dataclass(frozen=True)
class Texts:
    """A title and a body (an element's text, or a proposal's)."""

    title: str
    body: str


@dataclass(frozen=True)
class Rebased:
    """The outcome of `rebase_onto`: when `ok`, the current text with exactly the proposal's
    changes made (`title`, `body`); otherwise None for both and the hunks that could not be
    carried over, in `conflicts` (title's first)."""

    title: str | None
    body: str | None
    conflicts: tuple[diffing.Conflict, ...] = ()

    @property
    def ok(self) -> bool:
        return self.title is not None and self.body is not None

    @property
    def text(self) -> Texts | None:
        return Texts(self.title, self.body) if self.title is not None and self.body is not None else None


def rebase_onto(base: HasText, proposed: HasText, current: HasText) -> Rebased:
    """Carry the change `base` -> `proposed` over to `current`, title and body (see
    `diffing.rebase`); clean only when both carry over."""
    title = diffing.rebase(base.title, proposed.title, current.title)
    body = diffing.rebase(base.body, proposed.body, current.body)
    if title.ok and body.ok:
        return Rebased(title.text or "", body.text or "")
    return Rebased(None, None, (*title.conflicts, *body.conflicts))


def rebases_cleanly(base: HasText, proposed: HasText, current: HasText) -> bool:
    """Whether `rebase_onto(base, proposed, current).ok`, kept per set of texts (`diffcache`)."""
    return diffcache.rebases_cleanly(base.title, proposed.title, current.title) and diffcache.rebases_cleanly(
        base.body, proposed.body, current.body
    )


# --- reading the working text ---------------------------------------------------------------------


def draft_entry(element_id: int, *, lock: bool = False) -> DraftEntry | None:
    """The element's draft entry (also when removed); `lock` takes a row lock on PostgreSQL and
    reloads the row. (On SQLite a write request already holds the database's write lock.)"""
    query = select(DraftEntry).where(DraftEntry.element_id == element_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return db.session.scalar(query)


def texts_by_id(ids: set[int]) -> dict[int, ElementText]:
    """The element texts with these ids, in one query."""
    if not ids:
        return {}
    return {t.id: t for t in db.session.scalars(select(ElementText).where(ElementText.id.in_(ids)))}


# --- staleness ------------------------------------------------------------------------------------


@dataclass
class Staleness:
    """How an open proposal stands against the element's current working text."""

    stale: bool
    current_title: str = ""
    current_body: str = ""
    current_text_id: int | None = None
    removed: bool = False
    # When stale: the rebase of the proposal onto the current text.
    clean: bool = True
    rebased_title: str | None = None
    rebased_body: str | None = None
    diff: TextDiff | None = None
    conflicts: list[diffing.Conflict] = field(default_factory=list)


def staleness(proposal: Proposal, base: ElementText, current: Mapping[str, Any] | None) -> Staleness:
    """Whether the element's working text moved past the proposal's base, and the rebase if so.

    `current` is the element's row of the working tree (None once removed from the draft). A
    clean rebase gives the diff current -> rebased; otherwise the conflicting hunks, in words.
    """
    if current is None:
        return Staleness(stale=True, removed=True, clean=False)
    return _against(proposal, base, current["text_id"], Texts(current["title"], current["body"]))


def staleness_now(proposal: Proposal) -> Staleness:
    """`staleness` against the working text read here: one query, two when stale."""
    entry = draft_entry(proposal.element_id)
    if entry is None or entry.is_removed:
        return Staleness(stale=True, removed=True, clean=False)
    if entry.text_id == proposal.base_text_id:
        return Staleness(stale=False, current_text_id=entry.text_id)
    texts = texts_by_id({entry.text_id, proposal.base_text_id})
    return _against(proposal, texts[proposal.base_text_id], entry.text_id, texts[entry.text_id])


def _against(proposal: Proposal, base: ElementText, current_id: int, current: HasText) -> Staleness:
    state = Staleness(
        stale=current_id != base.id,
        current_title=current.title,
        current_body=current.body,
        current_text_id=current_id,
    )
    if not state.stale:
        return state
    rebased = rebase_onto(base, proposal, current)
    if rebased.title is not None and rebased.body is not None:
        state.rebased_title, state.rebased_body = rebased.title, rebased.body
        state.diff = TextDiff.between(current.title, current.body, rebased.title, rebased.body)
    else:
        state.clean = False
        state.conflicts = list(rebased.conflicts)
    return state
