"""Template filters and globals shared by every page."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from flask import Flask

from . import diff_markup
from .visions.snapshots import KIND_NAMES, KIND_PLURALS, paragraphs


def format_date(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return f"{value.day} {value:%B %Y}"


def format_datetime(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    value = value.astimezone(timezone.utc)
    return f"{value.day} {value:%B %Y}, {value:%H:%M} UTC"


def iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(fromjson=json.loads, date=format_date, datetime=format_datetime, iso=iso, paragraphs=paragraphs)
    app.jinja_env.globals.update(KIND_NAMES=KIND_NAMES, KIND_PLURALS=KIND_PLURALS)
    diff_markup.install(app.jinja_env)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
