"""Cleaning people's text; the validation error itself lives with the other domain errors."""

from __future__ import annotations

import re
import unicodedata


_CONTROL_EXCEPT_NEWLINE = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f]")

# Unicode's Default_Ignorable_Code_Point property (DerivedCoreProperties.txt, Unicode 15): characters
# that show nothing by themselves. Python's unicodedata does not carry the property, so its ranges
# are here; they change rarely and only by growing within these blocks.
_DEFAULT_IGNORABLE = re.compile(
    "[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]"
)
# Of those, the ones that legitimate text needs, where they stand:
# ZWNJ and ZWJ between two visible characters (Persian words, emoji sequences such as a family);
_JOINERS = re.compile("(?<=\\S)[\u200c\u200d](?=\\S)")
# variation selectors after a visible character (emoji or text presentation, CJK variants);
_VARIATION_SELECTORS = re.compile("(?<=\\S)[\u180b-\u180d\u180f\ufe00-\ufe0f]+")
# a flag of a subdivision (Scotland, Wales): a black flag, tag letters, then the cancel tag.
_TAG_FLAG = re.compile("\U0001f3f4[\U000e0020-\U000e007e]+\U000e007f")
# More combining marks than any script stacks on one letter (Vietnamese 2, Hebrew with cantillation
# 4, Tibetan stacks ~6) is a "Zalgo" flood that spills over the lines around it.
MAX_COMBINING_MARKS = 8
_MARK_FLOOD = re.compile(f"[\u0300-\u036f\u0483-\u0489\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f]{{{MAX_COMBINING_MARKS + 1},}}")
# Letters and symbols that draw as blank space although they are not spaces (Hangul fillers are
# default-ignorable too; the braille blank is a symbol).
_BLANK_LOOKING = frozenset("\u2800\u3164\u115f\u1160\uffa0")


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
    """Whether `value` holds characters that show nothing or change how the text around them shows:
    Unicode's default-ignorable characters (bidi overrides and marks, zero-width spaces, soft hyphens,
    Hangul fillers, tags...) except where legitimate text needs them, or a flood of combining marks."""
    allowed_removed = _TAG_FLAG.sub("\U0001f3f4", _VARIATION_SELECTORS.sub("", _JOINERS.sub("", value)))
    return bool(_DEFAULT_IGNORABLE.search(allowed_removed) or _mark_flood(value))


def _mark_flood(value: str) -> bool:
    if _MARK_FLOOD.search(value):
        return True
    run = 0
    for ch in value:  # marks outside the common blocks above (Mn, Me), counted the slow way
        run = run + 1 if unicodedata.category(ch) in ("Mn", "Me") else 0
        if run > MAX_COMBINING_MARKS:
            return True
    return False


def has_something_visible(value: str) -> bool:
    """Whether `value` shows at least one letter, digit, punctuation mark or symbol (a name of only
    blank-looking characters, like U+3164 or U+2800, shows nothing)."""
    return any(
        unicodedata.category(ch)[0] in "LNPS" and ch not in _BLANK_LOOKING and not _DEFAULT_IGNORABLE.match(ch)
        for ch in value
    )


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
