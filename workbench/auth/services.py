"""Account rules: email and display-name normalisation (issue 3 adds registration and the rest)."""

from __future__ import annotations

import re
import unicodedata

_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]{1,253}\.[^@\s.]{2,63}$")


def normalise_email(email: str) -> str | None:
    """NFC, trimmed, lower case; None when it is not an email address."""
    value = unicodedata.normalize("NFC", email or "").strip().lower()
    if len(value) > 254 or not _EMAIL.match(value) or any(ord(c) < 32 for c in value):
        return None
    return value
