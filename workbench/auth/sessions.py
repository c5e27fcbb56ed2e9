"""Who is signed in: the person a session cookie names, and starting a session.

Importing this module registers the loader with Flask-Login (`auth/views.py`
imports it, so every app `create_app` builds has it).
"""

from __future__ import annotations

from datetime import timedelta

from flask import current_app, request
from flask_login import login_user
from sqlalchemy import select

from ..extensions import login_manager
from ..models import User, db

REMEMBER_FOR = timedelta(days=30)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # get_id() is a per-user session token, replaced on sign-out and password change, so a copied
    # cookie stops working.
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.is_active:
        return None
    return user


def sign_in(user: User, *, remember: bool) -> None:
    """Start a session for the person (and a remember-me cookie for 30 days when asked)."""
    login_user(user, remember=remember, duration=REMEMBER_FOR)


def remember_cookie_present() -> bool:
    """Whether this browser holds a remember-me cookie (to renew it after a password change)."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
