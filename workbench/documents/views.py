"""Documents to download: every published version as Word and PDF, comparisons as Word with
tracked changes (issue 14 item 6, issue 17 item 6).

A version's files never change once made (documents/services.py stores them): they are served like
the permalink, with a strong ETag (the file's SHA-256), a year's `immutable` caching, and a 304 for
a known ETag without touching the database. A comparison's file credits people by their current
names, so it is cached for minutes, not forever.
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, render_template, request

from ..caching import app_cache
from ..exceptions import NotFound
from ..extensions import db
from ..visions.permalinks import IMMUTABLE
from ..visions.services import load_version
from . import services

bp = Blueprint("documents", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
PDF = "application/pdf"
COMPARISON_CACHE = "public, max-age=300"
ETAGS_KEPT = 1024


def _file_response(content: bytes, etag: str, mimetype: str, filename: str, cache: str, inline: bool = False) -> Response:
    response = Response(content, mimetype=mimetype)
    response.set_etag(etag)
    response.headers["Cache-Control"] = cache
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    return response


def _version_file(slug: str, number: int, format: str, mimetype: str) -> Response:
    etags = app_cache("version_document_etag", ETAGS_KEPT)
    key = (slug, number, format)
    known = etags.get(key)
    if known is not None and request.if_none_match.contains(known):
        response = Response(status=304)
        response.set_etag(known)
        response.headers["Cache-Control"] = IMMUTABLE
        return response
    version = load_version(slug, number) or abort(404)
    document = services.version_document(version, format, permalink=f"{request.host_url}visions/{slug}/v/{number}/")
    db.session.commit()
    etags.put(key, document.sha256)
    filename = f"{slug}-version-{number}.{format}"
    response = _file_response(document.content, document.sha256, mimetype, filename, IMMUTABLE, inline=format == "pdf")
    return response.make_conditional(request)


@bp.get("/visions/<slug:slug>/v/<posint:number>.docx")
def version_word(slug: str, number: int):
    return _version_file(slug, number, "docx", DOCX)


@bp.get("/visions/<slug:slug>/v/<posint:number>.pdf")
def version_pdf(slug: str, number: int):
    return _version_file(slug, number, "pdf", PDF)


@bp.get("/visions/<slug:slug>/compare/<posint:a>...<posint:b>.docx")
def comparison_word(slug: str, a: int, b: int):
    if a > b:
        raise NotFound(
            f"A comparison reads from the older version to the newer one: ask for "
            f"/visions/{slug}/compare/{b}...{a}.docx instead."
        )
    content = services.comparison_document(slug, a, b)
    if content is None:
        abort(404)
    etag = hashlib.sha256(content).hexdigest()
    filename = f"{slug}-changes-{a}-to-{b}.docx"
    return _file_response(content, etag, DOCX, filename, COMPARISON_CACHE).make_conditional(request)


@bp.errorhandler(services.DocumentUnavailable)
def unavailable(error: services.DocumentUnavailable):
    """No PDF on this server (or not now): say so, and point to the Word file with the same text."""
    db.session.rollback()
    arguments = request.view_args or {}
    page = render_template(
        "documents/unavailable.html",
        message=error.message,
        installed=error.installed,
        slug=arguments.get("slug"),
        number=arguments.get("number"),
    )
    response = Response(page, status=503, mimetype="text/html")
    response.headers["Cache-Control"] = "no-store"
    if error.installed:
        response.headers["Retry-After"] = "60"
    return response
