"""The mail of volunteering: a facilitator's invitation to a working group, composed here and queued
by services.invite_volunteers in the transaction that records it."""

from __future__ import annotations

from ..mail import Mail, compose, external_url
from ..models import User, Vision
from .models import VolunteerInvitation


def invitation_mail(vision: Vision, person: User, invitation: VolunteerInvitation) -> Mail:
    """The facilitator's subject and message, to one volunteer, with why they receive it and where
    to change or withdraw their offer."""
    return compose(
        person.email or "",
        invitation.subject,
        "involvement/mail/invitation.txt",
        person=person,
        vision=vision,
        invitation=invitation,
        offer_page=external_url("involvement.volunteer", slug=vision.slug),
    )
