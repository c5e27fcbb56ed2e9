"""Cleaning people's text; the validation error itself lives with the other domain errors."""

from __future__ import annotations

import re
import unicodedata


# Bidi overrides/isolates and zero-width characters that can disguise text; C0/C1 controls.
_DISGUISING = re.compile("[\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff]")
_CONTROL_EXCEPT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def clean_text(value: str | None, *, multiline: bool) -> str:
    """Normalise user text: NFC, newlines as \\n, no NUL/control characters, trimmed.

    Multiline text keeps paragraphs (a blank line between them) and tabs become spaces.
    """
    text = unicodedata.normalize("NFC", value or "")
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    text = _CONTROL_EXCEPT_NEWLINE.sub("", text)
    if not multiline:
        text = " ".join(text.split())
        return text
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(lines).strip("\n").strip()
    return re.sub(r"\n{3,}", "\n\n", text)


def has_disguising_characters(value: str) -> bool:
    return bool(_DISGUISING.search(value))


def hidden_characters_message(what: str) -> str:
    """What to tell someone whose `what` ("title", "proposed text") holds hidden formatting characters."""
    return (
        "Remove the hidden formatting characters (such as right-to-left overrides or zero-width spaces) "
        f"from the {what}"
    )


def fields_with_hidden_characters(values: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """{field: message} for each of `values` that holds hidden formatting characters; `names` says
    each field in words. Such text is refused rather than silently changed from what people see."""
    return {
        field: hidden_characters_message(names[field]) for field, value in values.items() if has_disguising_characters(value)
    }
