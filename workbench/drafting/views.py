"""The working draft: facilitators' direct edits, the draft page, publishing, the consultation window (issue 6).

Every route: load the vision (or 404), check who is asking (sign in, or 403), call one service,
commit, redirect. Refusals go to the application's error handlers; a route catches only what it
puts beside a form's fields, and the races it answers on a page of its own.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from typing import Any

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from .. import permissions
from ..auth.redirects import require_member
from ..caching import app_cache
from ..diff_views import DIFF_VIEWS, diff_view_mode
from ..errors import render_error
from ..exceptions import DraftConflict, NotAllowed, ValidationError
from ..forms import attempt, show_errors
from ..models import DraftEntry, User, Vision, db
from ..pagination import page_links, parse_page
from ..text_diff import TextDiff
from ..visions import services as visions
from ..visions.lookup import get_vision_or_404
from ..visions.snapshots import KIND_NAMES
from . import edits, publishing, state
from . import window as consultation
from .forms import (
    AddElementForm,
    CloseForm,
    ElementTextForm,
    MoveForm,
    MoveToForm,
    PublishForm,
    RemoveForm,
    ReopenForm,
    WindowForm,
    small_int,
)

bp = Blueprint("drafting", __name__)

# Stands for the CSRF token in kept renderings; random per process, so no text can contain it.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"



# --- what every route shares ----------------------------------------------------------------------


def vision_if_allowed(slug: str, may: Callable[[User, Vision], bool]) -> Vision:
    """The vision `slug` when the signed-in person `may` act on it. Raises NotFound (404) first,
    then SignInRequired for visitors, then NotAllowed (403)."""
    vision = get_vision_or_404(slug)
    require_member()
    if not may(current_user, vision):
        raise NotAllowed()
    return vision




def draft_url(vision: Vision, key: str | None = None) -> str:
    return url_for(".draft", slug=vision.slug) + (f"#element-{key}" if key else "")


def removed_words(label: str) -> str:
    return f"{label} has been removed from the working draft, so it cannot be edited."


# --- the draft page -------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/draft")
def draft(slug: str):
    """The next version in preparation, diffed against the latest published version (public)."""
    vision = get_vision_or_404(slug)
    mode = diff_view_mode()
    working = state.draft_state(vision)
    can_edit = permissions.can_edit_draft(current_user, vision)
    return render_template(
        "drafting/draft.html",
        vision=vision,
        diff=working.diff,
        document=draft_document(vision, working, mode, can_edit),
        mode=mode,
        diff_views=DIFF_VIEWS,
        changes=state.pending_changes_page(vision, parse_page(request.args.get("page"))),
        changes_page=page_links("drafting.draft", slug=vision.slug, view=mode if mode != "inline" else None),
        labels=working.labels,
        can_edit=can_edit,
        can_publish=permissions.can_publish(current_user, vision),
        can_manage_window=permissions.can_manage_window(current_user, vision),
    )


def draft_document(vision: Vision, working: state.DraftState, mode: str, can_edit: bool) -> Markup:
    """The whole document, rendered once per draft state, view and audience, then kept; the
    facilitators' forms get this request's CSRF token put in."""
    html = app_cache("draft_fragment", 16).get_or_compute(
        (working.key, mode, can_edit),
        lambda: render_template(
            "drafting/_document.html",
            vision=vision,
            diff=working.diff,
            mode=mode,
            places=working.places,
            can_edit=can_edit,
            csrf_placeholder=CSRF_PLACEHOLDER,
        ),
    )
    return Markup(html.replace(CSRF_PLACEHOLDER, generate_csrf()) if can_edit else html)


# --- editing an element's text --------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/elements/<element_key:key>/edit", methods=["GET", "POST"])
def edit_element(slug: str, key: str):
    """A new text for an element of the working draft; "preview" shows the word diff first."""
    vision = vision_if_allowed(slug, permissions.can_edit_draft)
    entry = state.entry_of(vision, key)
    label = state.draft_state(vision).labels.get(key, key)
    if entry.is_removed:
        raise DraftConflict(removed_words(label))
    form = ElementTextForm()
    if request.method == "GET":
        form.title.data, form.body.data = entry.text.title, entry.text.body
        form.lock_version.data = str(entry.lock_version)
        return edit_page(vision, entry, label, form)
    if not form.validate_on_submit():
        return edit_page(vision, entry, label, form, status=400)
    if request.form.get("action") == "preview":
        return edit_page(vision, entry, label, form, preview=True)
    try:
        saved = attempt(
            form,
            lambda: edits.edit_element_text(
                vision,
                key,
                title=form.title.data,
                body=form.body.data,
                reason=form.reason.data,
                lock_version=small_int(form.lock_version.data),
                actor=current_user,
            ),
        )
    except DraftConflict as error:
        db.session.rollback()
        return edit_conflict(vision, key, label, form, error)
    if saved is None:
        return edit_page(vision, entry, label, form, status=422)
    db.session.commit()
    flash(f"{label} has a new text in the working draft. It will be in the next version when it is published.", "success")
    return redirect(draft_url(vision, key))


def edit_conflict(vision: Vision, key: str, label: str, form: ElementTextForm, error: DraftConflict):
    """The element's text changed while the facilitator was editing it: show the text now current
    beside theirs (kept in the form), to save again knowingly (409)."""
    entry = state.find_entry(vision, key)
    if entry is None or entry.is_removed:
        raise DraftConflict(removed_words(label))
    last = state.last_change_on(entry)
    conflict = {"message": error.message, "by": last[1] if last else None, "at": last[0].created_at if last else None}
    form.form_errors.append(error.message)
    # Saving again, knowingly, replaces the text that is current now.
    form.lock_version.data = str(entry.lock_version)
    return edit_page(vision, entry, label, form, preview=True, conflict=conflict, status=409)


def edit_page(
    vision: Vision,
    entry: DraftEntry,
    label: str,
    form: ElementTextForm,
    *,
    preview: bool = False,
    conflict: dict[str, Any] | None = None,
    status: int = 200,
):
    current = entry.text
    return (
        render_template(
            "drafting/edit.html",
            vision=vision,
            key=entry.element.key,
            label=label,
            kind=entry.element.kind,
            current=current,
            form=form,
            preview=TextDiff.between(current.title, current.body, form.title.data or "", form.body.data or "")
            if preview
            else None,
            conflict=conflict,
        ),
        status,
    )


# --- adding an element ----------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/add", methods=["GET", "POST"])
def add_element(slug: str):
    """Add an ambition (`?kind=ambition`) or, under an ambition, an objective or enabling condition
    (`?kind=objective&parent=ambition-2`)."""
    vision = vision_if_allowed(slug, permissions.can_edit_draft)
    kind = request.args.get("kind", "")
    parent = edits.parent_for_new(vision, kind, request.args.get("parent") or None)
    parent_key = parent.element.key if parent else None
    form = AddElementForm()
    form.position.choices = place_choices(vision, kind, parent_key)
    if request.method == "GET":
        return add_page(vision, kind, parent_key, form)
    if not form.validate_on_submit():
        return add_page(vision, kind, parent_key, form, status=400)
    position = form.position.data or "end"
    entry = attempt(
        form,
        lambda: edits.add_element_to_draft(
            vision,
            kind=kind,
            parent_key=parent_key,
            title=form.title.data,
            body=form.body.data,
            reason=form.reason.data,
            before_key=None if position == "end" else position,
            actor=current_user,
        ),
    )
    if entry is None:
        return add_page(vision, kind, parent_key, form, status=422)
    key = entry.element.key
    db.session.commit()
    flash(f"{state.label_in_draft(vision, key)} was added to the working draft.", "success")
    return redirect(draft_url(vision, key))


def place_choices(vision: Vision, kind: str, parent_key: str | None) -> list[tuple[str, str]]:
    """Where a new element of `kind` can go: at the end of its kind, or before one of them."""
    siblings = [e for e in visions.working_tree(vision) if e["kind"] == kind and e["parent"] == parent_key]
    return [("end", "At the end" + (f", after {siblings[-1]['label']}" if siblings else ""))] + [
        (e["key"], f"Before {e['label']}" + (f": {e['title']}" if e["title"] else "")) for e in siblings
    ]


def add_page(vision: Vision, kind: str, parent_key: str | None, form: AddElementForm, status: int = 200):
    labels = state.draft_state(vision).labels
    return (
        render_template(
            "drafting/add.html",
            vision=vision,
            kind=kind,
            kind_name=KIND_NAMES[kind],
            parent_label=labels.get(parent_key, parent_key) if parent_key else None,
            parent_key=parent_key,
            form=form,
        ),
        status,
    )


# --- removing an element --------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/elements/<element_key:key>/remove", methods=["GET", "POST"])
def remove_element(slug: str, key: str):
    """Remove an element from the working draft, with a reason; its open proposals are closed."""
    vision = vision_if_allowed(slug, permissions.can_edit_draft)
    entry = state.entry_of(vision, key)
    label = state.draft_state(vision).labels.get(key, key)
    if entry.is_removed:
        flash(f"{label} had already been removed from the working draft.", "info")
        return redirect(draft_url(vision))
    form = RemoveForm()
    if request.method == "GET":
        return remove_page(vision, entry, label, form)
    if not form.validate_on_submit():
        return remove_page(vision, entry, label, form, status=400)
    removal = attempt(form, lambda: edits.remove_element_from_draft(vision, key, reason=form.reason.data, actor=current_user))
    if removal is None:
        return remove_page(vision, state.find_entry(vision, key) or entry, label, form, status=422)
    db.session.commit()
    closed = len(removal.closed_proposals)
    message = f"{label} was removed from the working draft."
    if closed:
        message += f" {closed} open proposal{'s' if closed != 1 else ''} on it {'were' if closed != 1 else 'was'} closed with your reason."
    flash(message, "success")
    return redirect(draft_url(vision))


def remove_page(vision: Vision, entry: DraftEntry, label: str, form: RemoveForm, status: int = 200):
    labels = state.draft_state(vision).labels
    children = state.children_in_draft(entry)
    return (
        render_template(
            "drafting/remove.html",
            vision=vision,
            key=entry.element.key,
            label=label,
            entry=entry,
            is_statement=entry.element.kind == "statement",
            children=[(child.element.key, labels.get(child.element.key, child.element.key), child.text.title) for child in children],
            open_proposals=state.open_proposal_count(entry),
            form=form,
        ),
        status,
    )


# --- moving an element ----------------------------------------------------------------------------


@bp.post("/visions/<slug:slug>/draft/elements/<element_key:key>/move")
def move_element(slug: str, key: str):
    """Move an element one place up or down among its siblings of the same kind."""
    vision = vision_if_allowed(slug, permissions.can_edit_draft)
    form = MoveForm()
    if not form.validate_on_submit():
        return render_error(400, "Your form had expired or did not come from this site. Go back, reload the page and try again.")
    try:
        edits.move_element_in_draft(
            vision, key, form.direction.data or "", from_place=small_int(form.from_place.data), actor=current_user
        )
    except (DraftConflict, ValidationError) as error:
        # A double click, or already first or last: said on the draft page, beside the element.
        db.session.rollback()
        flash(error.message if isinstance(error, DraftConflict) else " ".join(error.messages) + ".", "error")
    else:
        db.session.commit()
        flash(f"Moved {form.direction.data}: it is now {state.label_in_draft(vision, key)}.", "success")
    return redirect(draft_url(vision, key))


@bp.route("/visions/<slug:slug>/draft/elements/<element_key:key>/move-to", methods=["GET", "POST"])
def move_element_to(slug: str, key: str):
    """Move an element to any position among its siblings, or (objectives and enabling conditions)
    under another ambition."""
    vision = vision_if_allowed(slug, permissions.can_edit_draft)
    entry = state.entry_of(vision, key)
    tree = visions.working_tree(vision)
    label = next((e["label"] for e in tree if e["key"] == key), key)
    if entry.is_removed:
        raise DraftConflict(f"{label} has been removed from the working draft, so it cannot be moved.")
    form = MoveToForm()
    if request.method == "GET":
        here = next((e for e in tree if e["key"] == key), None)
        form.parent.data = form.from_parent.data = here["parent"] if here else ""
        form.from_position.data = str(state.sibling_places(tree).get(key, (0, 0))[0])
        return move_page(vision, entry, label, tree, form)
    if not form.validate_on_submit():
        return move_page(vision, entry, label, tree, form, status=400)
    move = attempt(
        form,
        lambda: edits.move_element_to(
            vision,
            key,
            parent_key=form.parent.data or None,
            position=form.position.data,
            from_parent=form.from_parent.data or None,
            from_position=small_int(form.from_position.data),
            actor=current_user,
        ),
    )
    if move is None:
        return move_page(vision, state.entry_of(vision, key), label, visions.working_tree(vision), form, status=422)
    words = move.words()
    db.session.commit()
    flash(f"{label} moved {words}: it is now {state.label_in_draft(vision, key)}.", "success")
    return redirect(draft_url(vision, key))


def move_page(vision: Vision, entry: DraftEntry, label: str, tree: list[dict[str, Any]], form: MoveToForm, status: int = 200):
    kind = entry.element.kind
    form.parent.choices = [(e["key"], f"{e['label']}: {e['title']}" if e["title"] else e["label"]) for e in tree if e["kind"] == "ambition"]
    here = next((e for e in tree if e["key"] == entry.element.key), None)
    siblings = [e for e in tree if here and e["kind"] == kind and e["parent"] == here["parent"]]
    return (
        render_template(
            "drafting/move.html",
            vision=vision,
            key=entry.element.key,
            label=label,
            kind=kind,
            kind_name=KIND_NAMES[kind],
            parent_label=next((e["label"] for e in tree if here and e["key"] == here["parent"]), None),
            place=next((i + 1 for i, e in enumerate(siblings) if e["key"] == entry.element.key), None),
            sibling_count=len(siblings),
            entry=entry,
            form=form,
        ),
        status,
    )


# --- publishing -----------------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/publish", methods=["GET", "POST"])
def publish(slug: str):
    """Publish the working draft as the next version, after seeing what it changes."""
    vision = vision_if_allowed(slug, permissions.can_publish)
    form = PublishForm()
    if request.method == "GET":
        return publish_page(vision, form)
    if not form.validate_on_submit():
        return publish_page(vision, form, status=400)
    try:
        version = publishing.publish_version(
            vision,
            actor=current_user,
            notes=form.notes.data,
            expected_version=small_int(form.expected_version.data),
            expected_change=small_int(form.expected_change.data),
        )
    except ValidationError as error:
        # Someone published or changed the draft meanwhile (409: the page shows the draft as it is
        # now, to publish knowingly), or the notes need changing (422).
        db.session.rollback()
        show_errors(form, error)
        return publish_page(vision, form, status=409 if isinstance(error, publishing.PublishConflict) else 422)
    number = version.number
    db.session.commit()
    flash(f"Version {number} is published. Its permanent link never changes.", "success")
    # Not to the permalink itself: an immutable page must never carry a flash message.
    return redirect(url_for("visions.versions", slug=slug))


def publish_page(vision: Vision, form: PublishForm, status: int = 200):
    review = publishing.publish_review(vision)
    form.expected_version.data = str(review.expected_version)
    form.expected_change.data = str(review.expected_change)
    return (
        render_template(
            "drafting/publish.html",
            vision=vision,
            diff=review.state.diff,
            nothing_changed=review.nothing_changed,
            empty=review.empty,
            changes=review.changes,
            labels=review.state.labels,
            form=form,
        ),
        status,
    )


# --- the consultation window ----------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/window", methods=["GET", "POST"])
def window(slug: str):
    """The consultation window's opening and closing times, entered on the site's clock (UK time
    by default) and stored in UTC."""
    vision = vision_if_allowed(slug, permissions.can_manage_window)
    if request.method == "GET":
        return window_page(vision)
    form = WindowForm()
    if not form.validate_on_submit():
        return window_page(vision, form=form, status=400)
    saved = attempt(
        form,
        lambda: consultation.schedule_window(
            vision,
            opens_date=form.opens_date.data,
            opens_time=form.opens_time.data,
            closes_date=form.closes_date.data,
            closes_time=form.closes_time.data,
            actor=current_user,
        ),
    )
    if saved is None:
        return window_page(vision, form=form, status=422)
    db.session.commit()
    flash(f"The consultation window is saved: {consultation.schedule_words(vision)}", "success")
    return redirect(url_for(".window", slug=slug))


@bp.route("/visions/<slug:slug>/window/close", methods=["GET", "POST"])
def close_window(slug: str):
    """Close the consultation now: the window page links to this confirmation page (GET), whose
    button posts here."""
    vision = vision_if_allowed(slug, permissions.can_manage_window)
    form = CloseForm()
    if not vision.is_open():
        flash("The consultation is not open, so there is nothing to close.", "error")
        return redirect(url_for(".window", slug=slug))
    if request.method == "GET":
        return close_page(vision)
    if not form.validate_on_submit():
        return close_page(vision, form, status=400)
    try:
        consultation.close_window(vision, actor=current_user)
    except ValidationError as error:
        # Closed meanwhile (another facilitator, the closing time passing): said on the window page.
        db.session.rollback()
        flash(" ".join(error.messages) + ".", "error")
        return redirect(url_for(".window", slug=slug))
    db.session.commit()
    flash("The consultation is closed. Nobody can propose, vote or comment until you reopen it.", "success")
    return redirect(url_for(".window", slug=slug))


def close_page(vision: Vision, form: CloseForm | None = None, status: int = 200):
    """"Close the consultation now?", with what it stops and the closing time it replaces."""
    return (
        render_template(
            "drafting/window_close.html",
            vision=vision,
            form=form or CloseForm(formdata=None),
            scheduled=consultation.scheduled_close(vision),
        ),
        status,
    )


@bp.post("/visions/<slug:slug>/window/reopen")
def reopen_window(slug: str):
    """Open the consultation now: for some days, or until the closing time already scheduled,
    which the facilitator chooses when there is one (it is never replaced silently)."""
    vision = vision_if_allowed(slug, permissions.can_manage_window)
    reopen = ReopenForm()
    if not reopen.validate_on_submit():
        return window_page(vision, reopen=reopen, status=400)
    reopened = attempt(
        reopen,
        lambda: consultation.open_now(vision, closing=reopen.closing.data, days=reopen.days.data, actor=current_user),
    )
    if reopened is None:
        return window_page(vision, reopen=reopen, status=422)
    db.session.commit()
    flash(f"The consultation is open: {consultation.schedule_words(vision)}", "success")
    return redirect(url_for(".window", slug=slug))


def window_page(vision: Vision, form: WindowForm | None = None, reopen: ReopenForm | None = None, status: int = 200):
    """The window page; `form` and `reopen` as posted (with their messages), or filled in afresh."""
    if form is None:
        form = WindowForm(formdata=None)
        form.opens_date.data, form.opens_time.data = consultation.local_date_and_time(vision.opens_at)
        form.closes_date.data, form.closes_time.data = consultation.local_date_and_time(vision.closes_at)
    if reopen is None:
        reopen = ReopenForm(formdata=None)
        reopen.days.data = "14"
    return (
        render_template(
            "drafting/window.html",
            vision=vision,
            state=vision.window_state(),
            form=form,
            reopen=reopen,
            scheduled=consultation.scheduled_close(vision),
        ),
        status,
    )
