"""Forms for your account and for administrators (Flask-WTF: each carries a CSRF token)."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, PasswordField, StringField
from wtforms.validators import InputRequired

from ..notifications.kinds import KINDS
from ..notifications.mails import kind_in_words


class DisplayNameForm(FlaskForm):
    display_name = StringField("Display name", validators=[InputRequired("Enter a display name")])


class EmailForm(FlaskForm):
    email = StringField("New email address", validators=[InputRequired("Enter your new email address")])
    current_password = PasswordField("Your current password", validators=[InputRequired("Enter your current password")])


class PasswordForm(FlaskForm):
    current_password = PasswordField("Current password", validators=[InputRequired("Enter your current password")])
    new_password = PasswordField("New password", validators=[InputRequired("Enter a new password")])


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField("Your password", validators=[InputRequired("Enter your password")])
    confirm = BooleanField("I understand that my account will be deleted and that this cannot be undone")


class ConfirmForm(FlaskForm):
    """A button-only form: the CSRF token is all it carries."""


class RoleForm(FlaskForm):
    # Radio buttons drawn by the template; the service refuses unknown roles with its own message.
    role = StringField("Role", validators=[InputRequired("Choose a role")])


class EmailChoicesForm(FlaskForm):
    """How to be emailed about each kind of notification: one field per kind (notifications/kinds.py),
    named as the kind, drawn as a group of radio buttons by the template; the service
    (notifications.choices.choose_email) refuses an unknown answer with its own message."""


for _kind in KINDS.values():
    setattr(
        EmailChoicesForm,
        _kind.name,
        StringField(_kind.label, validators=[InputRequired(f"Choose how to be emailed about {kind_in_words(_kind.name)}")]),
    )


class AboutYouForm(FlaskForm):
    """About you: rendered as two radio groups and a text field by templates/accounts/_about_you_fields.html;
    about_you.check_about_you decides what is acceptable (the organisation's name only matters
    for an organisation), so the rules live in one place."""

    responding_as = StringField("Are you responding as an individual or for an organisation?")
    organisation = StringField("Name of the organisation")
    publish_as = StringField("How should your contributions be published?")

    @classmethod
    def filled_with(cls, person: object) -> AboutYouForm:
        return cls(
            data={
                "responding_as": getattr(person, "responding_as", None) or "",
                "organisation": getattr(person, "organisation", "") or "",
                # What applies now: everyone is published with their name until they choose.
                "publish_as": getattr(person, "publish_as", None) or "name",
            }
        )
