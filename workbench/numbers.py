"""The one way a number typed in a URL or a form becomes an int.

Only ASCII digits count: "²", "٣" and "１" are digits to `str.isdigit()` but `int()` refuses some and
reads others, and none of them is what a link of this site ever holds. Signs, spaces inside, decimal
points and more than nine digits are not numbers here either.
"""

from __future__ import annotations

import re

_DIGITS = re.compile(r"[0-9]{1,9}")
LARGEST = 999_999_999


def whole_number(raw: object, *, minimum: int = 1, maximum: int = LARGEST) -> int | None:
    """`raw` (surrounding spaces allowed) as an int from `minimum` to `maximum`, else None."""
    text = (raw if isinstance(raw, str) else "" if raw is None else str(raw)).strip()
    if not _DIGITS.fullmatch(text):
        return None
    number = int(text)
    return number if minimum <= number <= maximum else None
