"""Your account page and the administrators' account management (issue 3)."""

from . import bp  # noqa: F401
