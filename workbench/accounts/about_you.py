"""About you (issue 17, item 3): whether a person responds as an individual or for an organisation,
and how their contributions are published. Asked once (on the account's "About you" page, and in
the response journey when it has not been answered), changeable at any time; a change applies to
past contributions too, because every page reads the choice when it is shown
(workbench/publication.py).

Services take plain values, raise ValidationError with a message per field, flush and never commit.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..discussion.services import recount_contributions_of
from ..exceptions import ValidationError
from ..models import User, db, record_event
from ..publication import ORGANISATION, PUBLISH_CHOICES, RESPONDING_AS
from ..validation import clean_text, fields_with_hidden_characters

ORGANISATION_MAX = 200


@dataclass(frozen=True)
class AboutYou:
    """The answers as they will be saved: checked and normalised."""

    responding_as: str
    organisation: str  # "" for an individual
    publish_as: str


def check_about_you(responding_as: str | None, organisation: str | None, publish_as: str | None) -> AboutYou:
    """The answers as they will be saved, or ValidationError with every problem at once."""
    errors: dict[str, str] = {}
    if responding_as not in RESPONDING_AS:
        errors["responding_as"] = "Say whether you are responding as an individual or for an organisation"
    name = clean_text(organisation, multiline=False)
    if responding_as == ORGANISATION:
        if not name:
            errors["organisation"] = "Enter the name of the organisation you are responding for"
        elif len(name) > ORGANISATION_MAX:
            errors["organisation"] = f"The organisation's name must be {ORGANISATION_MAX} characters or fewer (you wrote {len(name):,})"
        else:
            errors.update(fields_with_hidden_characters({"organisation": name}, {"organisation": "organisation's name"}))
    if publish_as not in PUBLISH_CHOICES:
        errors["publish_as"] = "Choose how your contributions are published"
    if errors:
        raise ValidationError(errors)
    return AboutYou(str(responding_as), name if responding_as == ORGANISATION else "", str(publish_as))


def has_answered(person: User) -> bool:
    """Whether the person has said who they respond as (and so chose how they are published)."""
    return person.responding_as is not None


def save_about_you(person: User, responding_as: str | None, organisation: str | None, publish_as: str | None) -> bool:
    """Save the person's answers; True when anything changed. The audit log keeps each change of
    how they are published (without the organisation's name)."""
    answers = check_about_you(responding_as, organisation, publish_as)
    before = (person.responding_as, person.organisation, person.publish_as)
    if before == (answers.responding_as, answers.organisation, answers.publish_as):
        return False
    person.responding_as = answers.responding_as
    person.organisation = answers.organisation
    changed_publication = person.publish_as != answers.publish_as
    if changed_publication:
        record_event("account.publication_changed", "user", person.id, actor=person, was=person.publish_as, now=answers.publish_as)
    person.publish_as = answers.publish_as
    db.session.flush()
    if changed_publication:
        # The comment counts the lists sort by hold this person's comments, or now no longer do.
        recount_contributions_of(person.id)
    return True
