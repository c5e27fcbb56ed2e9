"""Responding to a consultation in one guided journey (signed in only): the start page (or "You have
a response in progress"), one page per step, "Check your answers", submitting, and the confirmation.

Every step is a plain form (POST → redirect to the next step); htmx is not needed. Once the
consultation window has closed, a step or the submission answers 409 with the reason and the
person's words still on the page; their draft stays, readable on "Check your answers".
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user

from ..aligned.wording import STATUSES, vision_elements
from ..auth.redirects import require_member
from ..exceptions import ValidationError
from ..forms import attempt
from ..involvement.pages import ambition_names, deadline_in_words
from ..involvement.services import AVAILABILITY, SKILLS_MAX
from ..limits import per_account
from ..models import Vision, db
from ..publication import PUBLISH_CHOICES, RESPONDING_AS
from ..visions.lookup import get_vision_or_404
from . import services
from .forms import AboutYouStep, AlignedStep, HelpStep, StepFields, SubmitForm, VisionStep, ambitions_data, ambitions_step
from .models import ConsultationResponse
from .pages import about_you_in_words, answers_in_words
from .steps import STEPS, step_after, step_before, steps_of, where_to_continue

bp = Blueprint("responses", __name__)

limited = per_account("RATELIMIT_COMMENT_WRITE")
STEP_NAMES = "any(" + ", ".join(f'"{name}"' for name in STEPS) + ")"


@bp.get("/visions/<slug:slug>/respond")
def start(slug: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("responses.start", slug=slug))
    draft = services.draft_of(vision, current_user)
    return render_template(
        "responses/start.html", vision=vision, draft=draft, deadline=deadline_in_words(vision),
        is_open=services.can_respond(current_user, vision), steps=steps_of(current_user, draft),
        step_names=STEPS, continue_at=where_to_continue(current_user, draft),
        sent=services.latest_submitted(vision, current_user),
    )


# --- one step -------------------------------------------------------------------------------------


@bp.route(f"/visions/<slug:slug>/respond/<{STEP_NAMES}:step>", methods=["GET", "POST"])
@limited
def step(slug: str, step: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("responses.step", slug=slug, step=step))
    draft = services.draft_of(vision, current_user)
    if request.method == "GET":
        if not services.can_respond(current_user, vision):
            return redirect(url_for("responses.start", slug=slug), 303)
        form = _filled_form(step, vision, (draft.answers or {}) if draft else {})
        form.response_id.data = str(draft.id) if draft else ""
        form.then.data = "check" if request.args.get("then") == "check" else ""
        return _step_page(vision, step, form, draft)
    form = _empty_form(step, vision)
    if not form.validate_on_submit():
        abort(400)
    sent = services.already_submitted(vision, current_user, form.response_id.data)
    if sent is not None:
        flash(f"You have already sent this response (reference {sent.reference}): nothing was changed.", "info")
        return redirect(url_for("responses.confirmation", slug=slug, reference=sent.reference), 303)
    values = {name: field.data for name, field in form._fields.items()}
    try:
        saved = attempt(form, lambda: services.save_step(vision, current_user, step, values))
    except services.ResponsesClosed as closed:
        db.session.rollback()
        return _step_page(vision, step, form, draft, closed=closed.message), 409
    if saved is None:
        return _step_page(vision, step, form, draft), 422
    db.session.commit()
    steps = steps_of(current_user, saved)
    following = None if form.then.data == "check" or step not in steps else step_after(steps, step)
    if following is None:
        return redirect(url_for("responses.check", slug=slug), 303)
    return redirect(url_for("responses.step", slug=slug, step=following), 303)


def _empty_form(step: str, vision: Vision) -> StepFields:
    if step == "about-you":
        return AboutYouStep()
    if step == "vision":
        return VisionStep()
    if step == "ambitions":
        return ambitions_step(ambition_names(vision_elements(vision)))()
    if step == "aligned-work":
        return AlignedStep()
    return HelpStep()


def _filled_form(step: str, vision: Vision, answers: dict[str, Any]) -> StepFields:
    if step == "about-you":
        return AboutYouStep.filled_with(current_user)
    if step == "vision":
        return VisionStep.filled_with(answers)
    if step == "ambitions":
        return ambitions_step(ambition_names(vision_elements(vision)))(data=ambitions_data(answers))
    if step == "aligned-work":
        return AlignedStep.filled_with_answers(answers)
    return HelpStep.filled_with_answers(answers)


def _step_page(vision: Vision, step: str, form: StepFields, draft: ConsultationResponse | None, closed: str | None = None):
    steps = steps_of(current_user, draft)
    before = step_before(steps, step)
    if form.then.data == "check":
        back_url = url_for("responses.check", slug=vision.slug)
    elif before is not None:
        back_url = url_for("responses.step", slug=vision.slug, step=before)
    else:
        back_url = url_for("responses.start", slug=vision.slug)
    context: dict[str, Any] = {}
    if step == "about-you":
        context.update(responding_as=RESPONDING_AS, publish_choices=PUBLISH_CHOICES, privacy_url=url_for("pages.privacy"))
    elif step == "vision":
        statement = services.statement_of(vision)
        context.update(statement=statement[1] if statement else "")
    elif step == "aligned-work":
        context.update(elements=vision_elements(vision), statuses=STATUSES)
    elif step == "help":
        context.update(ambitions=ambition_names(vision_elements(vision)), availability=AVAILABILITY, skills_max=SKILLS_MAX)
    template = "responses/steps/" + step.replace("-", "_") + ".html"
    return render_template(
        template, vision=vision, step=step, form=form, draft=draft, heading=STEPS[step],
        number=steps.index(step) + 1 if step in steps else None, total=len(steps), back_url=back_url,
        closed=closed, **context,
    )


# --- check your answers, and sending them ---------------------------------------------------------


@bp.get("/visions/<slug:slug>/respond/check")
def check(slug: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("responses.check", slug=slug))
    draft = services.draft_of(vision, current_user)
    if draft is None:
        return redirect(url_for("responses.start", slug=slug), 303)
    form = SubmitForm()
    form.response_id.data = str(draft.id)
    return _check_page(vision, draft, form)


def _check_page(vision: Vision, draft: ConsultationResponse, form: SubmitForm, errors: dict[str, list[str]] | None = None,
                closed: str | None = None):
    is_open = services.can_respond(current_user, vision)
    steps = steps_of(current_user, draft)
    return render_template(
        "responses/check.html", vision=vision, draft=draft, form=form, errors=errors or {},
        closed=closed or (None if is_open else services.closed_message(vision)),
        about_you=about_you_in_words(current_user), sections=answers_in_words(draft.answers or {}, vision_elements(vision)),
        back_url=url_for("responses.step", slug=vision.slug, step=steps[-1]),
    )


@bp.post("/visions/<slug:slug>/respond/submit")
@limited
def submit(slug: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("responses.check", slug=slug))
    form = SubmitForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        submitted = services.submit_response(vision, current_user, form.response_id.data)
    except (ValidationError, services.ResponsesClosed) as refused:
        db.session.rollback()
        draft = services.draft_of(vision, current_user)
        if draft is None:
            raise
        if isinstance(refused, ValidationError):
            return _check_page(vision, draft, form, errors=refused.errors), 422
        return _check_page(vision, draft, form, closed=refused.message), 409
    db.session.commit()
    if submitted.again:
        flash(f"You had already sent this response: it was sent once, with reference {submitted.response.reference}.", "info")
    return redirect(url_for("responses.confirmation", slug=slug, reference=submitted.response.reference), 303)


@bp.get("/visions/<slug:slug>/responses/<reference>")
def confirmation(slug: str, reference: str):
    vision = get_vision_or_404(slug)
    require_member(url_for("responses.confirmation", slug=slug, reference=reference))
    response = services.submitted_by_reference(reference, current_user) if len(reference) <= 20 else None
    if response is None or response.vision_id != vision.id:
        abort(404)
    elements = vision_elements(vision)
    statement = services.statement_of(vision)
    return render_template(
        "responses/confirmation.html", vision=vision, response=response, made=response.made or {},
        statement_key=statement[0].key if statement else None, publish_choices=PUBLISH_CHOICES,
        about_you=about_you_in_words(current_user), sections=answers_in_words(response.answers or {}, elements),
    )
