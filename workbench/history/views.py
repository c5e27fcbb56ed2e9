"""History between versions: compare any two versions, element timelines, the Atom feed (issue 6).

The comparison of two published versions never changes: it is rendered once and served from the
same immutable cache as the permalinks (strong ETag, a year's `immutable` caching, 304 without the
database). Like a permalink it is the same for everyone: nothing personal is rendered into it.
`a > b` redirects (301) to the ordered URL: a comparison reads from the older to the newer version.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any

from flask import Blueprint, Response, abort, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup

from ..auth.redirects import members_only
from ..caching import app_cache
from ..diff_views import DEFAULT_DIFF_VIEW, DIFF_VIEWS, diff_view_mode
from ..numbers import whole_number
from ..visions.lookup import get_vision_or_404
from ..visions.permalinks import cached_response, immutable_response
from ..visions.services import load_version
from ..visions.verification import prefixed
from . import services, who_wrote

bp = Blueprint("history", __name__)

FEED_CACHE = "public, max-age=300"

# Characters XML 1.0 cannot carry at all (user text is cleaned of most already).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")


# --- template helpers (versions page, element page) -----------------------------------------------


@bp.app_template_global("versions_history")
def versions_history(vision: Any, versions: Sequence[Any], page: Any = 1) -> Markup:
    """One page of the versions with their changelogs and credits, rendered
    (history/_versions_list.html). Two queries (names, moderation); the rendering is kept per
    process for as long as the versions, the names and the moderation it shows stay the same."""
    number, pages = services.page_of(len(versions), page)
    per_page = services.VERSIONS_PER_PAGE
    chosen = versions[(number - 1) * per_page : number * per_page]
    context = services.changelog_context(chosen)
    key = (vision.id, vision.latest_version_number, len(versions), number, context.fingerprint)
    cache = app_cache("versions_fragment", 32)
    html = cache.get(key)
    if html is None:
        history = services.HistoryPage(
            versions=services.describe_versions(chosen, context), page=number, pages=pages, total=len(versions)
        )
        html = cache.put(key, render_template("history/_versions_list.html", vision=vision, history=history))
    return Markup(html)


@bp.app_template_global("element_timeline")
def element_timeline(vision: Any, key: str) -> list[services.TimelineEntry]:
    return services.element_timeline(vision, key)


# --- compare --------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/compare")
def choose(slug: str):
    """Pick two versions (a GET form on the versions page): redirects to the comparison's URL."""
    vision = get_vision_or_404(slug)
    raw_from, raw_to = request.args.get("from", ""), request.args.get("to", "")
    errors: dict[str, str] = {}
    numbers = {}
    if "from" in request.args or "to" in request.args:
        for name, raw in (("from", raw_from), ("to", raw_to)):
            number = whole_number(raw, maximum=vision.latest_version_number)
            if number is None:
                errors[name] = (
                    f"Choose a version from 1 to {vision.latest_version_number}"
                    if vision.latest_version_number
                    else "No version has been published yet"
                )
            else:
                numbers[name] = number
        if not errors and numbers["from"] == numbers["to"]:
            errors["to"] = "Choose two different versions"
        if not errors:
            a, b = sorted((numbers["from"], numbers["to"]))
            view = diff_view_mode()
            return redirect(
                url_for(".compare", slug=slug, a=a, b=b, **({"view": view} if view != DEFAULT_DIFF_VIEW else {}))
            )
    latest = vision.latest_version_number
    return (
        render_template(
            "history/choose.html",
            vision=vision,
            errors=errors,
            selected={
                "from": numbers.get("from", max(latest - 1, 1)),
                "to": numbers.get("to", latest),
            },
        ),
        400 if errors else 200,
    )


@bp.get("/visions/<slug:slug>/compare/<posint:a>...<posint:b>")
def compare(slug: str, a: int, b: int):
    mode = diff_view_mode()
    if a > b:
        return redirect(url_for(".compare", slug=slug, a=b, b=a, **({"view": mode} if mode != DEFAULT_DIFF_VIEW else {})), 301)

    def render():
        comparison = services.compare_versions(slug, a, b)
        if comparison is None:
            return None
        return (
            render_template(
                "history/compare.html",
                comparison=comparison,
                older=comparison.older,
                newer=comparison.newer,
                diff=comparison.diff,
                slug=slug,
                mode=mode,
                diff_views=DIFF_VIEWS,
            ),
            "text/html",
        )

    return immutable_response((request.host, "compare", slug, a, b, mode), render) or abort(404)


@bp.get("/visions/<slug:slug>/compare/<posint:a>...<posint:b>.json")
def compare_json(slug: str, a: int, b: int):
    """What changed from version a to version b as open data: every element added, removed,
    moved, renumbered or reworded (`DocumentDiff.records`), each place said as data and in words.
    Immutable like the comparison page; `a > b` redirects to the ordered URL."""
    if a > b:
        return redirect(url_for(".compare_json", slug=slug, a=b, b=a), 301)

    def render():
        comparison = services.compare_versions(slug, a, b)
        if comparison is None:
            return None
        base = f"{request.host_url.rstrip('/')}/visions/{slug}"
        document = services.comparison_document(comparison, base)
        return json.dumps(document, ensure_ascii=False, indent=2), "application/json"

    return immutable_response((request.host, "compare-json", slug, a, b), render) or abort(404)


# --- the Atom feed --------------------------------------------------------------------------------


def xml_text(value: Any) -> str:
    """Text safe for XML 1.0 (escaping is the template's autoescape; this drops forbidden characters)."""
    return _NOT_XML.sub("", "" if value is None else str(value))


@bp.get("/visions/<slug:slug>/feed.atom")
def feed(slug: str):
    """New versions of the vision as an Atom 1.0 feed: permalink, date, notes, changelog summary."""
    vision = get_vision_or_404(slug)
    entries = services.feed_versions(vision)
    base = request.host_url.rstrip("/")
    text = render_template(
        "history/feed.xml",
        vision=vision,
        entries=entries,
        base=base,
        xml=xml_text,
        summary=services.feed_summary,
    )
    response = Response(text, mimetype="application/atom+xml")
    response.set_etag(hashlib.sha256(text.encode("utf-8")).hexdigest()[:40])
    response.headers["Cache-Control"] = FEED_CACHE
    return response.make_conditional(request)


# --- who wrote each word (issue 18, item 1; history/who_wrote.py) ----------------------------------

# The spans of a version never change, but the names credited can (an account deleted, a proposal
# hidden): the rendering is kept per process under a key that holds the credited names'
# fingerprint, and browsers revalidate after a few minutes instead of keeping it for a year.
WHO_WROTE_CACHE = "public, max-age=300"


def _version_with_provenance(slug: str, number: int) -> tuple[Any, dict[str, Any], Any]:
    """The version, its spans by element key and the credits of their sources; 404 when there is
    no such version or no provenance was recorded for it."""
    published = load_version(slug, number)
    if published is None:
        abort(404)
    spans = who_wrote.stored_provenance(published)
    if spans is None:
        abort(404)
    return published, spans, who_wrote.credits_for(who_wrote.all_sources(spans))


@bp.get("/visions/<slug:slug>/v/<posint:number>/who-wrote")
def who_wrote_page(slug: str, number: int):
    published, spans, credits = _version_with_provenance(slug, number)

    def render() -> str:
        sources = who_wrote.all_sources(spans)
        legend = [(n, who_wrote.credit(source, credits)) for n, source in enumerate(sources, start=1)]
        return render_template(
            "history/who_wrote.html",
            version=published,
            spans=spans,
            numbers={source: n for n, source in enumerate(sources, start=1)},
            legend=legend,
            paragraphs_of=who_wrote.paragraphs_of,
        )

    key = (request.host, "who-wrote", slug, number, credits.fingerprint)
    return cached_response(key, lambda: (render(), "text/html"), WHO_WROTE_CACHE)


@bp.get("/visions/<slug:slug>/v/<posint:number>/who-wrote.json")
def who_wrote_json(slug: str, number: int):
    published, spans, credits = _version_with_provenance(slug, number)

    def render() -> str:
        base = f"{request.host_url.rstrip('/')}/visions/{slug}/v/{number}"
        document = {
            "vision": slug,
            "version": number,
            "permalink": f"{base}/",
            "version_json": f"{base}.json",
            "content_hash": prefixed(published.content_hash),
            "offsets": "characters (Unicode code points) of the element's title or body, end exclusive",
            "elements": [
                {"key": e["key"], "provenance": who_wrote.public_spans(spans[e["key"]], credits)}
                for e in published.elements
                if e["key"] in spans
            ],
        }
        return json.dumps(document, ensure_ascii=False, indent=2)

    key = (request.host, "who-wrote.json", slug, number, credits.fingerprint)
    return cached_response(key, lambda: (render(), "application/json"), WHO_WROTE_CACHE)


@bp.get("/account/your-words")
@members_only
def your_words():
    """The versions with words of the signed-in person in them, and where."""
    return render_template("history/your_words.html", versions=who_wrote.your_words(current_user))
