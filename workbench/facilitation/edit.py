"""Accepting an edit proposal (`proposals/edit.py`): what the accept page plans, and what accepting
writes into the working draft. `decisions.py` finds this module by the proposal's kind.

Who an accepted text is credited to (ElementText.created_by): the proposal's author when the
facilitator accepted the proposal as it was written, or its strict rebase onto the current text
unchanged; the facilitator when they changed the text (then the proposal is "accepted with
changes").

What the facilitator changed themselves is measured from the proposal *carried over* to the
working text they accepted it into (`Applied.carried_over`), never from the proposal as written:
otherwise the changes that other accepted proposals and edits made meanwhile would be counted as
the facilitator's. When the proposal rebases cleanly, the carried-over text is that rebase; when it
conflicts, it is the working text with those of the proposal's changes that carry over on their
own (`carry_over_what_applies`), and the conflicting ones are named (`Applied.not_carried_over`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from .. import diffing
from ..exceptions import DraftMoved, ValidationError, WrongState
from ..models import DraftEntry, ElementText, Proposal, User, db
from ..proposals.rebase import Texts, draft_entry, rebase_onto, texts_by_id
from ..text_diff import TextDiff
from .kept_flags import keep_flags_after_text_moved

REMOVED = (
    "This element has been removed from the working draft, so the proposal cannot be accepted. "
    "Reject it with a reason instead."
)
SAME_AS_CURRENT = (
    "This text is the same as the current working text, so accepting it would change nothing. "
    "Change the text, or reject the proposal with a reason"
)


@dataclass
class AcceptPlan:
    """What the accept page shows and which text its form starts from.

    `mode`:
    - "as_proposed": the working text is still the proposal's base: accept it, or edit it first.
    - "rebased": the working text moved on; the change rebased strictly onto it applies cleanly and
      is shown to confirm (nothing merges without a person seeing it).
    - "conflict": the change cannot be carried over: the change and what changed meanwhile are
      shown side by side, and the result starts as the current text, for the facilitator to edit.
    - "removed": the element is no longer in the working draft: nothing can be accepted.

    `reason` says why the page is shown again after a POST: "moved" (the working text changed while
    the page was open), "revised" (the author revised the proposal meanwhile), or None.
    """

    template: ClassVar[str] = "facilitation/accept.html"

    mode: str
    reason: str | None
    base: ElementText
    current: ElementText | None
    # The change being accepted: from `change_from` (the text it was prepared against) to `change_to`.
    change_from: Texts
    change_to: Texts
    result: Texts | None
    expected_text_id: int | None
    revision: int
    conflicts: list[diffing.Conflict] = field(default_factory=list)

    @property
    def stale(self) -> bool:
        return self.current is None or self.current.id != self.base.id

    @property
    def already_in_text(self) -> bool:
        """The change carried over is already the current text: accepting would change nothing."""
        return (
            self.mode == "rebased"
            and self.current is not None
            and self.result == Texts(self.current.title, self.current.body)
        )

    @property
    def change_diff(self) -> TextDiff:
        """The change being accepted (base -> proposal, or the facilitator's prepared text)."""
        return TextDiff.between(self.change_from.title, self.change_from.body, self.change_to.title, self.change_to.body)

    @property
    def meanwhile_diff(self) -> TextDiff | None:
        """What changed in the working text since the change was prepared."""
        if self.current is None:
            return None
        return TextDiff.between(self.change_from.title, self.change_from.body, self.current.title, self.current.body)

    @property
    def result_diff(self) -> TextDiff | None:
        """The rebased result against the current text (what accepting would change now)."""
        if self.current is None or self.result is None:
            return None
        return TextDiff.between(self.current.title, self.current.body, self.result.title, self.result.body)


@dataclass(frozen=True)
class Applied:
    """What accepting wrote: the new working text, whether it differs from the proposal as
    written (or its clean rebase), and the working text it replaced.

    `mode` is the accept page's mode the text was accepted in ("as_proposed", "rebased",
    "conflict"); `carried_over` is the proposal carried over to the replaced working text (as
    much of it as applies strictly), the text the facilitator's own changes are measured from;
    `not_carried_over` describes, in words, the proposal's changes that did not carry over."""

    text: ElementText
    with_changes: bool
    previous_text_id: int
    mode: str = "as_proposed"
    carried_over: Texts | None = None
    not_carried_over: tuple[str, ...] = ()


# A conflicted proposal's changes are tried one by one (one strict rebase each) to carry over those
# that apply; past this many changes the carried-over text is the working text as it was, so that an
# accept's work stays bounded.
MOST_CHANGES_TRIED = 30


def carry_over_what_applies(base: str, proposed: str, current: str) -> str:
    """`current` with those of the changes `base` -> `proposed` that carry over strictly on their
    own (`diffing.rebase`), the others left out. Pure; never guesses text.

    Promises: the full rebase when it is clean; otherwise each change (a run of deletions and
    insertions between kept words of the word diff) is rebased alone, and those that apply are
    rebased together; when they do not apply together, or the proposal has more than
    MOST_CHANGES_TRIED changes, or none applies, `current` unchanged.
    """
    whole = diffing.rebase(base, proposed, current)
    if whole.ok:
        return whole.text or ""
    changes = diffing.diff_words(base, proposed)
    hunk_of: list[int | None] = []  # for each change, the number of the run it belongs to
    hunks = 0
    for i, change in enumerate(changes):
        if change.op == "equal":
            hunk_of.append(None)
        else:
            if i == 0 or changes[i - 1].op == "equal":
                hunks += 1
            hunk_of.append(hunks - 1)
    if hunks > MOST_CHANGES_TRIED:
        return current

    def with_only(chosen: set[int]) -> str:
        kept = []
        for change, hunk in zip(changes, hunk_of):
            if hunk is None or (change.op == "delete") != (hunk in chosen):
                kept.append(change.text)
        return "".join(kept)

    applying = {h for h in range(hunks) if diffing.rebase(base, with_only({h}), current).ok}
    if not applying:
        return current
    together = diffing.rebase(base, with_only(applying), current)
    return (together.text or "") if together.ok else current


def plan(
    proposal: Proposal,
    *,
    prepared_from_id: int | None = None,
    submitted: tuple[str, str] | None = None,
    reason: str | None = None,
) -> AcceptPlan:
    """Work out what the accept page shows for the proposal against the current working text.

    By default the change is the proposal's (its base -> its text). After a POST that found the
    draft moved, `prepared_from_id` (the working text the form was prepared against) and
    `submitted` (the title and body the facilitator sent) make the change the facilitator's own,
    so their edits are carried over too; an id that is not a text of this element is ignored.
    Reads only (two queries); never writes.
    """
    return _plan(proposal, draft_entry(proposal.element_id), prepared_from_id, submitted, reason)


def _plan(
    proposal: Proposal,
    entry: DraftEntry | None,
    prepared_from_id: int | None = None,
    submitted: tuple[str, str] | None = None,
    reason: str | None = None,
) -> AcceptPlan:
    wanted = {proposal.base_text_id}
    if entry is not None:
        wanted.add(entry.text_id)
    if prepared_from_id is not None:
        wanted.add(prepared_from_id)
    texts = texts_by_id(wanted)
    base = texts[proposal.base_text_id]
    current = texts.get(entry.text_id) if entry is not None and not entry.is_removed else None
    prepared = texts.get(prepared_from_id) if prepared_from_id is not None else None
    if prepared is not None and prepared.element_id == proposal.element_id and submitted is not None:
        change_from, change_to = Texts(prepared.title, prepared.body), Texts(*submitted)
        from_id = prepared.id
    else:
        change_from, change_to = Texts(base.title, base.body), Texts(proposal.title, proposal.body)
        from_id = base.id

    planned = AcceptPlan(
        mode="as_proposed",
        reason=reason,
        base=base,
        current=current,
        change_from=change_from,
        change_to=change_to,
        result=None,
        expected_text_id=current.id if current is not None else None,
        revision=proposal.revision_count,
    )
    if current is None:
        planned.mode = "removed"
    elif current.id == from_id:
        planned.result = change_to
        planned.mode = "as_proposed" if from_id == base.id else "rebased"
    else:
        rebased = rebase_onto(change_from, change_to, current)
        if rebased.text is not None:
            planned.mode, planned.result = "rebased", rebased.text
        else:
            planned.mode, planned.result = "conflict", Texts(current.title, current.body)
            planned.conflicts = list(rebased.conflicts)
    return planned


def apply(proposal: Proposal, facilitator: User, text: Texts, expected_text_id: int | None, now: datetime) -> Applied:
    """Make `text` (already cleaned) the element's working text, if that is still `expected_text_id`.

    Checked under a row lock on PostgreSQL, and by the draft entry's lock version everywhere: a new
    ElementText, the draft entry moved to it. Raises WrongState (the element was removed from the
    draft), DraftMoved("moved") (the working text is not the one the page was prepared against),
    ValidationError (the text is the current text: nothing would change), StaleDataError (the
    entry changed under the write).
    """
    entry = draft_entry(proposal.element_id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState(REMOVED)
    if expected_text_id != entry.text_id:
        raise DraftMoved("moved")
    # The one plan of this accept: the text as the author wrote it, carried over to the current text.
    planned = _plan(proposal, entry)
    current = planned.current
    if current is None:
        raise WrongState(REMOVED)
    if text == Texts(current.title, current.body):
        raise ValidationError({"body": SAME_AS_CURRENT})
    with_changes = planned.mode == "conflict" or text != planned.result
    carried_over, not_carried_over = planned.result, ()
    if planned.mode == "conflict":
        base = planned.base
        carried_over = Texts(
            carry_over_what_applies(base.title, proposal.title, current.title),
            carry_over_what_applies(base.body, proposal.body, current.body),
        )
        not_carried_over = tuple(conflict.description for conflict in planned.conflicts)
    new = ElementText(
        element_id=proposal.element_id,
        title=text.title,
        body=text.body,
        created_at=now,
        created_by_id=facilitator.id if with_changes else proposal.author_id,
    )
    db.session.add(new)
    db.session.flush()
    previous_text_id = entry.text_id
    entry.text_id = new.id
    db.session.flush()  # UPDATE ... WHERE lock_version = n: StaleDataError if it moved
    keep_flags_after_text_moved(entry)  # its open proposals' rebase onto the new text
    return Applied(new, with_changes, previous_text_id, planned.mode, carried_over, not_carried_over)
