"""The proposal form. The rules (lengths, hidden characters, "nothing changed") live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField, TextAreaField


class ProposalForm(FlaskForm):
    title = StringField("Title")
    body = TextAreaField("Proposed text")
    rationale = TextAreaField("Why do you propose this change?")


class RevisionForm(ProposalForm):
    # Which text the revision is written against: the proposal's base, or the current text when
    # the author brings a stale proposal up to date. The service accepts only those two.
    base_text_id = HiddenField()

    def base_id(self) -> int | None:
        raw = (self.base_text_id.data or "").strip()
        return int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 9 else None
