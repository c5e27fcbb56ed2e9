"""The security baseline: headers on every response, CSRF, size limits, designed error pages."""

from __future__ import annotations

import pytest
from pathlib import Path
from flask import Flask
from sqlalchemy import func, select

from workbench import create_app
from workbench.models import Role, User, db
from workbench.security import HEADERS

from .conftest import TEST_PASSWORD, WorkbenchClient, base_config

ERROR_TITLES = {
    400: "Bad request",
    403: "You cannot do that",
    404: "Page not found",
    405: "That action is not allowed here",
    413: "Too much to send",
    429: "Too many attempts",
    500: "Sorry, there is a problem with the service",
}


pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request


def assert_security_headers(response) -> None:
    for name, value in HEADERS.items():
        assert response.headers.get(name) == value, f"{name} missing on a {response.status_code} response"
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp


def assert_designed_error_page(response, code: int) -> None:
    assert response.status_code == code
    page = response.get_data(as_text=True)
    assert response.mimetype == "text/html"
    assert f"Error {code}" in page and f"<h1 class=\"ds_page-header__title\">{ERROR_TITLES[code]}</h1>" in page
    assert "Traceback" not in page and "File \"" not in page and "werkzeug" not in page.lower()
    assert_security_headers(response)


@pytest.fixture
def failing_app(database_url, tmp_path) -> Flask:
    """An app with a test-only route that raises, with exceptions handled as in production."""
    app = create_app({**base_config(database_url), "MAIL_OUTBOX": str(tmp_path / "outbox")})
    app.config["PROPAGATE_EXCEPTIONS"] = False

    @app.get("/test-only/boom")
    def boom():
        raise RuntimeError("secret internals: /srv/app/db.py line 42")

    @app.get("/test-only/boom.json")
    def boom_json():
        raise RuntimeError("secret internals")

    return app


# --- headers on every kind of response ------------------------------------------------------------


def test_headers_on_an_html_page(client):
    response = client.get("/about")
    assert response.status_code == 200 and response.mimetype == "text/html"
    assert_security_headers(response)
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP


def test_hsts_over_https(client):
    response = client.get("/about", base_url="https://localhost")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")
    assert_security_headers(response)


def test_headers_on_json(client, make_vision):
    vision = make_vision()
    response = client.get(f"/visions/{vision.slug}/v/1.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert_security_headers(response)


def test_headers_on_a_json_error(client):
    response = client.get("/visions/nothing-here/v/1.json")
    assert response.status_code == 404 and response.mimetype == "application/json"
    assert response.get_json()["error"] == "Page not found"
    assert_security_headers(response)


def test_headers_on_a_static_file_and_its_304(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert_security_headers(response)
        etag = response.headers["ETag"]
    with client.get("/static/css/app.css", headers={"If-None-Match": etag}) as cached:
        assert cached.status_code == 304
        assert_security_headers(cached)


def test_headers_on_a_permalink_304(client, make_vision):
    vision = make_vision()
    first = client.get(f"/visions/{vision.slug}/v/1/")
    cached = client.get(f"/visions/{vision.slug}/v/1/", headers={"If-None-Match": first.headers["ETag"]})
    assert cached.status_code == 304
    assert_security_headers(cached)


def test_headers_on_a_redirect(client):
    response = client.get("/account")
    assert response.status_code == 302
    assert_security_headers(response)


def test_headers_and_page_on_404(client):
    assert_designed_error_page(client.get("/no/such/page"), 404)


def test_headers_and_page_on_405(client):
    assert_designed_error_page(client.get("/auth/logout"), 405)
    assert_designed_error_page(client.delete("/about"), 405)


def test_headers_and_page_on_403(client, make_user, login_as):
    login_as(make_user(Role.FACILITATOR))
    assert_designed_error_page(client.get("/admin/accounts"), 403)


def test_headers_and_page_on_400_without_a_csrf_token(client):
    response = client.post("/auth/login", data={"email": "a@example.org", "password": "x"}, csrf=False)
    assert_designed_error_page(response, 400)
    assert "did not come from this site" in response.get_data(as_text=True)


def test_headers_and_page_on_500(failing_app):
    failing_app.test_client_class = WorkbenchClient
    client = failing_app.test_client()
    response = client.get("/test-only/boom")
    assert_designed_error_page(response, 500)
    assert "secret internals" not in response.get_data(as_text=True)
    as_json = client.get("/test-only/boom.json")
    assert as_json.status_code == 500 and as_json.get_json()["error"] == ERROR_TITLES[500]
    assert "secret" not in as_json.get_data(as_text=True)
    assert_security_headers(as_json)


# --- size limits ----------------------------------------------------------------------------------


def test_a_10_mb_body_is_refused_with_413(client):
    body = b"email=" + b"a" * (10 * 1024 * 1024)
    response = client.post(
        "/auth/login", data=body, content_type="application/x-www-form-urlencoded", csrf=False
    )
    assert_designed_error_page(response, 413)


def multipart(parts: list[tuple[str, bytes]], boundary: str = "vwboundary") -> tuple[bytes, str]:
    """A multipart/form-data body of plain fields, built in memory."""
    chunks = []
    for name, value in parts:
        chunks.append(
            f"--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n".encode() + value + b"\r\n"
        )
    chunks.append(f"--{boundary}--\r\n".encode())
    return b"".join(chunks), f"multipart/form-data; boundary={boundary}"


def test_a_10_mb_upload_is_refused_with_413(client):
    body, content_type = multipart([("email", b"x@example.org"), ("file", b"x" * (10 * 1024 * 1024))])
    response = client.post("/auth/register", data=body, content_type=content_type, csrf=False)
    assert_designed_error_page(response, 413)
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_2000_multipart_form_fields_are_refused_with_413(client):
    body, content_type = multipart([(f"field{n}", b"x") for n in range(2000)])
    response = client.post("/auth/register", data=body, content_type=content_type, csrf=False)
    assert_designed_error_page(response, 413)


def test_2000_urlencoded_form_fields_are_refused_with_413(client, app):
    """Werkzeug caps multipart parts only; security.py caps url-encoded fields the same way."""
    fields = {f"field{n}": "x" for n in range(2000)}
    fields["email"] = "someone@example.org"
    response = client.post("/auth/register", data=fields)
    assert_designed_error_page(response, 413)
    assert_security_headers(response)
    outbox = Path(app.config["MAIL_OUTBOX"])
    assert not outbox.exists() or not list(outbox.glob("*.eml"))


def test_an_ordinary_form_is_not_mistaken_for_too_many_fields(client):
    response = client.post("/auth/register", data={"email": "not an address"})
    assert response.status_code == 400


# --- CSRF (REFERENCE.md bad input 11) -------------------------------------------------------------


def _signed_in(client, make_user, role=Role.VOLUNTEER) -> User:
    user = make_user(role, email=f"{role.value}-csrf@example.org", name="Kept Name")
    assert client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD}).status_code == 303
    return user


def test_a_post_without_a_token_changes_nothing(client, make_user):
    user = _signed_in(client, make_user)
    response = client.post("/account/name", data={"display_name": "Hijacked"}, csrf=False)
    assert_designed_error_page(response, 400)
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_a_token_from_another_session_is_refused(app, client, make_user):
    user = _signed_in(client, make_user)
    app.test_client_class = WorkbenchClient
    stranger = app.test_client()
    foreign = stranger.csrf_token()
    response = client.post("/account/name", data={"display_name": "Hijacked", "csrf_token": foreign})
    assert response.status_code == 400
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_a_token_signed_with_another_key_is_refused(client, make_user):
    from itsdangerous import URLSafeTimedSerializer

    user = _signed_in(client, make_user)
    with client.session_transaction() as session:
        raw = session["csrf_token"]
    forged = URLSafeTimedSerializer("another-secret", salt="wtf-csrf-token").dumps(raw)
    response = client.post("/account/name", data={"display_name": "Hijacked", "csrf_token": forged})
    assert response.status_code == 400
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_an_expired_token_is_refused(app, client, make_user, monkeypatch):
    import time

    from itsdangerous.timed import TimestampSigner

    user = _signed_in(client, make_user)
    app.config["WTF_CSRF_TIME_LIMIT"] = 3600
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) - 7200)
    old = client.csrf_token()  # made two hours ago
    monkeypatch.undo()
    response = client.post("/account/name", data={"display_name": "Hijacked", "csrf_token": old})
    assert_designed_error_page(response, 400)
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_a_token_from_before_sign_out_is_refused(client, make_user):
    user = make_user(email="before@example.org", name="Kept Name")
    old = client.csrf_token()
    client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD, "csrf_token": old})
    client.post("/auth/logout", data={"csrf_token": old})
    client.post("/auth/login", data={"email": user.email, "password": TEST_PASSWORD})
    response = client.post("/account/name", data={"display_name": "Hijacked", "csrf_token": old})
    assert response.status_code == 400
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_htmx_requests_send_the_token_in_a_header(client, make_user):
    user = _signed_in(client, make_user)
    headers = {"HX-Request": "true"}
    refused = client.post("/account/name", data={"display_name": "No Header"}, headers=headers, csrf=False)
    assert refused.status_code == 400
    accepted = client.post(
        "/account/name", data={"display_name": "With Header"}, csrf=False,
        headers={**headers, "X-CSRFToken": client.csrf_token()},
    )
    assert accepted.status_code == 303
    assert db.session.get(User, user.id).display_name == "With Header"


def test_every_page_carries_the_token_for_htmx(client):
    page = client.get("/about").get_data(as_text=True)
    assert '<meta name="csrf-token" content="' in page


def test_sign_in_itself_needs_a_token(client, make_user):
    make_user(email="login-csrf@example.org")
    response = client.post("/auth/login", data={"email": "login-csrf@example.org", "password": TEST_PASSWORD}, csrf=False)
    assert response.status_code == 400
    assert client.get("/account").status_code == 302


@pytest.mark.parametrize(
    "path",
    ["/auth/logout", "/admin/accounts/1/reactivate", "/admin/accounts/1/role"],
)
def test_state_never_changes_on_get(client, make_user, login_as, path):
    admin = login_as(make_user(Role.ADMIN))
    response = client.get(path.replace("/1/", f"/{admin.id}/"))
    assert response.status_code == 405
    assert client.get("/account").status_code == 200


def test_deactivating_by_get_only_asks_first(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    other = make_user(Role.VOLUNTEER)
    response = client.get(f"/admin/accounts/{other.id}/deactivate")
    assert response.status_code == 200 and "Yes, deactivate the account" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(User, other.id).is_active


# --- bad input: Unicode and bytes (REFERENCE.md 19) -----------------------------------------------


@pytest.mark.parametrize(
    "body",
    [
        b"email=%ff%fe%00&password=x",
        b"email=\xff\xfe&password=\xc3\x28",
        b"\xff\xff\xff",
        b"email=a%00b%40example.org&password=%00",
    ],
)
def test_invalid_utf8_and_nul_bytes_get_a_clear_answer(client, body):
    response = client.post(
        "/auth/login?" + "csrf_token=" + client.csrf_token(), data=body,
        content_type="application/x-www-form-urlencoded", csrf=False,
    )
    assert response.status_code == 400
    assert "Traceback" not in response.get_data(as_text=True)


@pytest.mark.parametrize("email", ["a\x00b@example.org", "é" * 300 + "@example.org"])
def test_odd_addresses_on_every_form_never_500(client, email):
    for path in ("/auth/login", "/auth/register", "/auth/reset"):
        response = client.post(path, data={"email": email, "password": "whatever it is"})
        assert response.status_code == 400, path
