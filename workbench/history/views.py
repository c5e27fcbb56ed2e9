"""History between versions: compare any two versions, element timelines, the Atom feed (issue 6)."""

from . import bp  # noqa: F401
