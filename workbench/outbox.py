"""The outbox: mail written in the transaction of the change it tells of, delivered by a worker.

`queue(mail)` adds a row of `outgoing_mail` to the caller's session: the mail exists if and only if
the caller's transaction commits. The mail worker (`flask --app wsgi mail worker`, or one pass from
cron: `flask --app wsgi mail send-due`) then delivers each due mail in three steps:

1. Claim, in one short transaction: the oldest due mail is taken, its attempts counted and its
   `send_after` moved to the end of the claim (CLAIM, ten minutes: far longer than one SMTP
   conversation, each step of which times out after 15 s). On PostgreSQL the row is locked with
   `FOR UPDATE SKIP LOCKED`, so two workers take different mails at once; on SQLite the claim is one
   UPDATE statement, which waits for the database's single write lock (never a read upgraded to a
   write), so two workers take turns. A mail for an account deleted or deactivated meanwhile is
   withheld in the same transaction, never delivered.
2. Deliver, with no transaction open: to the SMTP server, or to the outbox folder (`mail.deliver`).
3. Record, in its own transaction: sent, as soon as the server accepted it; or the failure, with its
   reason and the next attempt 1, 2, 4 ... minutes later, at most an hour apart. A refusal for good,
   or MAIL_MAX_ATTEMPTS attempts (24 by default: some 18 hours of trying), makes it failed: logged as an error,
   listed by `flask mail status`, put back in the queue by `flask mail retry`.

What is promised. Never lost: rows are never deleted, and a claim that ends without a record (a
worker killed, a machine stopped) expires, and the mail is delivered then. Never sent twice, except
at one point: if the process dies after the server accepted a mail and before its "sent" is
committed, the claim expires and the mail is sent again. That is at least once, there; the
Message-ID, made when the mail was written, is the same both times, so a receiver can tell.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Protocol

from flask import current_app
from sqlalchemy import and_, func, select, update
from sqlalchemy.exc import OperationalError, SQLAlchemyError

from .database import is_busy
from .mail import Attachment, Mail, NotDelivered, deliver, email_message, new_message_id
from .models import OutgoingMail, User, db, utcnow

log = logging.getLogger(__name__)

CLAIM = timedelta(minutes=10)
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)
DEFAULT_MAX_ATTEMPTS = 24
BATCH = 100  # mails a worker handles between two looks at whether it should stop or rest


def queue(mail: Mail, *, user: User | None = None, user_id: int | None = None) -> OutgoingMail:
    """Write the mail into the outbox in the caller's transaction, without committing: it exists,
    and will be delivered, only if that transaction commits.

    `user` (or `user_id`) is the account the mail is for, if any: it is not delivered if that
    account is deleted or deactivated by then. With MAIL_SEND_AT_ONCE (the tests' setting), one worker pass runs as the
    request ends, after the view committed.
    """
    now = utcnow()
    row = OutgoingMail(
        message_id=new_message_id(),
        recipient=mail.to,
        subject=mail.subject,
        body=mail.body,
        headers=dict(mail.headers),
        attachments=[attachment.as_dict() for attachment in mail.attachments],
        user_id=user.id if user is not None else user_id,
        created_at=now,
        send_after=now,
        attempts=0,
        state="waiting",
    )
    db.session.add(row)
    return row


def retry_wait(attempts: int) -> timedelta:
    """How long a mail waits after its `attempts`-th failed attempt: 1, 2, 4 ... minutes, at most an hour."""
    return min(FIRST_WAIT * 2 ** min(max(attempts - 1, 0), 16), LONGEST_WAIT)


@dataclass
class Pass:
    """What one pass of the worker did."""

    sent: int = 0
    retrying: int = 0  # not accepted: to be tried again later
    failed: int = 0  # not accepted, and not to be tried again without `flask mail retry`
    withheld: int = 0  # for an account deleted or deactivated
    told: int = 0  # events whose people were told (workbench/worker.py)

    @property
    def handled(self) -> int:
        return self.sent + self.retrying + self.failed + self.withheld + self.told

    def __str__(self) -> str:
        return (
            f"{self.told} event(s) told, {self.sent} sent, {self.retrying} to try again later, {self.failed} failed, "
            f"{self.withheld} withheld (account deleted or deactivated)"
        )


class Stop(Protocol):
    """When the worker should stop (a `threading.Event` is one)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float) -> object: ...


class StopSignal:
    """A Stop that a signal handler may set. (`threading.Event.set` takes a lock that the same
    thread may hold inside `Event.wait` when the signal arrives: the handler would wait forever.)"""

    def __init__(self) -> None:
        self._set = False

    def set(self, *_: object) -> None:
        self._set = True

    def is_set(self) -> bool:
        return self._set

    def wait(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self._set and (left := deadline - time.monotonic()) > 0:
            time.sleep(min(left, 0.1))
        return self._set


def send_due(limit: int | None = BATCH, stop: Stop | None = None) -> Pass:
    """Deliver the mail that is due, one at a time, oldest first: at most `limit` mails (None: until
    none is due), stopping between two mails once `stop` is set. Safe to run in several processes at
    once. Raises SQLAlchemyError when the database fails (what was recorded before stays)."""
    done = Pass()
    max_attempts = int(current_app.config.get("MAIL_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    while (limit is None or done.handled < limit) and not (stop is not None and stop.is_set()):
        mail = _claim_next()
        if mail is None:
            break
        if mail.state == "withheld":
            done.withheld += 1
            continue
        failure = _deliver(mail)
        if failure is None:
            _record_sent(mail)
            done.sent += 1
        elif _record_failure(mail, failure, max_attempts) == "failed":
            done.failed += 1
        else:
            done.retrying += 1
    return done


def _due(now: datetime):
    # `sent_at IS NULL` lets both databases read the partial index ix_outgoing_mail_unsent.
    return and_(OutgoingMail.sent_at.is_(None), OutgoingMail.state == "waiting", OutgoingMail.send_after <= now)


def _claim_next() -> OutgoingMail | None:
    """Claim the oldest due mail, or withhold it, and commit; None when no mail is due."""
    now = utcnow()
    oldest_due = (
        select(OutgoingMail.id)
        .where(_due(now))
        .order_by(OutgoingMail.send_after, OutgoingMail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    mail = db.session.scalars(
        update(OutgoingMail)
        .where(OutgoingMail.id == oldest_due)
        .values(send_after=now + CLAIM, attempts=OutgoingMail.attempts + 1)
        .returning(OutgoingMail),
        execution_options={"populate_existing": True},
    ).one_or_none()
    if mail is not None and (reason := _reason_to_withhold(mail)):
        mail.state, mail.last_error = "withheld", reason
        log.warning("Mail #%s withheld: %s", mail.id, reason)
    db.session.commit()
    return mail


def _reason_to_withhold(mail: OutgoingMail) -> str | None:
    if mail.user_id is None:
        return None
    # Read from the database, never from objects a long-lived session may hold.
    account = db.session.execute(
        select(User.is_deleted, User.is_deactivated).where(User.id == mail.user_id)
    ).one_or_none()
    if account is None or account.is_deleted:
        return "Not sent: the account was deleted"
    if account.is_deactivated:
        return "Not sent: the account was deactivated"
    return None


def _deliver(mail: OutgoingMail) -> NotDelivered | None:
    """Hand the mail over; None once accepted, else why not."""
    attachments = tuple(Attachment.from_dict(data) for data in mail.attachments or ())
    message = email_message(
        Mail(mail.recipient, mail.subject, mail.body, mail.headers or {}, attachments),
        message_id=mail.message_id,
        date=mail.created_at,
    )
    try:
        deliver(message, mail.recipient)
    except NotDelivered as failure:
        return failure
    except Exception as exc:  # a fault of ours (a bad header, a bug): recorded and retried like any other
        log.exception("Mail #%s could not be delivered", mail.id)
        return NotDelivered(f"{type(exc).__name__}: {exc}")
    return None


def _record_sent(mail: OutgoingMail) -> None:
    mail.state, mail.sent_at = "sent", utcnow()
    try:
        db.session.commit()
    except SQLAlchemyError:
        log.error(
            "Mail #%s (%s) was accepted but could not be recorded as sent: it will be sent again when its "
            "claim ends, at %s", mail.id, mail.message_id, mail.send_after,
        )
        raise


def _record_failure(mail: OutgoingMail, failure: NotDelivered, max_attempts: int) -> str:
    """Record why the mail was not accepted, and when to try again; returns its state."""
    mail.last_error = failure.reason
    if failure.permanent or mail.attempts >= max_attempts:
        mail.state = "failed"
        log.error(
            "Mail #%s to %s (%s) is not sent and will not be tried again after %s attempt(s): %s. "
            "`flask mail retry %s` puts it back in the queue.",
            mail.id, mail.recipient, mail.subject, mail.attempts, failure.reason, mail.id,
        )
    else:
        mail.send_after = utcnow() + retry_wait(mail.attempts)
        log.warning(
            "Mail #%s to %s not sent (attempt %s): %s. Next attempt after %s.",
            mail.id, mail.recipient, mail.attempts, failure.reason, f"{mail.send_after:%Y-%m-%d %H:%M:%S} UTC",
        )
    db.session.commit()
    return mail.state


def run_worker(stop: Stop, poll_seconds: float = 5.0, work: Callable[..., Pass] | None = None) -> None:
    """Do `work` (by default deliver mail as it falls due: `send_due`) until `stop` is set (the mail
    in hand is finished first). A database that cannot be reached is logged and tried again after
    `poll_seconds`."""
    log.info("The mail worker is running: it looks for due mail every %s seconds.", poll_seconds)
    work = work or send_due
    while not stop.is_set():
        done = Pass()
        try:
            done = work(limit=BATCH, stop=stop)
        except OperationalError as exc:
            if is_busy(exc):  # SQLite's one writer was busy past the lock timeout: nothing is lost
                log.warning("The database was busy; the mail worker tries again in %s seconds", poll_seconds)
            else:
                log.exception("The mail worker cannot use the database; trying again in %s seconds", poll_seconds)
        except Exception:  # the worker outlives its own faults; each is logged
            log.exception("The mail worker's pass failed; trying again in %s seconds", poll_seconds)
        finally:
            db.session.remove()
        if done.handled:
            log.info("Mail worker: %s", done)
        if done.handled < BATCH:
            stop.wait(poll_seconds)
    log.info("The mail worker has stopped.")


@dataclass
class Status:
    """The outbox at a glance (`flask mail status`)."""

    counts: dict[str, int]
    oldest_waiting: datetime | None
    failed: list[OutgoingMail] = field(default_factory=list)
    retrying: list[OutgoingMail] = field(default_factory=list)


def outbox_status(listed: int = 50) -> Status:
    """How many mails are in each state, when the oldest waiting one was written, and (at most
    `listed` of each) the failed mails and those waiting after a failed attempt."""
    unsent = select(OutgoingMail).where(OutgoingMail.sent_at.is_(None))
    return Status(
        counts=dict(db.session.execute(select(OutgoingMail.state, func.count()).group_by(OutgoingMail.state)).tuples().all()),
        oldest_waiting=db.session.scalar(
            select(func.min(OutgoingMail.created_at)).where(OutgoingMail.sent_at.is_(None), OutgoingMail.state == "waiting")
        ),
        failed=list(db.session.scalars(unsent.where(OutgoingMail.state == "failed").order_by(OutgoingMail.id).limit(listed))),
        retrying=list(
            db.session.scalars(
                unsent.where(OutgoingMail.state == "waiting", OutgoingMail.last_error.is_not(None))
                .order_by(OutgoingMail.send_after, OutgoingMail.id)
                .limit(listed)
            )
        ),
    )


def retry_failed(ids: Sequence[int] | None = None) -> int:
    """Put failed mail back in the queue, due now and with its attempts counted afresh (all of it
    when `ids` is None); returns how many. Withheld mail stays withheld. Flushes; the caller commits."""
    statement = update(OutgoingMail).where(OutgoingMail.sent_at.is_(None), OutgoingMail.state == "failed")
    if ids is not None:
        statement = statement.where(OutgoingMail.id.in_(list(ids)))
    result = db.session.execute(statement.values(state="waiting", send_after=utcnow(), attempts=0))
    return int(result.rowcount or 0)
