"""The consultation report of a published version, as a printable page and a Word document.

Public, like the version. The report changes only with moderation and names (the period it covers
is closed), so it is revalidated like the who-wrote page: cached per process under a digest of
what it shows, with a strong ETag and `max-age=300` (visions.permalinks.cached_response).
"""

from __future__ import annotations

import hashlib

from flask import Blueprint, Response, abort, render_template, request

from ..visions.permalinks import cached_response
from . import services
from .word import report_docx

bp = Blueprint("reporting", __name__)

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
REPORT_CACHE = "public, max-age=300"


def _report_or_404(slug: str, number: int) -> services.ConsultationReport:
    report = services.consultation_report(slug, number)
    if report is None:
        abort(404)
    return report


@bp.get("/visions/<slug:slug>/v/<posint:number>/report")
def report_page(slug: str, number: int):
    report = _report_or_404(slug, number)
    return cached_response(
        (request.host, "report", slug, number, report.fingerprint),
        lambda: (render_template("reporting/report.html", report=report, kinds=services.KINDS), "text/html"),
        REPORT_CACHE,
    )


@bp.get("/visions/<slug:slug>/v/<posint:number>/report.docx")
def report_word(slug: str, number: int):
    report = _report_or_404(slug, number)
    body = report_docx(report, f"{request.host_url.rstrip('/')}/visions/{slug}")
    response = Response(body, mimetype=DOCX)
    response.headers["Content-Disposition"] = f'attachment; filename="{slug}-v{number}-report.docx"'
    response.headers["Cache-Control"] = REPORT_CACHE
    response.set_etag(hashlib.sha256(body).hexdigest()[:40])
    return response.make_conditional(request)
