"""Facilitation: the queue, accept or reject, reopen, and the author's one-click rebase (issue 6).

Views are thin: parse -> load or 404 -> permission -> service -> commit -> redirect or render. The
proposal page (proposals feature) shows this feature's partials `facilitation/_decision_panel.html`
and `facilitation/_rebase_offer.html`, which read their content through the template globals
`facilitation_decision(proposal)` and `facilitation_rebase_offer(proposal, stale)` defined here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..auth.redirects import login_redirect
from ..diff_views import DIFF_VIEWS, diff_view_mode
from ..errors import render_error
from ..forms import show_errors
from ..models import Proposal, ProposalStatus, Vision, db
from ..pagination import parse_page
from ..proposals import services as proposals
from ..proposals.lookup import visible_proposal_or_404
from ..exceptions import ValidationError
from ..visions.services import working_tree
from ..visions.lookup import get_vision_or_404
from . import services
from .forms import AcceptForm, RejectForm

bp = Blueprint("facilitation", __name__)


# --- helpers --------------------------------------------------------------------------------------


def refuse_decision(proposal: Proposal, action: str):
    """None when the signed-in person may `action` ("accept" or "reject") this proposal now;
    otherwise the answer refusing it.

    Anonymous -> sign in; not a facilitator, or their own proposal -> 403; then, as a decided
    proposal is not a permission matter, the answer to one that is no longer open.
    """
    if not permissions.is_member(current_user):
        return login_redirect()
    if not permissions.is_facilitator(current_user):
        abort(403)
    if proposal.author_id == current_user.id:
        return render_error(
            403,
            "This is your own proposal: another facilitator decides on it, so that nobody accepts or rejects their own words.",
        )
    if proposal.status != ProposalStatus.OPEN.value:
        return not_open_response(proposal, action)
    return None


def not_open_response(proposal: Proposal, action: str):
    """The answer to deciding on a proposal that is no longer open."""
    if proposal.status == ProposalStatus.ACCEPTED.value:
        flash("This proposal was already accepted.", "info")
        return redirect(url_for("proposals.show", proposal_id=proposal.id))
    if proposal.status == ProposalStatus.REJECTED.value:
        if action == "reject":
            flash("This proposal was already rejected.", "info")
            return redirect(url_for("proposals.show", proposal_id=proposal.id))
        return render_error(
            409,
            "This proposal was rejected, so it cannot be accepted. A facilitator can reopen it while the consultation window is open, and then decide again.",
        )
    return render_error(
        409, f"This proposal is {proposals.status_label(proposal).lower()}, so it can no longer be {action}ed."
    )


def element_label(vision: Vision, key: str) -> str:
    return next((row["label"] for row in working_tree(vision) if row["key"] == key), key)


# --- the queue ------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/facilitate")
def queue(slug: str):
    vision = get_vision_or_404(slug)
    if not permissions.is_member(current_user):
        return login_redirect()
    if not permissions.can_see_queue(current_user, vision):
        abort(403)
    tree = working_tree(vision)
    labels = {row["key"]: row["label"] for row in tree}
    args = request.args
    element_key = args.get("element", "")
    flag = args.get("flag", "")
    sort = args.get("sort", services.DEFAULT_QUEUE_SORT)
    filters = services.QueueFilters(
        element_key=element_key if element_key in labels else "",
        flag=flag if flag in services.QUEUE_FLAGS else "",
        sort=sort if sort in services.QUEUE_SORTS else services.DEFAULT_QUEUE_SORT,
    )
    page = parse_page(args.get("page"))
    result = services.queue(vision, filters, page)
    if page > result.pages:
        abort(404)

    def page_url(number: int) -> str:
        params = {
            "element": filters.element_key,
            "flag": filters.flag,
            "sort": filters.sort if filters.sort != services.DEFAULT_QUEUE_SORT else "",
            "page": number if number > 1 else "",
        }
        return url_for(".queue", slug=slug, **{k: v for k, v in params.items() if v})

    return render_template(
        "facilitation/queue.html",
        vision=vision,
        tree=tree,
        labels=labels,
        result=result,
        filters=filters,
        flags=services.QUEUE_FLAGS,
        sorts=services.QUEUE_SORTS,
        filtered=bool(filters.element_key or filters.flag),
        page_url=page_url,
        age_in_words=services.age_in_words,
        check_limit=services.FLAG_CHECK_LIMIT,
    )


# --- accept ---------------------------------------------------------------------------------------


def render_accept(proposal: Proposal, plan: services.AcceptPlan, form: AcceptForm, status: int = 200):
    if plan.mode == "conflict":
        form.body.label.text = "Resolved text"
    return (
        render_template(
            "facilitation/accept.html",
            proposal=proposal,
            vision=proposal.vision,
            label=element_label(proposal.vision, proposal.element.key),
            plan=plan,
            form=form,
            mode=diff_view_mode(),
            diff_views=DIFF_VIEWS,
        ),
        status,
    )


def fill_accept_form(form: AcceptForm, plan: services.AcceptPlan) -> None:
    """Start the form from the plan: its result text, the working text and revision it shows."""
    if plan.result is not None:
        form.title.data, form.body.data = plan.result.title, plan.result.body
    form.expected_text_id.data = str(plan.expected_text_id or "")
    form.revision.data = str(plan.revision)


@bp.route("/proposals/<posint:proposal_id>/accept", methods=["GET", "POST"])
def accept(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=request.method == "POST")
    refused = refuse_decision(proposal, "accept")
    if refused is not None:
        return refused
    form = AcceptForm()
    if request.method == "GET":
        plan = services.plan_accept(proposal)
        fill_accept_form(form, plan)
        return render_accept(proposal, plan, form)
    if not form.validate_on_submit():
        plan = services.plan_accept(proposal)
        return render_accept(proposal, plan, form, 400)

    expected, title, body = form.expected_id(), form.title.data, form.body.data
    try:
        accepted = services.accept_proposal(
            proposal,
            current_user,
            title=title,
            body=body,
            note=form.note.data,
            expected_text_id=expected,
            revision=form.revision_number(),
        )
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except services.AlreadyDecided:
        db.session.rollback()
        return not_open_response(visible_proposal_or_404(proposal_id), "accept")
    except services.WrongState as error:
        db.session.rollback()
        return render_error(409, str(error))
    except ValidationError as error:
        db.session.rollback()
        proposal = visible_proposal_or_404(proposal_id)
        show_errors(form, error)
        plan = services.plan_accept(proposal)
        return render_accept(proposal, plan, form, 422)
    except (services.DraftMoved, StaleDataError) as error:
        # Nothing was written. Show the change again against the text that is current now: the
        # strict rebase to confirm, or the conflict to resolve.
        db.session.rollback()
        proposal = visible_proposal_or_404(proposal_id)
        if proposal.status != ProposalStatus.OPEN.value:
            return not_open_response(proposal, "accept")
        reason = error.reason if isinstance(error, services.DraftMoved) else "moved"
        if reason == "revised":
            plan = services.plan_accept(proposal, reason=reason)
        else:
            plan = services.plan_accept(
                proposal, prepared_from_id=expected, submitted=(title or "", body or ""), reason=reason
            )
        form = AcceptForm(formdata=None, note=form.note.data)
        fill_accept_form(form, plan)
        return render_accept(proposal, plan, form, 409)
    db.session.commit()
    where = element_label(proposal.vision, proposal.element.key)
    if accepted.with_changes:
        flash(
            f"You accepted proposal {proposal.id} with changes into the working draft of {where}. "
            "Both differences are shown on the proposal.",
            "success",
        )
    else:
        flash(f"You accepted proposal {proposal.id} into the working draft of {where}.", "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


# --- reject and reopen ----------------------------------------------------------------------------


@bp.route("/proposals/<posint:proposal_id>/reject", methods=["GET", "POST"])
def reject(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=request.method == "POST")
    refused = refuse_decision(proposal, "reject")
    if refused is not None:
        return refused
    form = RejectForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                services.reject_proposal(proposal, current_user, form.reason.data)
            except services.NotAllowed:
                db.session.rollback()
                abort(403)
            except services.AlreadyDecided:
                db.session.rollback()
                return not_open_response(visible_proposal_or_404(proposal_id), "reject")
            except ValidationError as error:
                db.session.rollback()
                proposal = visible_proposal_or_404(proposal_id)
                show_errors(form, error)
                status = 422
            else:
                db.session.commit()
                flash(
                    f"You rejected proposal {proposal.id}. Your reason is shown publicly on the proposal.",
                    "success",
                )
                return redirect(url_for("proposals.show", proposal_id=proposal.id))
    base = proposal.base_text
    return (
        render_template(
            "facilitation/reject.html",
            proposal=proposal,
            vision=proposal.vision,
            label=element_label(proposal.vision, proposal.element.key),
            form=form,
            diff=services.TextDiff.between(base.title, base.body, proposal.title, proposal.body),
        ),
        status,
    )


@bp.post("/proposals/<posint:proposal_id>/reopen")
def reopen(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    if not permissions.is_member(current_user):
        return login_redirect(url_for("proposals.show", proposal_id=proposal_id))
    if not permissions.is_facilitator(current_user):
        abort(403)
    try:
        services.reopen_proposal(proposal, current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except services.WrongState as error:
        db.session.rollback()
        return render_error(409, str(error))
    db.session.commit()
    flash(
        f"You reopened proposal {proposal.id}. It is open again; the earlier decision stays in the record.",
        "success",
    )
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


# --- the author's one-click rebase ----------------------------------------------------------------


@bp.post("/proposals/<posint:proposal_id>/rebase")
def rebase(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    if not permissions.is_member(current_user):
        return login_redirect(url_for("proposals.show", proposal_id=proposal_id))
    if proposal.author_id != current_user.id:
        abort(403)
    try:
        services.rebase_proposal(proposal, current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except services.WrongState as error:
        db.session.rollback()
        return render_error(409, str(error))
    except services.RebaseConflict as error:
        db.session.rollback()
        proposal = visible_proposal_or_404(proposal_id)
        return (
            render_template(
                "facilitation/rebase_conflict.html",
                proposal=proposal,
                vision=proposal.vision,
                label=element_label(proposal.vision, proposal.element.key),
                error=error,
            ),
            422,
        )
    db.session.commit()
    flash("Your proposal now applies to the current text.", "success")
    return redirect(url_for("proposals.show", proposal_id=proposal.id))


# --- for the proposal page ------------------------------------------------------------------------


@bp.app_template_global("facilitation_decision")
def facilitation_decision(proposal: Proposal) -> services.Decision:
    """`{% set decision = facilitation_decision(proposal) %}` (used by _decision_panel.html)."""
    return services.decision_for(proposal, current_user)


@bp.app_template_global("facilitation_rebase_offer")
def facilitation_rebase_offer(proposal: Proposal, stale: Any = None) -> services.RebaseOffer:
    """`{% set offer = facilitation_rebase_offer(proposal, stale) %}` (used by _rebase_offer.html)."""
    return services.rebase_offer(proposal, current_user, stale)
