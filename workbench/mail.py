"""Composing and delivering email: by SMTP when SMTP_HOST is set, otherwise into an outbox folder and
the log.

Services compose a `Mail` (plain text, rendered from a template) and return it; the view queues it
in the outbox table in the same transaction as the change it tells of (`outbox.queue`), and the mail
worker delivers it after the commit (`deliver`), so that a link in a mail always points at something
saved and a mail server that is down only delays the mail.

Settings (WORKBENCH_ environment variables): SMTP_HOST, SMTP_PORT (587; 465 means TLS from the start),
SMTP_USERNAME, SMTP_PASSWORD, SMTP_STARTTLS (true), MAIL_FROM, MAIL_OUTBOX (development: a folder that
receives one .eml file per mail), PUBLIC_URL (the site's address used in links, e.g.
https://vision.example.org; without it links use the address of the request, which is only safe when
the server or proxy refuses unknown Host headers).
"""

from __future__ import annotations

import functools
import logging
import secrets
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, make_msgid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, render_template, request, url_for

from .models import utcnow

log = logging.getLogger(__name__)

# What an SMTP server's refusal may say about the mail itself; longer answers are cut.
ERROR_LENGTH = 300


@dataclass(frozen=True)
class Attachment:
    """A small text file sent with a mail (a calendar invitation: text/calendar)."""

    filename: str
    content_type: str  # "maintype/subtype", e.g. "text/calendar; method=PUBLISH" (parameters allowed)
    content: str

    def as_dict(self) -> dict[str, str]:
        return {"filename": self.filename, "content_type": self.content_type, "content": self.content}

    @classmethod
    def from_dict(cls, data: Mapping[str, str]) -> Attachment:
        return cls(str(data["filename"]), str(data["content_type"]), str(data["content"]))


@dataclass(frozen=True)
class Mail:
    """One plain-text mail to one address; `headers` are any further headers it needs, and
    `attachments` any small text files sent with it."""

    to: str
    subject: str
    body: str
    headers: Mapping[str, str] = field(default_factory=dict)
    attachments: tuple[Attachment, ...] = ()


class NotDelivered(Exception):
    """The mail was not handed over. `permanent`: the server refused this mail or address for good
    (a 5xx answer to the recipient or the content), so trying again would not help."""

    def __init__(self, reason: str, *, permanent: bool = False):
        super().__init__(reason[:ERROR_LENGTH])
        self.reason = reason[:ERROR_LENGTH]
        self.permanent = permanent


def compose(to: str, subject: str, template: str, **context: Any) -> Mail:
    """Render a plain-text mail from a template (templates ending .txt are not HTML-escaped)."""
    body = render_template(template, **context)
    return Mail(to=to, subject=subject, body=body.strip() + "\n")


def external_url(endpoint: str, **values: Any) -> str:
    """An absolute link for a mail: PUBLIC_URL when configured, else the current request's address."""
    path = url_for(endpoint, **values)
    base = current_app.config.get("PUBLIC_URL") or request.url_root
    return base.rstrip("/") + path


def new_message_id() -> str:
    """A unique Message-ID, made once when the mail is written: every attempt to deliver it sends
    the same one, so a receiver can recognise a mail it was given twice."""
    domain = urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "vision-workbench"
    return make_msgid(domain=domain)


def email_message(mail: Mail, *, message_id: str | None = None, date: datetime | None = None) -> EmailMessage:
    """The mail as an RFC 5322 message: From (MAIL_FROM), To, Subject, Date (when it was written),
    Message-ID, its own headers, and the plain-text body, followed by its attachments (the message
    is then multipart/mixed)."""
    built = EmailMessage()
    built["From"] = current_app.config["MAIL_FROM"]
    built["To"] = mail.to
    built["Subject"] = mail.subject
    built["Date"] = format_datetime(date or utcnow())
    built["Message-ID"] = message_id or new_message_id()
    for name, value in mail.headers.items():
        built[name] = value
    built.set_content(mail.body)
    for attachment in mail.attachments:
        kind, _, parameters = attachment.content_type.partition(";")
        maintype, _, subtype = kind.strip().partition("/")
        params = dict(
            (name.strip(), value.strip()) for name, _, value in (p.partition("=") for p in parameters.split(";") if "=" in p)
        )
        if maintype != "text":
            raise ValueError(f"only text attachments are supported, not {attachment.content_type!r}")
        built.add_attachment(attachment.content, subtype=subtype, filename=attachment.filename, params=params)
    return built


def deliver(built: EmailMessage, to: str) -> None:
    """Hand one message to the SMTP server (SMTP_HOST), or write it to the outbox folder and the log.

    Returns once the server accepted it (or the file is written). Raises NotDelivered otherwise,
    saying why, and whether the refusal is for good.
    """
    config = current_app.config
    try:
        if config.get("SMTP_HOST"):
            _send_smtp(built, to, config)
            log.info("Mail sent to %s: %s", to, built["Subject"])
        else:
            path = _write_outbox(built, Path(config["MAIL_OUTBOX"]))
            log.info("Mail to %s written to %s (no SMTP_HOST set):\n%s", to, path, _text_of(built))
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _ in exc.recipients.values()]
        raise NotDelivered(f"The mail server refused the address: {_answers(exc.recipients.values())}",
                           permanent=all(code >= 500 for code in codes)) from exc
    except smtplib.SMTPResponseException as exc:
        permanent = isinstance(exc, smtplib.SMTPDataError) and exc.smtp_code >= 500
        raise NotDelivered(f"The mail server answered {_answers([(exc.smtp_code, exc.smtp_error)])}", permanent=permanent) from exc
    except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
        raise NotDelivered(f"{type(exc).__name__}: {exc}") from exc


def _text_of(built: EmailMessage) -> str:
    """The plain-text body (of a multipart message too, without its attachments)."""
    body = built.get_body(("plain",))
    return body.get_content() if body is not None else ""


def _answers(answers: Any) -> str:
    return "; ".join(
        f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}" for code, text in answers
    )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # The system's certificate authorities, read once a process: reading them costs ~50 ms a time.
    return ssl.create_default_context()


def _send_smtp(built: EmailMessage, to: str, config: Any) -> None:
    host, port = config["SMTP_HOST"], int(config.get("SMTP_PORT") or 587)
    if port == 465:
        connection: smtplib.SMTP = smtplib.SMTP_SSL(host, port, timeout=15, context=_tls_context())
    else:
        connection = smtplib.SMTP(host, port, timeout=15)
    with connection:
        if port != 465 and config.get("SMTP_STARTTLS", True):
            connection.starttls(context=_tls_context())
        if config.get("SMTP_USERNAME"):
            connection.login(config["SMTP_USERNAME"], config.get("SMTP_PASSWORD") or "")
        # Recipients given explicitly: never derived from headers.
        connection.send_message(built, to_addrs=[to])


def _write_outbox(built: EmailMessage, outbox: Path) -> Path:
    outbox.mkdir(parents=True, exist_ok=True)
    # Sortable by time; random suffix so that two mails in one microsecond do not collide.
    name = f"{utcnow():%Y%m%dT%H%M%S%f}-{secrets.token_hex(4)}.eml"
    path = outbox / name
    path.write_bytes(built.as_bytes(policy=policy.SMTPUTF8))
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
