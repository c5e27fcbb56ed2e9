"""Who wrote each word of a published version, stored with it (migration 0019_who_wrote_each_word).

Computed once, when the version is published (history/who_wrote.py, from the chain of element texts
with workbench/provenance.py), and immutable like the version: the ORM refuses to update or delete
these rows and the database refuses too (the guard triggers of the migration). Names are never
stored, only account and proposal numbers: a name is looked up when shown, so that a person who
deletes their account, or a proposal that is hidden, is shown as such everywhere at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, Integer, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column

from .extensions import db
from .models import ImmutableError, UTCDateTime, utcnow


class VersionProvenance(db.Model):
    """The spans of every element of one version: JSON, by element key,
    ``{"<key>": {"text_id": n, "title": [[start, end, source]], "body": [...]}}`` (see
    `provenance.Provenance.to_json`)."""

    __tablename__ = "version_provenance"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), unique=True)
    spans: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class VersionWords(db.Model):
    """How many words of one element of a version a person wrote ("your words in version 3")."""

    __tablename__ = "version_words"

    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    element_key: Mapped[str] = mapped_column(String(40), primary_key=True)
    words: Mapped[int] = mapped_column(Integer)

    __table_args__ = (
        # A person's words, newest version first (the activity page).
        Index("ix_version_words_person", "user_id", "version_id"),
    )


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableError(f"{type(target).__name__} belongs to a published version and never changes")


for _model in (VersionProvenance, VersionWords):
    event.listen(_model, "before_update", _refuse)
    event.listen(_model, "before_delete", _refuse)
