"""Search: one public page per vision, a plain GET form whose results follow it.

What each person may find is decided in the service (services.py); the view reads the query
string, shows the form's message beside the search box when what was typed cannot be searched
(400), and lists the page of results asked for.
"""

from __future__ import annotations

import re
from typing import Any

from flask import Blueprint, render_template, request
from flask_login import current_user

from ..exceptions import ValidationError
from ..pagination import page_links, parse_page
from ..permissions import can_moderate
from ..proposals.services import STATUS_LABELS
from ..visions.lookup import get_vision_or_404
from ..visions.services import element_labels, working_tree
from . import services
from .models import SEARCHED_KINDS
from .query import MOST_CHARACTERS, clean_typed, read_search

bp = Blueprint("search", __name__)

ELEMENT_KEY = re.compile(r"(statement|ambition|objective|condition)-[0-9]{1,9}")


def search_filters(args: Any) -> services.SearchFilters:
    """The search from the query string; an unknown kind or element is no filter."""
    kind = args.get("kind", "")
    element_key = args.get("element", "")
    return services.SearchFilters(
        typed=clean_typed(args.get("q")),
        kind=kind if kind in SEARCHED_KINDS else "",
        element_key=element_key if ELEMENT_KEY.fullmatch(element_key) else "",
    )


@bp.get("/visions/<slug:slug>/search")
def search(slug: str):
    vision = get_vision_or_404(slug)
    filters = search_filters(request.args)
    page = parse_page(request.args.get("page"))
    result, errors = None, {}
    if filters.typed:
        try:
            wanted = read_search(filters.typed)
        except ValidationError as error:
            errors = error.errors
        else:
            element_id = services.element_for_filter(vision, filters.element_key)
            if filters.element_key and element_id is None:
                result = services.SearchResult(page=page)  # nothing is said on an element that does not exist
            else:
                result = services.search_vision(vision, wanted, filters, element_id, page, current_user)
    tree = working_tree(vision)
    keys = {row.element_key for row in result.rows if row.element_key} if result else set()
    return render_template(
        "search/search.html",
        vision=vision,
        tree=tree,
        labels=element_labels(vision, keys | ({filters.element_key} - {""}), tree),
        filters=filters,
        result=result,
        errors=errors,
        kinds=SEARCHED_KINDS,
        status_labels=STATUS_LABELS,
        most_characters=MOST_CHARACTERS,
        phrase_window=services.PHRASE_WINDOW,
        sees_hidden=can_moderate(current_user),
        page_url=page_links(
            "search.search", slug=slug, q=filters.typed, kind=filters.kind, element=filters.element_key
        ),
    ), (400 if errors else 200)
