"""Proposals that change the vision's structure, not its words: to remove an element (issue 16).

A proposal of these kinds is opened here, and is otherwise a proposal like an edit: it is revised
(its rationale), withdrawn, voted on and discussed through `services.py`, and decided through
`facilitation/decisions.py`. What each kind checks is in its module (`remove.py`).
"""

from __future__ import annotations

from .. import permissions
from ..drafting.structure import removal_refusal
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..models import DraftEntry, Element, Proposal, ProposalRevision, ProposalStatus, User, Vision, db, record_event, utcnow
from ..notifications.following import follow
from ..visions.services import element_removal
from . import remove
from .services import current_entry


def entry_to_propose_on(vision: Vision, element: Element, author: User) -> DraftEntry:
    """The element's entry in the working draft, when `author` may propose on it now. Raises
    NotAllowed outside the consultation window (or for someone not signed in) and WrongState for
    an element removed from the working draft."""
    if not permissions.can_propose(author, vision) or element.vision_id != vision.id:
        raise NotAllowed("You can propose changes to this vision while its consultation is open, once signed in.")
    entry = current_entry(element)
    if entry is None:
        removal = element_removal(vision, element.key)
        raise WrongState(removal.refusal("proposals") if removal else "This element is not in the working draft.")
    return entry


def why_not_removable(vision: Vision, element: Element) -> str | None:
    """Why nobody may propose to remove `element` (the vision statement, the only ambition), in
    words, or None. Reads only."""
    entry = current_entry(element)
    return removal_refusal(vision, entry) if entry is not None else None


def propose_removal(vision: Vision, element: Element, author: User, rationale: str | None) -> Proposal:
    """Open a proposal to remove `element` (and everything under it) from the vision.

    Written against the element's current working text (its base), which it shows as a deletion.
    Raises NotAllowed / WrongState (see `entry_to_propose_on`), and ValidationError for the vision
    statement or the only ambition ("form"), or a missing, too long or disguised rationale.
    """
    entry = entry_to_propose_on(vision, element, author)
    refusal = removal_refusal(vision, entry)
    if refusal:
        raise ValidationError({"form": refusal})
    text = remove.checked_text(None, None, rationale, entry.text, against_current=True)
    now = utcnow()
    proposal = Proposal(
        vision_id=vision.id,
        element_id=element.id,
        kind=remove.NAME,
        author_id=author.id,
        base_text_id=entry.text_id,
        title="",
        body="",
        rationale=text.rationale,
        changed_ranges=remove.changed_ranges(entry.text, "", ""),
        status=ProposalStatus.OPEN.value,
        created_at=now,
        updated_at=now,
        revision_count=1,
    )
    db.session.add(proposal)
    db.session.flush()
    db.session.add(
        ProposalRevision(
            proposal_id=proposal.id, number=1, base_text_id=entry.text_id, title="", body="",
            rationale=text.rationale, created_at=now,
        )
    )
    record_event(
        "proposal.opened", "proposal", proposal.id, actor=author, vision_id=vision.id,
        element=element.key, base_text_id=entry.text_id, kind=remove.NAME,
    )
    follow(author, proposal)  # authors follow their own proposals (they may unfollow)
    db.session.flush()
    return proposal
