"""Aligned work: organisations record what they are doing towards the vision (issue 7)."""

from . import bp  # noqa: F401
