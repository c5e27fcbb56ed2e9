"""Notifications and follows: the routes.

GET /notifications is the person's own list; POST /notifications/<id>/read and
/notifications/read-all mark them read; POST /follow and /unfollow (fields `thing` = vision, element
or proposal, `id`, and `next`) follow or stop following what a page is about. Every form works as a
plain POST answered with a redirect and a flash; htmx swaps the follow form in place. Refusals go to
the application's error handlers (someone else's notification is a 404: nobody may learn it exists).
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.redirects import members_only, require_member, safe_next_url
from ..exceptions import WorkbenchError
from ..htmx import is_htmx, vary
from ..keyset import Seek
from ..limits import per_account
from ..models import FOLLOWED_THINGS, Element, User, Vision, db, utcnow
from ..numbers import whole_number
from ..pagination import seek_links
from ..proposals.lookup import visible_proposal_or_404
from ..visions.services import element_labels
from . import following, reading

bp = Blueprint("notifications", __name__)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _back(default: str) -> str:
    """Where a form asks to go back to (`next`), if it is a page of this site, else `default`."""
    return safe_next_url(request.form.get("next")) or default


# --- the notifications page --------------------------------------------------------------------


@bp.get("/notifications")
@members_only
def index():
    me = _me()
    listing = reading.list_notifications(me, Seek.parse(request.args))
    return render_template(
        "notifications/index.html",
        listing=listing,
        unread=notifications_unread(),
        page_url=seek_links("notifications.index"),
        time_in_words=reading.time_in_words,
        shown_at=utcnow().isoformat(timespec="microseconds"),
    )


@bp.post("/notifications/<posint:notification_id>/read")
@members_only(back_to=lambda notification_id: url_for("notifications.index"))
def mark_read(notification_id: int):
    me = _me()
    notification = reading.notification_of(me, notification_id)  # someone else's: 404
    changed = reading.mark_read(me, notification)
    db.session.commit()
    flash("The notification is marked as read." if changed else "That notification was already marked as read.", "success")
    return redirect(_back(url_for(".index")))


@bp.post("/notifications/read-all")
@members_only(back_to=lambda: url_for("notifications.index"))
def mark_all_read():
    marked = reading.mark_all_read(_me(), shown_at(request.form.get("shown_at")))
    db.session.commit()
    if marked:
        flash(f"{_count(marked, 'notification')} marked as read.", "success")
    else:
        flash("You had no unread notifications.", "info")
    return redirect(_back(url_for(".index")))


def shown_at(raw: str | None) -> datetime | None:
    """When the page with "Mark all as read" was shown (its hidden field, ISO 8601 UTC); None when
    the form did not say (then all are marked). Anything else is a 400: it was not our form."""
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        abort(400, description="The form said when the page was shown in a way this site does not write.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)


def _count(n: int, noun: str) -> str:
    return f"1 {noun}" if n == 1 else f"{n:,} {noun}s"


# --- following ----------------------------------------------------------------------------------


GIVES = {
    "vision": "you are told when a new version of it is published",
    "element": "you are told of new proposals and reflections on it",
    "proposal": "you are told of its comments and the decision on it",
}


def _thing_or_404(thing_type: str | None, raw_id: str | None) -> tuple[Any, str]:
    """The vision, element or proposal a follow form names, and its name in words. An unknown kind
    or an id that is not a whole number is a 400; a thing that does not exist, or that the person
    may not see (a hidden proposal), a 404."""
    thing_id = whole_number(raw_id)
    if thing_type not in FOLLOWED_THINGS or thing_id is None:
        raise WorkbenchError("Say what to follow: a vision, an element or a proposal, and its number.")
    if thing_type == "proposal":
        proposal = visible_proposal_or_404(thing_id, details=False)
        return proposal, f"proposal {proposal.id}"
    if thing_type == "vision":
        vision = db.session.get(Vision, thing_id) or abort(404)
        return vision, f"“{vision.title}”"
    element = db.session.get(Element, thing_id) or abort(404)
    return element, element_labels(element.vision, {element.key}).get(element.key, element.key)


def _follow_answer(thing: Any, thing_type: str, name: str, is_following: bool, message: str):
    """The follow form again, for htmx; otherwise a redirect back with the message."""
    back = _back(_page_of(thing, thing_type))
    if is_htmx():
        return vary(
            render_template(
                "notifications/_follow.html",
                follow_thing=thing_type, follow_id=thing.id, is_following=is_following,
                follow_next=back, follow_message=message,
            )
        )
    flash(message, "success")
    return vary(redirect(back))


def _page_of(thing: Any, thing_type: str) -> str:
    if thing_type == "proposal":
        return url_for("proposals.show", proposal_id=thing.id)
    if thing_type == "vision":
        return url_for("visions.show", slug=thing.slug)
    return url_for("visions.element", slug=thing.vision.slug, key=thing.key)


@bp.post("/follow")
@per_account("RATELIMIT_FOLLOW")
def follow():
    require_member(safe_next_url(request.form.get("next")) or "")
    thing_type = request.form.get("thing")
    thing, name = _thing_or_404(thing_type, request.form.get("id"))
    changed = following.follow(_me(), thing)
    db.session.commit()
    message = (
        f"You now follow {name}: {GIVES[thing_type]}." if changed else f"You already follow {name}: {GIVES[thing_type]}."
    )
    return _follow_answer(thing, thing_type, name, True, message)


@bp.post("/unfollow")
@per_account("RATELIMIT_FOLLOW")
def unfollow():
    require_member(safe_next_url(request.form.get("next")) or "")
    thing_type = request.form.get("thing")
    thing, name = _thing_or_404(thing_type, request.form.get("id"))
    changed = following.unfollow(_me(), thing)
    db.session.commit()
    message = f"You no longer follow {name}." if changed else f"You were not following {name}."
    return _follow_answer(thing, thing_type, name, False, message)


# --- for every page: the header -----------------------------------------------------------------


UNREAD_KEY = "workbench.notifications_unread"


@bp.app_template_global("notifications_unread")
def notifications_unread() -> int | None:
    """`{% set unread = notifications_unread() %}` (used by _account_nav.html): how many of the
    signed-in person's notifications are unread (one query a request, kept for the rest of it);
    None for anyone not signed in, or when the database cannot answer."""
    if not current_user.is_authenticated:
        return None
    # Kept with the request (not `g`, which tests share between requests).
    kept = request.environ
    if UNREAD_KEY not in kept:
        kept[UNREAD_KEY] = reading.unread_count_or_none(_me())
    return kept[UNREAD_KEY]
