"""The steps of responding to a consultation, in order, and where a person is in them: what the
services, the pages of answers in words (`pages.py`) and the views all read. Its own module so that
they import it at the top without importing each other (services -> mails -> pages -> steps).
"""

from __future__ import annotations

from ..accounts.about_you import has_answered
from ..models import User
from .models import ConsultationResponse

# The steps of the journey, in order, with their headings. "About you" is asked only of people who
# have not answered it (it is saved to their account, not to the draft).
STEPS: dict[str, str] = {
    "about-you": "About you",
    "vision": "Your reflections on the vision",
    "ambitions": "Your reflections on the ambitions",
    "aligned-work": "Work that supports the vision",
    "help": "Helping to refine the vision",
}


def steps_of(person: User, draft: ConsultationResponse | None) -> list[str]:
    """The steps of this person's journey, in order."""
    asks_about_you = draft.asks_about_you if draft is not None else not has_answered(person)
    return [step for step in STEPS if step != "about-you" or asks_about_you]


def step_after(steps: list[str], step: str) -> str | None:
    """The step that follows `step`, or None after the last one (then: check your answers)."""
    if step not in steps:
        return steps[0] if steps else None
    at = steps.index(step)
    return steps[at + 1] if at + 1 < len(steps) else None


def step_before(steps: list[str], step: str) -> str | None:
    """The step before `step` (the "Back" link), or None on the first one."""
    if step not in steps or steps.index(step) == 0:
        return None
    return steps[steps.index(step) - 1]


def where_to_continue(person: User, draft: ConsultationResponse | None) -> str | None:
    """The step to go on with: the one after the last saved (None: all saved, check the answers)."""
    steps = steps_of(person, draft)
    if draft is None or not draft.last_step:
        return steps[0]
    return step_after(steps, draft.last_step)
