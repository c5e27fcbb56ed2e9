"""Volunteers for the next stage: offering to help refine a vision, changing or withdrawing the
offer, and the facilitators' invitations to a working group.

Services take plain values and the acting person, check the permission again (NotAllowed), raise
ValidationError with a message per field for what cannot be used, flush and never commit. An
invitation queues one mail per person in the outbox, in the transaction that records it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..models import User, Vision, db, record_event, utcnow
from ..outbox import queue
from ..validation import clean_text, fields_with_hidden_characters
from . import mails
from .models import VolunteerInterest, VolunteerInvitation, VolunteerInvitee

# How much time a volunteer can give: a few choices, in the words the form shows.
AVAILABILITY: dict[str, str] = {
    "hour-a-month": "About an hour a month",
    "hours-a-month": "A few hours a month",
    "days-a-month": "A day a month or more",
}
SKILLS_MAX = 1_000
SUBJECT_MAX = 150
MESSAGE_MAX = 5_000
# The people one invitation can go to: a working group, not a mailing list.
INVITED_AT_ONCE_MAX = 200
_SEND_KEY = re.compile(r"[A-Za-z0-9_-]{16,64}")


# --- offering to help -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """An offer as it will be saved: checked and normalised."""

    ambition_keys: list[str]
    skills: str
    availability: str


def check_offer(ambitions: Mapping[str, str], ambition_keys: Iterable[str], skills: str | None, availability: str | None) -> Offer:
    """The offer as it will be saved, or ValidationError with every problem at once. `ambitions`
    is {key: name} of the ambitions that can be chosen (the working draft's); none chosen means
    any of them."""
    errors: dict[str, str] = {}
    chosen = [str(key) for key in ambition_keys]
    if any(key not in ambitions for key in chosen):
        errors["ambitions"] = "Choose from the ambitions listed: the vision changed since you opened this page"
    text = clean_text(skills, multiline=True)
    if not text:
        errors["skills"] = "Tell us about the skills and experience you would bring, in a sentence or two"
    elif len(text) > SKILLS_MAX:
        errors["skills"] = f"Your skills and experience must be {SKILLS_MAX:,} characters or fewer (you wrote {len(text):,})"
    else:
        errors.update(fields_with_hidden_characters({"skills": text}, {"skills": "skills and experience"}))
    if availability not in AVAILABILITY:
        errors["availability"] = "Choose how much time you could give"
    if errors:
        raise ValidationError(errors)
    ordered = [key for key in ambitions if key in set(chosen)]  # the vision's order, each once
    return Offer(ordered, text, str(availability))


def interest_of(vision: Vision, person: Any) -> VolunteerInterest | None:
    """The person's offer for the vision (interested or withdrawn), or None."""
    if not permissions.is_member(person):
        return None
    return db.session.scalars(
        select(VolunteerInterest).where(VolunteerInterest.vision_id == vision.id, VolunteerInterest.user_id == person.id)
    ).one_or_none()


def offer_to_help(
    vision: Vision, person: User, *, ambitions: Mapping[str, str], ambition_keys: Iterable[str], skills: str | None,
    availability: str | None,
) -> tuple[VolunteerInterest, str]:
    """Save `person`'s offer to help refine `vision`: a new one, a change, or one made again after
    withdrawing it. Returns the interest and what happened: "new", "changed" or "renewed".
    Raises NotAllowed, ValidationError."""
    if not permissions.can_volunteer(person, vision):
        raise NotAllowed("Sign in to volunteer.")
    offer = check_offer(ambitions, ambition_keys, skills, availability)
    now = utcnow()
    interest = interest_of(vision, person)
    happened = "changed" if interest is not None and interest.state == "interested" else "renewed"
    if interest is None:
        try:
            # The same first offer sent twice at the same moment: the unique row lets one through.
            with db.session.begin_nested():
                interest = _offered(VolunteerInterest(vision_id=vision.id, user_id=person.id, created_at=now), offer, now)
                db.session.add(interest)
                db.session.flush()
            happened = "new"
        except IntegrityError:
            interest = interest_of(vision, person)
            assert interest is not None
            happened = "changed"
    _offered(interest, offer, now)
    db.session.flush()
    # Skills stay out of the audit trail: they are the person's words, for facilitators only.
    record_event(f"volunteer.{happened}", "volunteer_interest", interest.id, actor=person, vision_id=vision.id)
    return interest, happened


def _offered(interest: VolunteerInterest, offer: Offer, now: datetime) -> VolunteerInterest:
    interest.state = "interested"
    interest.ambition_keys = offer.ambition_keys
    interest.skills = offer.skills
    interest.availability = offer.availability
    interest.updated_at = now
    interest.withdrawn_at = None
    return interest


def withdraw_offer(vision: Vision, person: User) -> VolunteerInterest:
    """`person` withdraws their offer: a state, nothing is deleted, and they are left out of new
    invitations. Raises NotAllowed, WrongState (nothing to withdraw)."""
    if not permissions.can_volunteer(person, vision):
        raise NotAllowed("Sign in to change your offer to help.")
    interest = interest_of(vision, person)
    if interest is None or interest.state != "interested":
        raise WrongState("You have not offered to help with this vision, so there is nothing to withdraw.")
    now = utcnow()
    interest.state = "withdrawn"
    interest.withdrawn_at = now
    interest.updated_at = now
    db.session.flush()
    record_event("volunteer.withdrawn", "volunteer_interest", interest.id, actor=person, vision_id=vision.id)
    return interest


# --- inviting volunteers to a working group ------------------------------------------------------


@dataclass(frozen=True)
class Invited:
    invitation: VolunteerInvitation
    people: int  # mails queued now (0 when the invitation had been sent already)
    again: bool  # the same form was sent before: nothing was sent this time


def _whole_ids(values: Iterable[Any]) -> list[int] | None:
    ids = []
    for value in values:
        text = str(value)
        if not (text.isascii() and text.isdigit()) or len(text) > 18:
            return None
        ids.append(int(text))
    return sorted(set(ids))


def invite_volunteers(
    vision: Vision, *, interest_ids: Iterable[Any], subject: str | None, message: str | None, send_key: str | None,
    actor: User,
) -> Invited:
    """Email an invitation to a working group to the chosen volunteers of `vision` (one mail each,
    queued in this transaction), and record it with the people it went to. A second call with the
    same `send_key` (the same form sent twice) sends nothing and returns the first invitation.

    Raises NotAllowed (not a facilitator), ValidationError (no one chosen, someone who is not an
    interested volunteer of this vision, a missing or too long subject or message)."""
    if not permissions.can_see_volunteers(actor, vision):
        raise NotAllowed("Only facilitators can invite volunteers.")
    key = (send_key or "").strip()
    if not _SEND_KEY.fullmatch(key):
        raise ValidationError({"form": "This form was out of date. Open the list of volunteers again and send it from there"})
    sent = db.session.scalars(select(VolunteerInvitation).where(VolunteerInvitation.send_key == key)).one_or_none()
    if sent is not None:
        return Invited(sent, 0, True)

    errors: dict[str, str] = {}
    title = clean_text(subject, multiline=False)
    if not title:
        errors["subject"] = "Enter a subject for the email"
    elif len(title) > SUBJECT_MAX:
        errors["subject"] = f"The subject must be {SUBJECT_MAX} characters or fewer"
    body = clean_text(message, multiline=True)
    if not body:
        errors["message"] = "Enter the message: what the working group is, and how to join it"
    elif len(body) > MESSAGE_MAX:
        errors["message"] = f"The message must be {MESSAGE_MAX:,} characters or fewer (you wrote {len(body):,})"
    errors.update(
        fields_with_hidden_characters(
            {name: value for name, value in (("subject", title), ("message", body)) if name not in errors},
            {"subject": "subject", "message": "message"},
        )
    )
    ids = _whole_ids(interest_ids)
    chosen: list[tuple[VolunteerInterest, User]] = []
    if not ids:
        errors["interest_ids"] = "Choose at least one volunteer to invite"
    elif len(ids) > INVITED_AT_ONCE_MAX:
        errors["interest_ids"] = f"Choose at most {INVITED_AT_ONCE_MAX} volunteers for one invitation"
    else:
        chosen = [
            (interest, person)
            for interest, person in db.session.execute(
                select(VolunteerInterest, User)
                .join(User, User.id == VolunteerInterest.user_id)
                .where(VolunteerInterest.id.in_(ids), VolunteerInterest.vision_id == vision.id)
                .order_by(VolunteerInterest.id)
            ).tuples()
        ]
        gone = [person.display_name for interest, person in chosen if interest.state != "interested" or not person.is_active]
        if len(chosen) != len(ids) or gone:
            who = f" ({', '.join(gone)})" if gone else ""
            errors["interest_ids"] = (
                f"Some of the people you chose have withdrawn their offer or closed their account since you opened "
                f"the list{who}. Choose again from the volunteers shown now"
            )
    if errors:
        raise ValidationError(errors)

    invitation = VolunteerInvitation(
        vision_id=vision.id, sent_by_id=actor.id, send_key=key, subject=title, message=body, created_at=utcnow()
    )
    try:
        # The same form sent twice at the same moment: the unique send_key lets one through.
        with db.session.begin_nested():
            db.session.add(invitation)
            db.session.flush()
    except IntegrityError:
        first = db.session.scalars(select(VolunteerInvitation).where(VolunteerInvitation.send_key == key)).one()
        return Invited(first, 0, True)
    for interest, person in chosen:
        db.session.add(VolunteerInvitee(invitation_id=invitation.id, interest_id=interest.id))
        queue(mails.invitation_mail(vision, person, invitation), user_id=person.id)
    db.session.flush()
    record_event(
        "volunteers.invited", "volunteer_invitation", invitation.id, actor=actor, vision_id=vision.id, people=len(chosen)
    )
    return Invited(invitation, len(chosen), False)
