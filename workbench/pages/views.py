"""Pages that explain the service: about, privacy."""

from . import bp  # noqa: F401
