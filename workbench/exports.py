"""Open data files: the one place that writes spreadsheet-safe CSV, and the streamed JSON and the
XLSX files of the analysts' exports.

CSV: a text cell that a spreadsheet would read as a formula gets an apostrophe in front
(`csv_cell`). XLSX: every text is written as a text cell, never as a formula, a number or a link,
so nothing needs changing. JSON is data, not a spreadsheet: its text is given as it is.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from typing import IO, Any

# A cell starting with one of these is read by spreadsheets as a formula (CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# A streamed file is sent in pieces of about this many characters.
CHUNK = 64 * 1024
# Excel's limit on the characters of one cell; longer texts are cut there (and only in XLSX).
XLSX_CELL_MAX = 32_767


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


def iso_time(value: datetime | None) -> str:
    """A time as open data gives it: ISO 8601 UTC to the second ("2026-01-02T03:04:05Z"); "" for none."""
    if value is None:
        return ""
    return value.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def csv_value(value: Any) -> str:
    """A typed value as a CSV cell: None empty, booleans `true`/`false`, numbers as numbers, times
    in ISO 8601 UTC, and text made safe from spreadsheets (`csv_cell`)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return iso_time(value)
    return csv_cell(value)


def csv_stream(columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """A CSV file (a header, then the rows; RFC 4180 line ends) in pieces, as the rows come: the
    rows are never all in memory."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([csv_value(value) for value in row])
        if out.tell() >= CHUNK:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()


def json_value(value: Any) -> Any:
    """A typed value for JSON: times as ISO 8601 UTC strings, the rest as they are."""
    return iso_time(value) if isinstance(value, datetime) else value


def json_stream(head: Mapping[str, Any], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> Iterator[str]:
    """One JSON object, in pieces as the rows come: the fields of `head`, then `rows`, a list of
    objects keyed by `columns` (times in ISO 8601 UTC)."""
    opening = json.dumps(dict(head), ensure_ascii=False)
    parts = [opening[:-1] + (', "rows": [' if head else '"rows": [')]
    size, separator = 0, "\n"
    for row in rows:
        item = json.dumps({c: json_value(v) for c, v in zip(columns, row)}, ensure_ascii=False)
        parts.append(separator + item)
        separator = ",\n"
        size += len(item)
        if size >= CHUNK:
            yield "".join(parts)
            parts, size = [], 0
    parts.append("\n]}\n")
    yield "".join(parts)


def xlsx_file(sheet_name: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> IO[bytes]:
    """An Excel workbook of one sheet (a bold header row, then the rows), built on disk with
    XlsxWriter's constant memory mode, and returned open for reading at its start; the file has no
    name left on disk, so it disappears when closed. Texts longer than XLSX_CELL_MAX are cut;
    times are Excel date-times in UTC."""
    import xlsxwriter  # ~1.5 MiB: only in a process that builds a workbook

    descriptor, path = tempfile.mkstemp(suffix=".xlsx", prefix="workbench-export-")
    os.close(descriptor)
    try:
        workbook = xlsxwriter.Workbook(
            path,
            {
                "constant_memory": True,  # rows go to disk as written (in_memory would turn this off)
                "tmpdir": tempfile.gettempdir(),
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
            },
        )
        sheet = workbook.add_worksheet(sheet_name[:31])
        bold = workbook.add_format({"bold": True})
        when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
        sheet.freeze_panes(1, 0)
        for col, name in enumerate(columns):
            sheet.write_string(0, col, name, bold)
        for number, row in enumerate(rows, start=1):
            for col, value in enumerate(row):
                _write_cell(sheet, number, col, value, when)
        workbook.close()
        stream = open(path, "rb")  # noqa: SIM115 - returned open; the caller sends and closes it
    finally:
        os.unlink(path)
    return stream


def file_chunks(stream: IO[bytes]) -> Iterator[bytes]:
    """An open file's bytes in pieces, closing it once all are read (or the reader stops)."""
    with stream:
        while chunk := stream.read(CHUNK):
            yield chunk


def _write_cell(sheet: Any, row: int, col: int, value: Any, when: Any) -> None:
    if value is None:
        return
    if isinstance(value, bool):
        sheet.write_boolean(row, col, value)
    elif isinstance(value, (int, float)):
        sheet.write_number(row, col, value)
    elif isinstance(value, datetime):
        sheet.write_datetime(row, col, value.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0), when)
    else:
        text = str(value)
        if text:
            sheet.write_string(row, col, text[:XLSX_CELL_MAX])
