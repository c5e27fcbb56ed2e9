"""A person's notifications: the page of them, newest first, in words; how many are unread (the
header's count); marking one or all of them read.

Nobody reads or marks another person's notifications: every query here is bounded by the person's
own id, and `mark_read` refuses a notification that is not theirs. A notification is worded as it
is read (wording.py), so one about something hidden since is left out of the page (still counted as
shown, so the pages stay where they were).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import SQLAlchemyError

from .. import permissions
from ..exceptions import NotFound
from ..keyset import KeysetPage, Seek, seek_page
from ..models import Notification, User, db, utcnow
from ..templating import age_in_words, format_datetime
from .wording import Things, Words, visible_to, words_for

PER_PAGE = 20
NEWEST_FIRST = (Notification.id.desc(),)


@dataclass(frozen=True)
class Shown:
    """One notification as its page shows it."""

    notification: Notification
    words: Words

    @property
    def id(self) -> int:
        return self.notification.id

    @property
    def unread(self) -> bool:
        return self.notification.read_at is None

    @property
    def moment(self) -> datetime:
        """When the last thing it tells of happened."""
        return self.notification.updated_at


@dataclass
class NotificationList:
    """A page of the person's notifications: the rows (`page.rows`, for paging), those shown, and
    how many on this page are about something that can no longer be shown."""

    page: KeysetPage
    shown: list[Shown]
    withheld: int


def list_notifications(user: User, seek: Seek = Seek(), per_page: int = PER_PAGE) -> NotificationList:
    """The page `seek` asks for of the person's notifications, newest first, each with its words.
    A bounded number of queries however many there are: the page (keyset, on the index of the
    person's notifications), and what it is about (wording.Things.of)."""
    page = seek_page(
        select(Notification).where(Notification.user_id == user.id),
        NEWEST_FIRST,
        seek,
        per_page,
        total=0,  # not counted: the page says how many are unread (unread_count)
        values=lambda row_id: (row_id,),
        row_id=lambda row: row[0].id,
    )
    page.rows = [row[0] for row in page.rows]
    things = Things.of(page.rows)
    shown = []
    for notification in page.rows:
        about = things.get(notification.about_type, notification.about_id)
        words = words_for(notification, things) if visible_to(user.id, about, things) else None
        if words is not None:
            shown.append(Shown(notification, words))
    return NotificationList(page=page, shown=shown, withheld=len(page.rows) - len(shown))


def unread_count(user: User) -> int:
    """How many of the person's notifications are unread: one query, on the partial index of
    unread notifications (which starts with the person's id)."""
    return int(
        db.session.scalar(
            select(func.count()).select_from(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
        )
        or 0
    )


def unread_count_or_none(user: User) -> int | None:
    """`unread_count`, or None when the database cannot answer: the header shows it on every page,
    the designed error pages included, and a failed database must not also break those."""
    try:
        return unread_count(user)
    except SQLAlchemyError:
        db.session.rollback()
        return None


def notification_of(user: User, notification_id: int) -> Notification:
    """The person's own notification with this id. Raises NotFound for one that does not exist or is
    someone else's (nobody may learn that another person's exists)."""
    notification = db.session.scalar(
        select(Notification).where(Notification.id == notification_id, Notification.user_id == user.id)
    )
    if notification is None:
        raise NotFound("There is no such notification among yours.")
    return notification


def mark_read(user: User, notification: Notification) -> bool:
    """Mark the person's notification read; False when it was read already. Raises NotFound for
    someone else's. Flushes."""
    if not permissions.can_read_notification(user, notification):
        raise NotFound("There is no such notification among yours.")
    if notification.read_at is not None:
        return False
    # Only while still unread: a second click, or another tab, changes nothing.
    result = db.session.execute(
        update(Notification)
        .where(Notification.id == notification.id, Notification.user_id == user.id, Notification.read_at.is_(None))
        .values(read_at=utcnow())
        .execution_options(synchronize_session="fetch")
    )
    return bool(result.rowcount)


def mark_all_read(user: User, shown_at: datetime | None = None) -> int:
    """Mark the person's unread notifications read, those unchanged since `shown_at` (when the page
    with the button was shown: one that arrived or gained news since stays unread; None: all);
    returns how many. Flushes."""
    unchanged = [Notification.updated_at <= shown_at] if shown_at is not None else []
    result = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.read_at.is_(None), *unchanged)
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    return int(result.rowcount or 0)


def time_in_words(moment: datetime, now: datetime | None = None) -> str:
    """When, as a person says it: "just now", "5 minutes ago", "3 hours ago", then the day and time
    ("1 June 2026, 09:00 BST")."""
    now = now or utcnow()
    if moment.tzinfo is None or now.tzinfo is None:
        moment, now = moment.replace(tzinfo=None), now.replace(tzinfo=None)
    elapsed = now - moment
    if elapsed < timedelta(minutes=1):
        return "just now"
    if elapsed < timedelta(days=1):
        return f"{age_in_words(moment, now)} ago"
    return format_datetime(moment)
