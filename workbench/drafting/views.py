"""The working draft: facilitators' direct edits, the draft page, publishing, the consultation window (issue 6)."""

from . import bp  # noqa: F401
