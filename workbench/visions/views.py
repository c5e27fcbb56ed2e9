"""Public reading: the visions, every published version at its permalink, and living elements."""

from __future__ import annotations

import json

from flask import Blueprint, abort, current_app, jsonify, render_template, request, send_from_directory
from flask_login import current_user

from .. import permissions
from ..aligned import register as aligned_work
from ..extensions import db
from ..history.services import element_timeline
from ..notifications.following import is_following
from ..participation.counts import element_counts_of
from ..proposals import services as proposals

from . import services, verification
from .lookup import get_vision_or_404
from .permalinks import cached_fragment, immutable_response

bp = Blueprint("visions", __name__)

ALTERED_TITLE = "This version cannot be shown"
ALTERED_MESSAGE = (
    "Version {number} of this vision no longer matches the content hash and signature it was published "
    "with, so it is not shown: what you would read might not be what was published. The site's "
    "operators have been alerted and will restore it. Every other version is still available."
)


@bp.get("/")
def index():
    return render_template("visions/index.html", visions=services.list_visions())


@bp.get("/favicon.ico")
def favicon():
    return send_from_directory(current_app.static_folder, "favicon.ico", max_age=86400)


@bp.get("/visions/<slug:slug>/")
def show(slug: str):
    vision = get_vision_or_404(slug)
    version = None
    if vision.latest_version_number:
        version = services.load_version(slug, vision.latest_version_number)
    document = None
    if version is not None:
        document = cached_fragment(
            (request.host, "document", slug, version.number),
            lambda: render_template("visions/_document.html", version=version),
        )
    return render_template(
        "visions/show.html",
        vision=vision,
        version=version,
        document=document,
        aligned_counts=aligned_work.initiative_counts_by_key(vision),
        is_following=is_following(current_user, vision),
        element_counts=element_counts_of(vision) if version is not None else None,
    )


@bp.get("/visions/<slug:slug>/v/<posint:number>/")
def version(slug: str, number: int):
    def render():
        published = services.load_version(slug, number)
        if published is None:
            return None
        return render_template("visions/version.html", version=published), "text/html"

    return immutable_response((request.host, "page", slug, number), render) or abort(404)


@bp.get("/visions/<slug:slug>/v/<posint:number>/<element_key:key>")
def version_element(slug: str, number: int, key: str):
    def render():
        published = services.load_version(slug, number)
        element = published and published.element(key)
        if not element:
            return None
        children = [e for e in published.elements if e["parent"] == key]
        return (
            render_template(
                "visions/version_element.html", version=published, element=element, children=children
            ),
            "text/html",
        )

    return immutable_response((request.host, "element", slug, number, key), render) or abort(404)


@bp.get("/visions/<slug:slug>/v/<posint:number>.json")
def version_json(slug: str, number: int):
    def render():
        published = services.load_version(slug, number)
        if published is None:
            return None
        document = published.document(f"{request.host_url.rstrip('/')}/visions/{slug}/v/{number}/")
        return json.dumps(document, ensure_ascii=False, indent=2), "application/json"

    return immutable_response((request.host, "json", slug, number), render) or abort(404)


@bp.get("/visions/<slug:slug>/versions")
def versions(slug: str):
    vision = get_vision_or_404(slug)
    return render_template(
        "visions/versions.html", vision=vision, versions=services.list_versions(vision)
    )


@bp.get("/visions/<slug:slug>/elements/<element_key:key>")
def element(slug: str, key: str):
    found = services.find_element(slug, key)
    if found is None:
        abort(404)
    element, vision = found
    current = next((e for e in services.working_tree(vision) if e["key"] == key), None)
    removal = services.element_removal(vision, key) if current is None else None
    published = None
    if vision.latest_version_number:
        latest = services.load_version(slug, vision.latest_version_number)
        published = latest.element(key) if latest else None
    open_proposals, open_total = proposals.open_proposals_on(element, limit=proposals.PER_PAGE)
    return render_template(
        "visions/element.html",
        vision=vision,
        element=element,
        current=current,
        removal=removal,
        label=current["label"] if current else (removal.label if removal else key),
        published=published,
        open_proposals=open_proposals,
        open_total=open_total,
        can_propose=current is not None and permissions.can_propose(current_user, vision),
        signed_in=permissions.is_member(current_user),
        timeline=element_timeline(vision, key),
        aligned=aligned_work.element_initiatives(vision, element),
        is_following=is_following(current_user, element),
    )


# --- verifying versions (visions/verification.py) -------------------------------------------------


@bp.app_errorhandler(verification.VersionAltered)
def version_altered(error: verification.VersionAltered):
    """Any page that would show an altered version: a 503 (it is to be restored from a backup, and
    no cache may keep this answer), logged as critical where it was found."""
    db.session.rollback()
    message = ALTERED_MESSAGE.format(number=error.number)
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        response = jsonify(error=ALTERED_TITLE, message=message)
    else:
        page = render_template("errors/error.html", code=503, title=ALTERED_TITLE, message=message, typed=[])
        response = current_app.make_response(page)
    response.status_code = 503
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/.well-known/vision-workbench-signing-key")
def signing_key():
    """The site's public Ed25519 key (and earlier ones), to check the versions' signatures."""
    keys = verification.configured_site_keys()
    if keys is None:
        abort(404)
    response = jsonify(
        algorithm=verification.ALGORITHM,
        public_key=keys.public_key,
        public_key_pem=keys.public_key_pem,
        retired_keys=list(keys.retired),
    )
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response


@bp.get("/about/verifying")
def about_verifying():
    keys = verification.configured_site_keys()
    return render_template("visions/verifying.html", public_key=keys.public_key if keys else None)
