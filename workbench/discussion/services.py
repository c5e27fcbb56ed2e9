"""Deliberation: comments and reflections, reports, and moderation (state changes); votes are in
`votes.py`.

Each function takes plain values and the acting user, checks the permission again (the view
checked it too), flushes and never commits (the view commits). They raise `NotAllowed` (with a
message in the users' words) when the person may not act, `WrongState` when the thing changed
meanwhile so that the action no longer fits, and `ValidationError` with messages per field for bad
input (all from `workbench.exceptions`). Nothing is deleted: a cleared vote keeps its row (value 0), a retracted
comment keeps its words in the database, hidden content keeps everything.

Tallies kept in step, inside the same transaction, by recounting from the rows (exact under
concurrency because the proposal's row is locked first on PostgreSQL, and SQLite write requests
hold the database's write lock from `BEGIN IMMEDIATE`):

- `Proposal.support_count` / `oppose_count`: votes of +1 / -1.
- `Proposal.comment_count`: comments and replies on the proposal that anyone can read: neither
  hidden nor retracted.
- `Comment.reply_count`: replies that are listed in public, i.e. not hidden (a retracted reply is
  listed, as "retracted").
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select, update

from .. import permissions
from ..models import (
    Comment,
    CommentRevision,
    Element,
    Proposal,
    Report,
    User,
    Vision,
    db,
    published_by,
    record_event,
    utcnow,
)
from ..drafting.window import closed_words
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..validation import clean_text, has_disguising_characters
from ..visions.services import element_removal
from .votes import lock_proposal

BODY_MAX = 5_000
REASON_MAX = 1_000

ALREADY_RETRACTED = "You have already retracted this comment. It shows as retracted."
OWN_CONTRIBUTION = "This is your own contribution, so you cannot report it. You can edit, retract or withdraw it instead."
SUBJECT_TYPES = ("comment", "proposal")


# --- checking what people wrote -------------------------------------------------------------------


def clean_body(body: str | None, *, field: str = "body", what: str = "comment", maximum: int = BODY_MAX) -> str:
    """Normalised text of 1 to `maximum` characters, or ValidationError on `field`.

    Refuses hidden formatting characters (bidi overrides, zero-width characters) rather than
    silently changing what the person sees; NUL and other control characters are removed.
    """
    raw = body or ""
    if has_disguising_characters(raw):
        raise ValidationError(
            {field: f"Remove the hidden formatting characters (such as right-to-left overrides or zero-width spaces) from your {what}"}
        )
    text = clean_text(raw, multiline=True)
    if not text:
        raise ValidationError({field: f"Enter your {what}"})
    if len(text) > maximum:
        raise ValidationError(
            {field: f"Your {what} must be {maximum:,} characters or fewer (it has {len(text):,})"}
        )
    return text


# --- comments and reflections ---------------------------------------------------------------------


# What the stored counts count (the counts shown beside what the public can read): one place for
# the rule, used by each recount below.


def _counted_comments(proposal_id: Any) -> Any:
    """SQL: how many comments and replies on `proposal_id` are neither hidden nor retracted, nor by
    someone who chose not to be published."""
    return (
        select(func.count(Comment.id))
        .where(
            Comment.proposal_id == proposal_id,
            Comment.hidden_at.is_(None),
            Comment.retracted_at.is_(None),
            published_by(Comment.author_id),
        )
        .scalar_subquery()
    )


def _counted_replies(parent_id: Any, *subject: Any) -> Any:
    """SQL: how many replies to `parent_id` are neither hidden nor by someone who chose not to be
    published (`subject`: conditions that let the count read the subject's index)."""
    replies = Comment.__table__.alias("replies")
    return (
        select(func.count(replies.c.id))
        .where(
            *(condition(replies) for condition in subject), replies.c.parent_id == parent_id,
            replies.c.hidden_at.is_(None), published_by(replies.c.author_id),
        )
        .scalar_subquery()
    )


def recount_comments(proposal_id: int) -> None:
    """Set the proposal's comment count: its comments and replies neither hidden nor retracted, nor
    by someone who chose not to be published (the count shown beside what the public can read).

    A proposal loaded in the session has its count expired, so it reads the new one when shown."""
    db.session.execute(
        update(Proposal)
        .where(Proposal.id == proposal_id)
        .values(comment_count=_counted_comments(proposal_id))
        .execution_options(synchronize_session="fetch")
    )


def recount_replies(parent: Comment) -> None:
    """Set the comment's reply count: its replies that are neither hidden nor by someone who chose
    not to be published."""
    # Naming the subject lets the count read the (subject, parent_id, created_at) index.
    if parent.proposal_id is not None:
        def subject(replies: Any) -> Any:
            return replies.c.proposal_id == parent.proposal_id
    else:
        def subject(replies: Any) -> Any:
            return (replies.c.element_id == parent.element_id) & replies.c.proposal_id.is_(None)
    db.session.execute(
        update(Comment)
        .where(Comment.id == parent.id)
        .values(reply_count=_counted_replies(parent.id, subject))
        .execution_options(synchronize_session=False)
    )


def recount_contributions_of(user_id: int) -> None:
    """After a person changes how they are published (accounts.about_you): the stored counts that
    hold their comments and replies follow the new choice, for past contributions too. Two
    statements, each touching only the proposals and comments the person wrote on.

    The counts are stored, not counted when shown, because the lists sort by them from an index
    ("Most discussed"); everything else about "not published" is read at query time (published_by).
    """
    db.session.flush()
    on_proposals = select(Comment.proposal_id).where(Comment.author_id == user_id, Comment.proposal_id.is_not(None))
    db.session.execute(
        update(Proposal)
        .where(Proposal.id.in_(on_proposals))
        .values(comment_count=_counted_comments(Proposal.id))
        .execution_options(synchronize_session=False)
    )
    parents = select(Comment.parent_id).where(Comment.author_id == user_id, Comment.parent_id.is_not(None))
    db.session.execute(
        update(Comment)
        .where(Comment.id.in_(parents))
        .values(reply_count=_counted_replies(Comment.id))
        .execution_options(synchronize_session=False)
    )
    db.session.expire_all()


def _lock_comment(comment: Comment) -> None:
    db.session.refresh(comment, with_for_update={"of": Comment})


def _recount_after(comment: Comment) -> None:
    """Keep the counts that include `comment` in step after it was posted, retracted, hidden or shown."""
    if comment.proposal_id is not None:
        recount_comments(comment.proposal_id)
    if comment.parent_id is not None:
        parent = db.session.get(Comment, comment.parent_id)
        recount_replies(parent)
        db.session.refresh(parent, ["reply_count"])
    db.session.flush()


def _thread_parent(parent_id: int | None, *, proposal_id: int | None, element_id: int | None, user: Any) -> Comment | None:
    """The top-level comment a new comment replies to, or None for a new thread.

    One level of replies: a reply to a reply joins the thread of the top-level comment it is in.
    Raises ValidationError when the comment is not in this discussion or cannot be seen.
    """
    if parent_id is None:
        return None
    parent = db.session.get(Comment, parent_id)
    if parent is not None and parent.parent_id is not None:
        parent = db.session.get(Comment, parent.parent_id)
    if (
        parent is None
        or parent.proposal_id != proposal_id
        or (proposal_id is None and parent.element_id != element_id)
        or not permissions.can_see_contribution(user, parent)
    ):
        raise ValidationError({"parent_id": "The comment you replied to is not part of this discussion any more. Reload the page and try again"})
    return parent


def post_comment(proposal: Proposal, author: User, body: str | None, parent_id: int | None = None) -> Comment:
    """A comment on `proposal` (or a reply to one of its comments, see `_thread_parent`).

    Body: 1 to 5,000 characters of plain text. Raises NotAllowed outside the window or on a hidden
    proposal, ValidationError for bad text or a parent that is not in this discussion.
    """
    lock_proposal(proposal)
    if not permissions.can_comment_on_proposal(author, proposal):
        if proposal.hidden_at is not None:
            raise NotAllowed("This proposal has been hidden by the facilitators, so it cannot be discussed.")
        raise NotAllowed(closed_words(proposal.vision, "comment"))
    text = clean_body(body)
    parent = _thread_parent(parent_id, proposal_id=proposal.id, element_id=None, user=author)
    return _add_comment(author, text, parent, vision_id=proposal.vision_id, proposal_id=proposal.id, element_id=None)


def post_reflection(
    vision: Vision, element: Element, author: User, body: str | None, parent_id: int | None = None,
    sentence: dict[str, Any] | None = None,
) -> Comment:
    """A reflection on `element` (or a reply to one). Same rules as `post_comment`; and WrongState
    for an element removed from the working draft, which takes no new reflections. `sentence`: the
    columns naming the sentence it is written on (`discussion.sentences.sentence_range`; never
    with a reply)."""
    if element.vision_id != vision.id:
        raise NotAllowed("This element is not part of this vision.")
    if not permissions.can_reflect(author, vision):
        raise NotAllowed(closed_words(vision, "reflect on the vision"))
    removal = element_removal(vision, element.key)
    if removal is not None:
        raise WrongState(removal.refusal("reflections"))
    text = clean_body(body, what="reflection")
    parent = _thread_parent(parent_id, proposal_id=None, element_id=element.id, user=author)
    if sentence and parent is not None:
        raise ValidationError({"parent_id": "A reply answers a reflection, not a sentence"})
    return _add_comment(
        author, text, parent, vision_id=vision.id, proposal_id=None, element_id=element.id, **(sentence or {})
    )


def _add_comment(author: User, text: str, parent: Comment | None, **subject: Any) -> Comment:
    if parent is not None:
        _lock_comment(parent)
    comment = Comment(
        author_id=author.id,
        body=text,
        parent_id=parent.id if parent is not None else None,
        created_at=utcnow(),
        reply_count=0,
        **subject,
    )
    db.session.add(comment)
    db.session.flush()
    _recount_after(comment)
    record_event(
        "reflection.posted" if comment.proposal_id is None else "comment.posted",
        "comment",
        comment.id,
        actor=author,
        vision_id=comment.vision_id,
        proposal_id=comment.proposal_id,
        parent_id=comment.parent_id,
    )
    db.session.flush()
    return comment


def edit_comment(comment: Comment, author: User, body: str | None, vision: Vision) -> CommentRevision:
    """The author rewords their comment: the old wording is kept as a CommentRevision and the
    comment is marked edited (now). Raises NotAllowed for anyone else, on a retracted or hidden
    comment and outside the window; ValidationError for bad text or unchanged wording."""
    _lock_comment(comment)
    if not permissions.can_revise_comment(author, comment, vision):
        raise NotAllowed(edit_refusal(author, comment, vision) or "You cannot edit this comment.")
    text = clean_body(body)
    if text == comment.body:
        raise ValidationError({"body": "You have not changed anything. Change the wording, or cancel"})
    now = utcnow()
    revision = CommentRevision(comment_id=comment.id, body=comment.body, created_at=now)
    db.session.add(revision)
    comment.body = text
    comment.edited_at = now
    record_event("comment.edited", "comment", comment.id, actor=author, vision_id=comment.vision_id)
    db.session.flush()
    return revision


def edit_refusal(user: Any, comment: Comment, vision: Vision) -> str | None:
    """Why `user` cannot edit `comment` (None when they can)."""
    if permissions.can_revise_comment(user, comment, vision):
        return None
    if not (permissions.is_member(user) and comment.author_id == user.id):
        return "Only the person who wrote a comment can edit it."
    if comment.retracted_at is not None:
        return "You retracted this comment, so it can no longer be edited."
    if comment.hidden_at is not None:
        return "The facilitators have hidden this comment, so it can no longer be edited."
    return closed_words(vision, "edit your comments")


def retract_comment(comment: Comment, author: User) -> Comment:
    """The author takes their comment back: it shows as retracted from now on (its words stay in
    the database, its replies stay in place). Raises NotAllowed for anyone else, WrongState if it
    already is."""
    _lock_subject(comment)
    if not permissions.can_retract_comment(author, comment):
        if permissions.is_member(author) and comment.author_id == author.id:
            raise WrongState(ALREADY_RETRACTED)
        raise NotAllowed("Only the person who wrote a comment can retract it.")
    comment.retracted_at = utcnow()
    db.session.flush()
    _recount_after(comment)
    record_event("comment.retracted", "comment", comment.id, actor=author, vision_id=comment.vision_id)
    db.session.flush()
    return comment


# --- reports --------------------------------------------------------------------------------------


def file_report(subject_type: str, subject: Comment | Proposal, reporter: User, reason: str | None) -> tuple[Report, bool]:
    """Ask the facilitators to look at a comment, reflection or proposal; (report, created).

    One open report per person and subject: reporting again while one is open returns that report
    (created False). Raises NotAllowed for one's own content, content already hidden or retracted;
    ValidationError for a missing or too long reason.
    """
    if subject_type not in SUBJECT_TYPES:
        raise ValidationError({"subject_type": "Choose what you are reporting"})
    if not permissions.can_report_content(reporter, subject.author_id):
        if permissions.is_member(reporter):
            raise NotAllowed(OWN_CONTRIBUTION)
        raise NotAllowed("Sign in to report something to the facilitators.")
    if subject.hidden_at is not None:
        raise NotAllowed("The facilitators have already hidden this.")
    if isinstance(subject, Comment) and subject.retracted_at is not None:
        raise NotAllowed("Its author has retracted it, so its words are no longer shown.")
    text = clean_body(reason, field="reason", what="reason", maximum=REASON_MAX)
    existing = db.session.scalar(
        select(Report).where(
            Report.subject_type == subject_type,
            Report.subject_id == subject.id,
            Report.reporter_id == reporter.id,
            Report.resolved_at.is_(None),
        )
    )
    if existing is not None:
        return existing, False
    report = Report(subject_type=subject_type, subject_id=subject.id, reporter_id=reporter.id, reason=text, created_at=utcnow())
    db.session.add(report)
    db.session.flush()
    record_event(
        "report.filed", subject_type, subject.id, actor=reporter, vision_id=subject.vision_id, report_id=report.id
    )
    db.session.flush()
    return report, True


# --- moderation -----------------------------------------------------------------------------------


def _resolve_reports(subject_type: str, subject_id: int, facilitator: User, outcome: str) -> int:
    """Close the subject's open reports with `outcome`; how many were open."""
    result = db.session.execute(
        update(Report)
        .where(Report.subject_type == subject_type, Report.subject_id == subject_id, Report.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=facilitator.id, outcome=outcome)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _lock_subject(subject: Comment | Proposal) -> None:
    """Lock the rows whose counts change with `subject`: always the proposal first, then the comment
    (one order everywhere, so two transactions never wait on each other)."""
    if isinstance(subject, Proposal):
        lock_proposal(subject)
    else:
        if subject.proposal_id is not None:
            db.session.execute(select(Proposal.id).where(Proposal.id == subject.proposal_id).with_for_update())
        _lock_comment(subject)


def hide_content(subject_type: str, subject: Comment | Proposal, facilitator: User, reason: str | None) -> int:
    """Hide a comment, reflection or proposal with a public reason; returns the reports resolved.

    Hidden content leaves every public page, list, count and export; its author still sees it,
    with the reason. Its open reports are resolved ("hidden"); an audit event records it. Raises
    NotAllowed for non-facilitators, WrongState for content already hidden (by someone else
    meanwhile), ValidationError without a reason.
    """
    if not permissions.can_moderate(facilitator):
        raise NotAllowed("Only facilitators can hide content.")
    _lock_subject(subject)
    if subject.hidden_at is not None:
        raise WrongState("This is already hidden.")
    text = clean_body(reason, field="reason", what="reason", maximum=REASON_MAX)
    subject.hidden_at = utcnow()
    subject.hidden_by_id = facilitator.id
    subject.hidden_reason = text
    db.session.flush()
    if isinstance(subject, Comment):
        _recount_after(subject)
    resolved = _resolve_reports(subject_type, subject.id, facilitator, "hidden")
    record_event(
        f"{subject_type}.hidden", subject_type, subject.id, actor=facilitator, vision_id=subject.vision_id,
        reason=text, reports_resolved=resolved,
    )
    db.session.flush()
    return resolved


def unhide_content(subject_type: str, subject: Comment | Proposal, facilitator: User) -> bool:
    """Show hidden content again (the earlier reason stays in the audit trail); False when it was
    not hidden (nothing changes). Raises NotAllowed for non-facilitators."""
    if not permissions.can_moderate(facilitator):
        raise NotAllowed("Only facilitators can show hidden content again.")
    _lock_subject(subject)
    if subject.hidden_at is None:
        return False
    previous = subject.hidden_reason
    subject.hidden_at = None
    subject.hidden_by_id = None
    subject.hidden_reason = ""
    db.session.flush()
    if isinstance(subject, Comment):
        _recount_after(subject)
    record_event(
        f"{subject_type}.unhidden", subject_type, subject.id, actor=facilitator, vision_id=subject.vision_id,
        previous_reason=previous,
    )
    db.session.flush()
    return True


def dismiss_reports(subject_type: str, subject: Comment | Proposal, facilitator: User) -> int:
    """Close the subject's open reports without hiding it ("dismissed"); how many were open (0:
    nothing changes). Raises NotAllowed for non-facilitators."""
    if not permissions.can_moderate(facilitator):
        raise NotAllowed("Only facilitators can dismiss reports.")
    resolved = _resolve_reports(subject_type, subject.id, facilitator, "dismissed")
    if not resolved:
        return 0
    record_event(
        "reports.dismissed", subject_type, subject.id, actor=facilitator, vision_id=subject.vision_id,
        reports_resolved=resolved,
    )
    db.session.flush()
    return resolved
