"""The mails of webinars, composed here and queued by registrations.py / reminders.py in the
transaction of the change they tell of: the confirmation (with the .ics file and the cancel link),
"you are on the waiting list", "a place became free: you are registered", and the reminder.

A cancel link names the registration and its place in line, signed with the site's secret key:
it works without signing in, an altered or forged one is refused, and a link from before a
cancellation does not cancel a later registration (the place changes when one registers again).
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlsplit

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..mail import Attachment, Mail, compose, external_url
from ..models import Registration, User, Webinar, utcnow
from ..templating import format_datetime, site_zone
from .calendar import Event, ics


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="webinar-cancel")


def cancel_token(registration: Registration) -> str:
    return _signer().dumps([registration.id, registration.place])


def read_cancel_token(token: str) -> tuple[int, int] | None:
    """(registration id, place) from a token this site signed; None for anything else."""
    try:
        registration_id, place = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(registration_id, int) or not isinstance(place, int):
        return None
    return registration_id, place


def cancel_url(registration: Registration) -> str:
    return external_url("webinars.cancel_by_link", token=cancel_token(registration))


def calendar_uid(registration: Registration) -> str:
    """The same for every file of one registration, so a calendar updates the event it holds."""
    domain = urlsplit(current_app.config.get("PUBLIC_URL") or "").hostname or "vision-workbench"
    return f"webinar-registration-{registration.id}@{domain}"


def calendar_file(webinar: Webinar, registration: Registration) -> Attachment:
    page = external_url("webinars.show", webinar_id=webinar.id)
    description = "\n\n".join(
        part
        for part in (
            webinar.description,
            f"Join: {webinar.joining_link}",
            f"About the session: {page}",
            f"Cannot come? Cancel your place: {cancel_url(registration)}",
        )
        if part
    )
    event = Event(
        uid=calendar_uid(registration),
        starts_at=webinar.starts_at,
        ends_at=webinar.ends_at,
        summary=webinar.title,
        description=description,
        location=webinar.joining_link,
        url=page,
        stamp=utcnow(),
    )
    return Attachment("webinar.ics", "text/calendar; method=PUBLISH", ics(event, site_zone()))


def _mail(person: User, subject: str, template: str, webinar: Webinar, registration: Registration, **extra: object) -> Mail:
    return compose(
        person.email or "",
        subject,
        template,
        person=person,
        webinar=webinar,
        when=f"{format_datetime(webinar.starts_at)} to {format_datetime(webinar.ends_at)}",
        page=external_url("webinars.show", webinar_id=webinar.id),
        cancel=cancel_url(registration),
        **extra,
    )


def confirmation_mail(person: User, webinar: Webinar, registration: Registration, *, promoted: bool = False) -> Mail:
    """You are registered (`promoted`: a place became free for you), with the calendar file."""
    if promoted:
        mail = _mail(person, f"A place became free: you are registered for {webinar.title}", "webinars/mail/promoted.txt", webinar, registration)
    else:
        mail = _mail(person, f"You are registered for {webinar.title}", "webinars/mail/registered.txt", webinar, registration)
    return dataclasses.replace(mail, attachments=(calendar_file(webinar, registration),))


def waiting_mail(person: User, webinar: Webinar, registration: Registration, ahead: int) -> Mail:
    """The session is full: you are on the waiting list, with `ahead` people before you."""
    return _mail(
        person, f"You are on the waiting list for {webinar.title}", "webinars/mail/waiting.txt", webinar, registration,
        ahead=ahead,
    )


def reminder_mail(person: User, webinar: Webinar, registration: Registration) -> Mail:
    return _mail(person, f"Reminder: {webinar.title}, {format_datetime(webinar.starts_at)}", "webinars/mail/reminder.txt", webinar, registration)
