"""The edit kind of proposal: a new title and body for one element, written against its text.

What an edit proposes is checked here (`clean_proposal_text`, `checked_text`) and what it changes in
its base is measured here (`changed_ranges`, kept on the proposal so that lists tell competing
proposals apart without a diff). `kinds.py` registers this module as the kind "edit";
`facilitation/edit.py` plans and applies an edit at acceptance.
"""

from __future__ import annotations

from dataclasses import dataclass

from .. import diffcache, diffing
from ..exceptions import ValidationError
from ..models import ElementText
from ..validation import clean_text, fields_with_hidden_characters, has_disguising_characters, hidden_characters_message

NAME = "edit"

TITLE_MAX = 200
BODY_MAX = 20_000
RATIONALE_MAX = 5_000

SAME_AS_CURRENT = "Your proposal is the same as the current text. Change the text before you send it"
SAME_AS_BASE = "Your proposal is the same as the text it is based on. Change the text before you send it"

_FIELD_NAMES = {"title": "title", "body": "proposed text", "rationale": "reason"}


@dataclass(frozen=True)
class ProposalText:
    title: str
    body: str
    rationale: str


def clean_proposal_text(
    title: str | None, body: str | None, rationale: str | None, *, require_rationale: bool = True
) -> ProposalText:
    """Normalise a proposal's title, body and rationale, or raise ValidationError per field.

    Refuses hidden formatting characters (bidi overrides, zero-width characters) rather than
    silently changing what the person sees; NUL and other control characters are removed. The
    title is one line of at most 200 characters, the body at most 20,000 characters and not
    empty, the rationale at most 5,000 characters and (unless `require_rationale` is False, for
    a preview) not empty.
    """
    raw = {"title": title or "", "body": body or "", "rationale": rationale or ""}
    errors = fields_with_hidden_characters(raw, _FIELD_NAMES)
    cleaned_title = clean_text(raw["title"], multiline=False)
    cleaned_body = clean_text(raw["body"], multiline=True)
    cleaned_rationale = clean_text(raw["rationale"], multiline=True)
    if "title" not in errors and len(cleaned_title) > TITLE_MAX:
        errors["title"] = (
            f"The title must be {TITLE_MAX} characters or fewer (it has {len(cleaned_title):,})"
        )
    if "body" not in errors:
        if not cleaned_body:
            errors["body"] = "Enter the text you propose for this element"
        elif len(cleaned_body) > BODY_MAX:
            errors["body"] = (
                f"The proposed text must be {BODY_MAX:,} characters or fewer "
                f"(it has {len(cleaned_body):,}). Propose a shorter change"
            )
    if "rationale" not in errors:
        if require_rationale and not cleaned_rationale:
            errors["rationale"] = "Explain why you propose this change"
        elif len(cleaned_rationale) > RATIONALE_MAX:
            errors["rationale"] = (
                f"The reason must be {RATIONALE_MAX:,} characters or fewer "
                f"(it has {len(cleaned_rationale):,})"
            )
    if errors:
        raise ValidationError(errors)
    return ProposalText(cleaned_title, cleaned_body, cleaned_rationale)


def clean_rationale(rationale: str | None, when_missing: str) -> str:
    """A proposal's reason on its own (for kinds that propose no words), cleaned; raises
    ValidationError({"rationale": ...}) when it is missing (`when_missing` says what to write), too
    long, or carries hidden formatting characters."""
    raw = rationale or ""
    if has_disguising_characters(raw):
        raise ValidationError({"rationale": hidden_characters_message("reason")})
    cleaned = clean_text(raw, multiline=True)
    if not cleaned:
        raise ValidationError({"rationale": when_missing})
    if len(cleaned) > RATIONALE_MAX:
        raise ValidationError({"rationale": f"The reason must be {RATIONALE_MAX:,} characters or fewer (it has {len(cleaned):,})"})
    return cleaned


def checked_text(
    title: str | None, body: str | None, rationale: str | None, base: ElementText, *, against_current: bool
) -> ProposalText:
    """`clean_proposal_text`, also refusing text equal to `base` (the element's current text when
    `against_current`, else the text the proposal was written against); every problem is
    reported at once, as ValidationError per field."""
    text: ProposalText | None = None
    errors: dict[str, list[str]] = {}
    try:
        text = clean_proposal_text(title, body, rationale)
    except ValidationError as error:
        errors = dict(error.errors)
    unchanged = (clean_text(title, multiline=False), clean_text(body, multiline=True)) == (base.title, base.body)
    if "title" not in errors and "body" not in errors and unchanged:
        errors["body"] = [SAME_AS_CURRENT if against_current else SAME_AS_BASE]
    if errors or text is None:
        raise ValidationError(errors)
    return text


def changed_ranges(base: ElementText, title: str, body: str) -> dict[str, list[list[int]]]:
    """What a proposed title and body change in their base text, as kept in Proposal.changed_ranges."""
    return {
        name: [[start, end] for start, end in diffing.ranges_of(diffcache.diff(old, new))]
        for name, old, new in (("title", base.title, title), ("body", base.body, body))
    }
