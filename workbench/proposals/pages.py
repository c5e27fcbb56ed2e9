"""Pieces of the proposal pages apart from their routes: each structural kind's change in words
(a move's, an addition's), the forms to propose and revise a removal, a move or an addition, and
the label of a proposal's element. `views.py` routes to them; they render, and commit only after
the service's change was made (as the routes do).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select

from ..exceptions import WrongState
from ..forms import attempt
from ..models import Element, ElementText, Proposal, Vision, db
from ..visions.services import element_label, working_tree
from . import add, move, services, structural
from .forms import AdditionForm, MoveProposalForm, RemovalForm


# --- each kind in words ---------------------------------------------------------------------------


def move_words(proposal: Proposal, tree: list[dict[str, Any]]) -> move.MoveInWords | None:
    """A move proposal in words against the working tree (None for other kinds)."""
    if proposal.kind != move.NAME:
        return None
    return move.in_words(proposal, tree, proposal.target_parent.key if proposal.target_parent else None)


def moves_in_words(proposals: list[Proposal], tree: list[dict[str, Any]]) -> dict[int, move.MoveInWords]:
    """The moves among `proposals` in words, by id; their target ambitions read in one query."""
    moves = [p for p in proposals if p.kind == move.NAME]
    targets = {p.target_parent_id for p in moves} - {None}
    if targets:  # loaded once: each proposal's `target_parent` is then found without a query
        db.session.scalars(select(Element).where(Element.id.in_(targets))).all()
    return {p.id: move_words(p, tree) for p in moves}


def added_elements(proposals: list[Proposal]) -> dict[int, Element]:
    """The element each accepted addition among `proposals` created (by proposal id), in one
    query: the element of the text it was accepted as."""
    accepted = {p.result_text_id: p.id for p in proposals if p.kind == add.NAME and p.result_text_id is not None}
    if not accepted:
        return {}
    rows = db.session.execute(
        select(ElementText.id, Element).join(Element, Element.id == ElementText.element_id).where(ElementText.id.in_(accepted))
    ).all()
    return {accepted[text_id]: element for text_id, element in rows}


def additions_in_words(proposals: list[Proposal], tree: list[dict[str, Any]]) -> dict[int, add.AdditionInWords]:
    """The additions among `proposals` in words, by id (their elements are loaded with them)."""
    added = added_elements(proposals)
    return {p.id: add.in_words(p, tree, added.get(p.id)) for p in proposals if p.kind == add.NAME}


def label_of(proposal: Proposal, current: dict[str, Any] | None) -> str:
    """The element's label: its number in the draft, or its last label once removed."""
    return current["label"] if current else element_label(proposal.vision, proposal.element.key)


# --- the forms of the structural kinds ------------------------------------------------------------


def move_page(template: str, vision: Vision, tree: list[dict[str, Any]], current: dict[str, Any], form: MoveProposalForm, status: int, **more: Any):
    """A form to propose (or revise) a move: the ambitions to choose from, and where it is now."""
    form.parent.choices = [(e["key"], f"{e['label']}: {e['title']}" if e["title"] else e["label"]) for e in tree if e["kind"] == "ambition"]
    siblings = [e["key"] for e in tree if e["kind"] == current["kind"] and e["parent"] == current["parent"]]
    parent_label = next((e["label"] for e in tree if e["key"] == current["parent"]), None)
    page = render_template(
        template, vision=vision, current=current, form=form, place=siblings.index(current["key"]) + 1,
        sibling_count=len(siblings), parent_label=parent_label, **more,
    )
    return page, status


def addition_page(template: str, vision: Vision, tree: list[dict[str, Any]], under: dict[str, Any], form: AdditionForm, status: int, **more: Any):
    """A form to propose (or revise) a new element under `under`: what is there now, in order, so
    that a position means something."""
    if under["kind"] == "statement":
        there = [row for row in tree if row["kind"] == "ambition"]
    else:
        there = [row for row in tree if row["parent"] == under["key"]]
    refusal = None if form.kind.choices else add.WRONG_PLACE
    page = render_template(template, vision=vision, current=under, form=form, there=there, refusal=refusal, **more)
    return page, status


def revise_removal(proposal: Proposal, current: dict[str, Any] | None):
    """A proposal to remove an element proposes no words: its author revises only their reason."""
    form = RemovalForm()
    if request.method == "GET":
        form.rationale.data = proposal.rationale
    elif form.validate_on_submit():
        revision = attempt(form, lambda: services.revise_proposal(proposal, current_user, "", "", form.rationale.data))
        if revision is not None:
            db.session.commit()
            flash(f"Your changes are saved as revision {revision.number} of your proposal.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 422 if form.errors and not form.csrf_token.errors else 400
    page = render_template("proposals/edit_remove.html", proposal=proposal, vision=proposal.vision, label=label_of(proposal, current), form=form)
    return page, status


def revise_move(proposal: Proposal, current: dict[str, Any] | None):
    """A proposal to move an element proposes no words: its author revises where it goes and why."""
    if current is None:
        raise WrongState("This element has been removed from the working draft, so the proposal to move it cannot be changed.")
    form = MoveProposalForm()
    if request.method == "GET":
        form.parent.data = proposal.target_parent.key if proposal.target_parent else ""
        form.position.data, form.rationale.data = str(proposal.target_position or ""), proposal.rationale
    elif form.validate_on_submit():
        revision = attempt(form, lambda: structural.revise_move(
            proposal, current_user, parent_key=form.parent.data or None, position=form.position.data, rationale=form.rationale.data,
        ))
        if revision is not None:
            db.session.commit()
            flash(f"Your changes are saved as revision {revision.number} of your proposal.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 422 if form.errors and not form.csrf_token.errors else 400
    tree = working_tree(proposal.vision)
    return move_page("proposals/edit_move.html", proposal.vision, tree, current, form, status, proposal=proposal, label=current["label"])


def revise_addition(proposal: Proposal, under: dict[str, Any] | None):
    """A proposal to add an element: its author revises its words, its position and the reason."""
    if under is None:
        raise WrongState("The ambition it would go under has been removed from the working draft, so this proposal cannot be changed.")
    form = AdditionForm()
    form.kind.choices = [(proposal.new_element_kind or "", dict(add.kind_choices(under["kind"])).get(proposal.new_element_kind or "", ""))]
    if request.method == "GET":
        form.kind.data, form.position.data = proposal.new_element_kind, str(proposal.target_position or "")
        form.title.data, form.body.data, form.rationale.data = proposal.title, proposal.body, proposal.rationale
    elif form.validate_on_submit():
        revision = attempt(form, lambda: structural.revise_addition(
            proposal, current_user, position=form.position.data, title=form.title.data, body=form.body.data,
            rationale=form.rationale.data,
        ))
        if revision is not None:
            db.session.commit()
            flash(f"Your changes are saved as revision {revision.number} of your proposal.", "success")
            return redirect(url_for(".show", proposal_id=proposal.id))
    status = 200 if request.method == "GET" else 422 if form.errors and not form.csrf_token.errors else 400
    tree = working_tree(proposal.vision)
    return addition_page("proposals/edit_add.html", proposal.vision, tree, under, form, status, proposal=proposal)
