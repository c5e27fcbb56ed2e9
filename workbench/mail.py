"""Sending email: by SMTP when SMTP_HOST is set, otherwise into an outbox folder and the log.

Services compose a `Mail` (plain text, rendered from a template) and return it; the view commits the
change first and sends the mail after, so that a link in a mail always points at something saved.

Settings (WORKBENCH_ environment variables): SMTP_HOST, SMTP_PORT (587; 465 means TLS from the start),
SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS (true), MAIL_FROM, MAIL_OUTBOX (development: a folder that
receives one .eml file per mail), PUBLIC_URL (the site's address used in links, e.g.
https://vision.example.org; without it links use the address of the request, which is only safe when
the server or proxy refuses unknown Host headers).
"""

from __future__ import annotations

import logging
import secrets
import smtplib
import ssl
from dataclasses import dataclass
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

from flask import current_app, render_template, request, url_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Mail:
    """One plain-text mail to one address."""

    to: str
    subject: str
    body: str


def compose(to: str, subject: str, template: str, **context: Any) -> Mail:
    """Render a plain-text mail from a template (templates ending .txt are not HTML-escaped)."""
    body = render_template(template, **context)
    return Mail(to=to, subject=subject, body=body.strip() + "\n")


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for a mail: PUBLIC_URL when configured, else the current request's address."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + path


def _message(mail: Mail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = current_app.config["MAIL_FROM"]
    message["To"] = mail.to
    message["Subject"] = mail.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="vision-workbench")
    message.set_content(mail.body)
    return message


def send(mail: Mail) -> bool:
    """Send the mail; True when it was handed over (to SMTP or the outbox).

    A failure is logged and reported as False, never raised: a mail server being down must not turn a
    saved change into an error page, and the same answer is shown whoever the mail was for.
    """
    message = _message(mail)
    config = current_app.config
    try:
        if config.get("SMTP_HOST"):
            _send_smtp(message, mail.to, config)
            log.info("Mail sent to %s: %s", mail.to, mail.subject)
        else:
            path = _write_outbox(message, Path(config["MAIL_OUTBOX"]))
            log.info("Mail to %s written to %s (no SMTP_HOST set):\n%s", mail.to, path, mail.body)
        return True
    except (smtplib.SMTPException, OSError, ssl.SSLError):
        log.exception("Could not send mail to %s: %s", mail.to, mail.subject)
        return False


def _send_smtp(message: EmailMessage, to: str, config: Any) -> None:
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587)
    context = ssl.create_default_context()
    if port == 465:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=15, context=context)
    else:
        connection = smtplib.SMTP(host, port, timeout=15)
    with connection:
        if port != 465 and config.get("SMTP_STARTTLS", True):
            connection.starttls(context=context)
        if config.get("SMTP_USERNAME"):
            connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        # Recipients given explicitly: never derived from headers.
        connection.send_message(message, to_addrs=[to])


def _write_outbox(message: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    # Sortable by time; random suffix so that two mails in one microsecond do not collide.
    from .models import utcnow

    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    path = outbox / name
    path.write_bytes(message.as_bytes(policy=policy.SMTPUTF8))
    return path


def read_outbox(outbox: str | Path) -> list[EmailMessage]:
    """The mails in an outbox folder, oldest first (for tests and for developers)."""
    folder = Path(outbox)
    if not folder.is_dir():
        return []
    parser = BytesParser(policy=policy.default)
    messages = []
    for path in sorted(folder.glob("*.eml")):
        with open(path, "rb") as handle:
            messages.append(parser.parse(handle))  # type: ignore[arg-type]
    return messages
