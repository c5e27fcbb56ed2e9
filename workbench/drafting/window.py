"""The consultation window: when people can propose, vote, comment and reflect.

The one home of the window's rules: setting its times, closing it now, reopening it for some days,
opening it as the system (the command line, the demo data), and saying its state in words.
Whether it is open now is `Vision.window_state` / `Vision.is_open` (models.py): a rule on the
vision's two moments that templates and permissions ask the vision itself.

The facilitators' functions check the permission again (raising NotAllowed), flush and never commit;
what was typed that cannot be used raises ValidationError with messages per field.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone

from .. import permissions
from ..exceptions import NotAllowed, ValidationError
from ..models import User, Vision, db, record_event, utcnow
from ..numbers import whole_number
from ..templating import format_date, format_datetime, local_time, site_zone

REOPEN_DAYS_MAX = 365


def _require(allowed: bool) -> None:
    """The second line of the permission check (the views check first)."""
    if not allowed:
        raise NotAllowed()


# --- reading what was typed -----------------------------------------------------------------------


def parse_local(date_text: str | None, time_text: str | None, prefix: str, what: str) -> datetime | None:
    """The UTC moment of a date ("2025-03-31") and a time ("17:00", default 00:00) on the site's
    clock (`templating.site_zone`, UK time by default), or None when both are empty.

    Raises ValidationError on fields `<prefix>_date` / `<prefix>_time`, also for a time the clocks
    skip when they go forward (it never happens). A time that happens twice when the clocks go back
    is the first of the two (still summer time): the page says so, and the saved time is shown with
    its zone ("01:30 BST").
    """
    date_text = (date_text or "").strip()
    time_text = (time_text or "").strip()
    if not date_text and not time_text:
        return None
    errors: dict[str, str] = {}
    day: date | None = None
    at = time(0, 0)
    if not date_text:
        errors[f"{prefix}_date"] = f"Enter the {what} date, or clear the time too"
    else:
        try:
            day = date.fromisoformat(date_text) if len(date_text) == 10 else None
        except ValueError:
            day = None
        if day is None:
            errors[f"{prefix}_date"] = f"Enter the {what} date as a real date, for example 2025-03-31"
    if time_text:
        try:
            at = time.fromisoformat(time_text) if len(time_text) in (5, 8) else None  # type: ignore[assignment]
        except ValueError:
            at = None  # type: ignore[assignment]
        if at is None:
            errors[f"{prefix}_time"] = f"Enter the {what} time on the 24-hour clock, for example 17:00"
    if errors:
        raise ValidationError(errors)
    assert day is not None
    zone = site_zone()
    local = datetime.combine(day, at.replace(tzinfo=None), tzinfo=zone)  # fold=0: the first of two
    moment = local.astimezone(timezone.utc)
    back = moment.astimezone(zone)
    if back.replace(tzinfo=None) != local.replace(tzinfo=None):
        # In the gap when the clocks go forward: no clock ever shows this time.
        raise ValidationError(
            {
                f"{prefix}_time": f"The clocks go forward on {format_date(day)}, so there is no {at:%H:%M} that night. "
                f"Enter a time after the change, for example {back:%H:%M}"
            }
        )
    return moment


def local_date_and_time(moment: datetime | None) -> tuple[str, str]:
    """A stored moment as the window form shows it: ("2026-06-01", "09:00") on the site's clock."""
    if moment is None:
        return "", ""
    local = local_time(moment)
    return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")


def clean_days(value: str | int | None) -> int:
    """A whole number of days from 1 to 365, or ValidationError({"days": ...})."""
    days = whole_number(value, maximum=REOPEN_DAYS_MAX)
    if days is None:
        raise ValidationError({"days": f"Enter a whole number of days from 1 to {REOPEN_DAYS_MAX}"})
    return days


# --- changing the window ---------------------------------------------------------------------------


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def schedule_window(
    vision: Vision,
    *,
    opens_date: str | None,
    opens_time: str | None,
    closes_date: str | None,
    closes_time: str | None,
    actor: User,
) -> Vision:
    """`set_window` from the window form's dates and times, on the site's clock. Raises ValidationError with every
    problem of the dates and times at once (or what `set_window` refuses), NotAllowed for
    non-facilitators."""
    _require(permissions.can_manage_window(actor, vision))
    errors: dict[str, list[str]] = {}
    moments: list[datetime | None] = []
    for day, at, prefix, what in (
        (opens_date, opens_time, "opens", "opening"),
        (closes_date, closes_time, "closes", "closing"),
    ):
        try:
            moments.append(parse_local(day, at, prefix, what))
        except ValidationError as error:
            errors.update(error.errors)
    if errors:
        raise ValidationError(errors)
    return set_window(vision, opens_at=moments[0], closes_at=moments[1], actor=actor)


def set_window(vision: Vision, *, opens_at: datetime | None, closes_at: datetime | None, actor: User) -> Vision:
    """Set the consultation window's opening and closing times (UTC; either may be None: no opening
    time means no consultation scheduled, no closing time means open until closed).

    Raises ValidationError when a closing time has no opening time or is not after it, and
    NotAllowed for non-facilitators.
    """
    _require(permissions.can_manage_window(actor, vision))
    if closes_at is not None and opens_at is None:
        raise ValidationError({"opens_date": "Enter when the consultation opens, or clear the closing time too"})
    if opens_at is not None and closes_at is not None and closes_at <= opens_at:
        raise ValidationError({"closes_date": "The closing time must be after the opening time"})
    before = (vision.opens_at, vision.closes_at)
    vision.opens_at, vision.closes_at = opens_at, closes_at
    record_event(
        "window.updated",
        "vision",
        vision.id,
        actor=actor,
        vision_id=vision.id,
        opens_at=_iso(opens_at),
        closes_at=_iso(closes_at),
        previous_opens_at=_iso(before[0]),
        previous_closes_at=_iso(before[1]),
    )
    db.session.flush()
    return vision


def close_window(vision: Vision, *, actor: User, now: datetime | None = None) -> Vision:
    """Close the consultation now. Raises ValidationError when it is not open, NotAllowed for
    non-facilitators."""
    _require(permissions.can_manage_window(actor, vision))
    now = (now or utcnow()).replace(microsecond=0)
    if not vision.is_open(now):
        raise ValidationError({"form": "The consultation is not open, so there is nothing to close"})
    previous = vision.closes_at
    vision.closes_at = now
    record_event(
        "window.closed", "vision", vision.id, actor=actor, vision_id=vision.id,
        closes_at=_iso(now), previous_closes_at=_iso(previous),
    )
    db.session.flush()
    return vision


def scheduled_close(vision: Vision, now: datetime | None = None) -> datetime | None:
    """The closing time still to come that opening now would replace, or None (no closing time,
    or one already passed)."""
    now = now or utcnow()
    return vision.closes_at if vision.closes_at is not None and vision.closes_at > now else None


def reopen_window(vision: Vision, *, days: int | None, actor: User, now: datetime | None = None) -> Vision:
    """Open the consultation now (a closed, upcoming or unscheduled window): until `days` days from
    now, or, with `days=None`, until the closing time already scheduled, which is kept.

    Raises ValidationError when it is already open, `days` is out of range, or `days` is None and
    no closing time is still to come; NotAllowed for non-facilitators.
    """
    _require(permissions.can_manage_window(actor, vision))
    now = (now or utcnow()).replace(microsecond=0)
    if days is not None:
        days = clean_days(days)
    if vision.is_open(now):
        raise ValidationError({"form": "The consultation is already open: change its closing time instead"})
    before = (vision.opens_at, vision.closes_at)
    if days is None:
        closes_at = scheduled_close(vision, now)
        if closes_at is None:
            raise ValidationError({"days": "There is no closing time to keep: enter for how many days it opens"})
        vision.opens_at = now
    else:
        _open_until(vision, now, days)
    record_event(
        "window.reopened", "vision", vision.id, actor=actor, vision_id=vision.id,
        opens_at=_iso(vision.opens_at), closes_at=_iso(vision.closes_at), days=days,
        previous_opens_at=_iso(before[0]), previous_closes_at=_iso(before[1]),
    )
    db.session.flush()
    return vision


def open_now(vision: Vision, *, closing: str | None, days: str | int | None, actor: User) -> Vision:
    """The "open now" form: `reopen_window` for `days` days, or, when a closing time is still to
    come, as the facilitator chose: `closing` "keep" (until that time) or "days".

    Raises ValidationError when it is already open, when a closing time is scheduled and no choice
    was made (so that opening never replaces it silently), or for the days; NotAllowed as
    `reopen_window`.
    """
    _require(permissions.can_manage_window(actor, vision))
    if vision.is_open():
        raise ValidationError({"form": "The consultation is already open: change its closing time instead"})
    scheduled = scheduled_close(vision)
    if scheduled is not None and closing not in ("keep", "days"):
        raise ValidationError(
            {
                "closing": f"Choose whether it closes at the time already set, {format_datetime(scheduled)}, "
                "or a number of days from now"
            }
        )
    if scheduled is not None and closing == "keep":
        return reopen_window(vision, days=None, actor=actor)
    return reopen_window(vision, days=clean_days(days), actor=actor)


def open_for(vision: Vision, *, days: int, now: datetime | None = None) -> Vision:
    """Open the consultation now for `days` days, as the system (the command line, the demo data:
    no permission to check, any number of days). An opening time already passed is kept."""
    _open_until(vision, (now or utcnow()).replace(microsecond=0), days)
    db.session.flush()
    return vision


def _open_until(vision: Vision, now: datetime, days: int) -> None:
    # An opening time already passed stays: it is when this consultation began.
    if vision.opens_at is None or vision.opens_at > now:
        vision.opens_at = now
    vision.closes_at = now + timedelta(days=days)


# --- the window in words --------------------------------------------------------------------------


def schedule_words(vision: Vision) -> str:
    """When the window opens and closes, in a sentence's second half: "it opens on 1 March 2031,
    09:30 GMT and closes on ...", or "no consultation is scheduled."."""
    if vision.opens_at is None:
        return "no consultation is scheduled."
    opens = format_datetime(vision.opens_at)
    if vision.closes_at is None:
        return f"it opens on {opens} and stays open until you close it."
    return f"it opens on {opens} and closes on {format_datetime(vision.closes_at)}."


def closed_words(vision: Vision, doing: str = "vote, comment or reflect") -> str:
    """Why nobody can be `doing` something now, and until when (the window is not open)."""
    state = vision.window_state()
    if state == "upcoming":
        return f"The consultation has not opened yet. You can {doing} from {format_datetime(vision.opens_at)}."
    if state == "closed":
        return (
            f"The consultation closed on {format_datetime(vision.closes_at)}, so you can no longer {doing}. "
            "You can still read everything."
        )
    return f"There is no consultation open at the moment, so you cannot {doing}. You can still read everything."
