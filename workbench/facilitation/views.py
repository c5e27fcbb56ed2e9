"""Facilitation: the way in (the header's count, the overview), the queue, accept or reject and on to
the next proposal of the same queue, reopen, and the author's one-click rebase (issues 6 and 13).

Views are thin: parse -> load or 404 -> permission -> service -> commit -> redirect or render.
Refusals (NotAllowed, WrongState...) go to the application's error handlers; a decision made
already (AlreadyDecided, a second click) is answered here, on the proposal's page. The proposal
page (proposals feature) shows this feature's partials `facilitation/_decision_panel.html` and
`facilitation/_rebase_offer.html`, which read their content through the template globals
`facilitation_decision(proposal)` and `facilitation_rebase_offer(proposal, stale)` defined here.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, has_request_context, redirect, render_template, request, url_for
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm.exc import StaleDataError

from .. import permissions
from ..auth.redirects import require_member
from ..diff_views import DIFF_VIEWS, diff_view_mode
from ..exceptions import AlreadyDecided, DraftMoved, RebaseConflict, ValidationError
from ..forms import attempt, show_errors
from ..models import Proposal, User, Vision, db
from ..keyset import Seek
from ..pagination import seek_links
from ..proposals.add import shown_against
from ..proposals.lookup import visible_proposal_or_404
from ..proposals.rebase import Staleness
from ..text_diff import TextDiff
from ..visions.lookup import get_vision_or_404
from ..word_search import words_of
from ..visions.services import element_label, working_tree
from . import assignment, decisions, overview, panels
from ..templating import age_in_words
from .decisions import Accepted
from .forms import AcceptForm, RejectForm
from .queue import (
    ASSIGNEE_WORDS,
    FLAG_CHECK_LIMIT,
    QUEUE_FLAGS,
    QUEUE_SORTS,
    QueueFilters,
    next_in_queue,
    queue_page,
)
from .queue_forms import SelectedForm

bp = Blueprint("facilitation", __name__)


# --- helpers --------------------------------------------------------------------------------------


def proposal_page(proposal_id: int):
    return redirect(url_for("proposals.show", proposal_id=proposal_id))


def decidable_proposal(proposal_id: int, action: str) -> Proposal:
    """The proposal the signed-in facilitator may `action` ("accept" or "reject") now: 404, then
    sign in, then the refusals of `decisions.check_decider`."""
    proposal = visible_proposal_or_404(proposal_id, for_update=request.method == "POST")
    require_member()
    decisions.check_decider(proposal, current_user, action)
    return proposal


# --- the queue a decision came from ---------------------------------------------------------------

# The decision pages, which carry the queue they were opened from (`from=`, see QueueFilters.carried).
DECISION_ENDPOINTS = frozenset({"facilitation.accept", "facilitation.reject"})


def came_from_queue(vision: Vision) -> QueueFilters | None:
    """The filtered queue this page was opened from (`from`, in the query string or the form), its
    element checked against the vision's; None when it was not opened from the queue."""
    raw = request.values.get("from")
    if not raw:
        return None
    return QueueFilters.from_carried(raw, {row["key"] for row in working_tree(vision)})


def queue_url(vision: Vision, filters: QueueFilters | None) -> str:
    return url_for("facilitation.queue", slug=vision.slug, **(filters.link_args() if filters else {}))


@bp.url_defaults
def carry_the_queue(endpoint: str, values: dict[str, Any]) -> None:
    """On a page opened from the queue (`?from=`), every link and form to accept or reject keeps
    that queue, the proposal page's decision panel too: each decision leads on to the next
    proposal of the same filtered queue. Only the known filters are carried (QueueFilters)."""
    if endpoint in DECISION_ENDPOINTS and "from" not in values and has_request_context():
        carried = QueueFilters.from_carried(request.values.get("from"))
        if carried is not None:
            values["from"] = carried.carried


def decided(proposal: Proposal, message: str):
    """Where a facilitator goes once a decision is committed. Opened from the queue: to the next
    open proposal of that filtered queue (its page: the change, its votes and discussion, and both
    decisions, still carrying the queue), or back to the queue when nothing else waits there; a
    flash says what happened, with a link back to the queue. Otherwise: the decided proposal's page."""
    vision = proposal.vision
    filters = came_from_queue(vision)
    if filters is None:
        flash(message, "success")
        return proposal_page(proposal.id)
    back = queue_url(vision, filters)
    upcoming = next_in_queue(vision, filters, proposal, current_user.id)
    if upcoming is None:
        flash(f"{message} Nothing else in this queue is waiting for your decision.", "success")
        return redirect(back)
    flash(
        Markup('{} Next in the queue: proposal {}. <a href="{}">Back to the queue</a>').format(
            message, upcoming.id, back
        ),
        "success",
    )
    return redirect(url_for("proposals.show", proposal_id=upcoming.id, **{"from": filters.carried}))


@bp.errorhandler(AlreadyDecided)
def already_decided(error: AlreadyDecided):
    """Deciding what was decided already (a second click, or another facilitator was quicker) is
    not an error: the proposal's page shows the decision."""
    db.session.rollback()
    flash(f"This proposal was already {error.proposal_status}.", "info")
    return proposal_page((request.view_args or {})["proposal_id"])


# --- the queue ------------------------------------------------------------------------------------


def queue_response(
    vision: Vision,
    tree: list[dict[str, Any]],
    filters: QueueFilters,
    seek: Seek,
    people: list[User],
    form: SelectedForm | None = None,
    status: int = 200,
):
    """The queue page: `filters` and the page `seek` asks for, its rows in one form to act on
    several at once (`form`: what was sent, with its errors); `tree` is the vision's working tree,
    `people` the facilitators a proposal can be assigned to."""
    result = queue_page(vision, filters, seek, viewer_id=current_user.id)
    form = form or SelectedForm(formdata=None, assign_to="me")
    return render_template(
        "facilitation/queue.html",
        vision=vision,
        tree=tree,
        labels={row["key"]: row["label"] for row in tree},
        ambitions=[row for row in tree if row["kind"] == "ambition"],
        people=people,
        assignee_words=ASSIGNEE_WORDS,
        result=result,
        filters=filters,
        flags=QUEUE_FLAGS,
        sorts=QUEUE_SORTS,
        filtered=filters.filtered,
        page_url=seek_links("facilitation.queue", slug=vision.slug, **filters.link_args()),
        seek=seek,
        search_words=words_of(filters.q),
        age_in_words=age_in_words,
        check_limit=FLAG_CHECK_LIMIT,
        carry={"from": filters.carried},
        form=form,
        checked=set(form.selected.data or ()),
    ), status


@bp.get("/visions/<slug:slug>/facilitate")
def queue(slug: str):
    vision = get_vision_or_404(slug)
    require_member()
    if not permissions.can_see_queue(current_user, vision):
        abort(403)
    tree = working_tree(vision)
    people = assignment.facilitators()
    filters = QueueFilters.parse(request.args, {row["key"] for row in tree}, {person.id for person in people})
    return queue_response(vision, tree, filters, Seek.parse(request.args), people)


# --- assigning, and acting on several proposals at once -------------------------------------------


def queue_sent_from(tree: list[dict[str, Any]]) -> tuple[QueueFilters, Seek]:
    """The filtered queue and page a form of the queue was sent from (`from`; `after`, `before` or `last`)."""
    filters = QueueFilters.from_carried(request.form.get("from"), {row["key"] for row in tree})
    return filters or QueueFilters(), Seek.parse(request.form)


def back_to_queue(vision: Vision, filters: QueueFilters, seek: Seek, anchor: str | None = None):
    """To the queue the form was sent from, on its page, or its last page when that one emptied."""
    if not seek.first and not queue_page(vision, filters, seek, viewer_id=current_user.id).rows:
        seek = Seek(last=True)
    target = url_for("facilitation.queue", slug=vision.slug, **filters.link_args(), **seek.link_args())
    return redirect(f"{target}#{anchor}" if anchor else target)


def assigned_to_words(assignee: User | None) -> str:
    if assignee is None:
        return "nobody"
    return "you" if assignee.id == current_user.id else assignee.public_name


@bp.post("/proposals/<posint:proposal_id>/assign")
def assign(proposal_id: int):
    """One row's "Assign to me" (`assignee`: "me", "none" or a facilitator's id)."""
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    vision = proposal.vision
    require_member(url_for("facilitation.queue", slug=vision.slug))
    if not permissions.can_assign(current_user, vision):
        abort(403)
    assignee = assignment.assignee_named(request.form.get("assignee"), current_user)
    assignment.assign_proposal(proposal, current_user, assignee)
    db.session.commit()
    flash(f"Proposal {proposal.id} is now assigned to {assigned_to_words(assignee)}.", "success")
    filters, seek = queue_sent_from(working_tree(vision))
    return back_to_queue(vision, filters, seek, f"proposal-{proposal.id}")


def selection_action(slug: str, act):
    """Assign or reject the proposals ticked in the queue's form: `act(form, proposals)` calls the
    service and returns the message to flash. A refusal (a proposal that cannot be changed, a
    missing reason) shows the queue again with the ticks and the reason kept, and writes nothing."""
    vision = get_vision_or_404(slug)
    require_member(url_for("facilitation.queue", slug=slug))
    if not permissions.can_assign(current_user, vision):
        abort(403)
    form = SelectedForm()
    tree = working_tree(vision)
    filters, seek = queue_sent_from(tree)
    message = attempt(form, lambda: act(form, assignment.selected_proposals(vision, form.selected.data or [])))
    if message is None:
        return queue_response(vision, tree, filters, seek, assignment.facilitators(), form, 422)
    db.session.commit()
    flash(message, "success")
    return back_to_queue(vision, filters, seek)


def numbers_in_words(proposals: list[Proposal]) -> str:
    numbers = [str(p.id) for p in proposals]
    return numbers[0] if len(numbers) == 1 else f"{', '.join(numbers[:-1])} and {numbers[-1]}"


@bp.post("/visions/<slug:slug>/facilitate/assign")
def assign_selected(slug: str):
    def act(form: SelectedForm, proposals: list[Proposal]) -> str:
        assignee = assignment.assignee_named(form.assign_to.data, current_user, field="assign_to")
        done = assignment.assign_selected(proposals, current_user, assignee)
        which = "Proposal" if len(done) == 1 else "Proposals"
        return f"{which} {numbers_in_words(done)} now assigned to {assigned_to_words(assignee)}."

    return selection_action(slug, act)


@bp.post("/visions/<slug:slug>/facilitate/reject")
def reject_selected(slug: str):
    def act(form: SelectedForm, proposals: list[Proposal]) -> str:
        done = assignment.reject_selected(proposals, current_user, form.reason.data)
        which = "proposal" if len(done) == 1 else "proposals"
        return f"You rejected {which} {numbers_in_words(done)}. Your reason is shown publicly on each."

    return selection_action(slug, act)


# --- the way in: what waits -----------------------------------------------------------------------


@bp.get("/facilitate")
def start():
    """Where the header's "Facilitate" link leads: the visions with what waits on each, or
    straight to the overview when the site holds one vision."""
    require_member()
    if not permissions.is_facilitator(current_user):
        abort(403)
    visions = overview.visions_waiting()
    if len(visions) == 1:
        return redirect(url_for(".vision_overview", slug=visions[0].vision.slug))
    return render_template("facilitation/visions.html", visions=visions)


@bp.get("/visions/<slug:slug>/facilitate/overview")
def vision_overview(slug: str):
    vision = get_vision_or_404(slug)
    require_member()
    if not permissions.can_see_queue(current_user, vision):
        abort(403)
    return render_template(
        "facilitation/overview.html",
        vision=vision,
        overview=overview.vision_overview(vision),
        age_in_words=age_in_words,
        check_limit=FLAG_CHECK_LIMIT,
    )


# --- accept ---------------------------------------------------------------------------------------


def accept_page(proposal: Proposal, form: AcceptForm, status: int = 200, *, fill: bool = False, **planning: Any):
    """The accept page, planned against the working text now (`decisions.plan_accept(proposal,
    **planning)`); `fill` starts the form from the plan: its text, working text and revision."""
    plan = decisions.plan_accept(proposal, **planning)
    if fill:
        if plan.result is not None:
            form.title.data, form.body.data = plan.result.title, plan.result.body
        form.expected_text_id.data = str(plan.expected_text_id or "")
        form.revision.data = str(plan.revision)
    if plan.mode == "conflict":
        form.body.label.text = "Resolved text"
    filters = came_from_queue(proposal.vision)
    page = render_template(
        plan.template,
        proposal=proposal,
        vision=proposal.vision,
        label=element_label(proposal.vision, proposal.element.key),
        plan=plan,
        form=form,
        mode=diff_view_mode(),
        diff_views=DIFF_VIEWS,
        came_from=filters,
        queue_url=queue_url(proposal.vision, filters),
    )
    return page, status


def accept_again(proposal_id: int, form: AcceptForm, reason: str):
    """Nothing was written: show the change again against the text that is current now, the strict
    rebase to confirm or the conflict to resolve (409). After "moved", the change is the
    facilitator's text as sent, from the working text their page showed."""
    db.session.rollback()
    proposal = decidable_proposal(proposal_id, "accept")  # it may have been decided meanwhile
    fresh = AcceptForm(formdata=None, note=form.note.data)
    if reason == "revised":
        return accept_page(proposal, fresh, 409, fill=True, reason=reason)
    submitted = (form.title.data or "", form.body.data or "")
    return accept_page(
        proposal, fresh, 409, fill=True, reason=reason, prepared_from_id=form.expected_id(), submitted=submitted
    )


def accepted_message(accepted: Accepted) -> str:
    proposal = accepted.proposal
    where = element_label(proposal.vision, proposal.element.key)
    if proposal.kind == "move":
        return f"You accepted proposal {proposal.id}: {where} is moved in the working draft."
    if proposal.kind == "remove":
        return f"You accepted proposal {proposal.id}: {where} is removed from the working draft, with anything under it."
    if proposal.kind == "add":
        return f"You accepted proposal {proposal.id}: “{proposal.title}” is added to the working draft, with a new number."
    if accepted.with_changes:
        return (
            f"You accepted proposal {proposal.id} with changes into the working draft of {where}. "
            "Both differences are shown on the proposal."
        )
    return f"You accepted proposal {proposal.id} into the working draft of {where}."


@bp.route("/proposals/<posint:proposal_id>/accept", methods=["GET", "POST"])
def accept(proposal_id: int):
    proposal = decidable_proposal(proposal_id, "accept")
    form = AcceptForm()
    if request.method == "GET":
        return accept_page(proposal, form, fill=True)
    if not form.validate_on_submit():
        return accept_page(proposal, form, 400)
    try:
        accepted = decisions.accept_proposal(
            proposal,
            current_user,
            title=form.title.data,
            body=form.body.data,
            note=form.note.data,
            expected_text_id=form.expected_id(),
            revision=form.revision_number(),
        )
    except ValidationError as error:
        show_errors(form, error)
        return accept_page(proposal, form, 422)
    except (DraftMoved, StaleDataError) as error:
        return accept_again(proposal_id, form, error.reason if isinstance(error, DraftMoved) else "moved")
    db.session.commit()
    return decided(proposal, accepted_message(accepted))


# --- reject and reopen ----------------------------------------------------------------------------


@bp.route("/proposals/<posint:proposal_id>/reject", methods=["GET", "POST"])
def reject(proposal_id: int):
    proposal = decidable_proposal(proposal_id, "reject")
    form = RejectForm()
    status = 200
    if request.method == "POST":
        status = 400
        if form.validate_on_submit():
            try:
                decisions.reject_proposal(proposal, current_user, form.reason.data)
            except ValidationError as error:
                show_errors(form, error)
                status = 422
            else:
                db.session.commit()
                return decided(proposal, f"You rejected proposal {proposal.id}. Your reason is shown publicly on the proposal.")
    base = proposal.base_text
    filters = came_from_queue(proposal.vision)
    page = render_template(
        "facilitation/reject.html",
        proposal=proposal,
        vision=proposal.vision,
        label=element_label(proposal.vision, proposal.element.key),
        form=form,
        diff=TextDiff.between(*shown_against(proposal, base), proposal.title, proposal.body),
        came_from=filters,
        queue_url=queue_url(proposal.vision, filters),
    )
    return page, status


@bp.post("/proposals/<posint:proposal_id>/reopen")
def reopen(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    require_member(url_for("proposals.show", proposal_id=proposal_id))
    decisions.reopen_proposal(proposal, current_user)
    db.session.commit()
    flash(
        f"You reopened proposal {proposal.id}. It is open again; the earlier decision stays in the record.",
        "success",
    )
    return proposal_page(proposal.id)


# --- the author's one-click rebase ----------------------------------------------------------------


@bp.post("/proposals/<posint:proposal_id>/rebase")
def rebase(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=True)
    require_member(url_for("proposals.show", proposal_id=proposal_id))
    try:
        decisions.rebase_proposal(proposal, current_user)
    except RebaseConflict as error:
        # Nothing was written: the parts that cannot be carried over, and the way forward.
        page = render_template(
            "facilitation/rebase_conflict.html",
            proposal=proposal,
            vision=proposal.vision,
            label=element_label(proposal.vision, proposal.element.key),
            error=error,
        )
        return page, 422
    db.session.commit()
    flash("Your proposal now applies to the current text.", "success")
    return proposal_page(proposal.id)


# --- for every page: the header ------------------------------------------------------------------


@bp.app_template_global("facilitation_waiting")
def facilitation_waiting() -> overview.Waiting | None:
    """`{% set waiting = facilitation_waiting() %}` (used by _account_nav.html): what waits for the
    facilitators on the whole site, for a facilitator or admin only (one query); None for others."""
    if not permissions.is_facilitator(current_user):
        return None
    return overview.waiting_everywhere()


# --- for the proposal page ------------------------------------------------------------------------


@bp.app_template_global("facilitation_decision")
def facilitation_decision(proposal: Proposal) -> panels.Decision:
    """`{% set decision = facilitation_decision(proposal) %}` (used by _decision_panel.html)."""
    return panels.decision_for(proposal, current_user)


@bp.app_template_global("facilitation_rebase_offer")
def facilitation_rebase_offer(proposal: Proposal, stale: Staleness | None = None) -> panels.RebaseOffer:
    """`{% set offer = facilitation_rebase_offer(proposal, stale) %}` (used by _rebase_offer.html)."""
    return panels.rebase_offer(proposal, current_user, stale)


# --- accept together (issue 13) -------------------------------------------------------------------
# Imported here, with the section, so that this section stays one block apart from the rest.

from . import together  # noqa: E402
from .together_form import TogetherForm, chosen_in_order, shown_revisions  # noqa: E402


def together_page(vision: Vision, element: Any, form: TogetherForm, status: int = 200, reason: str | None = None):
    page = together.together_page(element, chosen_in_order(request.values), current_user)
    html = render_template(
        "facilitation/together.html",
        vision=vision,
        label=element_label(vision, element.key),
        page=page,
        form=form,
        reason=reason,
        mode=diff_view_mode(),
        fewest=together.FEWEST,
        most=together.MOST,
        page_url=url_for(".accept_together", slug=vision.slug, key=element.key),
        queue_url=url_for(".queue", slug=vision.slug, element=element.key),
    )
    return html, status


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/accept-together", methods=["GET", "POST"])
def accept_together(slug: str, key: str):
    vision = get_vision_or_404(slug)
    require_member()
    if not permissions.can_see_queue(current_user, vision):
        abort(403)
    element = together.element_in(vision, key) or abort(404)
    form = TogetherForm()
    if request.method == "GET":
        return together_page(vision, element, form)
    if not form.validate_on_submit():
        return together_page(vision, element, form, 400)
    ids = chosen_in_order(request.form)
    try:
        accepted = together.accept_together(
            vision,
            key,
            ids,
            current_user,
            expected_text_id=form.expected_id(),
            revisions=shown_revisions(request.form, ids),
            note=form.note.data,
        )
    except (ValidationError, DraftMoved, StaleDataError) as error:
        # Nothing was written: the page again, worked out from the state now, saying why.
        db.session.rollback()
        if isinstance(error, ValidationError):
            show_errors(form, error)  # the note's beside it; the choice's are worked out again
            return together_page(vision, element, form, 422)
        return together_page(vision, element, form, 409, error.reason if isinstance(error, DraftMoved) else "moved")
    db.session.commit()
    flash(together.accepted_message(accepted, element_label(vision, key)), "success")
    return redirect(url_for(".queue", slug=vision.slug, element=key))
