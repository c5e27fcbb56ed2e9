"""The queue's one form around its rows: the proposals ticked, and what to do with all of them.
The rules (how many, which can be assigned or rejected, the reason) live in `assignment.py`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import SelectField, SelectMultipleField, TextAreaField


class SelectedForm(FlaskForm):
    # The rows' checkboxes; checked against the vision's queue by assignment.selected_proposals.
    selected = SelectMultipleField("Selected proposals", choices=[], validate_choice=False)
    # "me", "none" or a facilitator's id (the choices are the page's; the service checks the person).
    assign_to = SelectField("Assign the selected proposals to", choices=[], validate_choice=False)
    reason = TextAreaField("Reason for rejecting the selected proposals (shown publicly on each)")
