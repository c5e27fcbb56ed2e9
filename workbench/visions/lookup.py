"""Loading a vision for a view: the one place that turns an unknown slug into a 404."""

from __future__ import annotations

from flask import abort
from sqlalchemy import select

from ..models import Vision, db


def get_vision_or_404(slug: str) -> Vision:
    vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
    if vision is None:
        abort(404)
    return vision
