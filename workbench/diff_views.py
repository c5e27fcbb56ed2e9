"""The ways a reader may view a diff: `?view=` on every page that shows one."""

from __future__ import annotations

from flask import request

# The diff views a reader may ask for (`?view=` on any page with a diff); anything else is inline.
DIFF_VIEWS = {"inline": "Inline", "side-by-side": "Side by side", "list": "As a list of changes"}
DEFAULT_DIFF_VIEW = "inline"


def diff_view_mode() -> str:
    """The diff view this request asks for."""
    mode = request.args.get("view", DEFAULT_DIFF_VIEW)
    return mode if mode in DIFF_VIEWS else DEFAULT_DIFF_VIEW
