"""Mail (workbench/mail.py): SMTP when configured, otherwise the outbox folder and the log. The
application queues its mail (workbench/outbox.py); these tests hand a message over directly, as the
worker does."""

from __future__ import annotations

import logging
import smtplib

import pytest

from workbench import mail


class FakeSMTP:
    """Records what the app asks an SMTP server to do."""

    sent: list = []
    calls: list = []
    fail_with: Exception | None = None

    def __init__(self, host, port, timeout=None, **kwargs):  # noqa: ANN001
        FakeSMTP.calls.append(("connect", host, port, type(self).__name__))
        if FakeSMTP.fail_with:
            raise FakeSMTP.fail_with

    def __enter__(self):
        return self

    def __exit__(self, *exc):  # noqa: ANN002
        FakeSMTP.calls.append(("quit",))

    def starttls(self, context=None):  # noqa: ANN001
        FakeSMTP.calls.append(("starttls",))

    def login(self, user, password):  # noqa: ANN001
        FakeSMTP.calls.append(("login", user, password))

    def send_message(self, message, to_addrs=None):  # noqa: ANN001
        FakeSMTP.sent.append((message, to_addrs))


class FakeSMTPSSL(FakeSMTP):
    pass


def send(message: mail.Mail) -> None:
    """Hand one mail over, as the worker does (raises NotDelivered when it is not accepted)."""
    mail.deliver(mail.email_message(message), message.to)


@pytest.fixture(autouse=True)
def mail_log_enabled(monkeypatch):
    # migrations/env.py runs logging.config.fileConfig(), which disables loggers that already exist
    # (the test session migrates a database after importing the app): turn this one back on.
    monkeypatch.setattr(logging.getLogger("workbench.mail"), "disabled", False)


@pytest.fixture
def fake_smtp(monkeypatch):
    FakeSMTP.sent, FakeSMTP.calls, FakeSMTP.fail_with = [], [], None
    monkeypatch.setattr(smtplib, "SMTP", FakeSMTP)
    monkeypatch.setattr(smtplib, "SMTP_SSL", FakeSMTPSSL)
    return FakeSMTP


def test_without_smtp_mail_goes_to_the_outbox_and_the_log(app, caplog):
    with app.test_request_context("/"), caplog.at_level(logging.INFO, logger="workbench.mail"):
        send(mail.Mail("someone@example.org", "Hello", "The body.\n"))
    [message] = mail.read_outbox(app.config["MAIL_OUTBOX"])
    assert message["To"] == "someone@example.org" and message["Subject"] == "Hello"
    assert message["From"] == app.config["MAIL_FROM"]
    assert message.get_content() == "The body.\n"
    assert "someone@example.org" in caplog.text and "The body." in caplog.text


def test_with_smtp_host_mail_goes_by_smtp_with_starttls_and_login(app, fake_smtp):
    app.config.update(SMTP_HOST="smtp.example.org", SMTP_PORT=587, SMTP_USERNAME="user", SMTP_PASSWORD="secret")
    with app.test_request_context("/"):
        send(mail.Mail("someone@example.org", "Hello", "The body.\n"))
    assert fake_smtp.calls[:3] == [("connect", "smtp.example.org", 587, "FakeSMTP"), ("starttls",), ("login", "user", "secret")]
    [(message, recipients)] = fake_smtp.sent
    assert recipients == ["someone@example.org"] and message["Subject"] == "Hello"
    assert mail.read_outbox(app.config["MAIL_OUTBOX"]) == []


def test_port_465_uses_tls_from_the_start(app, fake_smtp):
    app.config.update(SMTP_HOST="smtp.example.org", SMTP_PORT=465)
    with app.test_request_context("/"):
        send(mail.Mail("someone@example.org", "Hello", "Body\n"))
    assert fake_smtp.calls[0] == ("connect", "smtp.example.org", 465, "FakeSMTPSSL")
    assert ("starttls",) not in fake_smtp.calls


def test_a_mail_server_failure_says_why_and_a_reset_request_still_gets_the_usual_answer(app, client, fake_smtp, make_user):
    app.config.update(SMTP_HOST="smtp.example.org")
    fake_smtp.fail_with = ConnectionRefusedError("down")
    with app.test_request_context("/"), pytest.raises(mail.NotDelivered) as refused:
        send(mail.Mail("someone@example.org", "Hello", "Body\n"))
    assert refused.value.reason == "ConnectionRefusedError: down" and not refused.value.permanent
    # A person asking for a reset sees the usual answer (the same whoever the mail was for).
    make_user(email="known@example.org")
    response = client.post("/auth/reset", data={"email": "known@example.org"})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/check-email"


def test_links_in_mail_use_public_url_when_set(app):
    app.config["PUBLIC_URL"] = "https://vision.example.org/"
    with app.test_request_context("/", base_url="http://evil.example"):
        assert mail.external_url("auth.login") == "https://vision.example.org/auth/login"
    app.config["PUBLIC_URL"] = None
    with app.test_request_context("/", base_url="http://localhost"):
        assert mail.external_url("auth.login") == "http://localhost/auth/login"


def test_non_ascii_addresses_can_be_written(app):
    with app.test_request_context("/"):
        send(mail.Mail("\u00e9lise@exa\u0308mple.org", "Bonjour", "Caf\u00e9\n"))
    [message] = mail.read_outbox(app.config["MAIL_OUTBOX"])
    assert message.get_content() == "Caf\u00e9\n"
