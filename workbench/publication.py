"""How a person's contributions are published (issue 17, item 3): the one rule, in words.

Asked once on "About you" and changeable at any time, for past contributions too:
- "name": with their name (everyone's choice before the question was asked);
- "anonymous": without it, as "a participant";
- "private": not at all: their proposals, comments, reflections and aligned work are seen by
  facilitators (and themselves) only, and counted in analysis.

Pure: `name_shown` is what `User.public_name` returns; the SQL side of "private" is
`models.published_by`, which every public query of contributions adds.
"""

from __future__ import annotations

WITH_NAME = "name"
WITHOUT_NAME = "anonymous"
NOT_PUBLISHED = "private"

PUBLISH_CHOICES = {
    WITH_NAME: "With my name",
    WITHOUT_NAME: "Without my name (shown as “a participant”)",
    NOT_PUBLISHED: "Not at all (seen by the facilitators only, and counted in the analysis)",
}

INDIVIDUAL = "individual"
ORGANISATION = "organisation"
RESPONDING_AS = {INDIVIDUAL: "As an individual", ORGANISATION: "For an organisation"}

A_PARTICIPANT = "a participant"
A_FORMER_PARTICIPANT = "a former participant"


def name_shown(display_name: str, *, is_deleted: bool, publish_as: str | None) -> str:
    """The name the public sees beside a person's contributions."""
    if is_deleted:
        return A_FORMER_PARTICIPANT
    if publish_as in (WITHOUT_NAME, NOT_PUBLISHED):
        return A_PARTICIPANT
    return display_name
