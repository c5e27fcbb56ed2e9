"""Telling people what happened: the worker's part.

Every audit event is written with a job (`EventToTell`) in the transaction of the change it
records. The worker (`flask --app wsgi mail worker`, or `mail send-due` from cron) takes the jobs
oldest first and, for each, in ONE transaction: works out who is told what (`RULES`), writes or
merges their notifications, queues the mails of those who want them at once, and removes the job.
So an event is told exactly once; a failure rolls everything back and the job is tried again a
minute later (then 2, 4 ... at most an hour). Fanning a new version out to 20,000 followers costs the
publish request one row.

The rules of telling, in one place:
- one notification per event and person, whatever their reasons to hear of it (the first reason in
  a rule wins: your proposal before a proposal you follow);
- nobody is told of their own action; nobody deleted or deactivated is told anything;
- hidden content is never told (and a notification whose thing is hidden later is not shown, nor
  counted as unread: it is marked read when the hiding is told);
- events of one kind on one thing merge into the person's unread notification about it: five
  comments make "5 new comments on your proposal"; an immediate mail not yet taken by the worker
  is rewritten to say so rather than followed by a second one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.exc import SQLAlchemyError

from ..models import (
    AlignedWork,
    AuditEvent,
    Comment,
    DraftEntry,
    Element,
    EmailChoice,
    EventToTell,
    Notification,
    OutgoingMail,
    Proposal,
    User,
    Vision,
    db,
    utcnow,
    waiting,
)
from ..mail import Mail
from ..outbox import queue
from ..permissions import seen_by_everyone
from . import mails
from .following import followers
from .kinds import DAILY, IMMEDIATELY, KINDS
from .wording import ABOUT_TYPES, Things, Words, visible_to, words_for

log = logging.getLogger(__name__)

BATCH = 20  # events a worker tells between two looks at its mail
CHUNK = 2000  # people handled per statement when an event has many
FIRST_WAIT = timedelta(minutes=1)
LONGEST_WAIT = timedelta(hours=1)


@dataclass(frozen=True)
class Tell:
    """What some people are told: a kind of notification about a thing."""

    kind: str
    about: Any

    @property
    def key(self) -> tuple[str, str, int]:
        return self.kind, ABOUT_TYPES[type(self.about)], self.about.id


Reasons = Iterator[tuple[Tell, Iterable[int] | Any]]  # (what, whom: ids or a SELECT of ids), first reasons first


# --- who is told what, by the action of the event ---------------------------------------------


def _decision(event: AuditEvent) -> Reasons:
    proposal = db.session.get(Proposal, event.subject_id)
    if proposal is None:
        return
    yield Tell("decision", proposal), [proposal.author_id]
    if seen_by_everyone(proposal):
        yield Tell("followed_proposal", proposal), followers("proposal", proposal.id)
    if event.action == "proposal.accepted":
        yield from _stale_on(proposal.vision_id, proposal.element_id)


def _element_edited(event: AuditEvent) -> Reasons:
    if event.subject_id is not None and event.vision_id is not None:
        yield from _stale_on(event.vision_id, event.subject_id)


def _stale_on(vision_id: int, element_id: int) -> Reasons:
    """The authors of open proposals on the element whose base is no longer its working text."""
    working = select(DraftEntry.text_id).where(DraftEntry.vision_id == vision_id, DraftEntry.element_id == element_id)
    stale = db.session.scalars(
        select(Proposal).where(
            Proposal.element_id == element_id, waiting(), Proposal.base_text_id.not_in(working)
        ).order_by(Proposal.id)
    )
    for proposal in stale:
        yield Tell("stale", proposal), [proposal.author_id]


def _comment(event: AuditEvent) -> Reasons:
    comment = db.session.get(Comment, event.subject_id)
    if comment is None or not seen_by_everyone(comment):
        return
    if comment.parent_id is not None:
        parent = db.session.get(Comment, comment.parent_id)
        if parent is not None and parent.hidden_at is None:
            yield Tell("reply", parent), [parent.author_id]
    if comment.proposal_id is not None:
        proposal = db.session.get(Proposal, comment.proposal_id)
        if proposal is None or not seen_by_everyone(proposal):
            return
        # The author hears of comments while they follow their proposal (they do from the start).
        following = list(db.session.scalars(followers("proposal", proposal.id)))
        if proposal.author_id in following:
            yield Tell("comment_on_mine", proposal), [proposal.author_id]
        yield Tell("followed_proposal", proposal), following
    elif comment.element_id is not None:
        yield from _element_news(comment.element_id)


def _proposal_opened(event: AuditEvent) -> Reasons:
    proposal = db.session.get(Proposal, event.subject_id)
    if proposal is not None and seen_by_everyone(proposal):
        yield from _element_news(proposal.element_id)


def _element_news(element_id: int) -> Reasons:
    element = db.session.get(Element, element_id)
    if element is not None:
        yield Tell("followed_element", element), followers("element", element.id)


def _published(event: AuditEvent) -> Reasons:
    vision = db.session.get(Vision, event.vision_id) if event.vision_id is not None else None
    if vision is not None:
        yield Tell("followed_vision", vision), followers("vision", vision.id)


def _screened(event: AuditEvent) -> Reasons:
    work = db.session.get(AlignedWork, event.subject_id)
    if work is not None:
        yield Tell("screening", work), [work.submitter_id]


def _moderated(event: AuditEvent) -> Reasons:
    model = Comment if event.subject_type == "comment" else Proposal
    subject = db.session.get(model, event.subject_id)
    if subject is not None:
        yield Tell("moderation", subject), [subject.author_id]


RULES: dict[str, Callable[[AuditEvent], Reasons]] = {
    "proposal.accepted": _decision,
    "proposal.rejected": _decision,
    "proposal.reopened": _decision,
    "draft.element_edited": _element_edited,
    "comment.posted": _comment,
    "reflection.posted": _comment,
    "proposal.opened": _proposal_opened,
    "version.published": _published,
    "aligned_work.approved": _screened,
    "aligned_work.rejected": _screened,
    "comment.hidden": _moderated,
    "comment.unhidden": _moderated,
    "proposal.hidden": _moderated,
    "proposal.unhidden": _moderated,
}


def whom_to_tell(event: AuditEvent) -> dict[int, Tell]:
    """Each person to tell of `event`, with what: one per person (their first reason), never its actor."""
    rule = RULES.get(event.action)
    told: dict[int, Tell] = {}
    if rule is None:
        return told
    for tell, whom in rule(event):
        ids = db.session.scalars(whom) if not isinstance(whom, (list, tuple, set)) else whom
        for user_id in ids:
            if user_id is not None and user_id != event.actor_id:
                told.setdefault(user_id, tell)
    return told


# --- the worker's pass ------------------------------------------------------------------------


def tell_due(limit: int | None = BATCH) -> int:
    """Tell the events that are due, oldest first: at most `limit` (None: all). Returns how many."""
    told = 0
    while limit is None or told < limit:
        job = _claim_next()
        if job is None:
            break
        event_id = job.audit_event_id
        try:
            tell(job.event)
            db.session.delete(job)
            db.session.commit()
        except SQLAlchemyError as exc:
            db.session.rollback()
            _record_failure(event_id, exc)
            raise
        except Exception as exc:  # a fault of ours: logged, and the event is tried again later
            db.session.rollback()
            log.exception("Event #%s could not be told", event_id)
            _record_failure(event_id, exc)
        told += 1
    return told


def _claim_next() -> EventToTell | None:
    """The oldest due job, claimed by a write: its row locked on PostgreSQL (another worker takes
    the next one, SKIP LOCKED), the database's write lock taken on SQLite. Either way no other
    worker can take a mail this one may rewrite (`_rewrite_waiting_mails`) until it commits."""
    oldest_due = (
        select(EventToTell.audit_event_id)
        .where(EventToTell.due_at <= utcnow())
        .order_by(EventToTell.due_at, EventToTell.audit_event_id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .scalar_subquery()
    )
    return db.session.scalars(
        update(EventToTell)
        .where(EventToTell.audit_event_id == oldest_due)
        .values(attempts=EventToTell.attempts)
        .returning(EventToTell),
        execution_options={"populate_existing": True},
    ).one_or_none()


def _record_failure(event_id: int, exc: Exception) -> None:
    try:
        job = db.session.get(EventToTell, event_id)
        if job is not None:
            job.attempts += 1
            job.last_error = f"{type(exc).__name__}: {exc}"[:300]
            job.due_at = utcnow() + min(FIRST_WAIT * 2 ** min(job.attempts - 1, 16), LONGEST_WAIT)
            db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("The failure to tell event #%s could not be recorded", event_id)


def tell(event: AuditEvent) -> None:
    """Write the notifications and mails of `event` (flushes; the caller commits)."""
    if event.action in ("comment.hidden", "proposal.hidden"):
        _quiet_what_was_hidden(event)
    groups: dict[Tell, list[int]] = {}
    for user_id, what in whom_to_tell(event).items():
        groups.setdefault(what, []).append(user_id)
    for what, user_ids in groups.items():
        for start in range(0, len(user_ids), CHUNK):
            _tell_some(event, what, user_ids[start : start + CHUNK])


def _quiet_what_was_hidden(event: AuditEvent) -> None:
    """Mark read the unread notifications that hiding this comment or proposal withholds from the
    page (wording.visible_to, words_for), so that the header's unread count says only what the page
    shows. Each group is read from the index of unread notifications about one thing."""
    model = Comment if event.subject_type == "comment" else Proposal
    subject = db.session.get(model, event.subject_id)
    if subject is None or subject.hidden_at is None:
        return  # shown again since
    unread_about = lambda about_type, about_id: (  # noqa: E731
        (Notification.about_type == about_type) & (Notification.about_id == about_id) & Notification.read_at.is_(None)
    )
    if isinstance(subject, Proposal):
        # Nothing about a hidden proposal, nor its comments, is shown to anyone but its author.
        withheld = [unread_about("proposal", subject.id)]
        withheld += [unread_about("comment", c) for c in db.session.scalars(select(Comment.id).where(Comment.proposal_id == subject.id))]
    else:
        # A notification only of this comment (one event, its own) is withheld; with others, it says "Someone".
        its_events = select(AuditEvent.id).where(AuditEvent.subject_type == "comment", AuditEvent.subject_id == subject.id)
        abouts = [("comment", subject.parent_id), ("proposal", subject.proposal_id), ("element", subject.element_id)]
        withheld = [
            unread_about(about_type, about_id) & (Notification.event_count == 1) & Notification.last_event_id.in_(its_events)
            for about_type, about_id in abouts
            if about_id is not None
        ]
    for condition in withheld:
        db.session.execute(
            update(Notification)
            .where(condition, Notification.user_id != subject.author_id, Notification.kind != "moderation")
            .values(read_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def _tell_some(event: AuditEvent, what: Tell, user_ids: list[int]) -> None:
    """Tell some people (at most CHUNK) of `event`, all of them the same thing: a fixed few
    statements whatever their number."""
    kind, about_type, about_id = what.key
    now = utcnow()
    people = dict(
        db.session.execute(
            select(User.id, User.email).where(
                User.id.in_(user_ids), User.is_deleted.is_(False), User.is_deactivated.is_(False)
            )
        ).tuples().all()
    )
    if not people:
        return
    chosen = dict(
        db.session.execute(
            select(EmailChoice.user_id, EmailChoice.how).where(EmailChoice.kind == kind, EmailChoice.user_id.in_(list(people)))
        ).tuples().all()
    )
    how = {user_id: chosen.get(user_id, KINDS[kind].default) for user_id in people}
    unread = {
        row.user_id: row
        for row in db.session.execute(
            select(Notification.id, Notification.user_id, Notification.event_count, Notification.mail_id).where(
                Notification.about_type == about_type,
                Notification.about_id == about_id,
                Notification.kind == kind,
                Notification.read_at.is_(None),
                Notification.user_id.in_(list(people)),
            )
        )
    }
    things = Things.single(what.about, event)
    worded: dict[int, Words | None] = {}  # by count: the same words for everyone told as many events

    def words(count: int) -> Words | None:
        if count not in worded:
            worded[count] = words_for(
                Notification(kind=kind, about_type=about_type, about_id=about_id, event_count=count, last_event_id=event.id),
                things,
            )
        return worded[count]

    def mail(user_id: int, count: int) -> Mail | None:
        """The person's immediate mail, or None when they get none."""
        if how[user_id] != IMMEDIATELY or not people[user_id] or not visible_to(user_id, what.about, things):
            return None
        worded_ = words(count)
        return None if worded_ is None else mails.notification_mail(user_id, people[user_id], kind, worded_)

    # Merged into the unread notifications: counted, and their immediate mail rewritten when no
    # worker took it yet, or a new one queued.
    merged_mail = {row.id: (row, m) for row in unread.values() if (m := mail(row.user_id, row.event_count + 1)) is not None}
    rewritten = _rewrite_waiting_mails({row.mail_id: m for row, m in merged_mail.values() if row.mail_id is not None})
    queued = {
        notification_id: queue(m, user_id=row.user_id)
        for notification_id, (row, m) in merged_mail.items()
        if row.mail_id not in rewritten
    }
    for daily in (True, False):
        ids = [row.id for row in unread.values() if (how[row.user_id] == DAILY) == daily]
        if ids:
            values: dict[str, Any] = {"event_count": Notification.event_count + 1, "last_event_id": event.id, "updated_at": now}
            if daily:
                values["digest_due"] = True
            db.session.execute(update(Notification).where(Notification.id.in_(ids)).values(**values))

    # New notifications for the others, with their immediate mail.
    vision_id = what.about.id if isinstance(what.about, Vision) else getattr(what.about, "vision_id", None)
    new_rows = {
        user_id: {
            "user_id": user_id, "kind": kind, "about_type": about_type, "about_id": about_id, "vision_id": vision_id,
            "first_event_id": event.id, "last_event_id": event.id, "event_count": 1, "created_at": now,
            "updated_at": now, "read_at": None, "mail_id": None, "digest_due": how[user_id] == DAILY,
        }
        for user_id in people
        if user_id not in unread
    }
    first_mails = {user_id: queue(m, user_id=user_id) for user_id in new_rows if (m := mail(user_id, 1)) is not None}
    if queued or first_mails:
        db.session.flush()  # the mails' ids
    if queued:
        table = Notification.__table__  # executemany: Core, not the ORM's bulk update
        db.session.execute(
            update(table).where(table.c.id == bindparam("nid")).values(mail_id=bindparam("mid")),
            [{"nid": notification_id, "mid": row.id} for notification_id, row in queued.items()],
        )
    for user_id, row in first_mails.items():
        new_rows[user_id]["mail_id"] = row.id
    if new_rows:
        db.session.execute(insert(Notification), list(new_rows.values()))


def _rewrite_waiting_mails(wanted: dict[int, Mail]) -> set[int]:
    """Rewrite the immediate mails (by id) that no worker took yet (their first attempt not begun)
    to say what their notification now counts; returns the ids rewritten. No worker can take one
    meanwhile: the job's claim holds SQLite's write lock, and these rows are locked on PostgreSQL
    (a worker's claim skips locked rows)."""
    if not wanted:
        return set()
    waiting_ = set(
        db.session.scalars(
            select(OutgoingMail.id)
            .where(
                OutgoingMail.id.in_(list(wanted)),
                OutgoingMail.state == "waiting",
                OutgoingMail.attempts == 0,
                OutgoingMail.sent_at.is_(None),
            )
            .with_for_update(skip_locked=True)
        )
    )
    if waiting_:
        table = OutgoingMail.__table__  # executemany: Core, not the ORM's bulk update
        db.session.execute(
            update(table).where(table.c.id == bindparam("mid")).values(subject=bindparam("s"), body=bindparam("b")),
            [{"mid": i, "s": wanted[i].subject, "b": wanted[i].body} for i in waiting_],
        )
    return waiting_


def due_count() -> int:
    """How many events wait to be told (for `flask mail status`)."""
    return int(db.session.scalar(select(func.count()).select_from(EventToTell)) or 0)
