"""Template filters and globals shared by every page.

Moments are stored in UTC and shown in the site's time zone (the `TIME_ZONE` setting, default
Europe/London), with its abbreviation: "30 November 2026, 23:59 GMT", "1 June 2026, 09:00 BST".
Machine-readable times (`iso`, `<time datetime>`) stay in UTC.
"""

from __future__ import annotations

import json
from datetime import date, datetime, timezone
from functools import lru_cache
from zoneinfo import ZoneInfo

from flask import Flask, current_app, has_app_context

from . import diff_markup
from .sentences import paragraphs_of
from .visions.snapshots import KIND_NAMES, KIND_PLURALS, paragraphs


DEFAULT_TIME_ZONE = "Europe/London"


@lru_cache(maxsize=8)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def site_zone() -> ZoneInfo:
    """The zone times are shown and entered in: the app's `TIME_ZONE` (checked when the app is
    configured), or Europe/London outside an app."""
    name = current_app.config.get("TIME_ZONE") if has_app_context() else None
    return _zone(name or DEFAULT_TIME_ZONE)


def zone_name(zone: ZoneInfo | None = None) -> str:
    """The zone's name as a reader knows it: "UK time", "Europe/Paris time"."""
    zone = zone or site_zone()
    return "UK time" if zone.key == "Europe/London" else f"{zone.key.replace('_', ' ')} time"


def zone_words(zone: ZoneInfo | None = None) -> str:
    """The zone as a reader knows it: "UK time (GMT in winter, BST in summer)", "Europe/Paris time
    (CET in winter, CEST in summer)", or "Asia/Tokyo time (JST)" where the clocks never change."""
    zone = zone or site_zone()
    name = zone_name(zone)
    year = datetime.now(timezone.utc).year
    moments = [datetime(year, 1, 15, 12, tzinfo=zone), datetime(year, 7, 15, 12, tzinfo=zone)]
    # Winter has the smaller offset, whichever half of the year it falls in.
    winter, summer = sorted(moments, key=lambda moment: moment.utcoffset())  # type: ignore[arg-type,return-value]
    if winter.tzname() == summer.tzname():
        return f"{name} ({winter.tzname()})"
    return f"{name} ({winter.tzname()} in winter, {summer.tzname()} in summer)"


def _aware(value: datetime | str) -> datetime:
    """A moment from a datetime or an ISO 8601 string; one without a zone is taken as UTC."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo is not None else value.replace(tzinfo=timezone.utc)


def local_time(value: datetime | str) -> datetime:
    """The moment on the site's clock (aware, in `site_zone()`)."""
    return _aware(value).astimezone(site_zone())


def format_date(value: datetime | date | str | None) -> str:
    """The day, on the site's clock: "30 November 2026"."""
    if value is None or value == "":
        return ""
    if isinstance(value, str) and len(value) == 10:
        value = date.fromisoformat(value)  # a day already: no clock to move it by
    elif isinstance(value, (str, datetime)):
        value = local_time(value)
    return f"{value.day} {value:%B %Y}"


def age_in_words(then: datetime, now: datetime | None = None) -> str:
    """How long ago, in words: "less than a minute", "5 minutes", "3 hours", "2 days", "6 weeks"."""
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - then).total_seconds()))

    def plural(n: int, word: str) -> str:
        return f"{n} {word}" if n == 1 else f"{n} {word}s"

    if seconds < 60:
        return "less than a minute"
    if seconds < 3600:
        return plural(seconds // 60, "minute")
    if seconds < 86400:
        return plural(seconds // 3600, "hour")
    days = seconds // 86400
    if days < 14:
        return plural(days, "day")
    if days < 70:
        return plural(days // 7, "week")
    return plural(days // 30, "month")


def format_datetime(value: datetime | str | None) -> str:
    """The moment on the site's clock, with the zone's abbreviation: "1 June 2026, 09:00 BST"."""
    if value is None or value == "":
        return ""
    value = local_time(value)
    return f"{value.day} {value:%B %Y}, {value:%H:%M} {value.tzname()}"


def iso(value: datetime | str | None) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def init_app(app: Flask) -> None:
    app.jinja_env.filters.update(fromjson=json.loads, date=format_date, datetime=format_datetime, iso=iso, paragraphs=paragraphs)
    app.jinja_env.globals.update(KIND_NAMES=KIND_NAMES, KIND_PLURALS=KIND_PLURALS, zone_words=zone_words)
    diff_markup.install(app.jinja_env)
    app.jinja_env.filters["sentences"] = paragraphs_of  # numbered paragraphs and sentences (issue 18)
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True
