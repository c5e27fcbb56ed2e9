"""Who is signed in: the person a session cookie names, and starting a session.

Importing this module registers the loader with Flask-Login (`auth/views.py`
imports it, so every app `create_app` builds has it).
"""

from __future__ import annotations

import hashlib
from datetime import timedelta

from flask import current_app, request
from flask_login import login_user
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import bindparam, select
from werkzeug.wrappers import Response

from ..extensions import login_manager
from ..models import User, db
from .services import normalise_email

REMEMBER_FOR = timedelta(days=30)


# Built once: every signed-in request runs it, and a statement built per call cost more than the
# lookup itself (SQLAlchemy then reuses its compiled form).
_BY_SESSION_TOKEN = select(User).where(User.session_token == bindparam("session_token"))


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # get_id() is a per-user session token, replaced on sign-out and password change, so a copied
    # cookie stops working.
    user = db.session.scalar(_BY_SESSION_TOKEN, {"session_token": session_token})
    if user is None or not user.is_active:
        return None
    return user


def sign_in(user: User, *, remember: bool) -> None:
    """Start a session for the person (and a remember-me cookie for 30 days when asked)."""
    login_user(user, remember=remember, duration=REMEMBER_FOR)


def remember_cookie_present() -> bool:
    """Whether this browser holds a remember-me cookie (to renew it after a password change)."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


# --- devices that signed in before -----------------------------------------------------------------
# Failed sign-ins for one account, from anywhere, are limited (a guessing attack spread over many
# addresses). Without more, an attacker could keep the rightful owner out with a few wrong passwords
# an hour. So a browser where the account signed in before carries a signed cookie naming it, and its
# attempts for that account do not count against the account's limit (its address's limit still
# holds). A guesser has no such cookie: one is only made after the right password.

KNOWN_DEVICE_COOKIE = "known_device"
KNOWN_DEVICE_DAYS = 365
KNOWN_ACCOUNTS_MAX = 5  # a shared computer remembers the last few accounts


def _device_serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="known-device")


def _account_mark(email: str) -> str:
    """A short, one-way mark of an account's address (the cookie never holds an address)."""
    return hashlib.sha256(("known-device:" + email).encode()).hexdigest()[:16]


def _known_marks() -> list[str]:
    raw = request.cookies.get(KNOWN_DEVICE_COOKIE)
    if not raw:
        return []
    try:
        marks = _device_serializer().loads(raw)
    except BadSignature:
        return []
    return [mark for mark in marks if isinstance(mark, str)] if isinstance(marks, list) else []


def is_known_device_for_typed_email() -> bool:
    """Whether this browser signed in before to the account whose address the form names."""
    email = normalise_email(request.form.get("email", ""))
    return email is not None and _account_mark(email) in _known_marks()


def remember_device(response: Response, email: str) -> Response:
    """Mark this browser as one where the account (by its normalised `email`) signed in."""
    mark = _account_mark(email)
    marks = [mark, *(m for m in _known_marks() if m != mark)][:KNOWN_ACCOUNTS_MAX]
    response.set_cookie(
        KNOWN_DEVICE_COOKIE,
        _device_serializer().dumps(marks),
        max_age=KNOWN_DEVICE_DAYS * 24 * 3600,
        secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")),
        httponly=True,
        samesite="Lax",
    )
    return response
