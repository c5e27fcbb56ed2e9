"""What every form shares: the one place a service's ValidationError messages are put on a form."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask_wtf import FlaskForm
from wtforms import HiddenField

from .exceptions import ValidationError
from .extensions import db

Result = TypeVar("Result")


def show_errors(form: FlaskForm, error: ValidationError) -> None:
    """Put each of the service's messages beside the visible field it names, after any it has.

    Messages for a name the form does not show (no such field, a hidden field, the CSRF token)
    go to `form.form_errors`, which the error summary lists at the top of the form.
    """
    for name, messages in error.errors.items():
        field = form._fields.get(name)
        # The CSRF token field is a HiddenField too.
        if field is None or isinstance(field, HiddenField):
            form.form_errors.extend(messages)
        else:
            field.errors = [*field.errors, *messages]


def attempt(form: FlaskForm, change: Callable[[], Result]) -> Result | None:
    """What `change()` (a service call) returns; or None when it raised ValidationError, whose
    messages are then beside `form`'s fields, and nothing it began is kept."""
    try:
        return change()
    except ValidationError as error:
        db.session.rollback()
        show_errors(form, error)
        return None
