"""Data for analysts (issue 14): a vision's proposals, comments and reflections, votes and
participants as files, each described by a Frictionless data package.

Public, at `/visions/<slug>/data/`: the "Download the data" page, `about` (every field in words),
`datapackage.json`, and `<table>.csv` / `<table>.json`. Facilitators, at `.../data/facilitators/`:
the same tables with hidden items marked, also as `.xlsx`, and their own `datapackage.json`.
CSV and JSON are streamed as the rows are read; an XLSX file is finished on disk, then sent.
The files are named as the data package names them, so that a folder of downloads validates.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from typing import Any

import click
from flask import Blueprint, Response, abort, current_app, render_template, request, stream_with_context, url_for
from flask_login import current_user

from ..auth.redirects import require_member
from ..limits import downloads_per_address
from ..exports import csv_stream, file_chunks, iso_time, json_stream, xlsx_file
from ..models import Vision, utcnow
from ..visions.lookup import get_vision_or_404
from .exports import XLSX_CELL_LIMIT, Export, export_rows, may_export, parse_export
from .fields import FACILITATORS, FORMAT_NAMES, FORMATS, MEDIA_TYPES, PROPOSAL_STATUSES, PUBLIC, TABLES, data_package, file_name

bp = Blueprint("analysis", __name__)

PRIVATE = "private, no-store"


# --- pages ------------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/data/")
def download(slug: str):
    vision = get_vision_or_404(slug)
    return render_template(
        "analysis/download.html",
        vision=vision,
        tables=TABLES.values(),
        formats=FORMATS,
        format_names=FORMAT_NAMES,
        file_name=file_name,
        facilitator=may_export(current_user, FACILITATORS),
        excel_cells=XLSX_CELL_LIMIT,
        excel_rows={t.name: XLSX_CELL_LIMIT // len(t.columns(FACILITATORS)) for t in TABLES.values()},
    )


@bp.get("/visions/<slug:slug>/data/about")
def about(slug: str):
    vision = get_vision_or_404(slug)
    return render_template("analysis/about.html", vision=vision, tables=TABLES.values(), statuses=PROPOSAL_STATUSES)


# --- the data packages ------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/data/datapackage.json")
def package(slug: str):
    response = _package(get_vision_or_404(slug), PUBLIC)
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/visions/<slug:slug>/data/facilitators/datapackage.json")
def facilitators_package(slug: str):
    vision = get_vision_or_404(slug)
    _require_facilitator()
    response = _package(vision, FACILITATORS)
    response.headers["Cache-Control"] = PRIVATE
    return response


def _package(vision: Vision, scope: str) -> Response:
    which = "" if scope == PUBLIC else ", hidden items included (for facilitators)"
    descriptor = data_package(
        name=f"{vision.slug}-{scope}",
        title=f"{vision.title}: proposals, comments, votes and participants{which}",
        description=(
            "What people said about the vision and what the facilitators decided, as open data. "
            f"Every field is explained at {url_for('analysis.about', slug=vision.slug, _external=True)}"
        ),
        homepage=url_for("analysis.download", slug=vision.slug, _external=True),
        created=iso_time(utcnow()),
        scope=scope,
    )
    return Response(json.dumps(descriptor, ensure_ascii=False, indent=2), mimetype="application/json")


# --- the files --------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/data/<name>.<fmt>")
@downloads_per_address("RATELIMIT_EXPORT")
def table(slug: str, name: str, fmt: str):
    vision = get_vision_or_404(slug)
    response = _file(vision, parse_export(name, fmt, PUBLIC, request.args))
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/visions/<slug:slug>/data/facilitators/<name>.<fmt>")
def facilitators_table(slug: str, name: str, fmt: str):
    vision = get_vision_or_404(slug)
    _require_facilitator()
    response = _file(vision, parse_export(name, fmt, FACILITATORS, request.args))
    response.headers["Cache-Control"] = PRIVATE
    return response


def _require_facilitator() -> None:
    require_member()
    if not may_export(current_user, FACILITATORS):
        abort(403)


def _url_makers() -> dict[str, Callable[[int], str]]:
    """Absolute addresses of proposals and comments, made by filling in the id (url_for per row
    would cost more than the rest of the row)."""
    makers = {}
    for kind, endpoint, argument in (("proposal", "proposals.show", "proposal_id"), ("comment", "discussion.comment", "comment_id")):
        head, tail = url_for(endpoint, **{argument: 987654321}, _external=True).split("987654321")
        makers[kind] = lambda id_, head=head, tail=tail: f"{head}{id_}{tail}"
    return makers


def _head(vision: Vision, export: Export) -> dict[str, Any]:
    package_endpoint = "analysis.package" if export.scope == PUBLIC else "analysis.facilitators_package"
    return {
        "schema_version": 1,
        "table": export.table.name,
        "title": export.table.title,
        "scope": export.scope,
        "vision": {"slug": vision.slug, "title": vision.title, "url": url_for("visions.show", slug=vision.slug, _external=True)},
        "generated_at": iso_time(utcnow()),
        "filters": export.filters,
        "data_package": url_for(package_endpoint, slug=vision.slug, _external=True),
        "documentation": url_for("analysis.about", slug=vision.slug, _external=True),
    }


def _file(vision: Vision, export: Export) -> Response:
    """The file `export` names: rows read (and permission checked) by the service, written here.
    CSV and JSON go out as they are written; an XLSX file once it is finished."""
    rows = export_rows(vision, export, current_user, secret_key=current_app.secret_key, url_of=_url_makers())
    if export.format == "xlsx":
        stream = xlsx_file(export.table.title, export.columns, rows)
        response = Response(file_chunks(stream), mimetype=MEDIA_TYPES["xlsx"], direct_passthrough=True)
        response.content_length = os.fstat(stream.fileno()).st_size
    else:
        if export.format == "csv":
            chunks, content_type = csv_stream(export.columns, rows), "text/csv; charset=utf-8; header=present"
        else:
            chunks, content_type = json_stream(_head(vision, export), export.columns, rows), "application/json; charset=utf-8"
        response = Response(stream_with_context(chunk.encode("utf-8") for chunk in chunks), content_type=content_type)
    response.headers["Content-Disposition"] = f'attachment; filename="{file_name(export.table, export.format)}"'
    return response


# --- the command line: large files off the web workers ------------------------------------------------


@bp.cli.command("export")
@click.argument("slug")
@click.argument("name", type=click.Choice(list(TABLES)))
@click.option("--format", "fmt", type=click.Choice(["csv", "json", "xlsx"]), default="csv", show_default=True)
@click.option("--facilitators", is_flag=True, help="Include hidden items, marked (the facilitators' file).")
@click.option("--status", help="Proposals only: open, accepted, rejected or withdrawn.")
@click.option("--output", "-o", type=click.Path(dir_okay=False, writable=True), help="Default: standard output.")
def export_command(slug: str, name: str, fmt: str, facilitators: bool, status: str | None, output: str | None) -> None:
    """Write one of a vision's files (as the site serves it) to OUTPUT: `flask --app wsgi analysis
    export SLUG comments --format xlsx --facilitators -o comments.xlsx`."""
    from sqlalchemy import select

    from ..exceptions import WorkbenchError
    from ..models import db
    from ..worker import links_context

    vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
    if vision is None:
        raise click.ClickException(f"There is no vision {slug!r}.")
    scope = FACILITATORS if facilitators else PUBLIC
    try:
        # Checked as the facilitators' files are (every format), then made in the scope asked for.
        export = parse_export(name, fmt, FACILITATORS, {"status": status} if status else {})
    except WorkbenchError as error:
        raise click.ClickException(error.message) from error
    export = Export(export.table, fmt, scope, export.status)
    with links_context():
        rows = export_rows(
            vision, export, _CommandLine(), secret_key=current_app.secret_key, url_of=_url_makers(), bounded=False
        )
        target = open(output, "wb") if output else sys.stdout.buffer  # noqa: SIM115 - closed below
        try:
            if fmt == "xlsx":
                with xlsx_file(export.table.title, export.columns, rows) as stream:
                    shutil.copyfileobj(stream, target)
            else:
                chunks = csv_stream(export.columns, rows) if fmt == "csv" else json_stream(_head(vision, export), export.columns, rows)
                for chunk in chunks:
                    target.write(chunk.encode("utf-8"))
        finally:
            if output:
                target.close()


class _CommandLine:
    """Whoever runs the command line may read the database anyway: every scope is theirs."""

    is_authenticated = True
    is_active = True
    is_facilitator = True
