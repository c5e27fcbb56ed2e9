"""What the involvement pages show, each in a few queries whatever the numbers: the "Get involved"
page (the deadline in words, the asks, the next webinars, your offer to help) and the facilitators'
list of volunteers (names, email addresses and skills: private) with its CSV rows."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select

from ..aligned.wording import VisionElements, vision_elements
from ..models import User, Vision, Webinar, db, utcnow
from ..templating import format_date, local_time, zone_name
from ..webinars.pages import Counts, counts_of
from .models import VolunteerInterest, VolunteerInvitee, VolunteerInvitation
from .services import AVAILABILITY, interest_of

WEBINARS_SHOWN = 3  # the next sessions on the "Get involved" page; the webinars page has them all
VOLUNTEERS_SHOWN = 1_000  # rows of the facilitators' list; the CSV has them all


def moment_in_words(moment: datetime) -> str:
    """A deadline as people say it: "30 November 2026, 23:59 UK time" (on the site's clock)."""
    local = local_time(moment)
    return f"{format_date(moment)}, {local:%H:%M} {zone_name()}"


def deadline_in_words(vision: Vision, now: datetime | None = None) -> str:
    """When responses are welcome, in a sentence, from the consultation window."""
    state = vision.window_state(now)
    if state == "open" and vision.closes_at is not None:
        return f"You can respond until {moment_in_words(vision.closes_at)}."
    if state == "open":
        return "You can respond now: no closing date has been set yet."
    if state == "upcoming":
        return (
            f"The consultation has not opened yet. You can respond from {moment_in_words(vision.opens_at)}"  # type: ignore[arg-type]
            + (f" until {moment_in_words(vision.closes_at)}." if vision.closes_at else ".")
        )
    if state == "closed":
        return (
            f"The consultation closed on {moment_in_words(vision.closes_at)}, so responses are no longer "  # type: ignore[arg-type]
            "accepted. You can still read everything, and volunteer to help with the next stage."
        )
    return "There is no consultation open at the moment. You can still read everything, and volunteer to help with the next stage."


def ambition_names(elements: VisionElements) -> dict[str, str]:
    """{key: "Ambition 2: Data skills for everyone"} of the ambitions in the working draft, in order."""
    return {group.ambition.key: group.ambition.display for group in elements.groups}


@dataclass
class InvolvementPage:
    vision: Vision
    deadline: str
    ambitions: dict[str, str]
    webinars: list[Webinar]
    counts: dict[int, Counts]
    interest: VolunteerInterest | None


def involvement_page(vision: Vision, person: Any) -> InvolvementPage:
    now = utcnow()
    webinars = list(
        db.session.scalars(
            select(Webinar)
            .where(Webinar.vision_id == vision.id, Webinar.ends_at > now)
            .order_by(Webinar.starts_at, Webinar.id)
            .limit(WEBINARS_SHOWN)
        )
    )
    return InvolvementPage(
        vision=vision,
        deadline=deadline_in_words(vision, now),
        ambitions=ambition_names(vision_elements(vision)),
        webinars=webinars,
        counts=counts_of(w.id for w in webinars),
        interest=interest_of(vision, person),
    )


# --- the facilitators' list -------------------------------------------------------------------------


@dataclass
class Volunteer:
    interest: VolunteerInterest
    person: User
    invited: list[datetime] = field(default_factory=list)  # when each invitation went to them


def _volunteers(vision: Vision, state: str, limit: int | None) -> list[Volunteer]:
    query = (
        select(VolunteerInterest, User)
        .join(User, User.id == VolunteerInterest.user_id)
        .where(VolunteerInterest.vision_id == vision.id, VolunteerInterest.state == state)
        .order_by(VolunteerInterest.created_at, VolunteerInterest.id)
    )
    if limit is not None:
        query = query.limit(limit)
    found = [Volunteer(interest, person) for interest, person in db.session.execute(query).tuples()]
    by_id = {v.interest.id: v for v in found}
    if by_id:
        invited = db.session.execute(
            select(VolunteerInvitee.interest_id, VolunteerInvitation.created_at)
            .join(VolunteerInvitation, VolunteerInvitation.id == VolunteerInvitee.invitation_id)
            .where(VolunteerInvitee.interest_id.in_(list(by_id)))
            .order_by(VolunteerInvitation.created_at)
        )
        for interest_id, at in invited:
            by_id[interest_id].invited.append(at)
    return found


@dataclass
class VolunteersPage:
    vision: Vision
    ambitions: dict[str, str]  # every ambition a volunteer may have named, removed ones too
    interested: list[Volunteer]
    withdrawn: list[Volunteer]
    counts: dict[str, int]


def volunteers_page(vision: Vision) -> VolunteersPage:
    counts = dict(
        db.session.execute(
            select(VolunteerInterest.state, func.count())
            .where(VolunteerInterest.vision_id == vision.id)
            .group_by(VolunteerInterest.state)
        ).tuples().all()
    )
    return VolunteersPage(
        vision=vision,
        ambitions=_all_ambitions(vision),
        interested=_volunteers(vision, "interested", VOLUNTEERS_SHOWN),
        withdrawn=_volunteers(vision, "withdrawn", VOLUNTEERS_SHOWN),
        counts={"interested": int(counts.get("interested", 0)), "withdrawn": int(counts.get("withdrawn", 0))},
    )


def _all_ambitions(vision: Vision) -> dict[str, str]:
    elements = vision_elements(vision)
    return {choice.key: choice.display for choice in elements.by_id.values() if choice.kind == "ambition"}


def ambitions_in_words(keys: list[str], ambitions: dict[str, str]) -> str:
    """The ambitions a volunteer chose, by name; "Any ambition" when they chose none."""
    return "; ".join(ambitions.get(key, key) for key in keys) or "Any ambition"


VOLUNTEER_COLUMNS = (
    "name", "email", "state", "ambitions", "skills", "availability", "volunteered_at", "updated_at",
    "withdrawn_at", "invitations", "last_invited_at",
)


def volunteer_rows(vision: Vision) -> Iterator[list[Any]]:
    """The CSV's rows: the people interested, then those who withdrew, each oldest first."""
    ambitions = _all_ambitions(vision)
    for state in ("interested", "withdrawn"):
        for volunteer in _volunteers(vision, state, None):
            interest, person = volunteer.interest, volunteer.person
            yield [
                person.display_name,
                person.email or "",
                state,
                ambitions_in_words(interest.ambition_keys or [], ambitions),
                interest.skills,
                AVAILABILITY.get(interest.availability, interest.availability),
                interest.created_at,
                interest.updated_at,
                interest.withdrawn_at,
                len(volunteer.invited),
                volunteer.invited[-1] if volunteer.invited else None,
            ]
