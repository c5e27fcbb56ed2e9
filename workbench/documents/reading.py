"""A published version as a document to read: title page, contents, the text, how to cite it.

The same words as the permalink page (`templates/visions/version.html`): each element's label and
title, its paragraphs, and the citation with the permanent link and content hash. Built only from
the version's snapshot, like the permalink, so it can never say anything the version does not.
"""

from __future__ import annotations

from typing import Any

from ..templating import format_date, format_datetime
from ..visions.services import PublishedVersion
from ..visions.snapshots import paragraphs
from .wordml import Paragraph, Run, build_docx

CITE_HEADING = "How to cite this version"
CITE_PROMISE = (
    "This link always shows exactly this text. The hash lets anyone check a copy is unchanged: "
    "it is the SHA-256 of the version's canonical JSON."
)


def element_heading(element: dict[str, Any]) -> str:
    """"Objective 2.3: Title" (or the label alone), as the permalink's heading reads."""
    return f"{element['label']}: {element['title']}" if element["title"] else element["label"]


def citation(version: PublishedVersion, permalink: str) -> str:
    """The one-line citation, as the permalink's "How to cite" gives it."""
    title = version.snapshot["vision"]["title"]
    return f"{title}, version {version.number}, published {format_date(version.published_at)}. {permalink}"


def version_paragraphs(version: PublishedVersion, permalink: str) -> list[Paragraph]:
    """The whole document, in reading order."""
    vision = version.snapshot["vision"]
    out = [
        Paragraph([Run(vision["title"])], style="Title"),
        Paragraph([Run(f"Version {version.number}, published {format_date(version.published_at)}")], style="Subtitle"),
        Paragraph([Run("This is version "), Run(str(version.number)), Run(" exactly as published. It never changes. "),
                   Run("Permanent link: "), Run(permalink)]),
    ]
    if vision["summary"]:
        out.append(Paragraph([Run(vision["summary"])]))
    if version.notes:
        out.append(Paragraph([Run("Notes on this version: ", bold=True), Run(version.notes)]))

    out.append(Paragraph([Run("Contents")], style="Heading1", page_break_before=True))
    for element in version.elements:
        out.append(Paragraph([Run(element_heading(element))], indent=element["parent"] is not None))

    first = True
    for element in version.elements:
        style = "Heading1" if element["parent"] is None else "Heading2"
        out.append(Paragraph([Run(element_heading(element))], style=style, page_break_before=first))
        first = False
        out.extend(Paragraph([Run(text)]) for text in paragraphs(element["body"]))

    out += [
        Paragraph([Run(CITE_HEADING)], style="Heading1", page_break_before=True),
        Paragraph([Run(citation(version, permalink))]),
        Paragraph([Run("Version: ", bold=True), Run(str(version.number))]),
        Paragraph([Run("Published: ", bold=True), Run(format_datetime(version.published_at))]),
        Paragraph([Run("Permanent link: ", bold=True), Run(permalink)]),
        Paragraph([Run("Content hash (SHA-256): ", bold=True), Run(version.content_hash)]),
        Paragraph([Run(CITE_PROMISE)]),
    ]
    return out


def version_docx(version: PublishedVersion, permalink: str) -> bytes:
    """Version `version` as a Word document (the same bytes for the same version and link)."""
    title = version.snapshot["vision"]["title"]
    return build_docx(
        version_paragraphs(version, permalink),
        title=f"{title}, version {version.number}",
        subject=f"Content hash (SHA-256) {version.content_hash}",
    )
