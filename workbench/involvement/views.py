"""Getting involved: a vision's "Get involved" page (what is asked, and by when), offering to help
refine the vision for the next stage (signed in: make, change or withdraw the offer), and the
facilitators' private list of volunteers, its CSV, and invitations to a working group by email.

Refusals go to the application's error handlers; a route catches only the ValidationError whose
messages it shows beside the fields (`attempt`).
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..aligned.wording import vision_elements
from ..auth.redirects import require_member
from ..exceptions import NotAllowed
from ..exports import csv_stream
from ..forms import attempt
from ..limits import per_account
from ..models import Vision, db
from ..permissions import can_see_volunteers, is_member
from ..responses.services import draft_of
from ..visions.lookup import get_vision_or_404
from ..webinars.pages import places_in_words
from . import services
from .forms import ButtonForm, InvitationForm, OfferForm
from .pages import VOLUNTEER_COLUMNS, VOLUNTEERS_SHOWN, ambition_names, ambitions_in_words, involvement_page, volunteer_rows, volunteers_page

bp = Blueprint("involvement", __name__)

limited = per_account("RATELIMIT_VOLUNTEER_WRITE")


@bp.get("/visions/<slug:slug>/get-involved")
def get_involved(slug: str):
    page = involvement_page(get_vision_or_404(slug), current_user)
    return render_template(
        "involvement/get_involved.html", page=page, places_in_words=places_in_words,
        can_see_volunteers=can_see_volunteers(current_user, page.vision),
        draft=draft_of(page.vision, current_user) if is_member(current_user) else None,
    )


# --- offering to help -----------------------------------------------------------------------------


@bp.route("/visions/<slug:slug>/volunteer", methods=["GET", "POST"])
@limited
def volunteer(slug: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("involvement.volunteer", slug=slug))
    ambitions = ambition_names(vision_elements(vision))
    interest = services.interest_of(vision, current_user)
    if request.method == "GET":
        form = OfferForm.filled_with(interest) if interest is not None else OfferForm()
        return _offer_page(vision, form, ambitions, interest)
    form = OfferForm()
    if not form.validate_on_submit():
        abort(400)
    saved = attempt(
        form,
        lambda: services.offer_to_help(
            vision, current_user, ambitions=ambitions, ambition_keys=form.ambitions.data or [],
            skills=form.skills.data, availability=form.availability.data,
        ),
    )
    if saved is None:
        return _offer_page(vision, form, ambitions, interest)
    db.session.commit()
    flash(_offer_words(saved[1]), "success")
    return redirect(url_for("involvement.volunteer", slug=slug), 303)


def _offer_words(happened: str) -> str:
    if happened == "changed":
        return "Your offer to help is updated."
    return (
        "Thank you for offering to help refine the vision. The facilitators will get in touch when the next "
        "stage begins. You can change or withdraw your offer here at any time."
    )


def _offer_page(vision: Vision, form: OfferForm, ambitions: dict[str, str], interest):  # noqa: ANN001
    status = 422 if form.errors else 200
    return render_template(
        "involvement/volunteer.html", vision=vision, form=form, ambitions=ambitions, interest=interest,
        availability=services.AVAILABILITY, withdraw_form=ButtonForm(), skills_max=services.SKILLS_MAX,
    ), status


@bp.post("/visions/<slug:slug>/volunteer/withdraw")
@limited
def withdraw(slug: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("involvement.volunteer", slug=slug))
    if not ButtonForm().validate_on_submit():
        abort(400)
    services.withdraw_offer(vision, current_user)
    db.session.commit()
    flash("Your offer to help is withdrawn. Facilitators will not invite you to the next stage. You can offer again at any time.", "success")
    return redirect(url_for("involvement.volunteer", slug=slug), 303)


# --- facilitators -----------------------------------------------------------------------------------


def _require_facilitator(vision: Vision) -> None:
    require_member()
    if not can_see_volunteers(current_user, vision):
        raise NotAllowed("Only facilitators can see who volunteered.")


@bp.get("/visions/<slug:slug>/facilitate/volunteers")
def volunteers(slug: str):
    vision = get_vision_or_404(slug)
    _require_facilitator(vision)
    return _volunteers_page(vision, InvitationForm.new())


def _volunteers_page(vision: Vision, form: InvitationForm):
    status = 422 if form.errors else 200
    return render_template(
        "involvement/volunteers.html", page=volunteers_page(vision), form=form, shown=VOLUNTEERS_SHOWN,
        availability=services.AVAILABILITY, ambitions_in_words=ambitions_in_words,
        chosen=set(form.interest_ids.data or []),
    ), status


@bp.post("/visions/<slug:slug>/facilitate/volunteers/invite")
@limited
def invite(slug: str):
    vision = get_vision_or_404(slug)
    _require_facilitator(vision)
    form = InvitationForm()
    if not form.validate_on_submit():
        abort(400)
    invited = attempt(
        form,
        lambda: services.invite_volunteers(
            vision, interest_ids=form.interest_ids.data or [], subject=form.subject.data, message=form.message.data,
            send_key=form.send_key.data, actor=current_user,
        ),
    )
    if invited is None:
        return _volunteers_page(vision, form)
    db.session.commit()
    if invited.again:
        flash(f"“{invited.invitation.subject}” was sent already: nobody was emailed twice.", "info")
    else:
        people = f"{invited.people} {'volunteer' if invited.people == 1 else 'volunteers'}"
        flash(f"“{invited.invitation.subject}” is on its way to {people}.", "success")
    return redirect(url_for("involvement.volunteers", slug=slug), 303)


@bp.get("/visions/<slug:slug>/facilitate/volunteers.csv")
def volunteers_csv(slug: str):
    vision = get_vision_or_404(slug)
    _require_facilitator(vision)
    rows = list(volunteer_rows(vision))  # read now: the stream is written after the view returns
    response = Response(csv_stream(VOLUNTEER_COLUMNS, rows), mimetype="text/csv")
    response.headers["Content-Type"] = "text/csv; charset=utf-8; header=present"
    response.headers["Content-Disposition"] = f'attachment; filename="{vision.slug}-volunteers.csv"'
    response.headers["Cache-Control"] = "private, no-store"
    return response
