"""Rate limits (Flask-Limiter): every limit of the app, its default, and whom it counts.

Each limit is a setting, so an operator can change it without a code change (WORKBENCH_<NAME>, in
Flask-Limiter's notation, several joined by ";"). Limits count per client address and, where an attack
could spread over many addresses, per account (the email address typed). Behind a reverse proxy set
WORKBENCH_PROXY_FIX to the number of proxies, otherwise every visitor shares the proxy's address.
Storage: memory by default (one process); for several processes or servers set
WORKBENCH_RATELIMIT_STORAGE_URI=redis://host:6379/0, which needs `pip install redis`.
"""

from __future__ import annotations

from collections.abc import Callable

from flask import current_app, request
from flask_login import current_user
from flask_limiter.util import get_remote_address

from .auth.services import normalise_email
from .extensions import limiter

DEFAULT_LIMITS = {
    # Every sign-in attempt from one address.
    "RATELIMIT_SIGN_IN": "10/minute;100/hour",
    # Failed sign-ins for one account, from anywhere (a spread-out guessing attack); a browser where
    # the account signed in before is not counted (auth/sessions.py: known devices).
    "RATELIMIT_SIGN_IN_ACCOUNT": "5/minute;30/hour",
    # Registration and reset requests from one address, and mails to one address.
    "RATELIMIT_MAIL_REQUEST": "5/minute;30/hour",
    "RATELIMIT_MAIL_ADDRESS": "3/10 minutes;10/day",
    # Forms that check a password of a signed-in person, or set one from a link.
    "RATELIMIT_PASSWORD_CHECK": "10/minute;50/hour",
    # Per signed-in account: sending, revising and withdrawing proposals, and the live previews
    # (a diff each, as people type).
    "RATELIMIT_PROPOSAL_WRITE": "20/minute;200/day",
    "RATELIMIT_PROPOSAL_PREVIEW": "120/minute",
    # Per signed-in account: votes, comments and reflections (writing and editing), reports, and
    # facilitators' moderation decisions.
    "RATELIMIT_VOTE": "60/minute;2000/day",
    "RATELIMIT_COMMENT_WRITE": "20/minute;300/day",
    "RATELIMIT_REPORT": "10/minute;100/day",
    "RATELIMIT_MODERATION": "60/minute",
    # Per client address: downloads of a vision's data files (each can cost seconds of a worker).
    "RATELIMIT_EXPORT": "60/hour",
    # Per signed-in account: scheduling webinars, registering and cancelling.
    "RATELIMIT_WEBINAR_WRITE": "30/minute;300/day",
    # Per signed-in account: offering to help, changing or withdrawing the offer, inviting volunteers.
    "RATELIMIT_VOLUNTEER_WRITE": "20/minute;200/day",
    # Per signed-in account: following and unfollowing.
    "RATELIMIT_FOLLOW": "60/minute;1000/day",
    # Per client address: submitting and editing aligned work.
    "RATELIMIT_ALIGNED_WRITE": "30/hour",
}


def counted_alone(config: dict, workers: int) -> str | None:
    """Why `workers` processes with these settings would each count limits alone (None: they would
    not). gunicorn's start-up refuses such a configuration (gunicorn.conf.py)."""
    storage = str(config.get("RATELIMIT_STORAGE_URI") or "memory://")
    if workers > 1 and config.get("RATELIMIT_ENABLED", True) and storage.startswith("memory://"):
        return (
            f"Rate limits are kept in each worker's memory, so {workers} workers would each allow the full "
            "limit. Set WORKBENCH_RATELIMIT_STORAGE_URI to a shared store (redis://127.0.0.1:6379) or run one worker."
        )
    return None


def setting(name: str) -> Callable[[], str]:
    """A limit read from the app's settings when a request is checked."""
    return lambda: current_app.config.get(name) or DEFAULT_LIMITS[name]


def per_account(name: str):
    """Limit a route's POSTs per signed-in account (per address for anyone else) by setting `name`."""
    return limiter.limit(setting(name), key_func=signed_in_account, methods=["POST"])


def per_address(name: str):
    """Limit a route's POSTs per client address by setting `name`."""
    return limiter.limit(setting(name), key_func=client_address, methods=["POST"])


def downloads_per_address(name: str):
    """Limit a route's GETs per client address by setting `name` (costly downloads)."""
    return limiter.limit(setting(name), key_func=client_address, methods=["GET"])


def per_typed_email(
    name: str, *, failures_only: bool = False, exempt_when: Callable[[], bool] | None = None
):
    """Limit a route's POSTs per account named in the form (its email address) by setting `name`;
    with `failures_only`, only attempts that failed count; `exempt_when()` true: not counted."""
    return limiter.limit(
        setting(name),
        key_func=typed_email,
        methods=["POST"],
        deduct_when=failed if failures_only else None,
        exempt_when=exempt_when,
    )


def client_address() -> str:
    return "address:" + (get_remote_address() or "unknown")


def typed_email() -> str:
    """The account a request is about: the email address in the form, normalised."""
    raw = request.form.get("email", "")
    return "email:" + (normalise_email(raw) or raw.strip().lower()[:254])


def signed_in_account() -> str:
    return f"account:{current_user.id}" if current_user.is_authenticated else client_address()


def failed(response) -> bool:  # noqa: ANN001
    """Count an attempt against the account only when it failed (a success redirects)."""
    return response.status_code not in (301, 302, 303)
