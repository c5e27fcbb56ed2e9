"""What the webinar pages show, each in a few queries whatever the number of sessions and people:
the list of a vision's sessions with places left in words, one session with your place, and the
facilitators' list of attendees and waiting list (names and addresses: private)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..models import Registration, User, Vision, Webinar, db, utcnow
from .registrations import registration_of, waiting_ahead

LISTED = 100  # sessions per list (upcoming, past): a vision holds a few dozen at most
WAITING_SHOWN = 500  # people of a waiting list on the attendees page; the CSV has them all


@dataclass
class Counts:
    registered: int = 0
    waiting: int = 0


def counts_of(webinar_ids: Iterable[int]) -> dict[int, Counts]:
    """Registered and waiting per webinar, in one query."""
    ids = list(webinar_ids)
    counts = {webinar_id: Counts() for webinar_id in ids}
    if not ids:
        return counts
    rows = db.session.execute(
        select(Registration.webinar_id, Registration.state, func.count())
        .where(Registration.webinar_id.in_(ids), Registration.state.in_(("registered", "waiting")))
        .group_by(Registration.webinar_id, Registration.state)
    )
    for webinar_id, state, count in rows:
        setattr(counts[webinar_id], state, int(count))
    return counts


def places_in_words(webinar: Webinar, counts: Counts, now: datetime | None = None) -> str:
    """"3 of 40 places left", "Full: join the waiting list", or that it is over."""
    now = now or utcnow()
    if now >= webinar.ends_at:
        return "This session has taken place"
    if now >= webinar.starts_at:
        return "This session is happening now"
    left = webinar.capacity - counts.registered
    if left <= 0 or counts.waiting:
        return "Full: join the waiting list"
    return f"{left} of {webinar.capacity} {'place' if webinar.capacity == 1 else 'places'} left"


def your_state_in_words(registration: Registration | None, ahead: int | None = None) -> str:
    if registration is None or registration.state == "cancelled":
        return ""
    if registration.state == "registered":
        return "You are registered."
    if ahead == 0:
        return "You are on the waiting list: first in line."
    return f"You are on the waiting list: {ahead} {'person is' if ahead == 1 else 'people are'} ahead of you."


@dataclass
class ListPage:
    vision: Vision
    upcoming: list[Webinar]
    past: list[Webinar]
    counts: dict[int, Counts]
    yours: dict[int, str] = field(default_factory=dict)  # webinar id -> your state


def list_page(vision: Vision, user: Any) -> ListPage:
    now = utcnow()
    by_vision = select(Webinar).where(Webinar.vision_id == vision.id)
    upcoming = list(db.session.scalars(by_vision.where(Webinar.ends_at > now).order_by(Webinar.starts_at, Webinar.id).limit(LISTED)))
    past = list(db.session.scalars(by_vision.where(Webinar.ends_at <= now).order_by(Webinar.starts_at.desc(), Webinar.id.desc()).limit(LISTED)))
    ids = [w.id for w in upcoming + past]
    yours: dict[int, str] = {}
    if getattr(user, "is_authenticated", False) and ids:
        yours = dict(
            db.session.execute(
                select(Registration.webinar_id, Registration.state).where(
                    Registration.user_id == user.id, Registration.webinar_id.in_(ids), Registration.state != "cancelled"
                )
            ).tuples().all()
        )
    return ListPage(vision, upcoming, past, counts_of(ids), yours)


@dataclass
class SessionPage:
    webinar: Webinar
    vision: Vision
    counts: Counts
    registration: Registration | None
    ahead: int | None


def session_page(webinar: Webinar, user: Any) -> SessionPage:
    vision = db.session.get(Vision, webinar.vision_id)
    assert vision is not None
    registration = registration_of(webinar, user.id) if getattr(user, "is_authenticated", False) else None
    ahead = None
    if registration is not None and registration.state == "waiting":
        ahead = waiting_ahead(registration)
    return SessionPage(webinar, vision, counts_of([webinar.id])[webinar.id], registration, ahead)


ATTENDEE_COLUMNS = ("place_in_line", "state", "name", "email", "joined_at", "registered_at")


def people(webinar: Webinar, state: str, limit: int | None = None) -> list[tuple[Registration, User]]:
    """Registrations in one state with their people, in the order of the line."""
    query = (
        select(Registration, User)
        .join(User, User.id == Registration.user_id)
        .where(Registration.webinar_id == webinar.id, Registration.state == state)
        .order_by(Registration.place)
    )
    if limit is not None:
        query = query.limit(limit)
    return [(registration, user) for registration, user in db.session.execute(query).tuples()]


def attendee_rows(webinar: Webinar) -> Iterable[list[Any]]:
    """The CSV's rows: the registered, then the waiting list, each in order of the line."""
    for state in ("registered", "waiting"):
        for registration, person in people(webinar, state):
            yield [
                registration.place,
                state,
                person.display_name,
                person.email or "",
                _iso(registration.joined_at),
                _iso(registration.registered_at),
            ]


def _iso(moment: datetime | None) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z") if moment else ""
