"""Aligned work: organisations record what they are doing towards the vision (issue 7).

Public: the register (`/visions/<slug>/aligned-work`), its open data (`.csv`, `.json`, documented
at `.../about-the-data`) and the page of each approved initiative. Signed in: submit and change
your own initiatives, and see them at `/aligned-work/yours`. Facilitators: the screening queue,
approve and reject. Nothing is public until a facilitator approves it; contact details never are.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TypeVar

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from .. import permissions
from ..auth.redirects import members_only, require_member
from ..exceptions import ValidationError
from ..exports import csv_text, iso_time
from ..forms import attempt
from ..limits import per_address
from ..models import AlignedWork, Vision, db, utcnow
from ..numbers import whole_number
from ..visions.lookup import get_vision_or_404
from . import services
from .forms import DecisionForm, InitiativeForm
from .register import CSV_COLUMNS, csv_rows, open_data, parse_register_filters, register_page
from .screening import (
    initiative_page,
    initiatives_of,
    latest_wording,
    load_for_decision,
    queue_submissions,
    screening_queue,
    screening_state,
    waiting_count,
)
from .wording import STATUSES, VisionElements, vision_elements

bp = Blueprint("aligned", __name__)

T = TypeVar("T")


# --- reading the request --------------------------------------------------------------------------


def _page_number() -> int:
    """`?page=` as 1..999999; anything else is a page that does not exist."""
    number = whole_number(request.args.get("page", "1"), maximum=999_999)
    if number is None:
        abort(404)
    return number


def _work_or_404(work_id: int, *, for_update: bool = False) -> AlignedWork:
    """The initiative, or 404 when it does not exist or the user may not see it (yet)."""
    work = load_for_decision(work_id) if for_update else db.session.get(AlignedWork, work_id)
    if work is None or not permissions.can_see_aligned_work(current_user, work):
        abort(404)
    return work


def _preselected(elements: VisionElements) -> list[str]:
    """The element named by `?element=` (links from an element's page), ticked in a new form."""
    choice = elements.by_key.get(request.args.get("element", ""))
    if choice is not None and choice.id in elements.selectable_ids():
        return [str(choice.id)]
    return []


def _permalink(work_id: int) -> str:
    return url_for("aligned.show", work_id=work_id, _external=True)


# --- the public register and its open data --------------------------------------------------------


@bp.get("/visions/<slug:slug>/aligned-work")
def register(slug: str):
    vision = get_vision_or_404(slug)
    page_number = _page_number()
    elements = vision_elements(vision)
    filters, errors = parse_register_filters(request.args, elements)
    page = register_page(vision, filters, elements, page_number)
    if not page.exists:
        abort(404)
    waiting = waiting_count(vision) if permissions.can_screen_aligned_work(current_user) else None
    return (
        render_template(
            "aligned/register.html",
            vision=vision,
            elements=elements,
            filters=filters,
            filter_errors=errors,
            page=page,
            statuses=STATUSES,
            waiting=waiting,
            signed_in=permissions.is_member(current_user),
        ),
        400 if errors else 200,
    )


@bp.get("/visions/<slug:slug>/aligned-work.csv")
def register_csv(slug: str):
    vision = get_vision_or_404(slug)
    text = csv_text(CSV_COLUMNS, csv_rows(open_data(vision, _permalink)))
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="{vision.slug}-aligned-work.csv"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/visions/<slug:slug>/aligned-work.json")
def register_json(slug: str):
    vision = get_vision_or_404(slug)
    rows = open_data(vision, _permalink)
    document = {
        "schema_version": 1,
        "vision": {
            "slug": vision.slug,
            "title": vision.title,
            "url": url_for("visions.show", slug=vision.slug, _external=True),
        },
        "generated_at": iso_time(utcnow().replace(microsecond=0)),
        "documentation": url_for("aligned.about_the_data", slug=vision.slug, _external=True),
        "count": len(rows),
        "initiatives": rows,
    }
    response = Response(json.dumps(document, ensure_ascii=False, indent=2), mimetype="application/json")
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/visions/<slug:slug>/aligned-work/about-the-data")
def about_the_data(slug: str):
    vision = get_vision_or_404(slug)
    return render_template("aligned/about_the_data.html", vision=vision, statuses=STATUSES, columns=CSV_COLUMNS)


# --- submitting and changing ----------------------------------------------------------------------


def _saved(form: InitiativeForm, save: Callable[[], T]) -> T | None:
    """What `save` (a service call) returns, committed; None when the service found something wrong
    in what was sent: nothing is kept, and the form shows each message beside its field."""
    result = attempt(form, save)
    if result is not None:
        db.session.commit()
    return result


@bp.route("/visions/<slug:slug>/aligned-work/new", methods=["GET", "POST"])
@per_address("RATELIMIT_ALIGNED_WRITE")
def submit(slug: str):
    vision = get_vision_or_404(slug)
    if not permissions.is_member(current_user):
        # The register invites every visitor to record their work: newcomers need an account first.
        flash("Sign in to record your organisation's work. If you are new here, register first.", "info")
        require_member(url_for("aligned.submit", slug=slug, element=request.args.get("element") or None))
    elements = vision_elements(vision)
    form = InitiativeForm()
    if request.method == "GET":
        form.element_ids.data = _preselected(elements)
        return render_template("aligned/submit.html", vision=vision, elements=elements, form=form, statuses=STATUSES)
    if form.validate_on_submit():
        work = _saved(
            form, lambda: services.submit_aligned_work(vision, current_user, **form.wording(), elements=elements)
        )
        if work is not None:
            flash(
                "Thank you. Your initiative is waiting for screening: a facilitator checks it before it "
                "appears in the public register.",
                "success",
            )
            return redirect(url_for("aligned.show", work_id=work.id), 303)
    return render_template("aligned/submit.html", vision=vision, elements=elements, form=form, statuses=STATUSES), 422


@bp.route("/aligned-work/<posint:work_id>/edit", methods=["GET", "POST"])
@per_address("RATELIMIT_ALIGNED_WRITE")
def edit(work_id: int):
    work = _work_or_404(work_id, for_update=request.method == "POST")
    require_member(url_for("aligned.edit", work_id=work_id))
    services.ensure_may_change(work, current_user)
    vision = db.session.get(Vision, work.vision_id)
    elements = vision_elements(vision)
    if request.method == "GET":
        return _edit_page(vision, work, elements, InitiativeForm.filled_with(latest_wording(work)))
    form = InitiativeForm()
    if form.validate_on_submit():
        outcome = _saved(
            form, lambda: services.change_aligned_work(work, current_user, **form.wording(), elements=elements)
        )
        if outcome is not None:
            flash(_changed_message(outcome, work), "success")
            return redirect(url_for("aligned.show", work_id=work.id), 303)
    return _edit_page(vision, work, elements, form), 422


def _edit_page(vision: Vision, work: AlignedWork, elements: VisionElements, form: InitiativeForm) -> str:
    return render_template(
        "aligned/edit.html",
        vision=vision,
        work=work,
        elements=elements,
        form=form,
        state=screening_state(work),
        statuses=STATUSES,
    )


def _changed_message(outcome: str, work: AlignedWork) -> str:
    """What the submitter is told after changing their initiative (`outcome` from the service)."""
    if outcome == "restored":
        return "Your initiative is back to its published wording; nothing is waiting for screening."
    if work.state == "approved":
        return (
            "Your changes are waiting for screening. Until a facilitator approves them, the "
            "published wording stays in the register."
        )
    return "Your initiative is waiting for screening again."


# --- one initiative -------------------------------------------------------------------------------


@bp.get("/aligned-work/<posint:work_id>")
def show(work_id: int):
    work = _work_or_404(work_id)
    return render_template("aligned/show.html", **initiative_page(work, current_user), statuses=STATUSES)


@bp.get("/aligned-work/yours")
@members_only
def yours():
    page = initiatives_of(current_user, _page_number())
    if not page.exists:
        abort(404)
    return render_template(
        "aligned/yours.html",
        page=page,
        states={work.id: screening_state(work) for work, _vision in page.items},
        titles={work.id: latest_wording(work).title for work, _vision in page.items},
    )


# --- screening ------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/aligned-work/screening")
def screening(slug: str):
    vision = get_vision_or_404(slug)
    require_member()
    services.ensure_may_screen(current_user)
    page = screening_queue(vision, _page_number())
    if not page.exists:
        abort(404)
    items = queue_submissions(vision, page, current_user)
    return render_template("aligned/screening.html", vision=vision, page=page, items=items, statuses=STATUSES)


@bp.post("/aligned-work/<posint:work_id>/approve")
def approve(work_id: int):
    def decide(work: AlignedWork, form: DecisionForm) -> str:
        services.approve_aligned_work(work, current_user, expected_submitted_at=form.submitted_at.data or "")
        return f"Approved “{work.title}” from {work.organisation}: it is now in the public register."

    return _decide(work_id, decide)


@bp.post("/aligned-work/<posint:work_id>/reject")
def reject(work_id: int):
    def decide(work: AlignedWork, form: DecisionForm) -> str:
        services.reject_aligned_work(
            work, current_user, reason=form.reason.data, expected_submitted_at=form.submitted_at.data or ""
        )
        if work.state == "approved":
            return "Changes not accepted. The published wording stays; the submitter sees your reason."
        return "Not published. The submitter sees your reason."

    return _decide(work_id, decide)


def _decide(work_id: int, decide: Callable[[AlignedWork, DecisionForm], str]):
    """Approve or reject (`decide` does it and returns what to tell the facilitator), then back to
    the queue or the initiative. A missing reason is shown beside the reason box; a wording that
    changed meanwhile, or was already screened, is said in a message."""
    work = _work_or_404(work_id, for_update=True)
    require_member(url_for("aligned.show", work_id=work_id))
    services.ensure_may_decide(work, current_user)
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = decide(work, form)
    except ValidationError as error:
        db.session.rollback()
        if "reason" in error.errors:
            page = initiative_page(_work_or_404(work_id), current_user, decision_errors=error.errors)
            return render_template("aligned/show.html", **page, statuses=STATUSES), 422
        for text in error.messages:
            flash(f"{text}.", "error")
        return _after_decision(work, form.return_to.data)
    db.session.commit()
    flash(message, "success")
    return _after_decision(work, form.return_to.data)


def _after_decision(work: AlignedWork, return_to: str | None):
    if return_to == "queue":
        vision = db.session.get(Vision, work.vision_id)
        return redirect(url_for("aligned.screening", slug=vision.slug), 303)
    return redirect(url_for("aligned.show", work_id=work.id), 303)
