"""What every view that htmx enhances shares: is this htmx asking, and marking the answer as such.

One URL serves the page or, to htmx, the partial the page itself includes; such answers differ by
the `HX-Request` header, so they say `Vary: HX-Request` (caches then keep the two apart).
"""

from __future__ import annotations

from typing import Any

from flask import current_app, request
from werkzeug.wrappers import Response


def is_htmx() -> bool:
    """Whether htmx sent this request (it sets `HX-Request: true`)."""
    return request.headers.get("HX-Request") == "true"


def vary(response: Any) -> Response:
    """The response (anything a view may return), marked as differing by `HX-Request`."""
    response = current_app.make_response(response)
    response.vary.add("HX-Request")
    return response


def htmx_redirect(location: str, status: int = 401, body: str = "") -> Response:
    """Ask htmx to load `location` as a whole page: it would otherwise follow a redirect inside
    the fragment it is about to swap (and swap the sign-in page into a vote panel)."""
    response = current_app.make_response((body, status, {"HX-Redirect": location}))
    response.mimetype = "text/plain"
    return vary(response)
