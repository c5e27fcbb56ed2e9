"""The participation page: public, read-only (parse -> load or 404 -> counts -> render)."""

from __future__ import annotations

from flask import Blueprint, render_template

from ..visions import services as visions
from ..visions.lookup import get_vision_or_404
from . import charts
from .counts import participation_of

bp = Blueprint("participation", __name__)


@bp.get("/visions/<slug:slug>/participation")
def show(slug: str):
    vision = get_vision_or_404(slug)
    version = visions.load_version(slug, vision.latest_version_number) if vision.latest_version_number else None
    elements = charts.element_rows(version.elements if version is not None else visions.working_tree(vision))
    participation = participation_of(vision)
    return render_template(
        "participation/show.html",
        vision=vision,
        version=version,
        participation=participation,
        charts=[
            charts.line_chart(participation),
            charts.ambition_chart(participation, elements),
            charts.element_chart(participation, elements),
            charts.outcome_chart(participation),
            charts.participant_chart(participation),
        ],
    )
