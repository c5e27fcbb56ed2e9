"""The reminder the day before: `flask --app wsgi webinars remind` (run hourly, or at least daily:
README, "Webinars") queues one mail to each person registered for a session that starts within the
next REMINDER_AHEAD, and marks their registration reminded.

Each registration is one transaction: marking it reminded is one UPDATE ... WHERE reminded_at IS
NULL, which is also the claim (a second run at the same moment finds it taken), and its mail is
queued in the outbox in the same transaction. So a reminder is never sent twice, and never lost
(either both happened, or neither and the next run does it). Needs links (worker.links_context()).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from sqlalchemy import select, update

from ..models import Registration, User, Webinar, db, utcnow
from ..outbox import queue
from .mails import reminder_mail
from .registrations import REMINDER_AHEAD

log = logging.getLogger(__name__)


@dataclass
class ReminderRun:
    sent: int = 0  # reminders queued for the mail worker
    skipped: int = 0  # registrations marked reminded with nobody to mail (account deleted or deactivated)

    def __str__(self) -> str:
        return f"{self.sent} reminder(s) queued for the mail worker" + (
            f"; {self.skipped} not sent (account deleted or deactivated)" if self.skipped else ""
        )


def due_reminders(limit: int = 500) -> list[int]:
    """Registrations to remind now: registered, not reminded, for a session that starts within REMINDER_AHEAD."""
    now = utcnow()
    return list(
        db.session.scalars(
            select(Registration.id)
            .join(Webinar, Webinar.id == Registration.webinar_id)
            .where(
                Registration.state == "registered",
                Registration.reminded_at.is_(None),
                Webinar.starts_at > now,
                Webinar.starts_at <= now + REMINDER_AHEAD,
            )
            .order_by(Registration.id)
            .limit(limit)
        )
    )


def send_reminders() -> ReminderRun:
    """Queue every reminder due, one committed transaction each."""
    run = ReminderRun()
    while True:
        ids = due_reminders()
        db.session.commit()  # end the read: each registration's transaction begins with its write
        if not ids:
            return run
        for registration_id in ids:
            sent = send_reminder(registration_id)
            db.session.commit()
            if sent is True:
                run.sent += 1
            elif sent is False:
                run.skipped += 1


def send_reminder(registration_id: int) -> bool | None:
    """Mark the registration reminded and queue its mail; None when another run took it first (or
    it is no longer registered), False when there is nobody to mail. Flushes; the caller commits."""
    claimed = db.session.execute(
        update(Registration)
        .where(Registration.id == registration_id, Registration.reminded_at.is_(None), Registration.state == "registered")
        .values(reminded_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        return None
    registration = db.session.get(Registration, registration_id, populate_existing=True)
    assert registration is not None
    person = db.session.get(User, registration.user_id)
    if person is None or not person.is_active or not person.email:
        return False
    queue(reminder_mail(person, registration.webinar, registration), user_id=person.id)
    db.session.flush()
    return True
