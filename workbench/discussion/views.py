"""Deliberation: votes, comments and reflections, reports and moderation (issue 5).

Views are thin: parse -> load or 404 -> permission -> service -> commit -> redirect or render.
Refusals (SignInRequired, NotAllowed, WrongState) go to the application's error handlers; a route
catches only the ValidationError whose messages it shows beside the form's fields (`attempt`).
Pages that htmx enhances answer `HX-Request` with the partial the page itself includes, and send
`Vary: HX-Request`. Other features show this one's partials through template globals defined at
the bottom (`proposal_discussion`, `element_reflections`), like the facilitation partials.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from functools import wraps
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from jinja2 import pass_context
from jinja2.runtime import Context

from .. import permissions
from ..auth.redirects import members_only, require_member, safe_next_url
from ..errors import render_error
from ..exceptions import NotAllowed, WrongState
from ..forms import attempt
from ..htmx import is_htmx, vary
from ..limits import per_account
from ..models import Comment, Element, Proposal, Vision, db
from ..numbers import whole_number
from ..pagination import page_links, parse_page
from ..proposals.lookup import visible_or_404, visible_proposal_or_404
from ..visions.services import element_removal
from . import moderation, sentences, services, threads, votes
from .lookup import (
    comment_location,
    element_label,
    element_or_404,
    moderated_subject_or_404,
    own_comment_or_404,
    readable_comment_or_404,
    reported_subject_or_404,
    subject_title,
)
from .forms import CommentForm, ConfirmForm, EditForm, HideForm, ReportForm
from .text import paragraphs_with_links

bp = Blueprint("discussion", __name__)

bp.app_template_filter("paragraphs_with_links")(paragraphs_with_links)



# --- helpers --------------------------------------------------------------------------------------


def reflection_refusal(vision: Vision, element: Element) -> str | None:
    """Why the reader may not reflect on the element (None when they may): it was removed from the
    working draft, the consultation is closed, or "sign in"."""
    removal = element_removal(vision, element.key)
    if removal is not None:
        return removal.refusal("reflections")
    return threads.reflection_refusal(current_user, vision)


# --- votes ----------------------------------------------------------------------------------------

VOTE_FLASH = {
    1: "Your vote is recorded: you support this proposal.",
    -1: "Your vote is recorded: you oppose this proposal.",
    0: "Your vote is cleared: you no longer support or oppose this proposal.",
}
VOTE_UNCHANGED = {
    1: "You already support this proposal.",
    -1: "You already oppose this proposal.",
    0: "You have no vote on this proposal to clear.",
}


@bp.post("/proposals/<posint:proposal_id>/vote")
@per_account("RATELIMIT_VOTE")
def vote(proposal_id: int):
    # The proposal's few columns a vote needs, its row locked: cast_vote decides on them as read.
    proposal = visible_or_404(votes.proposal_for_vote(proposal_id))
    proposal_url = url_for("proposals.show", proposal_id=proposal.id)
    require_member(proposal_url)
    value = request.form.get("value", "")
    if value not in votes.VOTE_VALUES:  # a request no vote button sends (cast_vote checks again)
        return vary(render_error(400, "Choose Support or Oppose, or clear your vote."))
    user = current_user._get_current_object()
    result = votes.cast_vote(proposal, user, value)
    db.session.commit()
    message = (VOTE_FLASH if result.changed else VOTE_UNCHANGED)[result.value]
    if is_htmx():
        panel = threads.vote_panel(user, proposal, proposal_url, mine=result.value)
        return vary(render_template("discussion/_vote_response.html", panel=panel, proposal=proposal, message=message))
    flash(message, "success")
    return vary(redirect(safe_next_url(request.form.get("next")) or proposal_url + f"#votes-{proposal.id}"))


# --- comments on a proposal -----------------------------------------------------------------------


@bp.route("/proposals/<posint:proposal_id>/comments", methods=["GET", "POST"])
@per_account("RATELIMIT_COMMENT_WRITE")
def comments(proposal_id: int):
    if request.method == "POST":
        return post_comment(proposal_id)
    proposal = visible_proposal_or_404(proposal_id)
    page = parse_page(request.args.get("page"))
    proposal_url = url_for("proposals.show", proposal_id=proposal.id)
    discussion = threads.proposal_discussion(current_user, proposal, proposal_url, page=page)
    if page > discussion.thread.pages:
        abort(404)
    more_url = lambda n: url_for(".comments", proposal_id=proposal.id, page=n)  # noqa: E731
    if is_htmx():
        return vary(
            render_template(
                "discussion/_thread_more.html", thread=discussion.thread, viewer=discussion.viewer,
                can_reply=discussion.can_comment, more_url=more_url, post_url=url_for(".comments", proposal_id=proposal.id),
                noun=("comment", "comments"),
            )
        )
    return vary(
        render_template(
            "discussion/comments.html",
            proposal=proposal,
            vision=proposal.vision,
            label=element_label(proposal.vision, proposal.element.key),
            discussion=discussion,
            form=CommentForm(formdata=None),
            more_url=more_url,
        )
    )


def write_page(form: CommentForm, *, status: int, post_url: str, heading: str, back_url: str, back_text: str, parent: Comment | None, what: str):
    """The comment form again, with its messages (a comment, reply or reflection that failed)."""
    form.body.label.text = f"Your {what}"
    return (
        render_template(
            "discussion/write.html", form=form, post_url=post_url, heading=heading, back_url=back_url,
            back_text=back_text, parent=parent, what=what,
        ),
        status,
    )


def post_comment(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    require_member(url_for("proposals.show", proposal_id=proposal.id))
    form = CommentForm()
    parent_id = form.parent()
    parent = db.session.get(Comment, parent_id) if parent_id else None
    page = dict(
        post_url=url_for(".comments", proposal_id=proposal.id),
        heading=f"Reply to a comment on proposal {proposal.id}" if parent_id else f"Comment on proposal {proposal.id}",
        back_url=url_for("proposals.show", proposal_id=proposal.id),
        back_text=f"Back to proposal {proposal.id}",
        parent=parent if parent is not None and permissions.can_see_contribution(current_user, parent) else None,
        what="reply" if parent_id else "comment",
    )
    if not form.validate_on_submit():
        return write_page(form, status=400, **page)
    in_place = is_htmx() and parent_id is None  # the proposal page's comment form, sent by htmx
    comment = attempt(form, lambda: services.post_comment(proposal, current_user, form.body.data, parent_id))
    if comment is None:
        if in_place:  # 200: htmx swaps only successful answers; the section carries the error
            return comments_section(proposal, comment_form=form)
        return write_page(form, status=422, **page)
    db.session.commit()
    if in_place:
        return comments_section(proposal, published_comment=comment.id)
    flash("Your reply is published." if comment.parent_id else "Your comment is published.", "success")
    return redirect(comment_location(threads.CommentContext(comment, proposal.vision, proposal, None)))


def comments_section(proposal: Proposal, **context: Any):
    """The proposal page's comments section alone, in place of the one whose form htmx sent: with
    the new comment first, or with the form's text and error."""
    discussion = threads.proposal_discussion(current_user, proposal, url_for("proposals.show", proposal_id=proposal.id))
    page = render_template("discussion/_proposal_comments.html", proposal=proposal, discussion=discussion, **context)
    return vary(page)


# --- reflections on an element --------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/reflections", methods=["GET", "POST"])
@per_account("RATELIMIT_COMMENT_WRITE")
def reflections(slug: str, key: str):
    if request.method == "POST":
        return post_reflection(slug, key)
    vision, element = element_or_404(slug, key)
    page = parse_page(request.args.get("page"))
    viewer = threads.Viewer.of(current_user)
    thread = threads.thread_page(viewer, element_id=element.id, page=page)
    if page > thread.pages:
        abort(404)
    refusal = reflection_refusal(vision, element)
    post_url = url_for(".reflections", slug=slug, key=key)
    more_url = lambda n: url_for(".reflections", slug=slug, key=key, page=n)  # noqa: E731
    if is_htmx():
        return vary(
            render_template(
                "discussion/_thread_more.html", thread=thread, viewer=viewer, can_reply=refusal is None,
                more_url=more_url, post_url=post_url, noun=("reflection", "reflections"), vision=vision, element=element,
            )
        )
    form = CommentForm(formdata=None)
    form.body.label.text = "Your reflection"
    return vary(
        render_template(
            "discussion/reflections.html",
            vision=vision,
            element=element,
            label=element_label(vision, key),
            thread=thread,
            viewer=viewer,
            refusal=refusal,
            form=form,
            post_url=post_url,
            more_url=more_url,
        )
    )


def post_reflection(slug: str, key: str):
    vision, element = element_or_404(slug, key)
    require_member(url_for(".reflections", slug=slug, key=key))
    removal = element_removal(vision, key)
    if removal is not None:
        raise WrongState(removal.refusal("reflections"))
    form = CommentForm()
    form.body.label.text = "Your reflection"
    parent_id = form.parent()
    parent = db.session.get(Comment, parent_id) if parent_id else None
    label = element_label(vision, key)
    page = dict(
        post_url=url_for(".reflections", slug=slug, key=key),
        heading=f"Reply to a reflection on {label}" if parent_id else f"Reflect on {label}",
        back_url=url_for(".reflections", slug=slug, key=key),
        back_text=f"Back to the reflections on {label}",
        parent=parent if parent is not None and permissions.can_see_contribution(current_user, parent) else None,
        what="reply" if parent_id else "reflection",
    )
    if not form.validate_on_submit():
        return write_page(form, status=400, **page)
    comment = attempt(form, lambda: services.post_reflection(vision, element, current_user, form.body.data, parent_id))
    if comment is None:
        return write_page(form, status=422, **page)
    db.session.commit()
    flash("Your reply is published." if comment.parent_id else "Your reflection is published.", "success")
    return redirect(comment_location(threads.CommentContext(comment, vision, None, element)))


# --- reflections on one sentence (issue 18, item 3) -----------------------------------------------


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/sentences/<sentence_ref>", methods=["GET", "POST"])
@per_account("RATELIMIT_COMMENT_WRITE")
def sentence_reflection(slug: str, key: str, sentence_ref: str):
    """The form to reflect on sentence `sentence_ref` ("p2-s3") of the element's working text, or
    of its earlier text `?text=<id>` (the one the reader's page showed), quoted (with what became
    of it when the text has moved on since)."""
    vision, element = element_or_404(slug, key)
    text_id = whole_number(request.args["text"]) if "text" in request.args else None
    if "text" in request.args and text_id is None:
        abort(404)
    chosen = sentences.choose_sentence(element, text_id, sentence_ref)
    page_url = url_for(".sentence_reflection", slug=slug, key=key, sentence_ref=sentence_ref, text=chosen.text_id)
    form = CommentForm(formdata=None if request.method == "GET" else request.form)
    form.body.label.text = "Your reflection on this sentence"
    status = 200
    if request.method == "POST":
        require_member(page_url)
        if not form.validate_on_submit():
            status = 400
        else:
            posted = attempt(
                form,
                lambda: services.post_reflection(
                    vision, element, current_user, form.body.data, sentence=sentences.sentence_range(chosen)
                ),
            )
            if posted is None:
                status = 422
            else:
                db.session.commit()
                flash("Your reflection on the sentence is published.", "success")
                return redirect(comment_location(threads.CommentContext(posted, vision, None, element)))
    label = element_label(vision, key)
    return (
        render_template(
            "discussion/sentence.html", vision=vision, element=element, label=label, chosen=chosen,
            state=None if chosen.is_current else sentences.chosen_state(chosen), form=form,
            refusal=reflection_refusal(vision, element), page_url=page_url,
        ),
        status,
    )


# --- one comment ----------------------------------------------------------------------------------


@bp.get("/comments/<posint:comment_id>")
def comment(comment_id: int):
    """A comment's permanent address: sends the reader to the page that shows it."""
    return redirect(comment_location(readable_comment_or_404(comment_id)))


@bp.get("/comments/<posint:comment_id>/replies")
def replies(comment_id: int):
    context = readable_comment_or_404(comment_id)
    parent = context.comment
    if parent.parent_id is not None:  # a reply has no replies of its own: show its thread
        return redirect(url_for(".replies", comment_id=parent.parent_id))
    viewer = threads.Viewer.of(current_user)
    page = parse_page(request.args.get("page"))
    found = threads.replies_page(viewer, parent, page)
    if page > found.pages:
        abort(404)
    if context.proposal is not None:
        refusal = threads.comment_refusal(current_user, context.proposal)
        post_url = url_for(".comments", proposal_id=context.proposal.id)
    else:
        refusal = reflection_refusal(context.vision, context.element)
        post_url = url_for(".reflections", slug=context.vision.slug, key=context.element.key)
    more_url = lambda n: url_for(".replies", comment_id=parent.id, page=n)  # noqa: E731
    if is_htmx():
        return vary(
            render_template(
                "discussion/_replies_more.html", found=found, viewer=viewer, more_url=more_url,
                replies_shown=threads.REPLIES_SHOWN, can_reply=refusal is None,
            )
        )
    return vary(
        render_template(
            "discussion/replies.html",
            context=context,
            subject=subject_title(context),
            found=found,
            viewer=viewer,
            refusal=refusal,
            post_url=post_url,
            more_url=more_url,
            back_url=comment_location(context),
        )
    )


@bp.get("/comments/<posint:comment_id>/history")
def history(comment_id: int):
    context = readable_comment_or_404(comment_id)
    if not threads.can_read_words(current_user, context.comment):
        abort(404)
    return render_template(
        "discussion/history.html",
        context=context,
        subject=subject_title(context),
        revisions=threads.revisions_of(context.comment),
        back_url=comment_location(context),
    )


@bp.route("/comments/<posint:comment_id>/edit", methods=["GET", "POST"])
@per_account("RATELIMIT_COMMENT_WRITE")
def edit(comment_id: int):
    context = own_comment_or_404(comment_id)
    comment = context.comment
    refusal = services.edit_refusal(current_user, comment, context.vision)
    if refusal is not None:
        raise NotAllowed(refusal)
    form = EditForm()
    form.body.label.text = "Your reflection" if context.is_reflection else "Your comment"
    status = 200
    if request.method == "GET":
        form.body.data = comment.body
    elif not form.validate_on_submit():
        status = 400
    elif attempt(form, lambda: services.edit_comment(comment, current_user, form.body.data, context.vision)) is None:
        status = 422
    else:
        db.session.commit()
        flash("Your comment is updated. Its earlier wording is kept in its history.", "success")
        return redirect(comment_location(context))
    return (
        render_template(
            "discussion/edit.html", context=context, subject=subject_title(context), form=form,
            back_url=comment_location(context),
        ),
        status,
    )


@bp.route("/comments/<posint:comment_id>/retract", methods=["GET", "POST"])
@per_account("RATELIMIT_COMMENT_WRITE")
def retract(comment_id: int):
    context = own_comment_or_404(comment_id)
    comment = context.comment
    if comment.retracted_at is not None:
        raise WrongState(services.ALREADY_RETRACTED)
    form = ConfirmForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        services.retract_comment(comment, current_user)
        db.session.commit()
        flash("You retracted your comment. It now shows as retracted; any replies stay.", "success")
        return redirect(comment_location(context))
    return render_template(
        "discussion/retract.html", context=context, subject=subject_title(context), form=form,
        back_url=comment_location(context),
    )


# --- reports --------------------------------------------------------------------------------------


def report_page(form: ReportForm, subject: Any, context: Any, back_url: str, status: int = 200):
    return (
        render_template(
            "discussion/report.html", form=form, subject=subject, context=context,
            subject_type=form.subject_type.data, back_url=back_url,
        ),
        status,
    )


@bp.get("/reports/new")
def new_report():
    subject_type = request.args.get("subject_type")
    subject_id = whole_number(request.args.get("subject_id"))
    subject, back_url, context = reported_subject_or_404(subject_type, subject_id)
    require_member()
    if not permissions.can_report_content(current_user, subject.author_id):
        raise NotAllowed(services.OWN_CONTRIBUTION)
    form = ReportForm(formdata=None, subject_type=subject_type, subject_id=str(subject.id))
    return report_page(form, subject, context, back_url)


@bp.post("/reports")
@per_account("RATELIMIT_REPORT")
def file_report():
    form = ReportForm()
    # The subject is named in the address (the form page posts there) or in the form's fields.
    subject_type = request.args.get("subject_type") or form.subject_type.data
    subject_id = whole_number(request.args.get("subject_id") or form.subject_id.data)
    form.subject_type.data = subject_type
    subject, back_url, context = reported_subject_or_404(subject_type, subject_id)
    require_member(url_for(".new_report", subject_type=subject_type, subject_id=subject.id))
    if not form.validate_on_submit():
        return report_page(form, subject, context, back_url, 400)
    filed = attempt(form, lambda: services.file_report(subject_type, subject, current_user, form.reason.data))
    if filed is None:
        return report_page(form, subject, context, back_url, 422)
    db.session.commit()
    _, created = filed
    if created:
        flash("Thank you for your report. The facilitators will look at it; it stays visible meanwhile.", "success")
    else:
        flash("You have already reported this. The facilitators will look at it.", "info")
    return redirect(back_url)


# --- moderation -----------------------------------------------------------------------------------


def facilitators_only(view: Callable[..., Any]) -> Callable[..., Any]:
    """Route decorator: visitors are sent to sign in; members who are not facilitators get a 403."""

    @members_only
    @wraps(view)
    def facilitators_view(*args: Any, **kwargs: Any) -> Any:
        if not permissions.can_moderate(current_user):
            raise NotAllowed()
        return view(*args, **kwargs)

    return facilitators_view


@bp.get("/moderation")
@facilitators_only
def moderation_list():
    show = "hidden" if request.args.get("show") == "hidden" else "reports"
    page = parse_page(request.args.get("page"))
    result = moderation.hidden_content(page) if show == "hidden" else moderation.open_reports(page)
    if page > result.pages:
        abort(404)
    page_url = page_links("discussion.moderation_list", show="hidden" if show == "hidden" else None)
    return render_template(
        "discussion/moderation.html", result=result, show=show, page_url=page_url, form=ConfirmForm(formdata=None),
    )


def moderation_return() -> str:
    """Where a moderation action goes back to: a safe `next` on this site, or the moderation list."""
    return safe_next_url(request.values.get("next")) or url_for("discussion.moderation_list")


@bp.route("/moderation/<any(comment, proposal):subject_type>/<posint:subject_id>/hide", methods=["GET", "POST"])
@per_account("RATELIMIT_MODERATION")
@facilitators_only
def hide(subject_type: str, subject_id: int):
    subject, context = moderated_subject_or_404(subject_type, subject_id)
    back_url = moderation_return()
    if subject.hidden_at is not None:
        flash("This is already hidden.", "info")
        return redirect(back_url)
    form = HideForm()
    if request.method == "GET":
        status = 200
    elif not form.validate_on_submit():
        status = 400
    elif (resolved := attempt(form, lambda: services.hide_content(subject_type, subject, current_user, form.reason.data))) is None:
        status = 422
    else:
        db.session.commit()
        what = "proposal" if subject_type == "proposal" else "comment"
        closed = f" {resolved} open report{'s' if resolved != 1 else ''} closed." if resolved else ""
        flash(f"The {what} is hidden. Its author still sees it, with your reason.{closed}", "success")
        return redirect(back_url)
    return (
        render_template(
            "discussion/hide.html", subject=subject, subject_type=subject_type, context=context, form=form,
            back_url=back_url, next_url=safe_next_url(request.values.get("next")),
        ),
        status,
    )


@bp.post("/moderation/<any(comment, proposal):subject_type>/<posint:subject_id>/unhide")
@per_account("RATELIMIT_MODERATION")
@facilitators_only
def unhide(subject_type: str, subject_id: int):
    subject, _ = moderated_subject_or_404(subject_type, subject_id)
    if not services.unhide_content(subject_type, subject, current_user):
        flash("This is not hidden.", "info")
        return redirect(moderation_return())
    db.session.commit()
    flash(f"The {subject_type} is shown again to everyone.", "success")
    return redirect(moderation_return())


@bp.post("/moderation/<any(comment, proposal):subject_type>/<posint:subject_id>/dismiss")
@per_account("RATELIMIT_MODERATION")
@facilitators_only
def dismiss(subject_type: str, subject_id: int):
    subject, _ = moderated_subject_or_404(subject_type, subject_id)
    resolved = services.dismiss_reports(subject_type, subject, current_user)
    if not resolved:
        flash("There are no open reports about this.", "info")
        return redirect(url_for(".moderation_list"))
    db.session.commit()
    flash(f"{resolved} report{'s' if resolved != 1 else ''} dismissed; the {subject_type} stays visible.", "success")
    return redirect(moderation_return())


# --- for other pages (template globals) -----------------------------------------------------------


@bp.app_template_global("proposal_discussion")
def proposal_discussion(proposal: Proposal) -> threads.Discussion:
    """`{% set discussion = proposal_discussion(proposal) %}`: votes and the first page of comments
    (used by discussion/_proposal_discussion.html, on the proposal page)."""
    return threads.proposal_discussion(current_user, proposal, url_for("proposals.show", proposal_id=proposal.id))


@bp.app_template_global("sentence_states")
def sentence_states(vision: Vision, element: Element, comments: list[Comment]) -> dict[int, sentences.SentenceState]:
    """`{% set states = sentence_states(vision, element, comments) %}`: what became of the sentences
    the reflections among `comments` were written on, by comment id (no query when none was)."""
    states = sentences.sentence_states(element, comments)
    page_url = url_for("visions.element", slug=vision.slug, key=element.key)
    return {comment_id: replace(state, page_url=page_url) for comment_id, state in states.items()}


@bp.app_template_global("element_reflections")
@pass_context
def element_reflections(context: Context, vision: Vision, element: Element) -> dict[str, Any]:
    """`{% set reflecting = element_reflections(vision, element) %}`: the newest reflections and the
    form (used by discussion/_element_reflections.html, on the element page); two queries at most
    when the page says whether the element was removed (its `removal`: a RemovedElement or None),
    three otherwise."""
    viewer = threads.Viewer.of(current_user)
    if "removal" in context:
        removal = context["removal"]
        refusal = removal.refusal("reflections") if removal else threads.reflection_refusal(current_user, vision)
    else:
        refusal = reflection_refusal(vision, element)
    return {
        "recent": threads.recent_reflections(viewer, element.id),
        "refusal": refusal,
        "viewer": viewer,
        "post_url": url_for("discussion.reflections", slug=vision.slug, key=element.key),
    }
