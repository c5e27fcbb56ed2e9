"""Deliberation forms: CSRF and field names only; the rules (lengths, hidden characters) live in services."""

from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from ..exceptions import NotFound
from ..numbers import whole_number


class CommentForm(FlaskForm):
    body = TextAreaField("Your comment")
    # A reply names the comment it answers; empty for a new comment.
    parent_id = HiddenField()

    def parent(self) -> int | None:
        """The comment this one answers (None for a new comment). Raises NotFound for a parent that
        is not a comment's number (`-1`, `²`): never silently a new top-level comment."""
        if not (self.parent_id.data or "").strip():
            return None
        parent_id = whole_number(self.parent_id.data)
        if parent_id is None:
            raise NotFound("The comment you are replying to does not exist.")
        return parent_id


class EditForm(FlaskForm):
    body = TextAreaField("Your comment")


class ReportForm(FlaskForm):
    subject_type = HiddenField()
    subject_id = HiddenField()
    reason = TextAreaField("Why should the facilitators look at this?")


class HideForm(FlaskForm):
    reason = TextAreaField("Reason, shown in public")


class ConfirmForm(FlaskForm):
    """A button-only form (retract, unhide, dismiss): the CSRF token and nothing else."""
