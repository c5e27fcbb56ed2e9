"""Security headers on every response, the public address, and the optional proxy fix (DESIGN.md §7)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, abort, current_app, request, session
from werkzeug.middleware.proxy_fix import ProxyFix

CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # Not no-referrer: Flask-WTF refuses HTTPS form posts that carry no Referer.
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
    "Cross-Origin-Opener-Policy": "same-origin",
}


def add_security_headers(response: Response) -> Response:
    for name, value in HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault(
            "Strict-Transport-Security", "max-age=63072000; includeSubDomains"
        )
    return response


# Pages made for a signed-in person (their name, their account, email addresses on admin pages, a
# CSRF token) must not be kept by a shared cache or the browser's history store.
PRIVATE = "private, no-store"


def keep_private_pages_private(response: Response) -> Response:
    """A response to a signed-in person that set no caching of its own is `private, no-store`.

    Asks the session, not `current_user`, so that nothing is loaded from the database for it.
    """
    if "Cache-Control" not in response.headers and "_user_id" in session:
        response.headers["Cache-Control"] = PRIVATE
    return response


def refuse_too_many_form_fields() -> None:
    """Werkzeug caps the parts of multipart bodies only; cap url-encoded forms the same way."""
    if request.mimetype == "application/x-www-form-urlencoded":
        limit = current_app.config.get("MAX_FORM_PARTS") or 0
        if limit and request.get_data(cache=True).count(b"&") >= limit:
            abort(413)


class PublicAddress:
    """WSGI middleware: a request for the site's host is taken as made to its public address
    (WORKBENCH_PUBLIC_URL), in its scheme and port, whatever the request or a proxy said.

    Absolute links (the version JSON, feeds, "how to cite", open data) are built from the request's
    address, and immutable pages are kept per process once rendered: without this, the first
    request for a page (over http, or naming a port) would fix its links for every later one, and
    two servers could give different bytes for one permalink. Requests for other hosts pass
    unchanged, for TRUSTED_HOSTS to refuse.
    """

    def __init__(self, wsgi_app: Any, public_url: str) -> None:
        parts = urlsplit(public_url)
        self.wsgi_app = wsgi_app
        self.scheme = parts.scheme
        self.hostname = parts.hostname or ""
        self.host = self.hostname + (f":{parts.port}" if parts.port else "")

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("HTTP_HOST", "").rsplit(":", 1)[0].lower() == self.hostname:
            environ["HTTP_HOST"] = self.host
            environ["wsgi.url_scheme"] = self.scheme
        return self.wsgi_app(environ, start_response)


def init_app(app: Flask) -> None:
    if app.config.get("PUBLIC_URL"):  # inside the proxy fix: it sees the host the proxy named
        app.wsgi_app = PublicAddress(app.wsgi_app, app.config["PUBLIC_URL"])  # type: ignore[method-assign]
    proxies = int(app.config.get("PROXY_FIX") or 0)
    if proxies:
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies
        )
    if app.config.get("SESSION_COOKIE_SECURE"):
        app.config["REMEMBER_COOKIE_SECURE"] = True
    app.before_request(refuse_too_many_form_fields)
    app.after_request(add_security_headers)
    app.after_request(keep_private_pages_private)
