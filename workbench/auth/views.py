"""Signing in and out, registering, and resetting a forgotten password.

Who is signed in (the session loader, `sign_in`) lives in `sessions.py`. A route catches only the
ValidationError whose messages it shows beside the form's fields (`attempt`), and the races it
answers with a page of its own (a registration link used twice at once, a reset link used meanwhile).
"""

from __future__ import annotations


from flask import Blueprint, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm
from werkzeug.wrappers import Response

from .. import outbox
from ..forms import attempt
from ..limits import per_address, per_typed_email
from ..models import db
from . import services
from .forms import (
    FinishRegistrationForm,
    RegisterForm,
    RequestResetForm,
    ResetPasswordForm,
    SignInForm,
)
from .redirects import safe_next_url
from .sessions import is_known_device_for_typed_email, remember_device, sign_in

bp = Blueprint("auth", __name__)





def _home() -> str:
    return url_for("visions.index")


def _status(form: FlaskForm) -> int:
    """200 for a form shown; 400 for one sent back with messages."""
    return 400 if form.is_submitted() else 200


def _check_your_email(address: str, purpose: str) -> Response:
    session["check_email"] = {"address": address, "purpose": purpose}
    return redirect(url_for("auth.check_email"), 303)


def _link_problem(purpose: str):
    return render_template("auth/link_problem.html", purpose=purpose), 400


# --- signing in and out ---------------------------------------------------------------------------


@bp.route("/auth/login", methods=["GET", "POST"])
@per_address("RATELIMIT_SIGN_IN")
@per_typed_email("RATELIMIT_SIGN_IN_ACCOUNT", failures_only=True, exempt_when=is_known_device_for_typed_email)
def login():
    next_url = safe_next_url(request.values.get("next"))
    if current_user.is_authenticated:
        return redirect(next_url or _home())
    form = SignInForm()
    if request.method == "GET":
        form.next.data = next_url or ""
    if form.validate_on_submit():
        result = services.authenticate(form.email.data, form.password.data)
        if result.user is not None:
            db.session.commit()  # an upgraded password hash
            sign_in(result.user, remember=bool(form.remember.data))
            flash(f"You are signed in as {result.user.display_name}.", "success")
            return remember_device(redirect(next_url or _home(), 303), result.user.email)
        form.email.errors = [result.problem]
    return render_template("auth/login.html", form=form), _status(form)


@bp.post("/auth/logout")
def logout():
    if current_user.is_authenticated:
        services.sign_out_everywhere(current_user._get_current_object())
        db.session.commit()
    # Forget everything this browser held for the session (CSRF token, pending messages), then let
    # Flask-Login remove its remember-me cookie too.
    session.clear()
    logout_user()
    flash("You have signed out. Every browser that was signed in to your account is now signed out.", "success")
    return redirect(_home(), 303)


# --- registration ---------------------------------------------------------------------------------


@bp.route("/auth/register", methods=["GET", "POST"])
@per_address("RATELIMIT_MAIL_REQUEST")
@per_typed_email("RATELIMIT_MAIL_ADDRESS")
def register():
    if current_user.is_authenticated:
        flash("You already have an account and are signed in.", "info")
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        sent = attempt(form, lambda: services.request_registration(form.email.data))
        if sent is not None:
            address, message = sent
            outbox.queue(message)
            db.session.commit()
            return _check_your_email(address, "register")
    return render_template("auth/register.html", form=form), _status(form)


@bp.get("/auth/check-email")
def check_email():
    pending = session.get("check_email") or {}
    return render_template(
        "auth/check_email.html", address=pending.get("address"), purpose=pending.get("purpose", "register")
    )


@bp.route("/auth/register/<token>", methods=["GET", "POST"])
@per_address("RATELIMIT_PASSWORD_CHECK")
def finish_registration(token: str):
    if current_user.is_authenticated:
        flash("You are already signed in. Sign out first to create another account.", "info")
        return redirect(url_for("accounts.account"))
    address = services.registration_email(token)
    if address is None:
        return _link_problem("register")
    if services.email_in_use(address):
        flash("You already have an account with this email address. Sign in, or reset your password if you have forgotten it.", "info")
        return redirect(url_for("auth.login"), 303)
    form = FinishRegistrationForm()
    if form.validate_on_submit():
        try:
            user = attempt(form, lambda: services.create_account(address, form.display_name.data, form.password.data))
        except services.AccountExists:  # the same link used twice at the same moment
            db.session.rollback()
            return redirect(url_for("auth.login"), 303)
        if user is not None:
            db.session.commit()
            sign_in(user, remember=False)
            session.pop("check_email", None)
            flash(f"Your account is ready. You are signed in as {user.display_name}.", "success")
            return redirect(_home(), 303)
    return render_template("auth/finish_registration.html", form=form, address=address), _status(form)


# --- forgotten password ---------------------------------------------------------------------------


@bp.route("/auth/reset", methods=["GET", "POST"])
@per_address("RATELIMIT_MAIL_REQUEST")
@per_typed_email("RATELIMIT_MAIL_ADDRESS")
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        sent = attempt(form, lambda: services.request_password_reset(form.email.data))
        if sent is not None:
            address, message = sent
            outbox.queue(message)
            db.session.commit()
            return _check_your_email(address, "reset")
    return render_template("auth/request_reset.html", form=form), _status(form)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@per_address("RATELIMIT_PASSWORD_CHECK")
def reset_password(token: str):
    if services.find_reset_token(token) is None:
        return _link_problem("reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            user = attempt(form, lambda: services.reset_password(token, form.password.data))
        except services.LinkNotValid:  # used or cancelled since the page was shown
            db.session.rollback()
            return _link_problem("reset")
        if user is not None:
            db.session.commit()
            logout_user()
            flash("Your password has been changed and every browser signed in to your account has been signed out. Sign in with your new password.", "success")
            return redirect(url_for("auth.login"), 303)
    return render_template("auth/reset_password.html", form=form, token=token), _status(form)
