"""Forms for signing in, registering and resetting a password (Flask-WTF: each carries a CSRF token).

The forms only check that something was entered; the rules live in services.py, whose
ValidationError messages are put beside the fields with `workbench.forms.show_errors`.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, PasswordField, StringField
from wtforms.validators import InputRequired


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
