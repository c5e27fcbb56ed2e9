"""The forms of the response journey. They carry CSRF, which draft they were filled in for and what
was typed; the services (with the checks of "About you", reflections, aligned work and offers to
help) decide what is acceptable, so each rule lives in one place. Every question of a step after
"About you" is optional, so no field is marked required."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField

from ..accounts.forms import AboutYouForm
from ..aligned.forms import InitiativeForm
from ..involvement.forms import OfferForm
from .services import ALIGNED_FIELDS, ambition_field


class StepFields(FlaskForm):
    # The draft this page was filled in for: sent again after the response went, it changes nothing.
    response_id = HiddenField()
    # "check" when the person came from "Check your answers" to change an answer: they go back there.
    then = HiddenField()


class AboutYouStep(AboutYouForm, StepFields):
    pass


class VisionStep(StepFields):
    body = TextAreaField("Your reflection on the vision statement (optional)")

    @classmethod
    def filled_with(cls, answers: dict[str, Any]) -> VisionStep:
        return cls(data={"body": answers.get("vision") or ""})


def ambitions_step(ambitions: dict[str, str]) -> type[StepFields]:
    """A form with one optional reflection per ambition, named by `ambition_field(key)`."""

    class AmbitionsStep(StepFields):
        pass

    for key, name in ambitions.items():
        setattr(AmbitionsStep, ambition_field(key), TextAreaField(f"{name} (optional)"))
    return AmbitionsStep


def ambitions_data(answers: dict[str, Any]) -> dict[str, str]:
    return {ambition_field(key): text for key, text in (answers.get("ambitions") or {}).items()}


class AlignedStep(InitiativeForm, StepFields):
    organisation = StringField("Organisation")
    title = StringField("Name of the initiative")
    description = TextAreaField("What the initiative does")
    status = StringField("Status")
    element_ids = SelectMultipleField("Which parts of the vision does it support?", validate_choice=False)

    @classmethod
    def filled_with_answers(cls, answers: dict[str, Any]) -> AlignedStep:
        work = answers.get("aligned_work") or {}
        data = {name: work.get(name, "") for name in ALIGNED_FIELDS}
        data["element_ids"] = [str(i) for i in work.get("element_ids") or []]
        return cls(data=data)


class HelpStep(OfferForm, StepFields):
    skills = TextAreaField("Your skills and experience")
    availability = StringField("How much time could you give?")

    @classmethod
    def filled_with_answers(cls, answers: dict[str, Any]) -> HelpStep:
        offer = answers.get("help") or {}
        return cls(
            data={"ambitions": offer.get("ambition_keys") or [], "skills": offer.get("skills", ""),
                  "availability": offer.get("availability", "")}
        )


class SubmitForm(FlaskForm):
    """Send the response: names the draft the person checked."""

    response_id = HiddenField()
