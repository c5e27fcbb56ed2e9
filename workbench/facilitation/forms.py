"""Facilitators' forms. The rules (lengths, hidden characters, "nothing changes") live in `decisions.py`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField

from ..numbers import whole_number


class AcceptForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Text to accept")
    note = TextAreaField("Note for the public record (optional)")
    # The working text this page was prepared against, and the proposal revision it showed: an
    # accept from an out-of-date page is never applied silently.
    expected_text_id = HiddenField()
    revision = HiddenField()

    def expected_id(self) -> int | None:
        return whole_number(self.expected_text_id.data)

    def revision_number(self) -> int | None:
        return whole_number(self.revision.data)


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting (shown publicly)")
