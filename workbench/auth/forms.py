"""Forms for signing in, registering and resetting a password (Flask-WTF: each carries a CSRF token).

The forms only check that something was entered; the rules live in services.py, whose
ValidationError messages are put beside the fields with `show_errors`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired

from ..validation import ValidationError


class SignInForm(FlaskForm):
    email = StringField("Email address", validators=[InputRequired("Enter your email address")])
    password = PasswordField("Password", validators=[InputRequired("Enter your password")])
    remember = BooleanField("Keep me signed in on this device for 30 days")
    next = HiddenField()


class RegisterForm(FlaskForm):
    email = StringField("Email address", validators=[InputRequired("Enter your email address")])


class FinishRegistrationForm(FlaskForm):
    display_name = StringField("Display name", validators=[InputRequired("Enter a display name")])
    password = PasswordField("Password", validators=[InputRequired("Enter a password")])


class RequestResetForm(FlaskForm):
    email = StringField("Email address", validators=[InputRequired("Enter your email address")])


class ResetPasswordForm(FlaskForm):
    password = PasswordField("New password", validators=[InputRequired("Enter a new password")])


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Put a service's per-field messages beside the form's fields (unknown fields go on top)."""
    for name, messages in error.errors.items():
        field = form._fields.get(name)
        if field is None:
            form.form_errors.extend(messages)
            continue
        field.errors = [*field.errors, *messages]
