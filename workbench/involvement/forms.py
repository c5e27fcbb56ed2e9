"""Forms of volunteering: they carry CSRF and what was typed; services.check_offer and
services.invite_volunteers decide what is acceptable, so the rules live in one place."""

from __future__ import annotations

import secrets

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectMultipleField, StringField, TextAreaField

from .models import VolunteerInterest


class MarkedRequired:
    """Marks a field required for the form macros without checking it (the service does)."""

    field_flags = {"required": True}

    def __call__(self, form: object, field: object) -> None:
        return None


class OfferForm(FlaskForm):
    # Rendered as checkboxes and radio buttons by templates/involvement/volunteer.html.
    ambitions = SelectMultipleField("Which ambitions would you like to help with?", validate_choice=False)
    skills = TextAreaField("Your skills and experience", validators=[MarkedRequired()])
    availability = StringField("How much time could you give?", validators=[MarkedRequired()])

    @classmethod
    def filled_with(cls, interest: VolunteerInterest) -> OfferForm:
        return cls(
            data={"ambitions": list(interest.ambition_keys or []), "skills": interest.skills, "availability": interest.availability}
        )


class InvitationForm(FlaskForm):
    # Rendered as a checkbox on each row of the list of volunteers.
    interest_ids = SelectMultipleField("Volunteers to invite", validate_choice=False)
    subject = StringField("Subject", validators=[MarkedRequired()])
    message = TextAreaField("Message", validators=[MarkedRequired()])
    # Names this filling-in of the form: sending it twice sends the invitation once.
    send_key = HiddenField()

    @classmethod
    def new(cls) -> InvitationForm:
        form = cls()
        form.send_key.data = secrets.token_urlsafe(24)
        return form


class ButtonForm(FlaskForm):
    """A button that changes something: only its CSRF token."""
