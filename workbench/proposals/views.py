"""Proposals: propose an edit to one element, revise, withdraw, list (issue 4); propose to remove,
move or add an element (issue 16: their forms and words are in `pages.py`).

Refusals (SignInRequired, NotAllowed, WrongState) go to the application's error handlers; a route
catches only the ValidationError whose messages it shows beside the form's fields (`attempt`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from .. import permissions
from ..auth.redirects import require_member
from ..diff_views import DEFAULT_DIFF_VIEW, DIFF_VIEWS, diff_view_mode
from ..exceptions import NotAllowed, ValidationError, WrongState
from ..forms import attempt
from ..limits import per_account
from ..models import Element, ElementText, Proposal, ProposalStatus, User, Vision, db
from ..numbers import whole_number
from ..keyset import Seek
from ..pagination import seek_links
from ..notifications.following import is_following
from ..text_diff import TextDiff
from ..urls import ElementKeyConverter
from ..visions.lookup import get_vision_or_404
from ..visions.services import element_labels, element_removal, working_tree
from . import add, services, structural
from .edit import clean_proposal_text
from .forms import AdditionForm, MoveProposalForm, ProposalForm, RemovalForm, RevisionForm
from .lookup import visible_proposal_or_404
from .pages import (
    addition_page, additions_in_words, label_of, move_page, move_words, moves_in_words, revise_addition, revise_move, revise_removal,
)
from .rebase import staleness

bp = Blueprint("proposals", __name__)


# --- helpers --------------------------------------------------------------------------------------


def get_element_or_404(vision: Vision, key: str) -> Element:
    element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))
    if element is None:
        abort(404)
    return element


def tree_row(vision: Vision, key: str) -> tuple[list[dict[str, Any]], dict[str, Any] | None]:
    tree = working_tree(vision)
    return tree, next((row for row in tree if row["key"] == key), None)


def diff_view_urls(endpoint: str, anchor: str, **values: Any) -> dict[str, str]:
    """The link to each diff view of this page (other query parameters kept)."""
    return {
        mode: url_for(endpoint, **values, view=None if mode == DEFAULT_DIFF_VIEW else mode) + f"#{anchor}"
        for mode in DIFF_VIEWS
    }


@dataclass
class Preview:
    """What the preview shows: the diff of the typed text against its base, or why it cannot."""

    diff: TextDiff | None = None
    problems: list[str] | None = None

    @property
    def summary(self) -> str:
        if self.problems:
            return "The preview cannot be shown: " + " ".join(f"{p}." for p in self.problems)
        if self.diff is None:
            return ""
        if not self.diff.has_changes:
            return "Preview updated: no changes yet. Your text is the same as the current text."
        count = sum(
            1 for views in (self.diff.title, self.diff.body) for change in views.changes if change.op != "equal"
        )
        return f"Preview updated: {count} {'addition or removal' if count == 1 else 'additions and removals'}."


def build_preview(base_title: str, base_body: str, title: str | None, body: str | None) -> Preview:
    """The diff of what was typed against the base, after the same cleaning a proposal gets.

    Text too long or with hidden characters is refused before any diffing (a 50,000-word body
    is never diffed).
    """
    try:
        text = clean_proposal_text(title, body, "", require_rationale=False)
    except ValidationError as error:
        return Preview(problems=[m for name in ("title", "body") for m in error.errors.get(name, [])])
    return Preview(diff=TextDiff.between(base_title, base_body, text.title, text.body))


def current_or_refuse(vision: Vision, key: str) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The working tree and the element's row in it; raises WrongState (409) for an element removed
    from the working draft, which takes no new proposals."""
    tree, current = tree_row(vision, key)
    if current is None:
        removal = element_removal(vision, key)
        if removal is None:
            abort(404)
        raise WrongState(removal.refusal("proposals"))
    return tree, current


class OutsideWindow(NotAllowed):
    """Proposing while the consultation is not open: answered with the propose page saying when it
    opens or that it closed (`outside_window`), rather than the bare refusal page."""

    def __init__(self, vision: Vision, current: dict[str, Any]):
        super().__init__("You can propose changes to this vision while its consultation is open.")
        self.vision, self.current = vision, current


@bp.errorhandler(OutsideWindow)
def outside_window(error: OutsideWindow):
    db.session.rollback()
    return refuse_outside_window(error.vision, error.current)


@dataclass(frozen=True)
class ProposingOn:
    """The element a person proposes on (or under), with the working tree and its row there."""

    vision: Vision
    element: Element
    tree: list[dict[str, Any]]
    current: dict[str, Any]


def proposing_on(slug: str, key: str) -> ProposingOn:
    """What every page that proposes on an element starts with: the vision and element (404 when
    either does not exist), a signed-in member (SignInRequired, back to this page), the element in
    the working draft (WrongState for one removed from it) and the window open (OutsideWindow)."""
    vision = get_vision_or_404(slug)
    element = get_element_or_404(vision, key)
    require_member(request.path)
    tree, current = current_or_refuse(vision, key)
    if not permissions.can_propose(current_user, vision):
        raise OutsideWindow(vision, current)
    return ProposingOn(vision, element, tree, current)


def refuse_outside_window(vision: Vision, element_row: dict[str, Any], status: int = 403):
    return (
        render_template(
            "proposals/propose.html",
            vision=vision,
            current=element_row,
            form=None,
            window_state=vision.window_state(),
        ),
        status,
    )


def propose_page(vision: Vision, current: dict[str, Any], form: ProposalForm, preview: Preview | None, status: int = 200):
    """The propose form, with the preview of what was typed (and any messages)."""
    return (
        render_template(
            "proposals/propose.html",
            vision=vision,
            current=current,
            form=form,
            preview=preview,
            preview_url=url_for(".preview", slug=vision.slug, key=current["key"]),
            window_state="open",
        ),
        status,
    )


# --- proposing ------------------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/propose", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def propose(slug: str, key: str):
    on = proposing_on(slug, key)
    vision, element, current = on.vision, on.element, on.current
    form = ProposalForm()
    if request.method == "GET":
        form.title.data, form.body.data = current["title"], current["body"]
        return propose_page(vision, current, form, build_preview(current["title"], current["body"], form.title.data, form.body.data))
    if not form.validate_on_submit():
        return propose_page(vision, current, form, None, 400)
    preview = build_preview(current["title"], current["body"], form.title.data, form.body.data)
    if request.form.get("action") == "preview":
        return propose_page(vision, current, form, preview)
    proposal = attempt(
        form,
        lambda: services.open_proposal(vision, element, current_user, form.title.data, form.body.data, form.rationale.data),
    )
    if proposal is None:
        return propose_page(vision, current, form, preview, 422)
    db.session.commit()
    flash("Your proposal is open. Others can now read it, and you can edit or withdraw it while it is open.", "success")
    return redirect(url_for(".show", proposal_id=proposal.id))


@bp.post("/visions/<slug:slug>/elements/<element_key:key>/propose/preview")
@per_account("RATELIMIT_PROPOSAL_PREVIEW")
def preview(slug: str, key: str):
    """The live preview (htmx): the diff of the typed text against the current text."""
    vision = get_vision_or_404(slug)
    get_element_or_404(vision, key)
    require_member(url_for(".propose", slug=slug, key=key))
    _, current = current_or_refuse(vision, key)
    if not permissions.can_propose(current_user, vision):
        raise NotAllowed()
    result = build_preview(current["title"], current["body"], request.form.get("title"), request.form.get("body"))
    return render_template("proposals/_preview.html", preview=result, oob=True)


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/propose-removal", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def propose_removal(slug: str, key: str):
    """Propose to remove an element, and everything under it, with a reason."""
    on = proposing_on(slug, key)
    vision, element, tree, current = on.vision, on.element, on.tree, on.current
    form = RemovalForm()
    if request.method == "POST" and form.validate_on_submit():
        proposal = attempt(form, lambda: structural.propose_removal(vision, element, current_user, form.rationale.data))
        if proposal is not None:
            db.session.commit()
            flash("Your proposal to remove it is open. Others can now read it, and you can edit or withdraw it while it is open.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 400 if not form.errors else 422
    children = [row for row in tree if row["parent"] == key]
    refusal = structural.why_not_removable(vision, element)
    return (
        render_template("proposals/propose_remove.html", vision=vision, current=current, children=children, refusal=refusal, form=form),
        status,
    )


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/propose-move", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def propose_move(slug: str, key: str):
    """Propose to move an element under another ambition or to another position, with a reason."""
    on = proposing_on(slug, key)
    vision, element, tree, current = on.vision, on.element, on.tree, on.current
    form = MoveProposalForm()
    if request.method == "GET":
        form.parent.data = current["parent"] or ""
    elif form.validate_on_submit():
        proposal = attempt(form, lambda: structural.propose_move(
            vision, element, current_user, parent_key=form.parent.data or None, position=form.position.data,
            rationale=form.rationale.data,
        ))
        if proposal is not None:
            db.session.commit()
            flash("Your proposal to move it is open. Others can now read it, and you can edit or withdraw it while it is open.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 400 if not form.errors or form.csrf_token.errors else 422
    return move_page("proposals/propose_move.html", vision, tree, current, form, status)


@bp.route("/visions/<slug:slug>/elements/<element_key:key>/propose-new", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def propose_addition(slug: str, key: str):
    """Propose a new element under this one: an objective or enabling condition under an ambition,
    or an ambition under the vision statement; with its title, text, position and a reason."""
    on = proposing_on(slug, key)
    form = AdditionForm()
    form.kind.choices = add.kind_choices(on.current["kind"])
    if request.method == "GET":
        wanted = request.args.get("kind")
        form.kind.data = wanted if wanted in dict(form.kind.choices) else next(iter(dict(form.kind.choices)), "")
    elif form.validate_on_submit():
        proposal = attempt(form, lambda: structural.propose_addition(
            on.vision, on.element, current_user, kind=form.kind.data, position=form.position.data,
            title=form.title.data, body=form.body.data, rationale=form.rationale.data,
        ))
        if proposal is not None:
            db.session.commit()
            flash("Your proposal to add it is open. Others can now read it, and you can edit or withdraw it while it is open.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 400 if not form.errors or form.csrf_token.errors else 422
    return addition_page("proposals/propose_add.html", on.vision, on.tree, on.current, form, status)


# --- one proposal ---------------------------------------------------------------------------------


@bp.get("/proposals/<posint:proposal_id>")
def show(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id)
    vision = proposal.vision
    base = proposal.base_text
    tree, current = tree_row(vision, proposal.element.key)
    diff = TextDiff.between(*add.shown_against(proposal, base), proposal.title, proposal.body)
    is_open = proposal.status == ProposalStatus.OPEN.value
    removal = proposal.kind == "remove"
    # A removal or a move proposes no words: whatever the text now, the whole element goes or moves.
    stale = staleness(proposal, base, current) if is_open and proposal.kind == "edit" else None
    moving = move_words(proposal, tree)
    others, others_total = services.neighbours(proposal) if is_open else ([], 0)
    return render_template(
        "proposals/show.html",
        proposal=proposal,
        goes_with=[row for row in tree if row["parent"] == proposal.element.key] if removal else [],
        moving=moving,
        adding=additions_in_words([proposal], tree).get(proposal.id),
        vision=vision,
        base=base,
        current=current,
        label=label_of(proposal, current),
        based_on=services.based_on(proposal, base),
        status_label=services.status_label(proposal),
        diff=diff,
        mode=diff_view_mode(),
        diff_views=DIFF_VIEWS,
        view_urls=diff_view_urls(".show", "changes-heading", proposal_id=proposal.id),
        stale=stale,
        revisions=services.revisions(proposal),
        others=others,
        others_total=others_total,
        can_edit=permissions.can_edit_proposal(current_user, proposal),
        can_withdraw=permissions.can_withdraw_proposal(current_user, proposal),
        is_following=is_following(current_user, proposal),  # notifications (issue 15)
    )


@bp.get("/proposals/<posint:proposal_id>/revisions/<posint:number>")
def revision(proposal_id: int, number: int):
    """Revision `number`, diffed against the one before it or against the text it was based on."""
    proposal = visible_proposal_or_404(proposal_id)
    history = services.revisions(proposal)
    if number > len(history):
        abort(404)
    this = history[number - 1]
    previous = history[number - 2] if number > 1 else None
    against = request.args.get("against", "previous" if previous else "base")
    if against not in ("previous", "base") or (against == "previous" and previous is None):
        against = "base"
    if against == "previous":
        old_title, old_body = previous.title, previous.body
    else:
        old_title, old_body = add.shown_against(proposal, db.session.get(ElementText, this.base_text_id))
    _, current = tree_row(proposal.vision, proposal.element.key)
    return render_template(
        "proposals/revision.html",
        proposal=proposal,
        vision=proposal.vision,
        label=label_of(proposal, current),
        revision=this,
        previous=previous,
        total=len(history),
        against=against,
        diff=TextDiff.between(old_title, old_body, this.title, this.body),
        mode=diff_view_mode(),
        diff_views=DIFF_VIEWS,
        view_urls=diff_view_urls(
            ".revision", "changes-heading", proposal_id=proposal.id, number=number, against=against
        ),
        status_label=services.status_label(proposal),
    )


# --- the author's edits ---------------------------------------------------------------------------


def check_author(proposal: Proposal, *, withdrawing: bool = False) -> None:
    """Return when the signed-in person may change the proposal; otherwise raise SignInRequired,
    NotAllowed (not theirs) or WrongState (no longer open, or the consultation closed)."""
    require_member(url_for(".show", proposal_id=proposal.id))
    if proposal.author_id != current_user.id:
        raise NotAllowed()
    if proposal.status != ProposalStatus.OPEN.value:
        word = services.status_label(proposal).lower()
        raise WrongState(
            f"This proposal has been {word}, so it can no longer be edited or withdrawn. "
            "You can still read it and its history."
        )
    allowed = permissions.can_withdraw_proposal if withdrawing else permissions.can_edit_proposal
    if not allowed(current_user, proposal):
        raise WrongState(
            "The consultation is closed, so proposals can no longer be edited. "
            "You can still withdraw yours, and read it and its history."
        )


def revision_base(proposal: Proposal, current: dict[str, Any] | None, requested: int | None):
    """The text an edit is written against: the proposal's base, or the current text if asked."""
    if current is not None and requested == current["text_id"] and requested != proposal.base_text_id:
        return current["text_id"], current["title"], current["body"], True
    base = proposal.base_text
    return base.id, base.title, base.body, False


def fill_revision_form(form: RevisionForm, proposal: Proposal, current: dict[str, Any] | None, stale: Any) -> tuple[Preview, bool]:
    """Fill the edit form with the proposal as it stands, or carried onto the current text when the
    author asked (`?onto=current`); (the preview, whether it was carried onto the current text)."""
    onto_current = request.args.get("onto") == "current" and current is not None
    requested = current["text_id"] if onto_current else proposal.base_text_id
    base_id, base_title, base_body, rebased = revision_base(proposal, current, requested)
    form.base_text_id.data = str(base_id)
    form.title.data, form.body.data = proposal.title, proposal.body
    form.rationale.data = proposal.rationale
    if rebased and stale.clean and stale.rebased_body is not None:
        form.title.data, form.body.data = stale.rebased_title, stale.rebased_body
    elif rebased:
        form.title.data, form.body.data = current["title"], current["body"]
    return build_preview(base_title, base_body, form.title.data, form.body.data), rebased


@bp.route("/proposals/<posint:proposal_id>/edit", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def edit(proposal_id: int):
    proposal = visible_proposal_or_404(proposal_id, for_update=request.method == "POST")
    check_author(proposal)
    _, current = tree_row(proposal.vision, proposal.element.key)
    if proposal.kind == "remove":
        return revise_removal(proposal, current)
    if proposal.kind == "move":
        return revise_move(proposal, current)
    if proposal.kind == add.NAME:
        return revise_addition(proposal, current)
    stale = staleness(proposal, proposal.base_text, current)
    form = RevisionForm()
    page = dict(proposal=proposal, current=current, form=form, stale=stale)
    if request.method == "GET":
        preview, rebased = fill_revision_form(form, proposal, current, stale)
        return edit_page(**page, preview=preview, rebased=rebased)
    _, base_title, base_body, rebased = revision_base(proposal, current, form.base_id())
    if not form.validate_on_submit():
        return edit_page(**page, preview=None, rebased=rebased, status=400)
    preview = build_preview(base_title, base_body, form.title.data, form.body.data)
    if request.form.get("action") == "preview":
        return edit_page(**page, preview=preview, rebased=rebased)
    revision = attempt(
        form,
        lambda: services.revise_proposal(
            proposal, current_user, form.title.data, form.body.data, form.rationale.data, base_text_id=form.base_id()
        ),
    )
    if revision is None:
        return edit_page(**page, preview=preview, rebased=rebased, status=422)
    db.session.commit()
    flash(f"Your changes are saved as revision {revision.number} of your proposal.", "success")
    return redirect(url_for(".show", proposal_id=proposal.id))


def edit_page(*, proposal: Proposal, current: dict[str, Any] | None, form: RevisionForm, stale: Any, preview: Preview | None, rebased: bool, status: int = 200):
    """The edit form, with the preview of what was typed (and any messages)."""
    return (
        render_template(
            "proposals/edit.html",
            proposal=proposal,
            vision=proposal.vision,
            current=current,
            label=label_of(proposal, current),
            form=form,
            preview=preview,
            preview_url=url_for(".edit_preview", proposal_id=proposal.id),
            rebased=rebased,
            stale=stale,
        ),
        status,
    )


@bp.post("/proposals/<posint:proposal_id>/edit/preview")
@per_account("RATELIMIT_PROPOSAL_PREVIEW")
def edit_preview(proposal_id: int):
    """The live preview while editing (htmx): the diff against the text the revision is based on."""
    proposal = visible_proposal_or_404(proposal_id)
    require_member(url_for(".edit", proposal_id=proposal.id))
    if not permissions.can_edit_proposal(current_user, proposal):
        raise NotAllowed()
    _, current = tree_row(proposal.vision, proposal.element.key)
    requested = whole_number(request.form.get("base_text_id"))
    _, base_title, base_body, _ = revision_base(proposal, current, requested)
    result = build_preview(base_title, base_body, request.form.get("title"), request.form.get("body"))
    return render_template("proposals/_preview.html", preview=result, oob=True)


@bp.route("/proposals/<posint:proposal_id>/withdraw", methods=["GET", "POST"])
@per_account("RATELIMIT_PROPOSAL_WRITE")
def withdraw(proposal_id: int):
    """GET asks the author to confirm (what withdrawing means, and a way back); POST withdraws."""
    proposal = visible_proposal_or_404(proposal_id, for_update=request.method == "POST")
    check_author(proposal, withdrawing=True)
    if request.method == "GET":
        _, current = tree_row(proposal.vision, proposal.element.key)
        return render_template(
            "proposals/withdraw.html",
            proposal=proposal,
            vision=proposal.vision,
            label=label_of(proposal, current),
            status_label=services.status_label(proposal),
        )
    services.withdraw_proposal(proposal, current_user)
    db.session.commit()
    flash("You withdrew your proposal. It stays on the site, marked as withdrawn.", "success")
    return redirect(url_for(".show", proposal_id=proposal.id))


# --- the list -------------------------------------------------------------------------------------


ELEMENT_KEY = re.compile(ElementKeyConverter.regex)

STATUS_FILTERS = {
    "": "Any status",
    ProposalStatus.OPEN.value: "Open",
    ProposalStatus.ACCEPTED.value: "Accepted",
    ProposalStatus.REJECTED.value: "Rejected",
    ProposalStatus.WITHDRAWN.value: "Withdrawn",
}


def list_filters(args: Any) -> services.ProposalFilters:
    """The list's filters from the query string; anything unknown is no filter (or the default sort)."""
    status = args.get("status", "")
    element_key = args.get("element", "")
    sort = args.get("sort", services.DEFAULT_SORT)
    return services.ProposalFilters(
        status=status if status in STATUS_FILTERS else "",
        element_key=element_key if ELEMENT_KEY.fullmatch(element_key) else "",
        author_id=whole_number(args.get("author")),
        author_name=services.clean_author_name(args.get("by")),
        sort=sort if sort in services.SORTS else services.DEFAULT_SORT,
    )


@bp.get("/visions/<slug:slug>/proposals")
def index(slug: str):
    vision = get_vision_or_404(slug)
    filters = list_filters(request.args)
    result = services.list_proposals(vision, filters, Seek.parse(request.args))
    tree = working_tree(vision)
    return render_template(
        "proposals/index.html",
        vision=vision,
        tree=tree,
        labels=element_labels(vision, {p.element.key for p in result.rows} | {filters.element_key} - {""}, tree),
        result=result,
        filters=filters,
        author=db.session.get(User, filters.author_id) if filters.author_id else None,
        excerpts={p.id: services.excerpt(p) for p in result.rows if p.kind != add.NAME},
        moves=moves_in_words(result.rows, tree),
        additions=additions_in_words(result.rows, tree),
        status_filters=STATUS_FILTERS,
        sorts=services.SORTS,
        status_label=services.status_label,
        page_url=seek_links(
            "proposals.index",
            slug=slug,
            status=filters.status,
            element=filters.element_key,
            author=filters.author_id,
            by=filters.author_name,
            sort=filters.sort if filters.sort != services.DEFAULT_SORT else "",
        ),
        filtered=bool(filters.status or filters.element_key or filters.author_id or filters.author_name),
        can_propose=permissions.can_propose(current_user, vision),
    )
