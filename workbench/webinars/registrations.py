"""Registering for a webinar, the waiting list, cancelling: the one place places are given.

Order: every registration takes the next place in line (`Webinar.places_given + 1`) while it holds
the webinar's row: `SELECT ... FOR UPDATE` on PostgreSQL; on SQLite the write request's
`BEGIN IMMEDIATE` (workbench/database.py) holds the whole database. So the line is in the order the
registrations were committed, places are never given twice, and the unique constraint (one row per
person and webinar) makes a double registration impossible.

Seats go to the first in line: a registration is "registered" while places are free and nobody is
waiting, otherwise "waiting". A cancellation (a state: nothing is deleted) gives the free place to the
first person waiting, in the same transaction, and queues the mail that tells them. Functions flush;
the caller commits.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ..exceptions import NotAllowed, NotFound, WrongState
from ..models import Registration, User, Webinar, db, record_event, utcnow
from ..outbox import queue
from . import mails
from ..permissions import can_cancel, can_register

# Registered this close to the start: the confirmation is the reminder (reminders.py sends none).
REMINDER_AHEAD = timedelta(hours=24)


def lock_webinar(webinar_id: int) -> Webinar | None:
    """The webinar, read afresh and locked until the transaction ends (PostgreSQL: FOR UPDATE;
    SQLite: a write request's BEGIN IMMEDIATE already holds the database)."""
    return db.session.scalars(
        select(Webinar).where(Webinar.id == webinar_id).with_for_update(),
        execution_options={"populate_existing": True},
    ).one_or_none()


def places_taken(webinar: Webinar) -> int:
    return _count(webinar, "registered")


def _count(webinar: Webinar, state: str) -> int:
    return int(
        db.session.scalar(
            select(func.count()).select_from(Registration).where(Registration.webinar_id == webinar.id, Registration.state == state)
        )
        or 0
    )


def registration_of(webinar: Webinar, user_id: int) -> Registration | None:
    return db.session.scalars(
        select(Registration).where(Registration.webinar_id == webinar.id, Registration.user_id == user_id),
        execution_options={"populate_existing": True},
    ).one_or_none()


def waiting_ahead(registration: Registration) -> int:
    """How many people wait before this one."""
    return int(
        db.session.scalar(
            select(func.count())
            .select_from(Registration)
            .where(
                Registration.webinar_id == registration.webinar_id,
                Registration.state == "waiting",
                Registration.place < registration.place,
            )
        )
        or 0
    )


def _reminded_already(webinar: Webinar) -> bool:
    return webinar.starts_at - utcnow() <= REMINDER_AHEAD


def register_for_webinar(webinar: Webinar, person: User) -> Registration:
    """Register `person` (`webinar` locked by `lock_webinar`): a place if one is free and nobody is
    waiting, else the end of the waiting list; the mail that says which is queued. Registering
    again while registered or waiting changes nothing. Raises NotAllowed (not signed in, or the
    session is over)."""
    if not can_register(person, webinar):
        raise NotAllowed("This session has already taken place." if person.is_authenticated else "")
    registration = registration_of(webinar, person.id)
    if registration is not None and registration.state != "cancelled":
        return registration
    now = utcnow()
    free = places_taken(webinar) < webinar.capacity and _count(webinar, "waiting") == 0
    webinar.places_given += 1
    if registration is None:
        registration = Registration(webinar=webinar, user_id=person.id, created_at=now)
        db.session.add(registration)
    registration.place = webinar.places_given
    registration.state = "registered" if free else "waiting"
    registration.joined_at = now
    registration.registered_at = now if free else None
    registration.cancelled_at = None
    registration.reminded_at = now if free and _reminded_already(webinar) else None
    db.session.flush()
    if free:
        queue(mails.confirmation_mail(person, webinar, registration), user_id=person.id)
    else:
        queue(mails.waiting_mail(person, webinar, registration, waiting_ahead(registration)), user_id=person.id)
    record_event(
        "webinar.registered" if free else "webinar.waiting", "webinar", webinar.id,
        actor=person, vision_id=webinar.vision_id, registration_id=registration.id, place=registration.place,
    )
    return registration


def cancel_registration(registration: Registration, person: User) -> list[str]:
    """`person` cancels their own registration (or leaves the waiting list). Returns the email
    addresses of the people the free place went to. Raises NotAllowed, WrongState."""
    if not can_cancel(person, registration):
        raise NotAllowed()
    return _cancel(registration, person)


def cancel_by_link(token: str) -> tuple[Registration, list[str]]:
    """Cancel the registration a mail's cancel link names (no need to sign in: the signed token
    is the proof). Raises NotFound for a forged or altered link, or one from before the
    registration was cancelled and made again; WrongState when there is nothing to cancel."""
    registration = registration_by_link(token)
    return registration, _cancel(registration, registration.user)


def find_by_link(token: str) -> Registration | None:
    """The registration a cancel link names; None for a forged or altered link, or one from before
    the registration was cancelled and made again."""
    found = mails.read_cancel_token(token)
    registration = db.session.get(Registration, found[0]) if found else None
    if found is None or registration is None or registration.place != found[1]:
        return None
    return registration


def registration_by_link(token: str) -> Registration:
    """The registration a cancel link names, or NotFound."""
    registration = find_by_link(token)
    if registration is None:
        raise NotFound("This link is not one we sent, or it was changed on the way.")
    return registration


def _cancel(registration: Registration, person: User) -> list[str]:
    webinar = lock_webinar(registration.webinar_id)
    assert webinar is not None
    db.session.refresh(registration)
    if registration.state == "cancelled":
        raise WrongState("This place was cancelled already.")
    if utcnow() >= webinar.ends_at:
        raise WrongState("This session has already taken place, so there is nothing to cancel.")
    was_registered = registration.state == "registered"
    registration.state = "cancelled"
    registration.cancelled_at = utcnow()
    db.session.flush()
    record_event(
        "webinar.cancelled", "webinar", webinar.id, actor=person, vision_id=webinar.vision_id,
        registration_id=registration.id, was=("registered" if was_registered else "waiting"),
    )
    return fill_free_places(webinar) if was_registered else []


def fill_free_places(webinar: Webinar) -> list[str]:
    """Give the free places (capacity less those registered) to the first people waiting, in
    order, and queue the mail that tells each; nothing once the session has started. Returns
    their email addresses."""
    now = utcnow()
    free = webinar.capacity - places_taken(webinar)
    if free <= 0 or now >= webinar.starts_at:
        return []
    first = list(
        db.session.scalars(
            select(Registration)
            .where(Registration.webinar_id == webinar.id, Registration.state == "waiting")
            .order_by(Registration.place)
            .limit(free)
        )
    )
    told = []
    for registration in first:
        registration.state = "registered"
        registration.registered_at = now
        registration.reminded_at = now if _reminded_already(webinar) else None
        person = db.session.get(User, registration.user_id)
        db.session.flush()
        record_event(
            "webinar.promoted", "webinar", webinar.id, vision_id=webinar.vision_id,
            registration_id=registration.id, place=registration.place,
        )
        if person is not None and person.is_active and person.email:
            queue(mails.confirmation_mail(person, webinar, registration, promoted=True), user_id=person.id)
            told.append(person.email)
    return told
