"""Signing in and out, registration and accounts (issue 3 builds the pages)."""

from __future__ import annotations

from sqlalchemy import select

from ..extensions import login_manager
from ..models import User, db


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # get_id() is a per-user session token, replaced on sign-out and password change, so a copied
    # cookie stops working.
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.is_active:
        return None
    return user
