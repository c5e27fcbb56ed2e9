"""Signing in and out, registering, and resetting a forgotten password."""

from __future__ import annotations

from datetime import timedelta

from flask import Blueprint, Response, current_app, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, login_user, logout_user
from sqlalchemy import select

from .. import mail
from ..extensions import limiter, login_manager
from ..forms import show_errors
from ..models import User, db
from ..exceptions import ValidationError
from . import services
from .forms import (
    FinishRegistrationForm,
    RegisterForm,
    RequestResetForm,
    ResetPasswordForm,
    SignInForm,
)
from ..limits import client_address, failed, setting, typed_email
from .redirects import safe_next_url

bp = Blueprint("auth", __name__)

REMEMBER_FOR = timedelta(days=30)


@login_manager.user_loader
def load_user(session_token: str) -> User | None:
    # get_id() is a per-user session token, replaced on sign-out and password change, so a copied
    # cookie stops working.
    user = db.session.scalar(select(User).where(User.session_token == session_token))
    if user is None or not user.is_active:
        return None
    return user


@login_manager.unauthorized_handler
def sign_in_first() -> Response:
    """Anonymous visitors to a members' page go to sign in, and come back afterwards."""
    target = request.full_path.rstrip("?") if request.method == "GET" else None
    login_url = url_for("auth.login", next=safe_next_url(target))
    if request.headers.get("HX-Request"):
        # htmx follows redirects inside the page; ask it to load the sign-in page instead.
        response = Response("Sign in to do that.", status=401, mimetype="text/plain")
        response.headers["HX-Redirect"] = login_url
        return response
    flash("Sign in to continue.", "info")
    return redirect(login_url)


def _home() -> str:
    return url_for("visions.index")


def remember_cookie_present() -> bool:
    """Whether this browser holds a remember-me cookie (to renew it after a password change)."""
    return current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies


def sign_in(user: User, *, remember: bool) -> None:
    """Start a session for the person (and a remember-me cookie when asked)."""
    login_user(user, remember=remember, duration=REMEMBER_FOR)


def _check_your_email(address: str, purpose: str) -> Response:
    session["check_email"] = {"address": address, "purpose": purpose}
    return redirect(url_for("auth.check_email"), 303)


# --- signing in and out ---------------------------------------------------------------------------


@bp.route("/auth/login", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_SIGN_IN"), key_func=client_address, methods=["POST"])
@limiter.limit(setting("RATELIMIT_SIGN_IN_ACCOUNT"), key_func=typed_email, methods=["POST"], deduct_when=failed)
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
            return redirect(next_url or _home(), 303)
        form.email.errors = [result.problem]
    return render_template("auth/login.html", form=form), (400 if form.is_submitted() else 200)


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
@limiter.limit(setting("RATELIMIT_MAIL_REQUEST"), key_func=client_address, methods=["POST"])
@limiter.limit(setting("RATELIMIT_MAIL_ADDRESS"), key_func=typed_email, methods=["POST"])
def register():
    if current_user.is_authenticated:
        flash("You already have an account and are signed in.", "info")
        return redirect(url_for("accounts.account"))
    form = RegisterForm()
    if form.validate_on_submit():
        try:
            address, message = services.request_registration(form.email.data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            mail.send(message)
            return _check_your_email(address, "register")
    return render_template("auth/register.html", form=form), (400 if form.is_submitted() else 200)


@bp.get("/auth/check-email")
def check_email():
    pending = session.get("check_email") or {}
    return render_template(
        "auth/check_email.html", address=pending.get("address"), purpose=pending.get("purpose", "register")
    )


@bp.route("/auth/register/<token>", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_PASSWORD_CHECK"), key_func=client_address, methods=["POST"])
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
            user = services.create_account(address, form.display_name.data, form.password.data)
        except ValidationError as exc:
            show_errors(form, exc)
        except services.AccountExists:
            db.session.rollback()
            return redirect(url_for("auth.login"), 303)
        else:
            db.session.commit()
            sign_in(user, remember=False)
            session.pop("check_email", None)
            flash(f"Your account is ready. You are signed in as {user.display_name}.", "success")
            return redirect(_home(), 303)
    return (
        render_template("auth/finish_registration.html", form=form, address=address),
        (400 if form.is_submitted() else 200),
    )


def _link_problem(purpose: str):
    return render_template("auth/link_problem.html", purpose=purpose), 400


# --- forgotten password ---------------------------------------------------------------------------


@bp.route("/auth/reset", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_MAIL_REQUEST"), key_func=client_address, methods=["POST"])
@limiter.limit(setting("RATELIMIT_MAIL_ADDRESS"), key_func=typed_email, methods=["POST"])
def request_reset():
    form = RequestResetForm()
    if form.validate_on_submit():
        try:
            address, message = services.request_password_reset(form.email.data)
        except ValidationError as exc:
            show_errors(form, exc)
        else:
            db.session.commit()
            mail.send(message)
            return _check_your_email(address, "reset")
    return render_template("auth/request_reset.html", form=form), (400 if form.is_submitted() else 200)


@bp.route("/auth/reset/<token>", methods=["GET", "POST"])
@limiter.limit(setting("RATELIMIT_PASSWORD_CHECK"), key_func=client_address, methods=["POST"])
def reset_password(token: str):
    if services.find_reset_token(token) is None:
        return _link_problem("reset")
    form = ResetPasswordForm()
    if form.validate_on_submit():
        try:
            services.reset_password(token, form.password.data)
        except services.LinkNotValid:
            db.session.rollback()
            return _link_problem("reset")
        except ValidationError as exc:
            db.session.rollback()
            show_errors(form, exc)
        else:
            db.session.commit()
            logout_user()
            flash("Your password has been changed and every browser signed in to your account has been signed out. Sign in with your new password.", "success")
            return redirect(url_for("auth.login"), 303)
    return render_template("auth/reset_password.html", form=form, token=token), (400 if form.is_submitted() else 200)
