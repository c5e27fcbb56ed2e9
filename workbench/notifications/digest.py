"""The daily digest: one mail a day to each person with notifications waiting for it
(`Notification.digest_due`: the kinds they chose to hear of "in a daily email"), queued by
`flask --app wsgi notifications digest` (run daily: README, "Mail") and delivered by the mail worker.

Each person is one transaction: their waiting notifications are cleared by one UPDATE ... RETURNING,
which is also the claim (a second run at the same moment finds nothing left to clear), and their
mail is queued in the outbox in the same transaction. So a crash neither sends a digest twice nor
loses one: either both happened, or neither and the next run does it.

Left out of a digest, and cleared all the same: what the person has read already, kinds they have
since chosen not to be emailed about (an unsubscribe link, /account/emails), and anything they may no
longer see (hidden since: wording.visible_to). Deleted and deactivated accounts get none.
Bounded: at most LINES notifications are worded, the newest; the mail counts the rest.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, text, update
from sqlalchemy.exc import SQLAlchemyError

from ..mail import external_url
from ..models import Notification, User, db
from ..outbox import queue
from .choices import email_choices
from .kinds import NEVER
from .mails import digest_mail
from .wording import Things, visible_to, words_for

log = logging.getLogger(__name__)

LINES = 50  # notifications worded in one digest; "And 12 more on the site." for the rest
# The predicate of the partial index ix_notifications_digest_due, written as it is there: SQLite
# reads a partial index only for a query whose WHERE repeats its predicate (not `digest_due = 1`).
DUE = text("notifications.digest_due")


@dataclass
class DigestRun:
    """What one run did."""

    people: int = 0  # people whose waiting notifications were cleared
    sent: int = 0  # digests queued (the others had nothing left to tell, or no address to tell it to)
    failed: int = 0  # people left for the next run after a fault of ours (logged)

    def __str__(self) -> str:
        return f"{self.sent} queued for the mail worker, for {self.people} people with notifications waiting" + (
            f"; {self.failed} left for the next run after an error (see the log)" if self.failed else ""
        )


def send_digests(limit: int | None = None) -> DigestRun:
    """Queue the digest of every person with notifications waiting (at most `limit` people; None:
    all), one transaction each, committed. Needs links (worker.links_context()). Raises
    SQLAlchemyError when the database fails: what was committed before stays done."""
    run = DigestRun()
    after = 0
    while limit is None or run.people + run.failed < limit:
        user_id = db.session.scalar(
            select(Notification.user_id).where(DUE, Notification.user_id > after).order_by(Notification.user_id).limit(1)
        )
        db.session.commit()  # end the read: each person's transaction then begins with its write (SQLite
        # cannot turn a read into a write once another connection has written meanwhile)
        if user_id is None:
            break
        after = user_id
        try:
            sent = send_digest(user_id)
            db.session.commit()
        except SQLAlchemyError:
            db.session.rollback()
            raise
        except Exception:  # a fault of ours: that person's notifications wait for the next run
            db.session.rollback()
            log.exception("The daily email of account #%s could not be made", user_id)
            run.failed += 1
            continue
        run.people += 1
        run.sent += sent
    return run


def send_digest(user_id: int) -> bool:
    """Clear the person's waiting notifications and queue their digest of the ones to tell; False
    when there was none to tell. Flushes; the caller commits (both, or neither)."""
    claimed = db.session.execute(
        update(Notification)
        .where(Notification.user_id == user_id, DUE)
        .values(digest_due=False)
        .returning(Notification.id, Notification.kind, Notification.read_at)
        .execution_options(synchronize_session=False)
    ).all()
    person = db.session.get(User, user_id, populate_existing=True)
    if not claimed or person is None or not person.is_active or not person.email:
        return False
    wanted = email_choices(person)
    ids = sorted(
        (row.id for row in claimed if row.read_at is None and wanted.get(row.kind, NEVER) != NEVER), reverse=True
    )
    if not ids:
        return False
    newest = list(
        db.session.scalars(select(Notification).where(Notification.id.in_(ids[:LINES])).order_by(Notification.id.desc()))
    )
    things = Things.of(newest)
    lines = []
    for notification in newest:
        about = things.get(notification.about_type, notification.about_id)
        words = words_for(notification, things) if visible_to(user_id, about, things) else None
        if words is not None:
            lines.append((words.text, external_url(words.endpoint, **words.values)))
    if not lines:
        return False
    queue(digest_mail(user_id, person.email, lines, more=len(ids) - len(newest)), user_id=user_id)
    db.session.flush()
    return True
