"""Reading discussions: pages of comments and reflections, replies, votes, where a comment is.

Every function runs a fixed number of queries, whatever the size of the discussion (the authors
are joined in; the first replies of a whole page of comments come in one query).

Who sees what (`Viewer`):
- everyone: comments that are not hidden; a retracted comment shows as "retracted" (no words);
  a hidden top-level comment that has replies shows as a placeholder, so its replies keep their
  context; a hidden comment without replies, or a hidden reply, is not listed at all;
- comments by someone who chose not to be published (publication.NOT_PUBLISHED) are treated as
  hidden ones are: a placeholder when others replied, else not listed; the words never shown;
- the author of a hidden comment: it, in place, with the facilitators' reason;
- facilitators: everything, hidden content marked as hidden.

Order: top-level comments newest first (a new comment is on the first page), in pages of 20;
replies oldest first (they read as a conversation), the first 3 under each comment, then all of
them in pages of 20.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, or_, select, true
from sqlalchemy.orm import joinedload

from ..drafting.window import closed_words
from .. import permissions
from ..models import Comment, CommentRevision, Element, Proposal, Vision, db, published_by
from ..pagination import PageNumbers
from . import votes

COMMENTS_PER_PAGE = 20
REPLIES_SHOWN = 3
REPLIES_PER_PAGE = 20
ELEMENT_PAGE_REFLECTIONS = 3


@dataclass(frozen=True)
class Viewer:
    """The person reading, reduced to what visibility depends on."""

    id: int | None = None
    is_facilitator: bool = False

    @classmethod
    def of(cls, user: Any) -> Viewer:
        if not permissions.is_member(user):
            return cls()
        return cls(user.id, permissions.is_facilitator(user))

    @property
    def signed_in(self) -> bool:
        return self.id is not None


def visible(viewer: Viewer, *, top_level: bool = False, table: Any = Comment) -> Any:
    """The SQL condition for the comments `viewer` may see listed (see the module's docstring)."""
    if viewer.is_facilitator:
        return true()
    # Hidden by the moderators, or by someone who chose not to be published: the same rule.
    condition = and_(table.hidden_at.is_(None), published_by(table.author_id))
    if top_level:
        condition = or_(condition, table.reply_count > 0)
    if viewer.id is not None:
        condition = or_(condition, table.author_id == viewer.id)
    return condition


@dataclass
class Thread(PageNumbers):
    """One page of a discussion's top-level comments, each with its first replies."""

    scope: str  # "proposal-5" or "element-12": makes the page's ids unique
    comments: list[Comment]
    replies: dict[int, list[Comment]]
    total: int  # top-level comments the viewer can see listed
    page: int
    per_page: int = COMMENTS_PER_PAGE


def _subject(proposal_id: int | None, element_id: int | None) -> Any:
    """The comments on a proposal, or the reflections on an element. Every query of a discussion
    names its subject, so that it reads through one of the (subject, parent_id, created_at) indexes."""
    if proposal_id is not None:
        return Comment.proposal_id == proposal_id
    return and_(Comment.element_id == element_id, Comment.proposal_id.is_(None))


def _page_with_authors(where: Any, order: tuple[Any, ...], offset: int, limit: int) -> list[Comment]:
    """One page of comments with their authors, in one query: the page's ids are chosen first, on
    the narrow index columns, and only those rows are joined to their authors (joining first let
    PostgreSQL hash the whole users table for every page)."""
    page_ids = select(Comment.id).where(*where).order_by(*order).offset(offset).limit(limit).subquery()
    return list(
        db.session.scalars(
            select(Comment)
            .join(page_ids, page_ids.c.id == Comment.id)
            .options(joinedload(Comment.author))
            .order_by(*order)
        )
    )


def thread_page(
    viewer: Viewer, *, proposal_id: int | None = None, element_id: int | None = None, page: int = 1,
    per_page: int = COMMENTS_PER_PAGE,
) -> Thread:
    """Page `page` of the top-level comments on a proposal (or reflections on an element), with
    the first replies of each: three queries (one when there is nothing to show).

    The count and the page are separate queries: the page then walks the (subject, parent_id,
    created_at) index newest first and stops after `per_page` rows."""
    scope = f"proposal-{proposal_id}" if proposal_id is not None else f"element-{element_id}"
    where = (_subject(proposal_id, element_id), Comment.parent_id.is_(None), visible(viewer, top_level=True))
    total = db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0
    if total == 0 or (page - 1) * per_page >= total:
        return Thread(scope, [], {}, total, page, per_page)
    comments = _page_with_authors(where, (Comment.created_at.desc(), Comment.id.desc()), (page - 1) * per_page, per_page)
    replies = first_replies(viewer, [c.id for c in comments], proposal_id=proposal_id, element_id=element_id)
    return Thread(scope, comments, replies, total, page, per_page)


def first_replies(
    viewer: Viewer, parent_ids: list[int], *, proposal_id: int | None, element_id: int | None, shown: int = REPLIES_SHOWN
) -> dict[int, list[Comment]]:
    """The first `shown` replies (oldest first) to each of the comments (all on the same proposal,
    or the same element), in one query."""
    if not parent_ids:
        return {}
    ranked = (
        select(
            Comment.id,
            func.row_number()
            .over(partition_by=Comment.parent_id, order_by=(Comment.created_at, Comment.id))
            .label("n"),
        )
        .where(_subject(proposal_id, element_id), Comment.parent_id.in_(parent_ids), visible(viewer))
        .subquery()
    )
    found: dict[int, list[Comment]] = {}
    for reply in db.session.scalars(
        select(Comment)
        .join(ranked, ranked.c.id == Comment.id)
        .options(joinedload(Comment.author))
        .where(ranked.c.n <= shown)
        .order_by(Comment.parent_id, Comment.created_at, Comment.id)
    ):
        found.setdefault(reply.parent_id, []).append(reply)
    return found


@dataclass
class Replies(PageNumbers):
    parent: Comment
    replies: list[Comment]
    total: int
    page: int
    per_page: int = REPLIES_PER_PAGE


def replies_page(viewer: Viewer, parent: Comment, page: int = 1, per_page: int = REPLIES_PER_PAGE) -> Replies:
    """Page `page` of the replies to `parent`, oldest first (two queries; one when there are none)."""
    where = (_subject(parent.proposal_id, parent.element_id), Comment.parent_id == parent.id, visible(viewer))
    total = db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0
    if total == 0 or (page - 1) * per_page >= total:
        return Replies(parent, [], total, page, per_page)
    replies = _page_with_authors(where, (Comment.created_at, Comment.id), (page - 1) * per_page, per_page)
    return Replies(parent, replies, total, page, per_page)


# --- one comment ----------------------------------------------------------------------------------


@dataclass
class CommentContext:
    """A comment with what it is said on: a proposal, or an element of a vision (reflections)."""

    comment: Comment
    vision: Vision
    proposal: Proposal | None
    element: Element | None

    @property
    def is_reflection(self) -> bool:
        return self.comment.proposal_id is None


def load_comment(comment_id: int) -> CommentContext | None:
    """The comment with its author, vision, and its proposal or element; one query."""
    row = db.session.execute(
        select(Comment, Vision, Proposal, Element)
        .options(joinedload(Comment.author))
        .join(Vision, Vision.id == Comment.vision_id)
        .outerjoin(Proposal, Proposal.id == Comment.proposal_id)
        .outerjoin(Element, Element.id == Comment.element_id)
        .where(Comment.id == comment_id)
    ).first()
    if row is None:
        return None
    return CommentContext(*row)


def can_read(user: Any, context: CommentContext) -> bool:
    """Whether `user` may see this comment at all: it is visible, and so is what it is said on."""
    proposal = context.proposal
    return permissions.can_see_contribution(user, context.comment) and (
        proposal is None or permissions.can_see_contribution(user, proposal)
    )


def can_read_words(user: Any, comment: Comment) -> bool:
    """Whether the words of a retracted or hidden comment (and its earlier wordings) may be shown
    to `user`: only to its author and to facilitators."""
    if comment.retracted_at is None and permissions.seen_by_everyone(comment):
        return True
    return permissions.is_author_or_facilitator(user, comment)


def revisions_of(comment: Comment) -> list[CommentRevision]:
    """The earlier wordings, newest first (each `created_at` is when it was replaced)."""
    return list(
        db.session.scalars(
            select(CommentRevision)
            .where(CommentRevision.comment_id == comment.id)
            .order_by(CommentRevision.created_at.desc(), CommentRevision.id.desc())
        )
    )


def position_index(viewer: Viewer, comment: Comment) -> int:
    """How many comments come before `comment` in its list (the top-level comments, newest first,
    or its parent's replies, oldest first), as `viewer` sees them; one query."""
    if comment.parent_id is None:
        before = db.session.scalar(
            select(func.count(Comment.id)).where(
                _subject(comment.proposal_id, comment.element_id),
                Comment.parent_id.is_(None),
                visible(viewer, top_level=True),
                or_(
                    Comment.created_at > comment.created_at,
                    and_(Comment.created_at == comment.created_at, Comment.id > comment.id),
                ),
            )
        ) or 0
        return before
    before = db.session.scalar(
        select(func.count(Comment.id)).where(
            _subject(comment.proposal_id, comment.element_id),
            Comment.parent_id == comment.parent_id,
            visible(viewer),
            or_(
                Comment.created_at < comment.created_at,
                and_(Comment.created_at == comment.created_at, Comment.id < comment.id),
            ),
        )
    ) or 0
    return before


# --- the element page -----------------------------------------------------------------------------


@dataclass
class RecentReflections:
    reflections: list[Comment]
    total: int


def recent_reflections(viewer: Viewer, element_id: int, limit: int = ELEMENT_PAGE_REFLECTIONS) -> RecentReflections:
    """The newest top-level reflections on the element and how many there are; two queries (one
    when there are none)."""
    where = (_subject(None, element_id), Comment.parent_id.is_(None), visible(viewer, top_level=True))
    total = db.session.scalar(select(func.count(Comment.id)).where(*where)) or 0
    if not total:
        return RecentReflections([], 0)
    found = _page_with_authors(where, (Comment.created_at.desc(), Comment.id.desc()), 0, limit)
    return RecentReflections(found, total)


# --- what the proposal page shows -----------------------------------------------------------------


@dataclass
class VotePanel:
    proposal: Proposal | votes.VoteTarget
    mine: int | None  # +1, -1, 0 (cleared) or None (never voted)
    refusal: str | None  # why there are no buttons (None: the person can vote)
    signed_in: bool
    return_to: str

    @property
    def can_vote(self) -> bool:
        return self.refusal is None

    @property
    def words(self) -> str:
        return votes.vote_words(self.mine)

    @property
    def asks_to_sign_in(self) -> bool:
        """Anyone could vote here after signing in."""
        return self.refusal == votes.SIGN_IN_TO_VOTE


def vote_panel(user: Any, proposal: Proposal | votes.VoteTarget, return_to: str, *, mine: int | None = None) -> VotePanel:
    """The vote panel's state: one query for the person's own vote (none for the author or an
    anonymous visitor, nor when the caller gives it as `mine`, having just cast it). `proposal` is
    the page's Proposal, or what the vote just read of it (`votes.proposal_for_vote`)."""
    refusal = votes.vote_refusal(user, proposal)
    signed_in = permissions.is_member(user)
    if mine is None and signed_in and proposal.author_id != user.id:
        mine = votes.vote_of(user, proposal.id)
    return VotePanel(proposal, mine, refusal, signed_in, return_to)


@dataclass
class Discussion:
    """Votes and comments of a proposal, as the proposal page shows them."""

    proposal: Proposal
    vote: VotePanel
    thread: Thread
    comment_refusal: str | None
    viewer: Viewer

    @property
    def can_comment(self) -> bool:
        return self.comment_refusal is None


def comment_refusal(user: Any, proposal: Proposal) -> str | None:
    if permissions.can_comment_on_proposal(user, proposal):
        return None
    if proposal.hidden_at is not None:
        return "This proposal has been hidden by the facilitators, so it cannot be discussed."
    if not proposal.vision.is_open():
        return closed_words(proposal.vision, "comment")
    return None if permissions.is_member(user) else "sign in"


def reflection_refusal(user: Any, vision: Vision) -> str | None:
    if permissions.can_reflect(user, vision):
        return None
    if not vision.is_open():
        return closed_words(vision, "reflect on the vision")
    return "sign in"


def proposal_discussion(user: Any, proposal: Proposal, return_to: str, page: int = 1) -> Discussion:
    """Everything the discussion part of the proposal page needs: at most four queries (the
    person's vote; the count, the page and the first replies of the comments)."""
    viewer = Viewer.of(user)
    return Discussion(
        proposal=proposal,
        vote=vote_panel(user, proposal, return_to),
        thread=thread_page(viewer, proposal_id=proposal.id, page=page),
        comment_refusal=comment_refusal(user, proposal),
        viewer=viewer,
    )
