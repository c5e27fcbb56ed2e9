"""Scheduling sessions: what facilitators type, checked in one place, and saved (flush; the view
commits). Times are typed on the site's clock (drafting/window.py: `parse_local`) and stored in UTC.

Raises ValidationError with a message per field, NotAllowed for anyone but facilitators.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from ..drafting.window import parse_local
from ..exceptions import NotAllowed, ValidationError
from ..models import User, Vision, Webinar, db, record_event, utcnow
from ..numbers import whole_number
from . import registrations
from ..permissions import can_manage_webinars

MOST_PLACES = 10_000
LONGEST = timedelta(hours=12)
TITLE_LENGTH = 200
DESCRIPTION_LENGTH = 5_000
LINK_LENGTH = 500


@dataclass(frozen=True)
class Schedule:
    """A session as the form sends it: text, as typed."""

    title: str = ""
    description: str = ""
    date: str = ""
    starts: str = ""
    ends: str = ""
    capacity: str = ""
    joining_link: str = ""
    recording_link: str = ""


@dataclass(frozen=True)
class Checked:
    title: str
    description: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    joining_link: str
    recording_link: str


def check_link(value: str, field: str, what: str, errors: dict[str, str], *, required: bool) -> str:
    """An https link (as typed, trimmed), or "" when empty and not required; problems go to `errors`."""
    link = (value or "").strip()
    if not link:
        if required:
            errors[field] = f"Enter the {what}, starting with https://"
        return ""
    parts = None
    try:
        parts = urlsplit(link)
    except ValueError:
        pass
    if len(link) > LINK_LENGTH:
        errors[field] = f"The {what} must be {LINK_LENGTH} characters or fewer"
    elif parts is None or parts.scheme.lower() != "https" or not parts.hostname or any(c.isspace() or ord(c) < 32 for c in link):
        errors[field] = f"Enter the {what} as a secure web address starting with https://, for example https://meet.example.org/abc"
    return link


def check_schedule(typed: Schedule, *, now: datetime, was: Webinar | None = None) -> Checked:
    """The session as it will be saved, or ValidationError with every problem at once."""
    errors: dict[str, str] = {}
    title = " ".join((typed.title or "").split())
    if not title:
        errors["title"] = "Enter a title"
    elif len(title) > TITLE_LENGTH:
        errors["title"] = f"The title must be {TITLE_LENGTH} characters or fewer"
    description = (typed.description or "").strip().replace("\r\n", "\n")
    if len(description) > DESCRIPTION_LENGTH:
        errors["description"] = f"The description must be {DESCRIPTION_LENGTH:,} characters or fewer"

    starts_at = ends_at = None
    if not (typed.date or "").strip():
        errors["date"] = "Enter the date of the session, for example 2027-03-31"
    if not (typed.starts or "").strip():
        errors["starts"] = "Enter the start time on the 24-hour clock, for example 10:00"
    if not (typed.ends or "").strip():
        errors["ends"] = "Enter the end time on the 24-hour clock, for example 11:30"
    if not errors.keys() & {"date", "starts", "ends"}:
        try:
            starts_at = parse_local(typed.date, typed.starts, "starts", "start")
        except ValidationError as error:
            errors.update({_field(k): v[0] for k, v in error.errors.items()})
        try:
            ends_at = parse_local(typed.date, typed.ends, "ends", "end")
        except ValidationError as error:
            errors.update({_field(k): v[0] for k, v in error.errors.items() if _field(k) not in errors})
    if starts_at is not None and ends_at is not None:
        moved = was is None or was.starts_at != starts_at
        if ends_at <= starts_at:
            errors["ends"] = "The end time must be after the start time (a session ends on the day it starts)"
        elif ends_at - starts_at > LONGEST:
            errors["ends"] = "A session can last at most 12 hours"
        if moved and starts_at <= now:
            errors["starts"] = "The start must be in the future"

    capacity = whole_number(typed.capacity, maximum=MOST_PLACES)
    if capacity is None:
        errors["capacity"] = f"Enter the number of places as a whole number from 1 to {MOST_PLACES:,}"
    elif was is not None and capacity < (taken := registrations.places_taken(was)):
        errors["capacity"] = (
            f"{taken} {'person is' if taken == 1 else 'people are'} registered already, so the session needs at "
            f"least {taken} places"
        )
    joining_link = check_link(typed.joining_link, "joining_link", "joining link", errors, required=True)
    recording_link = check_link(typed.recording_link, "recording_link", "link to the recording", errors, required=False)
    if recording_link and "recording_link" not in errors and (ends_at or now) > now:
        errors["recording_link"] = "You can add the recording once the session has taken place"
    if errors:
        raise ValidationError(errors)
    assert starts_at is not None and ends_at is not None and capacity is not None
    return Checked(title, description, starts_at, ends_at, capacity, joining_link, recording_link)


def _field(name: str) -> str:
    # parse_local names its fields <prefix>_date and <prefix>_time: the form has one date for both.
    return "date" if name.endswith("_date") else name.removesuffix("_time")


def schedule_webinar(vision: Vision, typed: Schedule, *, actor: User) -> Webinar:
    """A new session of `vision`. Raises ValidationError, NotAllowed."""
    if not can_manage_webinars(actor, vision):
        raise NotAllowed()
    # A recording comes after the session: the form for a new one has no such field.
    checked = check_schedule(dataclasses.replace(typed, recording_link=""), now=utcnow())
    webinar = Webinar(vision_id=vision.id, created_by_id=actor.id, places_given=0, **checked.__dict__)
    db.session.add(webinar)
    db.session.flush()
    record_event("webinar.scheduled", "webinar", webinar.id, actor=actor, vision_id=vision.id, title=webinar.title)
    return webinar


def change_webinar(webinar: Webinar, typed: Schedule, *, actor: User) -> list[str]:
    """Change a session (`webinar` loaded with registrations.lock_webinar). More places give them to
    the people waiting first, in order, and mail them. Returns the email addresses so told.
    Raises ValidationError, NotAllowed."""
    if not can_manage_webinars(actor):
        raise NotAllowed()
    checked = check_schedule(typed, now=utcnow(), was=webinar)
    for name, value in checked.__dict__.items():
        setattr(webinar, name, value)
    webinar.updated_at = utcnow()
    db.session.flush()
    promoted = registrations.fill_free_places(webinar)
    record_event(
        "webinar.changed", "webinar", webinar.id, actor=actor, vision_id=webinar.vision_id,
        title=webinar.title, promoted=len(promoted),
    )
    return promoted
