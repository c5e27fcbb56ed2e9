"""Webinars: a vision's sessions (public), one session with its places left and your place,
registering and cancelling (signed in, or by the signed link in a mail), and the facilitators'
forms and list of attendees (names and addresses: facilitators only, never public).

Refusals go to the application's error handlers; a route catches only the ValidationError whose
messages it shows beside the fields (`attempt`).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..auth.redirects import require_member
from ..exceptions import NotAllowed
from ..exports import csv_text
from ..forms import attempt
from ..limits import per_account
from ..models import Vision, Webinar, db
from ..visions.lookup import get_vision_or_404
from . import registrations, services
from .forms import ButtonForm, WebinarForm
from .pages import ATTENDEE_COLUMNS, WAITING_SHOWN, attendee_rows, counts_of, list_page, people, places_in_words, session_page, your_state_in_words
from ..permissions import can_manage_webinars, can_see_attendees, may_see_joining_link

bp = Blueprint("webinars", __name__)

limited = per_account("RATELIMIT_WEBINAR_WRITE")


def _webinar_or_404(webinar_id: int) -> Webinar:
    webinar = db.session.get(Webinar, webinar_id)
    if webinar is None:
        abort(404)
    return webinar


def _locked_or_404(webinar_id: int) -> Webinar:
    webinar = registrations.lock_webinar(webinar_id)
    if webinar is None:
        abort(404)
    return webinar


def _require_facilitator(next_url: str | None = None) -> None:
    require_member(next_url)
    if not can_manage_webinars(current_user):
        raise NotAllowed("Only facilitators can schedule webinars and see who registered.")


# --- public -------------------------------------------------------------------------------------


@bp.get("/visions/<slug:slug>/webinars")
def index(slug: str):
    page = list_page(get_vision_or_404(slug), current_user)
    return render_template(
        "webinars/index.html", page=page, places_in_words=places_in_words, can_manage=can_manage_webinars(current_user)
    )


@bp.get("/webinars/<posint:webinar_id>")
def show(webinar_id: int):
    page = session_page(_webinar_or_404(webinar_id), current_user)
    return render_template(
        "webinars/show.html",
        page=page,
        places=places_in_words(page.webinar, page.counts),
        yours=your_state_in_words(page.registration, page.ahead),
        joining_link_shown=may_see_joining_link(current_user, page.registration),
        can_manage=can_manage_webinars(current_user),
        form=ButtonForm(),
    )


# --- registering and cancelling ---------------------------------------------------------------------


@bp.post("/webinars/<posint:webinar_id>/register")
@limited
def register(webinar_id: int):
    require_member(url_for("webinars.show", webinar_id=webinar_id))
    if not ButtonForm().validate_on_submit():
        abort(400)
    webinar = _locked_or_404(webinar_id)
    registration = registrations.register_for_webinar(webinar, current_user)
    db.session.commit()
    if registration.state == "registered":
        flash(f"You are registered for “{webinar.title}”. We have emailed you the details and a calendar file.", "success")
    else:
        flash(
            f"“{webinar.title}” is full, so you are on the waiting list. If a place becomes free, it goes to the "
            "first person waiting, and we email you at once if it is yours.",
            "success",
        )
    return redirect(url_for("webinars.show", webinar_id=webinar_id), 303)


@bp.post("/webinars/<posint:webinar_id>/cancel")
@limited
def cancel(webinar_id: int):
    require_member(url_for("webinars.show", webinar_id=webinar_id))
    if not ButtonForm().validate_on_submit():
        abort(400)
    webinar = _webinar_or_404(webinar_id)
    registration = registrations.registration_of(webinar, current_user.id)
    if registration is None:
        abort(404)
    was = registration.state
    registrations.cancel_registration(registration, current_user)
    db.session.commit()
    flash(_cancelled_words(was, webinar), "success")
    return redirect(url_for("webinars.show", webinar_id=webinar_id), 303)


def _cancelled_words(was: str, webinar: Webinar) -> str:
    if was == "waiting":
        return f"You have left the waiting list for “{webinar.title}”."
    return f"Your place at “{webinar.title}” is cancelled. Thank you for letting someone else have it."


@bp.route("/webinars/cancel/<token>", methods=["GET", "POST"])
@limited
def cancel_by_link(token: str):
    """The cancel link of a mail: GET shows what it cancels and a button, POST cancels. No need to
    sign in: the signed token is the proof."""
    registration = registrations.find_by_link(token)
    if registration is None:
        return render_template("webinars/cancel_link.html", valid=False), 404
    webinar = registration.webinar
    form = ButtonForm()
    if request.method == "POST" and registration.state != "cancelled":
        if not form.validate_on_submit():
            abort(400)
        was = registration.state
        registrations.cancel_by_link(token)
        db.session.commit()
        return render_template("webinars/cancel_link.html", valid=True, done=_cancelled_words(was, webinar), webinar=webinar)
    return render_template(
        "webinars/cancel_link.html", valid=True, done=None, webinar=webinar, registration=registration, token=token, form=form
    )


# --- facilitators ---------------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/webinars/new", methods=["GET", "POST"])
@limited
def new(slug: str):
    vision = get_vision_or_404(slug)
    _require_facilitator(url_for("webinars.new", slug=slug))
    form = WebinarForm()
    if request.method == "POST":
        if not form.validate_on_submit():
            abort(400)
        webinar = attempt(form, lambda: services.schedule_webinar(vision, form.schedule(), actor=current_user))
        if webinar is not None:
            db.session.commit()
            flash(f"“{webinar.title}” is scheduled. People can register now.", "success")
            return redirect(url_for("webinars.show", webinar_id=webinar.id), 303)
    return _form_page(vision, form, None)


@bp.route("/webinars/<posint:webinar_id>/edit", methods=["GET", "POST"])
@limited
def edit(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    _require_facilitator(url_for("webinars.edit", webinar_id=webinar_id))
    vision = db.session.get(Vision, webinar.vision_id)
    if request.method == "GET":
        return _form_page(vision, WebinarForm.filled_with(webinar), webinar)
    form = WebinarForm()
    if not form.validate_on_submit():
        abort(400)
    promoted = attempt(form, lambda: services.change_webinar(_locked_or_404(webinar_id), form.schedule(), actor=current_user))
    if promoted is None:
        return _form_page(vision, form, webinar)
    db.session.commit()
    given = f" {len(promoted)} {'person' if len(promoted) == 1 else 'people'} from the waiting list got a place and were emailed." if promoted else ""
    flash(f"The session is saved.{given}", "success")
    return redirect(url_for("webinars.show", webinar_id=webinar_id), 303)


def _form_page(vision: Vision, form: WebinarForm, webinar: Webinar | None):
    status = 422 if form.errors else 200
    return render_template("webinars/form.html", vision=vision, form=form, webinar=webinar), status


@bp.get("/webinars/<posint:webinar_id>/attendees")
def attendees(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    require_member()
    if not can_see_attendees(current_user, webinar):
        raise NotAllowed("Only facilitators can see who registered.")
    counts = counts_of([webinar.id])[webinar.id]
    return render_template(
        "webinars/attendees.html",
        webinar=webinar,
        vision=db.session.get(Vision, webinar.vision_id),
        counts=counts,
        registered=people(webinar, "registered"),
        waiting=people(webinar, "waiting", WAITING_SHOWN),
        waiting_shown=WAITING_SHOWN,
        places=places_in_words(webinar, counts),
    )


@bp.get("/webinars/<posint:webinar_id>/attendees.csv")
def attendees_csv(webinar_id: int):
    webinar = _webinar_or_404(webinar_id)
    require_member()
    if not can_see_attendees(current_user, webinar):
        raise NotAllowed("Only facilitators can see who registered.")
    text = csv_text(ATTENDEE_COLUMNS, attendee_rows(webinar))
    response = Response(text.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="webinar-{webinar.id}-attendees.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
