"""Facilitators' forms. The rules (lengths, hidden characters, "nothing changes") live in `decisions.py`."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


def parse_id(raw: str | None) -> int | None:
    """A positive id from a form field (1..999,999,999), else None."""
    raw = (raw or "").strip()
    if raw.isdigit() and len(raw) <= 9 and int(raw) >= 1:
        return int(raw)
    return None


class AcceptForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Text to accept")
    note = TextAreaField("Note for the public record (optional)")
    # The working text this page was prepared against, and the proposal revision it showed: an
    # accept from an out-of-date page is never applied silently.
    expected_text_id = HiddenField()
    revision = HiddenField()

    def expected_id(self) -> int | None:
        return parse_id(self.expected_text_id.data)

    def revision_number(self) -> int | None:
        return parse_id(self.revision.data)


class RejectForm(FlaskForm):
    reason = TextAreaField("Reason for rejecting (shown publicly)")
