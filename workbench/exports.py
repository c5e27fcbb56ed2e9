"""Open data files: the one place that writes spreadsheet-safe CSV."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

# A cell starting with one of these is read by spreadsheets as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> str:
    """A cell that a spreadsheet shows as text: a leading = + - @ tab or carriage return (which
    would start a formula) gets an apostrophe in front."""
    text = "" if value is None else str(value)
    if text[:1] in FORMULA_STARTS:
        return "'" + text
    return text


def csv_text(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """A whole CSV file (RFC 4180 line ends): the header, then each row with safe cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(csv_cell(value) for value in row)
    return out.getvalue()
