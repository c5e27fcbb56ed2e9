"""Facilitation: the queue, accept or reject, the working draft, publishing (issue 6)."""

from . import bp  # noqa: F401
