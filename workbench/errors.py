"""Designed error pages: never a traceback, always the security headers."""

from __future__ import annotations

from flask import Flask, Response, jsonify, render_template, request
from flask.globals import request_ctx
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError
from werkzeug.exceptions import HTTPException, InternalServerError

from .database import is_busy, read_only_from_now
from .extensions import db
from .auth.redirects import login_redirect
from .exceptions import SignInRequired, ValidationError, WorkbenchError
from .htmx import is_htmx, vary

MESSAGES = {
    400: ("Bad request", "The request could not be understood. Go back, check what you entered and try again."),
    403: ("You cannot do that", "You do not have permission to do that. If you think you should, sign in with the right account or contact the facilitators."),
    404: ("Page not found", "If you typed the web address, check it is correct. If you pasted it, check you copied the whole address."),
    405: ("That action is not allowed here", "This page does not accept that kind of request."),
    409: ("Something changed meanwhile", "Someone else changed this at the same time. Reload the page and try again."),
    413: ("Too much to send", "What you sent is larger than this service accepts. Shorten it and try again."),
    429: ("Too many attempts", "You have tried this too many times in a short while. Wait a few minutes and try again."),
    503: ("The service is busy", "Nothing was saved: many people are using the service at this moment. Wait a few seconds and try again."),
    500: ("Sorry, there is a problem with the service", "Something went wrong on our side. Try again later; nothing you entered was saved."),
}


# Fields never shown back: secrets, and what the form machinery adds.
UNSHOWN_FIELDS = ("csrf_token", "password", "current_password", "new_password", "next", "expected_text_id", "revision", "lock_version")
RETRY_AFTER_SECONDS = 5


def typed_text() -> list[tuple[str, str]]:
    """What the person typed in the form they sent (field name, text), so that a page saying nothing
    was saved can give it back to them; secrets and hidden machinery are left out."""
    return [
        (name, value)
        for name, value in request.form.items(multi=True)
        if value.strip() and not any(hidden in name for hidden in UNSHOWN_FIELDS)
    ][:20]


def render_error(code: int, message: str | None = None, typed: list[tuple[str, str]] | None = None):
    """The designed page for an error `code`, with `message` (or the code's own words); JSON for
    JSON clients, and marked `Vary: HX-Request` when htmx asked (it shows the words in place)."""
    title, default_message = MESSAGES.get(code, (f"Error {code}", "Something went wrong."))
    if request_ctx.url_adapter is None:
        # The request named a host this site does not answer for: no page of ours can be built.
        return Response(f"{title}: this site does not answer for that address.\n", code, mimetype="text/plain")
    if request.path.endswith(".json") or request.accept_mimetypes.best == "application/json":
        return jsonify(error=title, message=message or default_message), code
    page = render_template(
        "errors/error.html", code=code, title=title, message=message or default_message, typed=typed or []
    )
    return vary((page, code)) if is_htmx() else (page, code)


def init_app(app: Flask) -> None:
    @app.errorhandler(WorkbenchError)
    def refused(error: WorkbenchError):
        """A service said no: nothing it began is kept, and the person is told why."""
        db.session.rollback()
        if isinstance(error, SignInRequired):
            return login_redirect(error.next_url)
        if isinstance(error, ValidationError):
            return render_error(error.status, " ".join(error.messages) or None)
        return render_error(error.status, error.message or None)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError):
        return render_error(
            400,
            "Your form had expired or did not come from this site. Go back, reload the page and try again.",
        )

    @app.errorhandler(OperationalError)
    def database_busy(error: OperationalError):
        """Another request held a lock this one needed, past the lock timeout (or a statement ran
        too long): the whole transaction was rolled back. Say so, and keep what the person typed."""
        db.session.rollback()
        if not is_busy(error):
            raise error
        read_only_from_now()
        response = app.make_response(render_error(503, typed=typed_text()))
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if error.code is None or error.code < 400:
            return error
        description = getattr(error, "public_message", None)
        return render_error(error.code, description)

    @app.errorhandler(InternalServerError)
    def server_error(error: InternalServerError):
        return render_error(500)
