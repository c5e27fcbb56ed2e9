"""Signing in and out, registering, resetting a password: the flows as a person meets them."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from workbench.auth import passwords
from workbench.auth.services import normalise_email
from workbench.mail import read_outbox
from workbench.models import AuditEvent, PasswordResetToken, Role, User, db, utcnow

from .conftest import TEST_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request


def outbox(app) -> list:
    return read_outbox(app.config["MAIL_OUTBOX"])


def link_in(message, path: str) -> str:
    """The site-relative link starting with `path` in a mail's body."""
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def sign_in(client, email: str, password: str = TEST_PASSWORD, **extra):
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def signed_in_name(client) -> str | None:
    """Whose account the header shows, from the account page (None when it asks to sign in)."""
    response = client.get("/account")
    if response.status_code != 200:
        return None
    match = re.search(r'<span class="ds_summary-list__answer">([^<]*)</span>', response.get_data(as_text=True))
    return match.group(1) if match else None


# --- registration ---------------------------------------------------------------------------------


def test_registering_sends_a_link_then_creates_a_volunteer_who_is_signed_in(app, client):
    response = client.post("/auth/register", data={"email": "  New.Person@Example.ORG "})
    assert response.status_code == 303
    assert response.headers["Location"] == "/auth/check-email"
    page = client.get("/auth/check-email").get_data(as_text=True)
    assert "Check your email" in page and "new.person@example.org" in page
    assert db.session.scalar(select(func.count(User.id))) == 0  # nothing stored until the link is used

    [message] = outbox(app)
    assert message["To"] == "new.person@example.org"
    link = link_in(message, "/auth/register/")
    form_page = client.get(link)
    assert form_page.status_code == 200
    assert "Finish creating your account" in form_page.get_data(as_text=True)

    response = client.post(link, data={"display_name": "  Nia   Person ", "password": "correct horse battery"})
    assert response.status_code == 303
    user = db.session.scalar(select(User).where(User.email == "new.person@example.org"))
    assert user.display_name == "Nia Person"
    assert user.role == Role.VOLUNTEER.value
    assert user.password_hash.startswith("$argon2id$")
    assert signed_in_name(client) == "Nia Person"
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == user.id)) == "account.registered"


def test_a_registration_link_used_twice_creates_one_account(app, client):
    client.post("/auth/register", data={"email": "twice@example.org"})
    link = link_in(outbox(app)[0], "/auth/register/")
    client.post(link, data={"display_name": "Once", "password": "correct horse battery"})
    client.post("/auth/logout")
    again = client.post(link, data={"display_name": "Twice", "password": "another long password"})
    assert again.status_code == 303 and again.headers["Location"] == "/auth/login"
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "twice@example.org")) == 1
    assert db.session.scalar(select(User.display_name).where(User.email == "twice@example.org")) == "Once"


@pytest.mark.parametrize("token", ["not-a-real-token", "eyJlbWFpbCI6ImFAYi5jb20ifQ.forged.sig", "%00", "a" * 500])
def test_a_made_up_registration_link_says_it_does_not_work(client, token):
    response = client.get(f"/auth/register/{token}")
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)


def test_an_expired_registration_link_does_not_work(app, client, monkeypatch):
    client.post("/auth/register", data={"email": "late@example.org"})
    link = link_in(outbox(app)[0], "/auth/register/")
    import time

    from itsdangerous.timed import TimestampSigner

    # Read the link 25 hours later.
    monkeypatch.setattr(TimestampSigner, "get_timestamp", lambda self: int(time.time()) + 25 * 3600)
    response = client.get(link)
    assert response.status_code == 400
    assert "This link does not work" in response.get_data(as_text=True)


def test_registration_refuses_a_bad_name_and_password_beside_the_fields(app, client):
    client.post("/auth/register", data={"email": "rules@example.org"})
    link = link_in(outbox(app)[0], "/auth/register/")
    response = client.post(link, data={"display_name": "Evil\u202eName", "password": "password1"})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="display_name-error"' in page and "hidden or control characters" in page
    assert 'id="password-error"' in page and "too common" in page
    assert "There is a problem" in page
    assert db.session.scalar(select(func.count(User.id))) == 0


def test_registration_refuses_an_address_that_is_not_one(client, app):
    response = client.post("/auth/register", data={"email": "not an address"})
    assert response.status_code == 400
    assert "Enter an email address in the correct format" in response.get_data(as_text=True)
    assert outbox(app) == []


def test_signed_in_people_asking_to_register_go_to_their_account(client, make_user, login_as):
    login_as(make_user())
    response = client.get("/auth/register")
    assert response.status_code == 302 and response.headers["Location"] == "/account"


# --- enumeration ----------------------------------------------------------------------------------


class Argon2Calls:
    """Counts argon2 hashes and verifications (the expensive, timing-relevant work)."""

    def __init__(self, monkeypatch):
        self.count = 0
        real = passwords.hasher

        class Counting:
            def hash(inner, *args, **kwargs):  # noqa: N805
                self.count += 1
                return real.hash(*args, **kwargs)

            def verify(inner, *args, **kwargs):  # noqa: N805
                self.count += 1
                return real.verify(*args, **kwargs)

            def check_needs_rehash(inner, *args, **kwargs):  # noqa: N805
                return real.check_needs_rehash(*args, **kwargs)

        passwords.dummy_hash()  # made once per process, before counting
        monkeypatch.setattr(passwords, "hasher", Counting())


def _answer(response, client) -> tuple:
    """What a visitor can observe: status, where it sends them, and the page they land on."""
    location = response.headers.get("Location")
    landing = client.get(location).get_data(as_text=True) if location else response.get_data(as_text=True)
    landing = re.sub(r'name="csrf-token" content="[^"]*"|name="csrf_token"[^>]*value="[^"]*"', "", landing)
    return response.status_code, location, landing


def test_registration_answers_the_same_for_a_known_and_an_unknown_address(app, client, make_user, monkeypatch):
    make_user(email="known@example.org", name="Kim Known")
    calls = Argon2Calls(monkeypatch)
    known = _answer(client.post("/auth/register", data={"email": "Known@example.org"}), client)
    known_calls, calls.count = calls.count, 0
    unknown = _answer(client.post("/auth/register", data={"email": "known2@example.org"}), client)
    assert known[:2] == unknown[:2] == (303, "/auth/check-email")
    assert known[2].replace("known@", "known2@") == unknown[2]
    # The same work on both paths: no argon2, one mail each, to the address typed.
    assert known_calls == calls.count == 0
    first, second = outbox(app)
    assert first["To"] == "known@example.org" and "already have an account" in first.get_content()
    assert second["To"] == "known2@example.org" and "/auth/register/" in second.get_content()
    assert db.session.scalar(select(func.count(User.id))) == 1


def test_password_reset_answers_the_same_for_a_known_and_an_unknown_address(app, client, make_user):
    make_user(email="known@example.org")
    known = _answer(client.post("/auth/reset", data={"email": "known@example.org"}), client)
    unknown = _answer(client.post("/auth/reset", data={"email": "nobody@example.org"}), client)
    assert known[:2] == unknown[:2] == (303, "/auth/check-email")
    assert known[2].replace("known@", "nobody@") == unknown[2]
    first, second = outbox(app)
    assert "/auth/reset/" in first.get_content()
    assert "no account with this address" in second.get_content() and "/auth/reset/" not in second.get_content()


def test_sign_in_fails_the_same_way_for_an_unknown_address_and_a_wrong_password(client, make_user, monkeypatch):
    make_user(email="known@example.org")
    calls = Argon2Calls(monkeypatch)
    wrong_password = sign_in(client, "known@example.org", "not the password")
    wrong_calls, calls.count = calls.count, 0
    unknown = sign_in(client, "unknown@example.org", "not the password")
    assert wrong_password.status_code == unknown.status_code == 400
    assert _answer(wrong_password, client)[2].replace('"known@', '"unknown@') == _answer(unknown, client)[2]
    assert "One of them was not right" in unknown.get_data(as_text=True)
    # Both paths do exactly one argon2 verification (the unknown one against a dummy hash).
    assert wrong_calls == calls.count == 1


# --- signing in and out ---------------------------------------------------------------------------


def test_sign_in_with_any_case_and_spaces_in_the_address(client, make_user):
    make_user(email="mixed@example.org", name="Mo Mixed")
    response = sign_in(client, "  MIXED@Example.org ")
    assert response.status_code == 303 and response.headers["Location"] == "/"
    assert signed_in_name(client) == "Mo Mixed"


def test_sign_in_upgrades_an_old_password_hash(client, app):
    weak = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1).hash(TEST_PASSWORD)
    user = User(email="old@example.org", display_name="Old Hash", password_hash=weak)
    db.session.add(user)
    db.session.commit()
    assert passwords.needs_rehash(weak)
    assert sign_in(client, "old@example.org").status_code == 303
    upgraded = db.session.scalar(select(User.password_hash).where(User.id == user.id))
    assert upgraded != weak and not passwords.needs_rehash(upgraded)
    client.post("/auth/logout")
    assert sign_in(client, "old@example.org").status_code == 303


def test_a_deactivated_account_cannot_sign_in_and_is_signed_out(client, make_user):
    user = make_user(email="gone@example.org")
    sign_in(client, "gone@example.org")
    assert signed_in_name(client) == user.display_name
    db.session.get(User, user.id).is_deactivated = True
    db.session.commit()
    assert signed_in_name(client) is None
    response = sign_in(client, "gone@example.org")
    assert response.status_code == 400
    assert "This account has been deactivated" in response.get_data(as_text=True)


def test_sign_out_is_a_post_and_get_is_refused(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/auth/logout").status_code == 405
    response = client.post("/auth/logout")
    assert response.status_code == 303
    assert "You have signed out" in client.get("/").get_data(as_text=True)


def _cookie(client, name: str) -> str | None:
    cookie = client.get_cookie(name)
    return cookie.value if cookie else None


def _client_with(app, **cookies):
    from .conftest import WorkbenchClient

    app.test_client_class = WorkbenchClient
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def test_a_copied_session_cookie_stops_working_after_sign_out(app, client, make_user):
    user = make_user(email="copy@example.org")
    sign_in(client, "copy@example.org")
    copied = _cookie(client, "session")
    assert signed_in_name(_client_with(app, session=copied)) == user.display_name  # the copy works...
    client.post("/auth/logout")
    assert signed_in_name(_client_with(app, session=copied)) is None  # ...until sign-out


def test_a_copied_remember_me_cookie_stops_working_after_sign_out(app, client, make_user):
    user = make_user(email="remember@example.org")
    sign_in(client, "remember@example.org", remember="y")
    remembered = _cookie(client, "remember_token")
    assert remembered
    assert signed_in_name(_client_with(app, remember_token=remembered)) == user.display_name
    client.post("/auth/logout")
    assert _cookie(client, "remember_token") is None
    assert signed_in_name(_client_with(app, remember_token=remembered)) is None


def test_without_remember_me_there_is_no_remember_cookie(client, make_user):
    make_user(email="forget@example.org")
    sign_in(client, "forget@example.org")
    assert _cookie(client, "remember_token") is None


def test_cookies_are_http_only_and_same_site(client, make_user):
    make_user(email="flags@example.org")
    response = sign_in(client, "flags@example.org", remember="y")
    cookies = response.headers.getlist("Set-Cookie")
    for name in ("session", "remember_token"):
        [cookie] = [c for c in cookies if c.startswith(name + "=")]
        assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cookies_are_secure_when_configured(database_url, tmp_path):
    from workbench import create_app

    from .conftest import base_config

    app = create_app({**base_config(database_url), "SESSION_COOKIE_SECURE": True, "MAIL_OUTBOX": str(tmp_path)})
    assert app.config["REMEMBER_COOKIE_SECURE"] is True
    with app.test_request_context("/"):
        from flask import session

        session["x"] = 1
        response = app.make_response("x")
        app.session_interface.save_session(app, session, response)
    assert "Secure" in response.headers["Set-Cookie"]


# --- next= ----------------------------------------------------------------------------------------


def test_after_sign_in_you_return_to_the_page_you_asked_for(client, make_user):
    make_user(email="back@example.org")
    response = client.get("/account/password")
    assert response.status_code == 302
    assert response.headers["Location"] == "/auth/login?next=/account/password"
    form = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'name="next" type="hidden" value="/account/password"' in form
    response = sign_in(client, "back@example.org", next="/account/password")
    assert response.headers["Location"] == "/account/password"


OPEN_REDIRECTS = [
    "https://evil.example",
    "//evil.example",
    "///evil.example",
    "/\\evil.example",
    "\\\\evil.example",
    "%2F%2Fevil.example",
    "/%2F%2Fevil.example",
    "%252F%252Fevil.example",
    "/\t/evil.example",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "http:evil.example",
    " //evil.example",
]


@pytest.mark.parametrize("target", OPEN_REDIRECTS)
def test_next_never_leaves_the_site(client, make_user, target):
    make_user(email="stay@example.org")
    form = client.get("/auth/login", query_string={"next": target}).get_data(as_text=True)
    assert 'name="next" type="hidden" value=""' in form
    response = sign_in(client, "stay@example.org", next=target)
    assert response.status_code == 303
    assert response.headers["Location"] == "/"


def test_next_on_the_query_string_stays_on_site_too(client, make_user):
    make_user(email="query@example.org")
    response = client.post(
        "/auth/login?next=//evil.example", data={"email": "query@example.org", "password": TEST_PASSWORD}
    )
    assert response.headers["Location"] == "/"


def test_signed_in_people_visiting_sign_in_are_sent_on_safely(client, make_user, login_as):
    login_as(make_user())
    assert client.get("/auth/login?next=//evil.example").headers["Location"] == "/"
    assert client.get("/auth/login?next=/account").headers["Location"] == "/account"


def test_htmx_requests_to_a_members_page_ask_htmx_to_sign_in(client):
    response = client.get("/account", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["HX-Redirect"] == "/auth/login?next=/account"


# --- password reset -------------------------------------------------------------------------------


def test_reset_password_by_email_signs_out_everywhere_and_the_link_works_once(app, client, make_user):
    user = make_user(email="reset@example.org")
    sign_in(client, "reset@example.org")
    elsewhere = _cookie(client, "session")
    assert signed_in_name(_client_with(app, session=elsewhere)) == user.display_name

    visitor = _client_with(app)
    visitor.post("/auth/reset", data={"email": "RESET@example.org"})
    link = link_in(outbox(app)[-1], "/auth/reset/")
    stored = db.session.scalar(select(PasswordResetToken).where(PasswordResetToken.user_id == user.id))
    assert link.rsplit("/", 1)[1] not in stored.token_hash  # only a hash is stored
    assert timedelta(minutes=59) < stored.expires_at - stored.created_at <= timedelta(hours=1)

    assert visitor.get(link).status_code == 200
    response = visitor.post(link, data={"password": NEW_PASSWORD})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/login"
    assert signed_in_name(_client_with(app, session=elsewhere)) is None
    assert sign_in(visitor, "reset@example.org", NEW_PASSWORD).status_code == 303
    assert sign_in(_client_with(app), "reset@example.org", TEST_PASSWORD).status_code == 400

    again = _client_with(app).post(link, data={"password": "yet another passphrase"})
    assert again.status_code == 400 and "This link does not work" in again.get_data(as_text=True)
    assert sign_in(_client_with(app), "reset@example.org", NEW_PASSWORD).status_code == 303


def test_a_reset_link_expires_after_an_hour(app, client, make_user):
    make_user(email="expire@example.org")
    client.post("/auth/reset", data={"email": "expire@example.org"})
    link = link_in(outbox(app)[-1], "/auth/reset/")
    token = db.session.scalar(select(PasswordResetToken))
    token.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    response = client.post(link, data={"password": NEW_PASSWORD})
    assert response.status_code == 400 and "This link does not work" in response.get_data(as_text=True)
    assert sign_in(client, "expire@example.org").status_code == 303  # old password still works


def test_a_reset_link_refuses_a_common_password_and_stays_usable(app, client, make_user):
    make_user(email="common@example.org")
    client.post("/auth/reset", data={"email": "common@example.org"})
    link = link_in(outbox(app)[-1], "/auth/reset/")
    response = client.post(link, data={"password": "iloveyou123"})
    assert response.status_code == 400 and "too common" in response.get_data(as_text=True)
    assert client.post(link, data={"password": NEW_PASSWORD}).status_code == 303


def test_no_reset_link_for_a_deactivated_account(app, client, make_user):
    user = make_user(email="off@example.org")
    user.is_deactivated = True
    db.session.commit()
    client.post("/auth/reset", data={"email": "off@example.org"})
    [message] = outbox(app)
    assert "/auth/reset/" not in message.get_content()
    assert db.session.scalar(select(func.count(PasswordResetToken.id))) == 0


# --- rules ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password, problem",
    [
        ("", "at least 8"),
        ("1234567", "at least 8"),
        ("sevench", "at least 8"),
        ("🔑🔑🔑🔑🔑🔑🔑", "at least 8"),  # seven characters, however many bytes
        ("password", "too common"),
        ("PASSWORD1", "too common"),
        ("Qwerty123!", "too common"),
        ("iloveyou", "too common"),
        ("x" * 1025, "at most 1,024"),
        ("me@example.org", "must not be your email"),
    ],
)
def test_passwords_that_are_refused(password, problem):
    assert problem in (passwords.password_problem(password, email="me@example.org", display_name="Me Myself") or "")


@pytest.mark.parametrize(
    "password",
    [
        "8chars!!",
        "correct horse battery staple",
        "🔑🔑🔑🔑🔑🔑🔑🔑",
        "x" * 64,
        "a long passphrase " * 8,  # 144 characters
        "y" * 1024,
        "Grüße aus Glasgow",
        "  spaces count  ",
    ],
)
def test_passwords_that_are_accepted_and_verify(password):
    assert passwords.password_problem(password) is None


def test_a_long_emoji_passphrase_round_trips_and_normalisation_does_not_matter():
    composed = "Caf\u00e9 au lait, s'il vous pla\u00eet 🔑"
    decomposed = "Cafe\u0301 au lait, s'il vous pla\u0131\u0302t 🔑".replace("\u0131\u0302", "i\u0302")
    hashed = passwords.hash_password(composed)
    assert passwords.verify_password(hashed, decomposed)
    assert not passwords.verify_password(hashed, composed + " ")
    assert not passwords.verify_password("", composed)
    assert not passwords.verify_password("not a hash", composed)


def test_the_common_password_list_is_shipped_and_large():
    common = passwords.common_passwords()
    assert len(common) >= 1000
    assert {"123456", "password", "qwerty123", "iloveyou", "password1"} <= common
    assert sum(len(p) >= 8 for p in common) >= 500


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("  Someone@Example.ORG ", "someone@example.org"),
        ("e\u0301lise@example.org", "\u00e9lise@example.org"),  # NFC
        ("a.b+tag@sub.example.co.uk", "a.b+tag@sub.example.co.uk"),
        ("not-an-address", None),
        ("a@b", None),
        ("a,b@example.org", None),
        ("a b@example.org", None),
        ("<a>@example.org", None),
        ("a\x00@example.org", None),
        ("\u202eevil@example.org", None),
        ("zero\u200bwidth@example.org", None),
        ("a@example.org\r\nBcc: x@evil.example", None),
        ("x" * 65 + "@example.org", None),
        ("", None),
    ],
)
def test_email_normalisation(raw, expected):
    assert normalise_email(raw) == expected


def test_addresses_that_differ_only_by_case_or_normalisation_are_one_account(app, client, make_user):
    make_user(email="\u00e9lise@example.org")
    client.post("/auth/register", data={"email": "E\u0301LISE@example.org"})
    [message] = outbox(app)
    assert "already have an account" in message.get_content()


def test_two_uses_of_one_registration_link_at_once_create_one_account(app, make_user, monkeypatch):
    """The check-then-insert race: the unique address refuses the second insert cleanly."""
    from workbench.auth import services

    make_user(email="race@example.org")
    monkeypatch.setattr(services, "email_in_use", lambda address: False)  # as if both checked at once
    with pytest.raises(services.AccountExists):
        services.create_account("race@example.org", "Second", "correct horse battery")
    db.session.rollback()
    assert db.session.scalar(select(func.count(User.id)).where(User.email == "race@example.org")) == 1
