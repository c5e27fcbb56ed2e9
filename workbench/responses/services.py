"""Responding to a consultation: saving each step's answers into the person's draft, and submitting
it, which turns each answer into what already exists — a reflection (`post_reflection`), an
aligned-work record waiting for screening (`submit_aligned_work`), an offer to help
(`offer_to_help`) — in one transaction, with a reference number and an emailed copy in the outbox.

Each step's answers are checked by the same functions the other pages use (so one rule has one
home) and saved as checked. Services take plain values and the acting person, check the permission
again, raise ValidationError with a message per field, `ResponsesClosed` once the consultation window
has closed (nothing is saved, nothing is lost), flush and never commit.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..accounts.about_you import has_answered, save_about_you
from ..aligned.services import submit_aligned_work
from ..aligned.wording import VisionElements, check_wording, vision_elements
from ..discussion.services import clean_body, post_reflection
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..involvement.pages import ambition_names, deadline_in_words
from ..involvement.services import check_offer, offer_to_help
from ..models import DraftEntry, Element, ElementText, User, Vision, db, record_event, utcnow
from ..outbox import queue
from .mails import copy_mail
from .models import ConsultationResponse
from .steps import STEPS, steps_of

ALIGNED_FIELDS = ("organisation", "title", "description", "status", "link", "contact")
EMPTY_RESPONSE = (
    "Your response is empty. Answer at least one question — a reflection, your organisation's work, or an offer "
    "to help — before you send it"
)
# References: no 0/O, 1/I/L or U, so that one read aloud or copied by hand is not mistaken.
_REFERENCE_LETTERS = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


class ResponsesClosed(WrongState):
    """The consultation window is not open: no step takes answers and nothing is submitted. The
    draft stays as it was."""


# --- who may respond ------------------------------------------------------------------------------


def can_respond(person: Any, vision: Vision) -> bool:
    """Signed in, while the consultation window is open (the rule of reflections)."""
    return permissions.can_reflect(person, vision)


def _ensure_may_respond(person: Any, vision: Vision) -> None:
    if not permissions.is_member(person):
        raise NotAllowed("Sign in to respond to the consultation.")
    if not can_respond(person, vision):
        raise ResponsesClosed(closed_message(vision))


def closed_message(vision: Vision) -> str:
    """Why responses are not accepted now, and since or until when ("The consultation closed on …,
    so responses are no longer accepted. …")."""
    return deadline_in_words(vision)


# --- reading drafts -------------------------------------------------------------------------------


def draft_of(vision: Vision, person: User, *, for_update: bool = False) -> ConsultationResponse | None:
    """The person's response in progress to `vision`, or None."""
    query = select(ConsultationResponse).where(
        ConsultationResponse.vision_id == vision.id,
        ConsultationResponse.user_id == person.id,
        ConsultationResponse.state == "in_progress",
    )
    if for_update:
        query = query.with_for_update()
    return db.session.scalars(query).one_or_none()


def latest_submitted(vision: Vision, person: User) -> ConsultationResponse | None:
    """The person's most recent submitted response to `vision`, or None."""
    return db.session.scalars(
        select(ConsultationResponse)
        .where(
            ConsultationResponse.vision_id == vision.id,
            ConsultationResponse.user_id == person.id,
            ConsultationResponse.state == "submitted",
        )
        .order_by(ConsultationResponse.submitted_at.desc(), ConsultationResponse.id.desc())
        .limit(1)
    ).one_or_none()


def submitted_by_reference(reference: str, person: User) -> ConsultationResponse | None:
    """The person's own submitted response with this reference number, or None."""
    return db.session.scalars(
        select(ConsultationResponse).where(
            ConsultationResponse.reference == reference.strip().upper(),
            ConsultationResponse.user_id == person.id,
        )
    ).one_or_none()


def already_submitted(vision: Vision, person: User, response_id: Any) -> ConsultationResponse | None:
    """The submitted response a form names by `response_id` (a page from before it was sent, coming
    back by the browser's Back button), when it is the person's; else None."""
    text = str(response_id or "")
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    # Read afresh: after waiting for the draft's lock, the other click's submission is what counts.
    response = db.session.get(ConsultationResponse, int(text), populate_existing=True)
    if response is None or response.user_id != person.id or response.vision_id != vision.id:
        return None
    return response if response.state == "submitted" else None


def is_empty(answers: Mapping[str, Any]) -> bool:
    return not any(answers.get(part) for part in ("vision", "ambitions", "aligned_work", "help"))


# --- the elements a response speaks of ------------------------------------------------------------


def statement_of(vision: Vision) -> tuple[Element, str] | None:
    """The vision statement (in the working draft) and its current text, or None."""
    row = db.session.execute(
        select(Element, ElementText.body)
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .where(Element.vision_id == vision.id, Element.kind == "statement", DraftEntry.is_removed.is_(False))
        .order_by(DraftEntry.position, Element.id)
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def ambition_field(key: str) -> str:
    """The form field of the reflection on an ambition: "ambition-3" → "ambition_3"."""
    return key.replace("-", "_")


# --- checking each step's answers -----------------------------------------------------------------


def _reflection(text: Any, field: str) -> str:
    """A reflection as saved ("" when left empty), or ValidationError on `field`."""
    raw = text if isinstance(text, str) else ""
    if not raw.strip():
        return ""
    return clean_body(raw, field=field, what="reflection")


def check_vision_answers(body: Any) -> dict[str, Any]:
    return {"vision": _reflection(body, "body")}


def check_ambition_answers(ambitions: Mapping[str, str], texts: Mapping[str, Any]) -> dict[str, Any]:
    """{"ambitions": {key: text}} of the ambitions answered; `texts` by form field name."""
    answered: dict[str, str] = {}
    errors: dict[str, list[str]] = {}
    for key in ambitions:
        field = ambition_field(key)
        try:
            text = _reflection(texts.get(field), field)
        except ValidationError as error:
            errors.update(error.errors)
            continue
        if text:
            answered[key] = text
    if errors:
        raise ValidationError(errors)
    return {"ambitions": answered}


def check_aligned_answers(vision: Vision, fields: Mapping[str, Any], elements: VisionElements) -> dict[str, Any]:
    """{"aligned_work": wording or None}: all or nothing, with the aligned-work form's own checks."""
    empty = not any(str(fields.get(name) or "").strip() for name in ALIGNED_FIELDS) and not fields.get("element_ids")
    if empty:
        return {"aligned_work": None}
    wording = check_wording(
        vision, **{name: fields.get(name) for name in ALIGNED_FIELDS}, element_ids=fields.get("element_ids") or [],
        elements=elements,
    )
    pending = wording.as_pending(utcnow())
    del pending["submitted_at"]
    return {"aligned_work": pending}


def check_help_answers(ambitions: Mapping[str, str], ambition_keys: list[str], skills: Any, availability: Any) -> dict[str, Any]:
    """{"help": offer or None}: all or nothing, with the volunteer form's own checks."""
    if not ambition_keys and not str(skills or "").strip() and not availability:
        return {"help": None}
    offer = check_offer(ambitions, ambition_keys, skills, availability)
    return {"help": {"ambition_keys": offer.ambition_keys, "skills": offer.skills, "availability": offer.availability}}


# --- saving a step --------------------------------------------------------------------------------


def _draft_for_saving(vision: Vision, person: User) -> ConsultationResponse:
    """The person's draft, made now if they have none (the same first step sent twice at once makes one)."""
    draft = draft_of(vision, person, for_update=True)
    if draft is not None:
        return draft
    now = utcnow()
    draft = ConsultationResponse(
        vision_id=vision.id, user_id=person.id, state="in_progress", asks_about_you=not has_answered(person),
        answers={}, last_step="", created_at=now, updated_at=now,
    )
    try:
        with db.session.begin_nested():
            db.session.add(draft)
            db.session.flush()
    except IntegrityError:
        found = draft_of(vision, person, for_update=True)
        assert found is not None
        return found
    record_event("response.started", "consultation_response", draft.id, actor=person, vision_id=vision.id)
    return draft


def save_step(vision: Vision, person: User, step: str, values: Mapping[str, Any]) -> ConsultationResponse:
    """Save the answers of one step into the person's draft (made if needed); "About you" is saved to
    their account. Returns the draft. Raises NotAllowed, ResponsesClosed (nothing saved),
    ValidationError (messages by the form's field names; nothing saved)."""
    if step not in STEPS:
        raise ValidationError({"form": "There is no such question in the response"})
    _ensure_may_respond(person, vision)
    draft = _draft_for_saving(vision, person)
    if step == "about-you":
        save_about_you(person, values.get("responding_as"), values.get("organisation"), values.get("publish_as"))
        answers: dict[str, Any] = {}
    elif step == "vision":
        answers = check_vision_answers(values.get("body"))
    elif step == "ambitions":
        answers = check_ambition_answers(ambition_names(vision_elements(vision)), values)
    elif step == "aligned-work":
        answers = check_aligned_answers(vision, values, vision_elements(vision))
    else:
        answers = check_help_answers(
            ambition_names(vision_elements(vision)), list(values.get("ambitions") or []), values.get("skills"),
            values.get("availability"),
        )
    draft.answers = {**(draft.answers or {}), **answers}  # a new dict: the JSON column sees the change
    steps = steps_of(person, draft)
    # Continue after the furthest step saved, not after one changed from "Check your answers".
    if not draft.last_step or (step in steps and draft.last_step in steps and steps.index(step) > steps.index(draft.last_step)):
        draft.last_step = step
    draft.updated_at = utcnow()
    db.session.flush()
    return draft


# --- submitting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Submitted:
    response: ConsultationResponse
    again: bool  # it had been submitted already (a double click, a reload): nothing was made this time


def new_reference() -> str:
    """A reference like "VW-7KQ3-M9XD": short, easy to read out, and unique (the column is)."""
    letters = "".join(secrets.choice(_REFERENCE_LETTERS) for _ in range(8))
    return f"VW-{letters[:4]}-{letters[4:]}"


def submit_response(vision: Vision, person: User, response_id: Any) -> Submitted:
    """Send the person's draft: each answer becomes a reflection, an aligned-work record (waiting for
    screening) or an offer to help, all in this transaction, with a reference number and the
    emailed copy queued. The form names the draft it shows (`response_id`): sent again after it
    went, it makes nothing and returns the submitted response.

    Raises NotAllowed, ResponsesClosed, WrongState (no draft), ValidationError (an empty response,
    or an answer that can no longer be used, keyed by its step)."""
    if not permissions.is_member(person):
        raise NotAllowed("Sign in to respond to the consultation.")
    sent = already_submitted(vision, person, response_id)
    if sent is not None:
        return Submitted(sent, True)
    _ensure_may_respond(person, vision)
    draft = draft_of(vision, person, for_update=True)
    if draft is None:
        # Sent by the other click of a double click while this one waited for the lock.
        sent = already_submitted(vision, person, response_id)
        if sent is not None:
            return Submitted(sent, True)
        raise WrongState("You have no response in progress. Start one from the “Respond” page.")
    answers = dict(draft.answers or {})
    if is_empty(answers):
        raise ValidationError({"form": EMPTY_RESPONSE})

    made: dict[str, Any] = {"reflections": [], "aligned_work": None, "volunteer_interest": None}
    elements = vision_elements(vision)
    ambitions = ambition_names(elements)
    reflections: list[tuple[str, Element | None, str]] = []
    if answers.get("vision"):
        statement = statement_of(vision)
        reflections.append(("vision", statement[0] if statement else None, answers["vision"]))
    wanted = dict(answers.get("ambitions") or {})
    by_key = {
        element.key: element
        for element in db.session.scalars(select(Element).where(Element.vision_id == vision.id, Element.key.in_(list(wanted))))
    } if wanted else {}
    reflections.extend(("ambitions", by_key.get(key), text) for key, text in wanted.items())
    for step, element, text in reflections:
        if element is None or (step == "ambitions" and element.key not in ambitions):
            raise ValidationError({step: f"{STEPS[step]}: part of the vision you wrote about is no longer in the draft. Change your answer"})
        try:
            made["reflections"].append(post_reflection(vision, element, person, text).id)
        except (ValidationError, WrongState) as error:
            raise ValidationError({step: f"{STEPS[step]}: {_first_message(error)}"}) from error
    if answers.get("aligned_work"):
        try:
            made["aligned_work"] = submit_aligned_work(vision, person, **answers["aligned_work"], elements=elements).id
        except ValidationError as error:
            raise ValidationError({"aligned-work": f"{STEPS['aligned-work']}: {_first_message(error)}"}) from error
    if answers.get("help"):
        offer = answers["help"]
        try:
            interest, _ = offer_to_help(
                vision, person, ambitions=ambitions, ambition_keys=offer["ambition_keys"], skills=offer["skills"],
                availability=offer["availability"],
            )
        except ValidationError as error:
            raise ValidationError({"help": f"{STEPS['help']}: {_first_message(error)}"}) from error
        made["volunteer_interest"] = interest.id

    now = utcnow()
    draft.state = "submitted"
    draft.made = made
    draft.submitted_at = now
    draft.updated_at = now
    for _ in range(5):
        draft.reference = new_reference()
        try:
            with db.session.begin_nested():
                db.session.flush()
            break
        except IntegrityError:  # the same reference drawn twice: vanishingly rare, draw again
            continue
    else:  # pragma: no cover
        raise WrongState("We could not give your response a reference number. Send it again.")
    queue(copy_mail(vision, person, draft, elements), user=person)
    record_event(
        "response.submitted", "consultation_response", draft.id, actor=person, vision_id=vision.id,
        reference=draft.reference, reflections=len(made["reflections"]), aligned_work=made["aligned_work"],
        volunteer_interest=made["volunteer_interest"],
    )
    db.session.flush()
    return Submitted(draft, False)


def _first_message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return error.messages[0] if error.messages else str(error)
    return getattr(error, "message", "") or str(error)
