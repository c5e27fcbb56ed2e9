"""A registration as an iCalendar file (RFC 5545): one VEVENT on the site's clock, with TZID and
the VTIMEZONE that defines it, so that a calendar shows the session at the right time however its
own zone is set.

Pure: no Flask, no database. The VTIMEZONE is read from the zone's own rules (zoneinfo): each
change of offset from the year before the session to the year after it is one observance, so it is
right for any zone (Europe/London: GMT and BST), and for UTC it is one observance.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PRODUCT = "-//Vision Workbench//Webinars//EN"


@dataclass(frozen=True)
class Event:
    uid: str  # stable per registration: a calendar replaces the event it already holds
    starts_at: datetime  # aware
    ends_at: datetime  # aware
    summary: str
    description: str
    location: str  # the joining link
    url: str  # the session's page
    stamp: datetime  # aware: when the file was made


def escape_text(value: str) -> str:
    """A TEXT value (RFC 5545 3.3.11): backslash, semicolon, comma and newlines escaped."""
    return (
        value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\n").replace("\r", "\n")
        .replace("\n", "\\n")
    )


def fold(line: str) -> str:
    """A content line folded at 75 octets (RFC 5545 3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    limit = 75
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > limit:
            out.append(current)
            current, size, limit = " ", 1, 75
        current += char
        size += width
    out.append(current)
    return "\r\n".join(out)


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _local(moment: datetime) -> str:
    return moment.strftime("%Y%m%dT%H%M%S")


def _offset(delta: timedelta | None) -> str:
    minutes = int((delta or timedelta(0)).total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    minutes = abs(minutes)
    return f"{sign}{minutes // 60:02d}{minutes % 60:02d}"


def _changes(zone: ZoneInfo, start: datetime, end: datetime) -> Iterator[datetime]:
    """The UTC moments in [start, end) when the zone's offset changes (to the minute)."""
    step = timedelta(days=1)
    moment = start
    while moment < end:
        later = moment + step
        if moment.astimezone(zone).utcoffset() != later.astimezone(zone).utcoffset():
            low, high = moment, later  # the change is in (low, high]
            while high - low > timedelta(minutes=1):
                middle = low + (high - low) / 2
                if middle.astimezone(zone).utcoffset() == low.astimezone(zone).utcoffset():
                    low = middle
                else:
                    high = middle
            yield high.replace(second=0, microsecond=0)
        moment = later


def vtimezone(zone: ZoneInfo, around: datetime) -> list[str]:
    """The VTIMEZONE lines of `zone`, with every observance from a year before `around` to a year after."""
    start = datetime(around.year - 1, 1, 1, tzinfo=timezone.utc)
    end = datetime(around.year + 2, 1, 1, tzinfo=timezone.utc)
    first = start.astimezone(zone)
    lines = ["BEGIN:VTIMEZONE", f"TZID:{zone.key}"]

    def observance(onset_utc: datetime, before: timedelta | None, after_local: datetime) -> list[str]:
        kind = "DAYLIGHT" if after_local.dst() else "STANDARD"
        # DTSTART of an observance is the local time of its onset on the clock in force before it.
        onset_local = (onset_utc + (before or timedelta(0))).replace(tzinfo=None)
        return [
            f"BEGIN:{kind}",
            f"DTSTART:{_local(onset_local)}",
            f"TZOFFSETFROM:{_offset(before)}",
            f"TZOFFSETTO:{_offset(after_local.utcoffset())}",
            f"TZNAME:{after_local.tzname()}",
            f"END:{kind}",
        ]

    lines += observance(start, first.utcoffset(), first)
    for change in _changes(zone, start, end):
        before = (change - timedelta(minutes=1)).astimezone(zone).utcoffset()
        lines += observance(change, before, change.astimezone(zone))
    lines.append("END:VTIMEZONE")
    return lines


def ics(event: Event, zone: ZoneInfo) -> str:
    """The calendar file (CRLF line ends, folded lines): the event on `zone`'s clock."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{PRODUCT}",
        "CALSCALE:GREGORIAN",
        "METHOD:PUBLISH",
        *vtimezone(zone, event.starts_at.astimezone(zone)),
        "BEGIN:VEVENT",
        f"UID:{escape_text(event.uid)}",
        "SEQUENCE:0",
        f"DTSTAMP:{_utc(event.stamp)}",
        f"DTSTART;TZID={zone.key}:{_local(event.starts_at.astimezone(zone))}",
        f"DTEND;TZID={zone.key}:{_local(event.ends_at.astimezone(zone))}",
        f"SUMMARY:{escape_text(event.summary)}",
        f"DESCRIPTION:{escape_text(event.description)}",
        f"LOCATION:{escape_text(event.location)}",
        f"URL:{event.url}",
        "STATUS:CONFIRMED",
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(fold(line) + "\r\n" for line in lines)
