"""Deliberation: votes, comments, reflections, reports and moderation (issue 5)."""

from . import bp  # noqa: F401
