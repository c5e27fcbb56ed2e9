"""Sending people to sign in, and where to send them after: only ever a page of this site."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import unquote, urlsplit

from flask import flash, redirect, request, url_for
from flask_login import current_user

from ..exceptions import SignInRequired
from ..htmx import htmx_redirect, is_htmx

MAX_LENGTH = 2000


def safe_next_url(target: str | None) -> str | None:
    """`target` when it is a path on this site (like "/visions/x/?tab=2"), else None.

    Refused: absolute URLs (`https://evil`), scheme-relative ones (`//evil`), backslashes (`/\\evil`,
    which browsers read as `//evil`), anything that decodes to those (`%2F%2Fevil`, `/%2F/evil`),
    schemes (`javascript:`), and any whitespace or control character (browsers drop tabs and
    newlines inside URLs, so `/\\t/evil` would become `//evil`).
    """
    if not target or len(target) > MAX_LENGTH:
        return None
    if "\\" in target or any(ch.isspace() or ord(ch) < 32 or 0x7F <= ord(ch) <= 0x9F for ch in target):
        return None
    candidate = target
    # Check the value as given and as a browser, proxy or framework might decode it (three times).
    for _ in range(4):
        if not _is_local_path(candidate):
            return None
        decoded = unquote(candidate)
        if decoded == candidate:
            return target
        candidate = decoded
    return None


def _is_local_path(value: str) -> bool:
    # Browsers ignore tabs and newlines inside a URL: judge the value without them.
    squeezed = "".join(ch for ch in value if ch not in "\t\n\r").lstrip()
    if not squeezed.startswith("/") or squeezed.startswith(("//", "/\\")):
        return False
    parts = urlsplit(squeezed)
    return not parts.scheme and not parts.netloc


def login_redirect(next_url: str | None = None):
    """The one way to send a visitor to sign in, coming back to `next_url` afterwards (default:
    this page; "" for no page to come back to, as after a POST that has none).

    To htmx, a 401 with `HX-Redirect`: it would otherwise swap the sign-in page into a fragment.
    """
    if next_url is None:
        next_url = request.full_path.rstrip("?")
    location = url_for("auth.login", next=safe_next_url(next_url))
    if is_htmx():
        return htmx_redirect(location, body="Sign in to do that.")
    flash("Sign in to continue.", "info")
    return redirect(location)


def require_member(next_url: str | None = None) -> None:
    """Raise SignInRequired unless someone is signed in (the error handler sends them to sign in
    and back to `next_url`, default this page)."""
    if not current_user.is_authenticated:
        raise SignInRequired(next_url)


def members_only(view: Callable[..., Any] | None = None, *, back_to: Callable[..., str] | None = None):
    """Route decorator: only signed-in people reach the view; others are sent to sign in.

    `back_to(**view_args)` names the page to come back to, for a POST whose own URL has no page
    (`@members_only(back_to=lambda proposal_id: url_for("proposals.show", proposal_id=proposal_id))`).
    """

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def members_view(*args: Any, **kwargs: Any) -> Any:
            require_member(back_to(**kwargs) if back_to is not None else None)
            return view(*args, **kwargs)

        return members_view

    return decorate(view) if view is not None else decorate
