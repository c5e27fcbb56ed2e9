"""The stored Word and PDF files of published versions (migration 0022_version_documents).

A version's document is generated once and kept byte for byte: a PDF made again would differ (its
creation date and id), and a published version must never be served two ways. Rows are written once
and never updated or deleted (the ORM refuses, as for the versions themselves).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, LargeBinary, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import ImmutableError, UTCDateTime, utcnow

FORMATS = ("docx", "pdf")


class VersionDocument(db.Model):
    """One published version as one file format, exactly as first served."""

    __tablename__ = "version_documents"

    id: Mapped[int] = mapped_column(primary_key=True)
    version_id: Mapped[int] = mapped_column(ForeignKey("versions.id"))
    format: Mapped[str] = mapped_column(String(8))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    # Hex SHA-256 of `content`: the ETag, so that serving needs no hashing.
    sha256: Mapped[str] = mapped_column(String(64))
    size: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        # One file per version and format: two first requests at once store one, serve the same.
        UniqueConstraint("version_id", "format"),
        CheckConstraint("format IN ('docx', 'pdf')", name="format_known"),
    )


def _refuse(mapper: Any, connection: Any, target: Any) -> None:
    raise ImmutableError(f"VersionDocument {target.id} is written once and never changed")


event.listen(VersionDocument, "before_update", _refuse)
event.listen(VersionDocument, "before_delete", _refuse)
