"""Aligned work: organisations record what they are doing towards the vision (issue 7).

Public: the register (`/visions/<slug>/aligned-work`), its open data (`.csv`, `.json`, documented
at `.../about-the-data`) and the page of each approved initiative. Signed in: submit and change
your own initiatives, and see them at `/aligned-work/yours`. Facilitators: the screening queue,
approve and reject. Nothing is public until a facilitator approves it; contact details never are.
"""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from werkzeug.exceptions import Forbidden

from .. import permissions
from ..auth.redirects import login_redirect
from ..diffcache import diff
from ..diffing import DiffViews
from ..extensions import limiter
from ..forms import show_errors
from ..models import AlignedWork, User, Vision, db, utcnow
from ..exceptions import ValidationError
from ..visions.lookup import get_vision_or_404
from . import services
from .forms import DecisionForm, InitiativeForm

bp = Blueprint("aligned", __name__)

WRITE_LIMIT = "30 per hour"


# --- helpers --------------------------------------------------------------------------------------


def _login_redirect(next_url: str | None = None, message: str = "Sign in to continue."):
    """Send an anonymous visitor to sign in, coming back to `next_url` (default: this page)."""
    flash(message, "info")
    return login_redirect(next_url)


def _forbidden(message: str):
    error = Forbidden()
    error.public_message = message  # shown by workbench.errors
    raise error


def _page_number() -> int:
    """`?page=` as 1..999999; anything else is a page that does not exist."""
    raw = request.args.get("page", "1")
    if not re.fullmatch(r"[1-9][0-9]{0,5}", raw):
        abort(404)
    return int(raw)


def _work_or_404(work_id: int, *, for_update: bool = False) -> AlignedWork:
    """The initiative, or 404 when it does not exist or the user may not see it (yet)."""
    work = services.load_for_decision(work_id) if for_update else db.session.get(AlignedWork, work_id)
    if work is None or not permissions.can_see_aligned_work(current_user, work):
        abort(404)
    return work


def _preselected(elements: services.VisionElements) -> list[str]:
    choice = elements.by_key.get(request.args.get("element", ""))
    if choice is not None and choice.id in elements.selectable_ids():
        return [str(choice.id)]
    return []


# --- the public register and its open data --------------------------------------------------------


@bp.get("/visions/<slug:slug>/aligned-work")
def register(slug: str):
    vision = get_vision_or_404(slug)
    page_number = _page_number()
    elements = services.vision_elements(vision)
    filters, errors = services.parse_register_filters(request.args, elements)
    page = services.register_page(vision, filters, elements, page_number)
    if not page.exists:
        abort(404)
    waiting = services.waiting_count(vision) if permissions.can_screen_aligned_work(current_user) else None
    return (
        render_template(
            "aligned/register.html",
            vision=vision,
            elements=elements,
            filters=filters,
            filter_errors=errors,
            page=page,
            statuses=services.STATUSES,
            waiting=waiting,
            signed_in=permissions.is_member(current_user),
        ),
        400 if errors else 200,
    )


def _export_rows(vision: Vision) -> list[dict[str, Any]]:
    """The register as open data: the documented fields only, never a contact."""
    rows = []
    for initiative in services.register(vision):
        rows.append(
            {
                "id": initiative.id,
                "organisation": initiative.organisation,
                "title": initiative.title,
                "description": initiative.description,
                "status": initiative.status,
                "link": initiative.link,
                "elements": [
                    {"key": e.key, "kind": e.kind, "label": e.label, "title": e.title} for e in initiative.elements
                ],
                "approved_at": _iso(initiative.approved_at),
                "permalink": url_for("aligned.show", work_id=initiative.id, _external=True),
            }
        )
    return rows


def _iso(value: Any) -> str:
    return value.isoformat(timespec="seconds").replace("+00:00", "Z") if value else ""


CSV_COLUMNS = (
    "id",
    "organisation",
    "title",
    "description",
    "status",
    "link",
    "element_keys",
    "element_labels",
    "approved_at",
    "permalink",
)


def csv_cell(value: Any) -> str:
    """A cell that a spreadsheet shows as text: a leading = + - @ tab or carriage return (which
    would start a formula) gets an apostrophe in front."""
    text = "" if value is None else str(value)
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + text
    return text


@bp.get("/visions/<slug:slug>/aligned-work.csv")
def register_csv(slug: str):
    vision = get_vision_or_404(slug)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in _export_rows(vision):
        element_keys = "; ".join(e["key"] for e in row["elements"])
        element_labels = "; ".join(f"{e['label']}: {e['title']}" if e["title"] else e["label"] for e in row["elements"])
        writer.writerow(
            csv_cell(value)
            for value in (
                row["id"],
                row["organisation"],
                row["title"],
                row["description"],
                row["status"],
                row["link"],
                element_keys,
                element_labels,
                row["approved_at"],
                row["permalink"],
            )
        )
    response = Response(out.getvalue().encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="{vision.slug}-aligned-work.csv"'
    response.headers["Access-Control-Allow-Origin"] = "*"
    return response


@bp.get("/visions/<slug:slug>/aligned-work.json")
def register_json(slug: str):
    vision = get_vision_or_404(slug)
    rows = _export_rows(vision)
    document = {
        "schema_version": 1,
        "vision": {
            "slug": vision.slug,
            "title": vision.title,
            "url": url_for("visions.show", slug=vision.slug, _external=True),
        },
        "generated_at": _iso(utcnow().replace(microsecond=0)),
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
    return render_template("aligned/about_the_data.html", vision=vision, statuses=services.STATUSES, columns=CSV_COLUMNS)


# --- submitting and changing ----------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/aligned-work/new", methods=["GET", "POST"])
@limiter.limit(WRITE_LIMIT, methods=["POST"])
def submit(slug: str):
    vision = get_vision_or_404(slug)
    if not permissions.can_submit_aligned_work(current_user):
        return _login_redirect(
            url_for("aligned.submit", slug=slug, element=request.args.get("element") or None),
            "Sign in to record your organisation's work. If you are new here, register first.",
        )
    elements = services.vision_elements(vision)
    form = InitiativeForm()
    if request.method == "GET":
        form.element_ids.data = _preselected(elements)
        return render_template("aligned/submit.html", vision=vision, elements=elements, form=form, statuses=services.STATUSES)
    if form.validate_on_submit():
        try:
            work = services.submit_aligned_work(vision, current_user, **form.wording(), elements=elements)
        except ValidationError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            flash(
                "Thank you. Your initiative is waiting for screening: a facilitator checks it before it "
                "appears in the public register.",
                "success",
            )
            return redirect(url_for("aligned.show", work_id=work.id), 303)
    return render_template("aligned/submit.html", vision=vision, elements=elements, form=form, statuses=services.STATUSES), 422


@bp.route("/aligned-work/<posint:work_id>/edit", methods=["GET", "POST"])
@limiter.limit(WRITE_LIMIT, methods=["POST"])
def edit(work_id: int):
    work = _work_or_404(work_id, for_update=request.method == "POST")
    if not permissions.can_edit_aligned_work(current_user, work):
        if not permissions.is_member(current_user):
            return _login_redirect(url_for("aligned.edit", work_id=work_id))
        _forbidden("Only the person who submitted an initiative can change it.")
    vision = db.session.get(Vision, work.vision_id)
    elements = services.vision_elements(vision)
    if request.method == "GET":
        wording = services.latest_wording(work)
        form = InitiativeForm(
            data={
                "organisation": wording.organisation,
                "title": wording.title,
                "description": wording.description,
                "status": wording.status,
                "link": wording.link,
                "contact": wording.contact,
                "element_ids": [str(i) for i in wording.element_ids],
            }
        )
        return render_template("aligned/edit.html", vision=vision, work=work, elements=elements, form=form,
                               state=services.screening_state(work), statuses=services.STATUSES)
    form = InitiativeForm()
    if form.validate_on_submit():
        try:
            outcome = services.change_aligned_work(work, current_user, **form.wording(), elements=elements)
        except ValidationError as error:
            db.session.rollback()
            show_errors(form, error)
        else:
            db.session.commit()
            if outcome == "restored":
                flash("Your initiative is back to its published wording; nothing is waiting for screening.", "success")
            elif work.state == "approved":
                flash(
                    "Your changes are waiting for screening. Until a facilitator approves them, the "
                    "published wording stays in the register.",
                    "success",
                )
            else:
                flash("Your initiative is waiting for screening again.", "success")
            return redirect(url_for("aligned.show", work_id=work.id), 303)
    return (
        render_template("aligned/edit.html", vision=vision, work=work, elements=elements, form=form,
                        state=services.screening_state(work), statuses=services.STATUSES),
        422,
    )


# --- one initiative -------------------------------------------------------------------------------


def _changes(before: services.Wording | None, after: services.Wording | None) -> dict[str, DiffViews]:
    """Word diffs of the text fields that differ between the published and the waiting wording."""
    if before is None or after is None:
        return {}
    return {
        name: DiffViews(diff(getattr(before, name), getattr(after, name)))
        for name in ("organisation", "title", "description")
        if getattr(before, name) != getattr(after, name)
    }


FIELD_NAMES = {
    "status": "status",
    "link": "web page",
    "contact": "contact",
    "element_ids": "the parts of the vision it supports",
}


def _other_changes(before: services.Wording | None, after: services.Wording | None) -> list[str]:
    """The fields other than text that the waiting wording changes, in words."""
    if before is None or after is None:
        return []
    return [words for name, words in FIELD_NAMES.items() if getattr(before, name) != getattr(after, name)]


def _show_context(work: AlignedWork, decision_errors: dict[str, list[str]] | None = None) -> dict[str, Any]:
    vision = db.session.get(Vision, work.vision_id)
    elements = services.vision_elements(vision)
    published = services.approved_wording(work)
    initiative = None
    if published is not None:
        initiative = services.Initiative.of(work.id, published, work.approved_at, published.element_ids, elements)
    context: dict[str, Any] = {"vision": vision, "work_id": work.id, "initiative": initiative, "private": None}
    is_submitter = permissions.can_edit_aligned_work(current_user, work)
    if is_submitter or permissions.can_screen_aligned_work(current_user):
        # Only the submitter and facilitators get the wording under screening and the contact.
        pending = services.Wording.from_pending(work.pending) if work.pending is not None else None
        context["private"] = {
            "work": work,
            "state": services.screening_state(work),
            "is_submitter": is_submitter,
            "submitter": db.session.get(User, work.submitter_id),
            "published_contact": published.contact if published else "",
            "pending": pending,
            "pending_elements": elements.describe(pending.element_ids) if pending else [],
            "submitted_at": (work.pending or {}).get("submitted_at", ""),
            "changes": _changes(published, pending),
            "other_changes": _other_changes(published, pending),
            "waiting": services.is_waiting(work),
            "can_decide": services.is_waiting(work) and permissions.can_decide_aligned_work(current_user, work),
            "own_submission": permissions.can_screen_aligned_work(current_user) and is_submitter,
            "decision_errors": decision_errors or {},
        }
    return context


@bp.get("/aligned-work/<posint:work_id>")
def show(work_id: int):
    work = _work_or_404(work_id)
    return render_template("aligned/show.html", **_show_context(work), statuses=services.STATUSES)


@bp.get("/aligned-work/yours")
def yours():
    if not permissions.is_member(current_user):
        return _login_redirect()
    page = services.initiatives_of(current_user, _page_number())
    if not page.exists:
        abort(404)
    return render_template(
        "aligned/yours.html",
        page=page,
        states={work.id: services.screening_state(work) for work, _vision in page.items},
        titles={work.id: services.latest_wording(work).title for work, _vision in page.items},
    )


# --- screening ------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/aligned-work/screening")
def screening(slug: str):
    vision = get_vision_or_404(slug)
    if not permissions.can_screen_aligned_work(current_user):
        if not permissions.is_member(current_user):
            return _login_redirect()
        _forbidden("Only facilitators screen aligned work.")
    page = services.screening_queue(vision, _page_number())
    if not page.exists:
        abort(404)
    elements = services.vision_elements(vision)
    published = services.approved_wordings([work for work, _user in page.items])
    items = []
    for work, submitter in page.items:
        pending = services.Wording.from_pending(work.pending)
        before = published.get(work.id)
        items.append(
            {
                "work": work,
                "submitter": submitter,
                "pending": pending,
                "pending_elements": elements.describe(pending.element_ids),
                "published": before,
                "changes": _changes(before, pending),
                "other_changes": _other_changes(before, pending),
                "submitted_at": work.pending.get("submitted_at", ""),
                "can_decide": permissions.can_decide_aligned_work(current_user, work),
                "own_submission": work.submitter_id == current_user.id,
            }
        )
    return render_template("aligned/screening.html", vision=vision, page=page, items=items, statuses=services.STATUSES)


def _after_decision(work: AlignedWork, return_to: str | None):
    if return_to == "queue":
        vision = db.session.get(Vision, work.vision_id)
        return redirect(url_for("aligned.screening", slug=vision.slug), 303)
    return redirect(url_for("aligned.show", work_id=work.id), 303)


def _decide(work_id: int, decide):
    work = _work_or_404(work_id, for_update=True)
    if not permissions.can_screen_aligned_work(current_user):
        if not permissions.is_member(current_user):
            return _login_redirect(url_for("aligned.show", work_id=work_id))
        _forbidden("Only facilitators screen aligned work.")
    if not permissions.can_decide_aligned_work(current_user, work):
        _forbidden("You submitted this initiative, so another facilitator screens it.")
    form = DecisionForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        message = decide(work, form)
    except ValidationError as error:
        db.session.rollback()
        if "reason" in error.errors:
            # Say what is missing beside the reason box, on the initiative's page.
            work = _work_or_404(work_id)
            context = _show_context(work, decision_errors=error.errors)
            return render_template("aligned/show.html", **context, statuses=services.STATUSES), 422
        for messages in error.errors.values():
            for text in messages:
                flash(f"{text}.", "error")
        return _after_decision(work, form.return_to.data)
    db.session.commit()
    flash(message, "success")
    return _after_decision(work, form.return_to.data)


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
