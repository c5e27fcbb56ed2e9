"""The documents: each published version as Word and PDF (stored once), comparisons as Word.

A version's files are made the first time someone asks for them and stored (`VersionDocument`),
so that the same version is always the same bytes: the Word file from the snapshot
(`reading.version_docx`), the PDF converted from that stored Word file by LibreOffice in a
subprocess (`conversion`). Two first requests at once may both make a file; the database's unique
constraint keeps the first stored, and both serve it.

LibreOffice rather than WeasyPrint: the PDF is then the Word document itself, page for page (one
source for both files, never two renderings that could drift apart), it is the same program that
reads the tracked-changes comparison in the tests, and WeasyPrint would be a second ~32 MiB
rendering stack to install and keep.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..caching import app_cache
from ..exceptions import WorkbenchError
from ..history.services import compare_versions
from ..models import Version, db
from ..visions.services import PublishedVersion
from . import conversion, tracked_changes
from .models import VersionDocument
from .reading import version_docx

log = logging.getLogger(__name__)

COMPARISONS_CACHED = 8


class DocumentUnavailable(WorkbenchError):
    """The file cannot be made on this server now (no LibreOffice, or it failed): 503."""

    status = 503

    def __init__(self, message: str, *, installed: bool):
        super().__init__(message)
        self.installed = installed


@dataclass(frozen=True)
class StoredDocument:
    format: str
    content: bytes
    sha256: str


def _stored(version: PublishedVersion, format: str) -> StoredDocument | None:
    row = db.session.execute(
        select(VersionDocument.content, VersionDocument.sha256)
        .join(Version, Version.id == VersionDocument.version_id)
        .where(
            Version.vision_id == version.vision_id,
            Version.number == version.number,
            VersionDocument.format == format,
        )
    ).first()
    return None if row is None else StoredDocument(format, row.content, row.sha256)


def _store(version_id: int, version: PublishedVersion, format: str, content: bytes) -> StoredDocument:
    try:
        with db.session.begin_nested():
            db.session.add(
                VersionDocument(
                    version_id=version_id,
                    format=format,
                    content=content,
                    sha256=hashlib.sha256(content).hexdigest(),
                    size=len(content),
                )
            )
    except IntegrityError:
        pass  # another request stored it first: serve theirs, so that every copy is the same
    stored = _stored(version, format)
    assert stored is not None
    return stored


def version_document(version: PublishedVersion, format: str, permalink: str) -> StoredDocument:
    """Version `version` as `format` ("docx" or "pdf"): the stored file, made and stored (flushed,
    the view commits) the first time. `permalink` is the version's address, printed in the file.

    Raises DocumentUnavailable for a PDF when LibreOffice is missing or fails.
    """
    stored = _stored(version, format)
    if stored is not None:
        return stored
    if format == "pdf":
        if not conversion.converter_available():
            raise DocumentUnavailable(
                "The PDF is not available on this server: it has no LibreOffice to make it. "
                "The Word document has the same text.",
                installed=False,
            )
        word = version_document(version, "docx", permalink)  # the PDF is the stored Word file, converted
    version_id = db.session.scalar(
        select(Version.id).where(Version.vision_id == version.vision_id, Version.number == version.number)
    )
    # End the transaction before making the file (keeping a Word file just stored for this PDF): no
    # lock is held while LibreOffice works, and SQLite's next transaction starts with the insert
    # (a reader overtaken by another writer could not become a writer).
    db.session.commit()
    if format == "pdf":
        try:
            content = conversion.convert(word.content, ".docx", "pdf")
        except conversion.ConversionFailed as failure:
            log.error("PDF of %s version %s not made: %s", version.slug, version.number, failure)
            raise DocumentUnavailable(
                "The PDF could not be made just now. Try again in a minute; the Word document has the same text.",
                installed=True,
            ) from None
    else:
        content = version_docx(version, permalink)
    return _store(version_id, version, format, content)


def comparison_document(slug: str, a: int, b: int) -> bytes | None:
    """Versions a and b of the vision `slug` compared, as a .docx with tracked changes; None when
    either version does not exist. Three queries; the file is kept per process for as long as the
    names it credits stay the same."""
    comparison = compare_versions(slug, a, b)
    if comparison is None:
        return None
    authors = tracked_changes.change_authors(comparison)
    key = (comparison.older.vision_id, a, b, tuple(sorted(authors.items())))
    cache = app_cache("comparison_document", COMPARISONS_CACHED)
    return cache.get_or_compute(key, lambda: tracked_changes.comparison_docx(comparison, authors))
