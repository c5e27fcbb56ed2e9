"""Forms for aligned work. They carry CSRF and the submitted values; `wording.check_wording` decides
what is acceptable, so the rules live in one place."""

from __future__ import annotations

from typing import Any

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField

from .wording import Wording


class MarkedRequired:
    """Marks a field as required for the form macros (`required` attribute) without checking it:
    the service does, with messages in the users' words."""

    field_flags = {"required": True}

    def __call__(self, form: Any, field: Any) -> None:
        return None


class InitiativeForm(FlaskForm):
    organisation = StringField("Organisation", validators=[MarkedRequired()])
    title = StringField("Name of the initiative", validators=[MarkedRequired()])
    description = TextAreaField("What the initiative does", validators=[MarkedRequired()])
    # Rendered as radio buttons and checkboxes by templates/aligned/_form.html.
    status = StringField("Status", validators=[MarkedRequired()])
    link = StringField("Web page about the initiative (optional)")
    contact = StringField("Contact e-mail or phone number (optional)")
    element_ids = SelectMultipleField(
        "Which parts of the vision does it support?", validate_choice=False, validators=[MarkedRequired()]
    )

    @classmethod
    def filled_with(cls, wording: Wording) -> InitiativeForm:
        """The form showing a wording, to change it."""
        return cls(
            data={
                "organisation": wording.organisation,
                "title": wording.title,
                "description": wording.description,
                "status": wording.status,
                "link": wording.link,
                "contact": wording.contact,
                "element_ids": [str(i) for i in wording.element_ids],
            }
        )

    def wording(self) -> dict[str, Any]:
        """The submitted values as the service takes them."""
        return {
            "organisation": self.organisation.data,
            "title": self.title.data,
            "description": self.description.data,
            "status": self.status.data,
            "link": self.link.data,
            "contact": self.contact.data,
            "element_ids": self.element_ids.data or [],
        }


class DecisionForm(FlaskForm):
    """Approve or reject. `submitted_at` names the wording the facilitator read."""

    reason = TextAreaField("Reason for not publishing it")
    submitted_at = HiddenField()
    return_to = HiddenField()
