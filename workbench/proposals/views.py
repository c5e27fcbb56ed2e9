"""Proposals: propose an edit to one element, revise, withdraw, list (issue 4)."""

from . import bp  # noqa: F401
