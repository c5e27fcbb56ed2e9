"""Loading what the discussion's routes name, and where a comment is shown: the one place that turns
an unknown element or a comment the reader may not see into a 404."""

from __future__ import annotations

from flask import abort, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..auth.redirects import require_member
from ..exceptions import NotAllowed
from ..models import Comment, Element, Proposal, Vision, db
from ..proposals.lookup import visible_proposal_or_404
from ..proposals.services import load_proposal
from ..visions.lookup import get_vision_or_404
from ..visions import services as visions
from . import threads


def element_or_404(slug: str, key: str) -> tuple[Vision, Element]:
    """The vision and its element `key`, or 404."""
    vision = get_vision_or_404(slug)
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))
    if element is None:
        abort(404)
    return vision, element


def element_label(vision: Vision, key: str) -> str:
    """"Objective 2.3": the element's number in the working draft; once removed, its last label
    and when it went ("Objective 1.1 (removed in version 3)"), never its key."""
    return visions.element_label(vision, key)


def readable_comment_or_404(comment_id: int) -> threads.CommentContext:
    """The comment and what it is said on, or 404 when it does not exist or the reader may not see it."""
    context = threads.load_comment(comment_id)
    if context is None or not threads.can_read(current_user, context):
        abort(404)
    return context


def own_comment_or_404(comment_id: int) -> threads.CommentContext:
    """The comment, when the signed-in person wrote it. Raises SignInRequired for visitors and
    NotAllowed for anyone else (a 404 first, for a comment they may not see)."""
    context = readable_comment_or_404(comment_id)
    require_member()
    if context.comment.author_id != current_user.id:
        raise NotAllowed("Only the person who wrote a comment can change or retract it.")
    return context


def reported_subject_or_404(subject_type: str | None, subject_id: int | None):
    """(the comment or proposal, where it is shown, the comment's context or None) if the reader
    can see it; else 404."""
    if subject_type == "comment" and subject_id:
        context = readable_comment_or_404(subject_id)
        return context.comment, comment_location(context), context
    if subject_type == "proposal" and subject_id:
        proposal = visible_proposal_or_404(subject_id)
        return proposal, url_for("proposals.show", proposal_id=proposal.id), None
    abort(404)


def moderated_subject_or_404(subject_type: str, subject_id: int) -> tuple[Comment | Proposal, threads.CommentContext | None]:
    """The comment or proposal a facilitator acts on, hidden or not (a proposal locked for a POST), or 404."""
    if subject_type == "comment":
        context = threads.load_comment(subject_id)
        if context is None:
            abort(404)
        return context.comment, context
    proposal = load_proposal(subject_id, for_update=request.method == "POST")
    if proposal is None:
        abort(404)
    return proposal, None


def comment_location(context: threads.CommentContext) -> str:
    """The page that shows the comment, with its anchor (two queries at most)."""
    comment = context.comment
    viewer = threads.Viewer.of(current_user)
    anchor = f"#comment-{comment.id}"
    if comment.parent_id is not None:
        index = threads.position_index(viewer, comment)
        if index >= threads.REPLIES_SHOWN:
            page = index // threads.REPLIES_PER_PAGE + 1
            return url_for("discussion.replies", comment_id=comment.parent_id, page=page if page > 1 else None) + anchor
        parent = db.session.get(Comment, comment.parent_id)
        top = threads.position_index(viewer, parent)
    else:
        top = threads.position_index(viewer, comment)
    page = top // threads.COMMENTS_PER_PAGE + 1
    if context.proposal is not None:
        if page == 1:
            return url_for("proposals.show", proposal_id=context.proposal.id) + anchor
        return url_for("discussion.comments", proposal_id=context.proposal.id, page=page) + anchor
    return url_for(
        "discussion.reflections", slug=context.vision.slug, key=context.element.key, page=page if page > 1 else None
    ) + anchor


def subject_title(context: threads.CommentContext, label: str | None = None) -> str:
    """What a comment is said on, in words: "proposal 12" or "Objective 2.3"."""
    if context.proposal is not None:
        return f"proposal {context.proposal.id}"
    return label or element_label(context.vision, context.element.key)
