"""Forms of the working draft, publishing and the consultation window.

Only CSRF is checked here; the rules (lengths, hidden characters, "nothing changed", dates) live in
services, whose messages `workbench.forms.show_errors` puts beside the fields.
"""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from ..numbers import whole_number


def small_int(value: str | None) -> int | None:
    """A hidden field's whole number (0 to 999,999,999), or None."""
    return whole_number(value, minimum=0)


class ElementTextForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Text")
    reason = TextAreaField("Why are you making this change?")
    # The entry's lock version when the form was prepared: a save from an out-of-date page is refused.
    lock_version = HiddenField()


class AddElementForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Text")
    position = SelectField("Where to put it", choices=[], validate_choice=False)
    reason = TextAreaField("Why are you adding it?")


class RemoveForm(FlaskForm):
    reason = TextAreaField("Why are you removing it?")


class MoveForm(FlaskForm):
    direction = HiddenField()
    from_place = HiddenField()


class MoveToForm(FlaskForm):
    parent = SelectField("Which ambition should it be under?", choices=[], validate_choice=False)
    position = StringField("Position")
    # Where it was when the form was prepared: a move from an out-of-date page is refused.
    from_parent = HiddenField()
    from_position = HiddenField()


class PublishForm(FlaskForm):
    notes = TextAreaField("Notes on this version")
    expected_version = HiddenField()
    expected_change = HiddenField()


class WindowForm(FlaskForm):
    # Times on the site's clock (UK time by default): the page says which.
    opens_date = StringField("Opening date")
    opens_time = StringField("Opening time")
    closes_date = StringField("Closing date")
    closes_time = StringField("Closing time")


class ReopenForm(FlaskForm):
    # "keep": until the closing time already scheduled; "days": `days` days from now. Asked only
    # when a closing time is still to come, so that opening never silently replaces it.
    closing = StringField("When should it close?")
    days = StringField("For how many days?")


class CloseForm(FlaskForm):
    """The confirmation page's button: the CSRF token is all it carries."""
