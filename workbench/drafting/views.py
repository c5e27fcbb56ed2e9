"""The working draft: facilitators' direct edits, the draft page, publishing, the consultation window (issue 6)."""

from __future__ import annotations

import secrets

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf.csrf import generate_csrf
from markupsafe import Markup

from .. import permissions
from ..auth.redirects import login_redirect
from ..diff_views import DIFF_VIEWS, diff_view_mode
from ..errors import render_error
from ..forms import show_errors
from ..models import Vision, db
from ..pagination import parse_page
from ..text_diff import TextDiff
from ..exceptions import ValidationError
from ..visions import services as visions
from ..visions.snapshots import KIND_NAMES
from ..caching import app_cache
from ..visions.lookup import get_vision_or_404
from . import services
from .forms import (
    AddElementForm,
    CloseForm,
    ElementTextForm,
    MoveForm,
    PublishForm,
    RemoveForm,
    ReopenForm,
    WindowForm,
    small_int,
)

bp = Blueprint("drafting", __name__)

# Stands for the CSRF token in kept renderings; random per process, so no text can contain it.
CSRF_PLACEHOLDER = f"csrf-{secrets.token_hex(16)}"


# --- helpers --------------------------------------------------------------------------------------


def page_number() -> int:
    return parse_page(request.args.get("page"))


def refuse_unless(allowed: bool):
    """None when the signed-in person may go on; otherwise the sign-in redirect or a 403."""
    if not permissions.is_member(current_user):
        return login_redirect()
    if not allowed:
        abort(403)
    return None


def draft_url(vision: Vision, key: str | None = None) -> str:
    return url_for(".draft", slug=vision.slug) + (f"#element-{key}" if key else "")


def labels_of(vision: Vision) -> dict[str, str]:
    """A label for every key the draft or the latest version knows ("Objective 2.3")."""
    return services.draft_state(vision).labels


# --- the draft page -------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/draft")
def draft(slug: str):
    """The next version in preparation, diffed against the latest published version (public)."""
    vision = get_vision_or_404(slug)
    mode = diff_view_mode()
    state = services.draft_state(vision)
    can_edit = permissions.can_edit_draft(current_user, vision)
    # The whole document is rendered once per draft state, view and audience, then kept; the
    # facilitators' forms get this request's CSRF token put in.
    html = app_cache("draft_fragment", 16).get_or_compute(
        (state.key, mode, can_edit),
        lambda: render_template(
            "drafting/_document.html",
            vision=vision,
            diff=state.diff,
            mode=mode,
            places=state.places,
            can_edit=can_edit,
            csrf_placeholder=CSRF_PLACEHOLDER,
        ),
    )
    document = Markup(html.replace(CSRF_PLACEHOLDER, generate_csrf()) if can_edit else html)
    return render_template(
        "drafting/draft.html",
        vision=vision,
        diff=state.diff,
        document=document,
        mode=mode,
        diff_views=DIFF_VIEWS,
        changes=services.pending_changes_page(vision, page_number()),
        labels=state.labels,
        can_edit=can_edit,
        can_publish=permissions.can_publish(current_user, vision),
        can_manage_window=permissions.can_manage_window(current_user, vision),
    )


# --- editing an element's text --------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/elements/<element_key:key>/edit", methods=["GET", "POST"])
def edit_element(slug: str, key: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_edit_draft(current_user, vision))
    if refused is not None:
        return refused
    entry = services.find_entry(vision, key)
    if entry is None:
        abort(404)
    label = labels_of(vision).get(key, key)
    if entry.is_removed:
        return render_error(409, f"{label} has been removed from the working draft, so it cannot be edited.")
    form = ElementTextForm()
    status = 200
    preview = None
    conflict = None
    current = entry.text
    if request.method == "GET":
        form.title.data, form.body.data = current.title, current.body
        form.lock_version.data = str(entry.lock_version)
    elif not form.validate_on_submit():
        status = 400
    elif request.form.get("action") == "preview":
        preview = TextDiff.between(current.title, current.body, form.title.data or "", form.body.data or "")
    else:
        try:
            services.edit_element_text(
                vision,
                key,
                title=form.title.data,
                body=form.body.data,
                reason=form.reason.data,
                lock_version=small_int(form.lock_version.data),
                actor=current_user,
            )
        except services.NotAllowed:
            db.session.rollback()
            abort(403)
        except LookupError:
            db.session.rollback()
            abort(404)
        except services.DraftConflict as error:
            db.session.rollback()
            entry = services.find_entry(vision, key)
            if entry is None or entry.is_removed:
                return render_error(409, f"{label} has been removed from the working draft, so it cannot be edited.")
            current = entry.text
            last = services.last_change_on(entry)
            conflict = {"message": error.message, "by": last[1] if last else None, "at": last[0].created_at if last else None}
            form.form_errors.append(error.message)
            # Saving again, knowingly, replaces the text that is current now.
            form.lock_version.data = str(entry.lock_version)
            preview = TextDiff.between(current.title, current.body, form.title.data or "", form.body.data or "")
            status = 409
        except ValidationError as error:
            db.session.rollback()
            show_errors(form, error)
            status = 422
        else:
            db.session.commit()
            flash(f"{label} has a new text in the working draft. It will be in the next version when it is published.", "success")
            return redirect(draft_url(vision, key))
    return (
        render_template(
            "drafting/edit.html",
            vision=vision,
            key=key,
            label=label,
            kind=entry.element.kind,
            current=current,
            form=form,
            preview=preview,
            conflict=conflict,
        ),
        status,
    )


# --- adding an element ----------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/add", methods=["GET", "POST"])
def add_element(slug: str):
    """Add an ambition (`?kind=ambition`) or, under an ambition, an objective or enabling condition
    (`?kind=objective&parent=ambition-2`)."""
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_edit_draft(current_user, vision))
    if refused is not None:
        return refused
    kind = request.args.get("kind", "")
    parent_key = request.args.get("parent") or None
    if kind not in services.PARENT_KIND:
        abort(404)
    parent = None
    if services.PARENT_KIND[kind] is None:
        if parent_key:
            abort(404)
    else:
        parent = services.find_entry(vision, parent_key) if parent_key and len(parent_key) <= 40 else None
        if parent is None or parent.is_removed or parent.element.kind != services.PARENT_KIND[kind]:
            abort(404)
    tree = visions.working_tree(vision)
    labels = labels_of(vision)
    siblings = [e for e in tree if e["kind"] == kind and e["parent"] == (parent_key if parent else None)]
    form = AddElementForm()
    form.position.choices = [("end", "At the end" + (f", after {siblings[-1]['label']}" if siblings else ""))] + [
        (e["key"], f"Before {e['label']}" + (f": {e['title']}" if e["title"] else "")) for e in siblings
    ]
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            position = form.position.data or "end"
            try:
                entry = services.add_element_to_draft(
                    vision,
                    kind=kind,
                    parent_key=parent_key if parent else None,
                    title=form.title.data,
                    body=form.body.data,
                    reason=form.reason.data,
                    before_key=None if position == "end" else position,
                    actor=current_user,
                )
            except services.NotAllowed:
                db.session.rollback()
                abort(403)
            except LookupError:
                db.session.rollback()
                abort(404)
            except ValidationError as error:
                db.session.rollback()
                show_errors(form, error)
                status = 422
            else:
                key = entry.element.key
                db.session.commit()
                new_label = next((e["label"] for e in visions.working_tree(vision) if e["key"] == key), key)
                flash(f"{new_label} was added to the working draft.", "success")
                return redirect(draft_url(vision, key))
    return (
        render_template(
            "drafting/add.html",
            vision=vision,
            kind=kind,
            kind_name=KIND_NAMES[kind],
            parent_label=labels.get(parent_key, parent_key) if parent else None,
            parent_key=parent_key if parent else None,
            form=form,
        ),
        status,
    )


# --- removing an element --------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/draft/elements/<element_key:key>/remove", methods=["GET", "POST"])
def remove_element(slug: str, key: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_edit_draft(current_user, vision))
    if refused is not None:
        return refused
    entry = services.find_entry(vision, key)
    if entry is None:
        abort(404)
    labels = labels_of(vision)
    label = labels.get(key, key)
    if entry.is_removed:
        flash(f"{label} had already been removed from the working draft.", "info")
        return redirect(draft_url(vision))
    form = RemoveForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                removal = services.remove_element_from_draft(vision, key, reason=form.reason.data, actor=current_user)
            except services.NotAllowed:
                db.session.rollback()
                abort(403)
            except LookupError:
                db.session.rollback()
                abort(404)
            except services.DraftConflict as error:
                db.session.rollback()
                flash(error.message, "info")
                return redirect(draft_url(vision))
            except ValidationError as error:
                db.session.rollback()
                show_errors(form, error)
                status = 422
            else:
                db.session.commit()
                closed = len(removal.closed_proposals)
                message = f"{label} was removed from the working draft."
                if closed:
                    message += f" {closed} open proposal{'s' if closed != 1 else ''} on it {'were' if closed != 1 else 'was'} closed with your reason."
                flash(message, "success")
                return redirect(draft_url(vision))
        entry = services.find_entry(vision, key) or entry
    children = services.children_in_draft(entry)
    return (
        render_template(
            "drafting/remove.html",
            vision=vision,
            key=key,
            label=label,
            entry=entry,
            is_statement=entry.element.kind == "statement",
            children=[(child.element.key, labels.get(child.element.key, child.element.key), child.text.title) for child in children],
            open_proposals=services.open_proposal_count(entry),
            form=form,
        ),
        status,
    )


# --- moving an element ----------------------------------------------------------------------------


@bp.post("/visions/<slug:slug>/draft/elements/<element_key:key>/move")
def move_element(slug: str, key: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_edit_draft(current_user, vision))
    if refused is not None:
        return refused
    form = MoveForm()
    if not form.validate_on_submit():
        return render_error(400, "Your form had expired or did not come from this site. Go back, reload the page and try again.")
    try:
        services.move_element_in_draft(
            vision,
            key,
            form.direction.data or "",
            from_place=small_int(form.from_place.data),
            actor=current_user,
        )
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except LookupError:
        db.session.rollback()
        abort(404)
    except services.DraftConflict as error:
        db.session.rollback()
        flash(error.message, "error")
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(m for messages in error.errors.values() for m in messages) + ".", "error")
    else:
        db.session.commit()
        label = next((e["label"] for e in visions.working_tree(vision) if e["key"] == key), key)
        flash(f"Moved {form.direction.data}: it is now {label}.", "success")
    return redirect(draft_url(vision, key))


# --- publishing -----------------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/publish", methods=["GET", "POST"])
def publish(slug: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_publish(current_user, vision))
    if refused is not None:
        return refused
    form = PublishForm()
    status = 200
    if request.method == "POST":
        if not form.validate_on_submit():
            status = 400
        else:
            try:
                version = visions.publish_version(
                    vision,
                    actor=current_user,
                    notes=form.notes.data,
                    expected_version=small_int(form.expected_version.data),
                    expected_change=small_int(form.expected_change.data),
                )
            except services.NotAllowed:
                db.session.rollback()
                abort(403)
            except visions.PublishConflict as error:
                db.session.rollback()
                show_errors(form, error)
                status = 409
            except ValidationError as error:
                db.session.rollback()
                show_errors(form, error)
                status = 422
            else:
                number = version.number
                db.session.commit()
                flash(f"Version {number} is published. Its permanent link never changes.", "success")
                # Not to the permalink itself: an immutable page must never carry a flash message.
                return redirect(url_for("visions.versions", slug=slug))
        db.session.rollback()
        vision = get_vision_or_404(slug)
    state = services.draft_state(vision)
    form.expected_version.data = str(vision.latest_version_number)
    form.expected_change.data = str(visions.last_pending_change_id(vision))
    return (
        render_template(
            "drafting/publish.html",
            vision=vision,
            diff=state.diff,
            nothing_changed=bool(vision.latest_version_number) and not state.diff.has_changes,
            empty=not state.element_count,
            changes=services.pending_changes_page(vision, 1),
            labels=state.labels,
            form=form,
        ),
        status,
    )


# --- the consultation window ----------------------------------------------------------------------


def window_page(vision: Vision, form: WindowForm | None = None, reopen: ReopenForm | None = None, status: int = 200):
    if form is None:
        form = WindowForm(formdata=None)
        if vision.opens_at:
            form.opens_date.data = vision.opens_at.strftime("%Y-%m-%d")
            form.opens_time.data = vision.opens_at.strftime("%H:%M")
        if vision.closes_at:
            form.closes_date.data = vision.closes_at.strftime("%Y-%m-%d")
            form.closes_time.data = vision.closes_at.strftime("%H:%M")
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
            close=CloseForm(formdata=None),
        ),
        status,
    )


@bp.route("/visions/<slug:slug>/window", methods=["GET", "POST"])
def window(slug: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_manage_window(current_user, vision))
    if refused is not None:
        return refused
    if request.method == "GET":
        return window_page(vision)
    form = WindowForm()
    if not form.validate_on_submit():
        return window_page(vision, form=form, status=400)
    try:
        errors: dict[str, list[str]] = {}
        moments = {}
        for prefix, what in (("opens", "opening"), ("closes", "closing")):
            try:
                moments[prefix] = services.parse_utc(
                    getattr(form, f"{prefix}_date").data, getattr(form, f"{prefix}_time").data, prefix, what
                )
            except ValidationError as error:
                errors.update(error.errors)
        if errors:
            raise ValidationError(errors)
        services.set_window(vision, opens_at=moments["opens"], closes_at=moments["closes"], actor=current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationError as error:
        db.session.rollback()
        show_errors(form, error)
        return window_page(get_vision_or_404(slug), form=form, status=422)
    db.session.commit()
    flash(f"The consultation window is saved: {window_words(vision)}", "success")
    return redirect(url_for(".window", slug=slug))


def window_words(vision: Vision) -> str:
    from ..templating import format_datetime

    if vision.opens_at is None:
        return "no consultation is scheduled."
    opens = format_datetime(vision.opens_at)
    if vision.closes_at is None:
        return f"it opens on {opens} and stays open until you close it."
    return f"it opens on {opens} and closes on {format_datetime(vision.closes_at)}."


@bp.post("/visions/<slug:slug>/window/close")
def close_window(slug: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_manage_window(current_user, vision))
    if refused is not None:
        return refused
    if not CloseForm().validate_on_submit():
        return window_page(vision, status=400)
    try:
        services.close_window(vision, actor=current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationError as error:
        db.session.rollback()
        flash(error.errors["form"][0] + ".", "error")
        return redirect(url_for(".window", slug=slug))
    db.session.commit()
    flash("The consultation is closed. Nobody can propose, vote or comment until you reopen it.", "success")
    return redirect(url_for(".window", slug=slug))


@bp.post("/visions/<slug:slug>/window/reopen")
def reopen_window(slug: str):
    vision = get_vision_or_404(slug)
    refused = refuse_unless(permissions.can_manage_window(current_user, vision))
    if refused is not None:
        return refused
    reopen = ReopenForm()
    if not reopen.validate_on_submit():
        return window_page(vision, reopen=reopen, status=400)
    try:
        services.reopen_window(vision, days=services.clean_days(reopen.days.data), actor=current_user)
    except services.NotAllowed:
        db.session.rollback()
        abort(403)
    except ValidationError as error:
        db.session.rollback()
        show_errors(reopen, error)
        return window_page(get_vision_or_404(slug), reopen=reopen, status=422)
    db.session.commit()
    flash(f"The consultation is open again: {window_words(vision)}", "success")
    return redirect(url_for(".window", slug=slug))
