"""The emailed copy of a submitted response, composed here and queued by services.submit_response in
the transaction that submits it."""

from __future__ import annotations

from ..aligned.wording import VisionElements
from ..mail import Mail, compose, external_url
from ..models import User, Vision
from .models import ConsultationResponse
from .pages import about_you_in_words, answers_in_words


def copy_mail(vision: Vision, person: User, response: ConsultationResponse, elements: VisionElements) -> Mail:
    """The person's answers as they sent them, with the reference number and what happens next."""
    return compose(
        person.email or "",
        f"Your response to “{vision.title}”: {response.reference}",
        "responses/mail/copy.txt",
        person=person,
        vision=vision,
        response=response,
        about_you=about_you_in_words(person),
        sections=answers_in_words(response.answers or {}, elements),
        confirmation=external_url("responses.confirmation", slug=vision.slug, reference=response.reference),
    )
