"""The proposal form. The rules (lengths, hidden characters, "nothing changed") live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField, TextAreaField

from ..numbers import whole_number


class ProposalForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Proposed text")
    rationale = TextAreaField("Why do you propose this change?")


class RemovalForm(FlaskForm):
    rationale = TextAreaField("Why do you propose to remove it?")


class MoveProposalForm(FlaskForm):
    # The choices are the draft's ambitions (set by the view); the service checks the choice.
    parent = SelectField("Which ambition should it be under?", choices=[], validate_choice=False)
    position = StringField("Position")
    rationale = TextAreaField("Why do you propose to move it?")


class RevisionForm(ProposalForm):
    # Which text the revision is written against: the proposal's base, or the current text when
    # the author brings a stale proposal up to date. The service accepts only those two.
    base_text_id = HiddenField()

    def base_id(self) -> int | None:
        return whole_number(self.base_text_id.data)


class AdditionForm(FlaskForm):
    # The choices are the kinds that go under the page's element (set by the view); the service
    # checks the choice.
    kind = SelectField("What do you propose to add?", choices=[], validate_choice=False)
    position = StringField("Position")
    title = StringField("Title")
    body = TextAreaField("Its text")
    rationale = TextAreaField("Why do you propose to add it?")
