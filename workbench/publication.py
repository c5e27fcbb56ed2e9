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

A_PARTICIPANT = "a participant"
A_FORMER_PARTICIPANT = "a former participant"

# The choice in words, in three places: a change of wording is made here, in all three.
# The question's labels on "About you" and in the response journey (first person, as the person answers).
PUBLISH_CHOICES = {
    WITH_NAME: "With my name",
    WITHOUT_NAME: f"Without my name (shown as “{A_PARTICIPANT}”)",
    NOT_PUBLISHED: "Not at all (seen by the facilitators only, and counted in the analysis)",
}

# The account page's summary of the choice (second person).
PUBLICATION_SUMMARY = {
    WITH_NAME: "With your name",
    WITHOUT_NAME: f"Without your name: shown as “{A_PARTICIPANT}”",
    NOT_PUBLISHED: "Not published: seen by the facilitators only, and counted in the analysis",
}

# The confirmation once "About you" is saved with a new choice (accounts.services; "are now " becomes
# "are " when the person answers for the first time and keeps how they were published).
PUBLICATION_NOW = {
    WITH_NAME: "Your contributions are now published with your name.",
    WITHOUT_NAME: f"Your contributions are now published without your name: they show “{A_PARTICIPANT}”.",
    NOT_PUBLISHED: (
        "Your contributions are now not published: only the facilitators see them, and they are counted "
        "in the analysis."
    ),
}

INDIVIDUAL = "individual"
ORGANISATION = "organisation"
RESPONDING_AS = {INDIVIDUAL: "As an individual", ORGANISATION: "For an organisation"}


def name_shown(display_name: str, *, is_deleted: bool, publish_as: str | None) -> str:
    """The name the public sees beside a person's contributions."""
    if is_deleted:
        return A_FORMER_PARTICIPANT
    if publish_as in (WITHOUT_NAME, NOT_PUBLISHED):
        return A_PARTICIPANT
    return display_name
