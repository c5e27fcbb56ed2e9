"""Following a vision (its new versions), an element (its new proposals and reflections) or a
proposal (its comments and decision). Authors follow their own proposals from the start."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import permissions
from ..exceptions import NotAllowed
from ..models import Element, Follow, Proposal, User, Vision, db

Thing = Vision | Element | Proposal
THING_TYPES: dict[type, str] = {Vision: "vision", Element: "element", Proposal: "proposal"}


def thing_type(thing: Thing) -> str:
    return THING_TYPES[type(thing)]


def follow(user: User, thing: Thing) -> bool:
    """`user` follows `thing`; False when they already did. Raises NotAllowed when they may not
    (permissions.can_follow). Flushes; safe against a double click (the unique constraint, not a
    read, decides)."""
    if not permissions.can_follow(user, thing):
        raise NotAllowed("Sign in to follow this." if not permissions.is_member(user) else "You cannot follow this.")
    insert = postgresql_insert if db.engine.dialect.name == "postgresql" else sqlite_insert
    result = db.session.execute(
        insert(Follow)
        .values(user_id=user.id, thing_type=thing_type(thing), thing_id=thing.id)
        .on_conflict_do_nothing(index_elements=["user_id", "thing_type", "thing_id"])
    )
    return bool(result.rowcount)


def unfollow(user: User, thing: Thing) -> bool:
    """`user` no longer follows `thing`; False when they did not."""
    row = db.session.scalar(_follow_of(user, thing))
    if row is None:
        return False
    db.session.delete(row)
    db.session.flush()
    return True


def is_following(user: Any, thing: Thing) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return db.session.scalar(_follow_of(user, thing).with_only_columns(Follow.id)) is not None


def _follow_of(user: User, thing: Thing):
    return select(Follow).where(
        Follow.user_id == user.id, Follow.thing_type == thing_type(thing), Follow.thing_id == thing.id
    )


def followers(thing_type_: str, thing_id: int):
    """SQL: the ids of the people who follow the thing."""
    return select(Follow.user_id).where(Follow.thing_type == thing_type_, Follow.thing_id == thing_id)
