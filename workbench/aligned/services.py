"""Aligned work: the state changes of an initiative, from submitting to screening.

Screening before anything is public
-----------------------------------
An initiative's *approved* wording lives in the plain columns of `AlignedWork` and in its
`AlignedWorkElement` rows; only that wording is ever public. What the submitter sent and a
facilitator has not yet approved lives in the JSON column `pending` (its shape: `wording.py`); where
that leaves the initiative, in the submitter's words, is `screening.screening_state`. A rejected
wording is kept in `pending` so that its submitter can correct it and send it again.

Contact details never leave the aligned work in anything public: the register, its exports
(`register.py`) and the audit events are built from explicit column lists that leave `contact` out.

Services take plain values and the acting user, flush but never commit, raise `ValidationError`
(per-field messages) for bad input and `NotAllowed` (with the words the person sees) when the user
may not act. The other modules: `wording.py` (what an initiative says, and its checks),
`screening.py` (where each stands, the queue, the panels), `register.py` (the public register).
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select

from .. import permissions
from ..exceptions import NotAllowed, ValidationError
from ..models import AlignedWork, AlignedWorkElement, User, Vision, db, record_event, utcnow
from .screening import approved_element_ids, approved_wording, is_waiting
from .wording import REASON_MAX, Wording, check_wording, checked_text


# --- who may act ------------------------------------------------------------------------------------


def ensure_may_change(work: AlignedWork, user: Any) -> None:
    """Raise NotAllowed unless `user` submitted the initiative (only they change it)."""
    if not permissions.can_edit_aligned_work(user, work):
        raise NotAllowed("Only the person who submitted an initiative can change it.")


def ensure_may_screen(user: Any) -> None:
    """Raise NotAllowed unless `user` is a facilitator."""
    if not permissions.can_screen_aligned_work(user):
        raise NotAllowed("Only facilitators screen aligned work.")


def ensure_may_decide(work: AlignedWork, user: Any) -> None:
    """Raise NotAllowed unless `user` may approve or reject the initiative: a facilitator who did
    not submit it."""
    ensure_may_screen(user)
    if not permissions.can_decide_aligned_work(user, work):
        raise NotAllowed("You submitted this initiative, so another facilitator screens it.")


# --- state changes ----------------------------------------------------------------------------------


def submit_aligned_work(vision: Vision, submitter: User, **fields: Any) -> AlignedWork:
    """Record a new initiative, waiting for screening. Nothing of it is public until approved.

    `fields` are the wording fields (organisation, title, description, status, link, contact,
    element_ids); anything else is refused by Python. Raises NotAllowed, ValidationError.
    """
    if not permissions.can_submit_aligned_work(submitter):
        raise NotAllowed("Sign in to record aligned work.")
    wording = check_wording(vision, **fields)
    now = utcnow()
    work = AlignedWork(
        vision_id=vision.id,
        submitter_id=submitter.id,
        created_at=now,
        updated_at=now,
        state="pending",
        screening_reason="",
        pending=wording.as_pending(now),
    )
    db.session.add(work)
    db.session.flush()
    record_event("aligned_work.submitted", "aligned_work", work.id, actor=submitter, vision_id=vision.id)
    return work


def change_aligned_work(work: AlignedWork, submitter: User, **fields: Any) -> str:
    """The submitter changes their initiative; the new wording goes back to screening.

    The approved wording stays public meanwhile. Returns what happened: "waiting" (sent for
    screening) or "restored" (they went back to the published wording, so nothing waits).
    Raises NotAllowed, ValidationError (also when nothing changed).
    """
    ensure_may_change(work, submitter)
    vision = db.session.get(Vision, work.vision_id)
    wording = check_wording(vision, **fields)
    published = approved_wording(work)
    if published is not None and wording == published:
        if work.pending is None:
            raise ValidationError({"form": "You have not changed anything"})
        work.pending = None
        work.screening_reason = ""
        work.updated_at = utcnow()
        record_event("aligned_work.changes_withdrawn", "aligned_work", work.id, actor=submitter, vision_id=work.vision_id)
        db.session.flush()
        return "restored"
    if work.pending is not None and is_waiting(work) and Wording.from_pending(work.pending) == wording:
        raise ValidationError({"form": "You have not changed anything"})
    now = utcnow()
    work.pending = wording.as_pending(now)
    work.screening_reason = ""
    work.updated_at = now
    if work.state == "rejected":
        work.state = "pending"
    record_event("aligned_work.changed", "aligned_work", work.id, actor=submitter, vision_id=work.vision_id)
    db.session.flush()
    return "waiting"


def _check_decision(work: AlignedWork, facilitator: User, expected_submitted_at: str | None) -> dict[str, Any]:
    """The waiting wording (as stored) that `facilitator` may decide on now."""
    ensure_may_decide(work, facilitator)
    if not is_waiting(work):
        raise ValidationError({"form": "This initiative has already been screened: nothing is waiting for a decision"})
    pending = dict(work.pending)
    if expected_submitted_at is not None and expected_submitted_at != pending.get("submitted_at"):
        raise ValidationError(
            {"form": "The wording changed after you opened this page. Read the wording shown now, then decide"}
        )
    return pending


def approve_aligned_work(work: AlignedWork, facilitator: User, *, expected_submitted_at: str | None) -> AlignedWork:
    """Publish the waiting wording: it replaces the approved wording and its elements.

    `expected_submitted_at` is the `submitted_at` of the wording the facilitator read (None skips
    the check). Raises NotAllowed (not a facilitator, or their own initiative) and ValidationError
    (nothing waiting, or the wording changed meanwhile).
    """
    pending = _check_decision(work, facilitator, expected_submitted_at)
    wording = Wording.from_pending(pending)
    first = work.state != "approved"
    previous_ids = [] if first else approved_element_ids(work)
    now = utcnow()
    work.organisation = wording.organisation
    work.title = wording.title
    work.description = wording.description
    work.status = wording.status
    work.link = wording.link
    work.contact = wording.contact
    work.state = "approved"
    work.approved_at = now
    work.pending = None
    work.screening_reason = ""
    db.session.execute(delete(AlignedWorkElement).where(AlignedWorkElement.aligned_work_id == work.id))
    db.session.add_all(AlignedWorkElement(aligned_work_id=work.id, element_id=i) for i in wording.element_ids)
    # The audit trail is public in spirit: it never holds the contact.
    record_event(
        "aligned_work.approved",
        "aligned_work",
        work.id,
        actor=facilitator,
        vision_id=work.vision_id,
        first_approval=first,
        submitted_at=pending.get("submitted_at"),
        element_ids=list(wording.element_ids),
        previous_element_ids=previous_ids,
    )
    db.session.flush()
    return work


def reject_aligned_work(
    work: AlignedWork, facilitator: User, *, reason: Any, expected_submitted_at: str | None
) -> AlignedWork:
    """Refuse the waiting wording with a reason its submitter sees; an approved wording stays public.

    Raises NotAllowed, ValidationError (no reason, nothing waiting, or the wording changed meanwhile).
    """
    errors: dict[str, str] = {}
    text = checked_text(reason, "reason", "Reason", errors, multiline=True, required=True, limit=REASON_MAX)
    if errors:
        if "Enter the reason" in errors.get("reason", ""):
            errors["reason"] = "Enter the reason for not publishing it: the submitter will see it"
        raise ValidationError(errors)
    pending = _check_decision(work, facilitator, expected_submitted_at)
    changes = work.state == "approved"
    if not changes:
        work.state = "rejected"
    work.screening_reason = text
    record_event(
        "aligned_work.rejected",
        "aligned_work",
        work.id,
        actor=facilitator,
        vision_id=work.vision_id,
        reason=text,
        changes_to_published=changes,
        submitted_at=pending.get("submitted_at"),
    )
    db.session.flush()
    return work


def forget_contacts_of(user: User) -> None:
    """Remove the contact details from everything the person submitted (their account is being
    deleted: the initiatives stay, the way to reach them goes). Flushes."""
    works = db.session.scalars(select(AlignedWork).where(AlignedWork.submitter_id == user.id)).all()
    for work in works:
        work.contact = ""
        if work.pending and work.pending.get("contact"):
            work.pending = {**work.pending, "contact": ""}
    db.session.flush()
