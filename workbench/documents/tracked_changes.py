"""A comparison of two versions as a Word document whose changes are real tracked changes.

The words come from the comparison the compare page shows (`history.services.compare_versions`:
the same word diffs); each insertion and deletion is a Word revision (`w:ins` / `w:del`) that a
reviewer can accept or reject in Word or LibreOffice. Each is attributed to whoever made the
element's change between the two versions: the proposal's author when an accepted proposal made it,
else the facilitator who edited the draft, else "Vision Workbench".

Attribution is per element: when an element changed more than once between a and b, its changes
are credited to the last of them (the word diff runs from a to b directly). Names are looked up when
the document is made (a deleted account shows as "a former participant"), so unlike the compare page
the file is not immutable: it is served with a short public cache and an ETag of its bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from sqlalchemy import select

from .. import diffing
from ..history.documents import ElementDiff
from ..history.services import Comparison, public_names
from ..models import DraftChange, Element, Proposal, Version, db
from ..templating import format_date, iso
from .wordml import Paragraph, Revision, Run, build_docx

SITE_AUTHOR = "Vision Workbench"


@dataclass(frozen=True)
class Attribution:
    """Who made each element's change between two versions: user ids and times, by element key."""

    by_key: dict[str, tuple[int | None, datetime]]

    @property
    def people(self) -> set[int]:
        return {user_id for user_id, _ in self.by_key.values() if user_id is not None}


def attribute_changes(comparison: Comparison) -> Attribution:
    """For each element changed between the two versions, the last change's maker (the accepted
    proposal's author, else the person who made it) and its time. One query."""
    rows = db.session.execute(
        select(Element.key, Proposal.author_id, DraftChange.actor_id, DraftChange.created_at)
        .join(Element, Element.id == DraftChange.element_id)
        .join(Version, Version.id == DraftChange.version_id)
        .outerjoin(Proposal, Proposal.id == DraftChange.proposal_id)
        .where(
            DraftChange.vision_id == comparison.newer.vision_id,
            Version.number > comparison.older.number,
            Version.number <= comparison.newer.number,
        )
        .order_by(DraftChange.id)
    ).all()
    by_key: dict[str, tuple[int | None, datetime]] = {}
    for key, author_id, actor_id, created_at in rows:
        by_key[key] = (author_id if author_id is not None else actor_id, created_at)
    return Attribution(by_key)


def _paragraphs(
    changes: Sequence[diffing.Change], revision: Revision, style: str, whole: str = "equal"
) -> list[Paragraph]:
    """Paragraphs of a body's word diff (paragraphs are separated by a blank line). A paragraph
    break inside an insertion or deletion is itself inserted or deleted; `whole` is what happened
    to the element (an added element's last paragraph end is inserted too)."""
    paragraphs = [Paragraph(style=style)]
    for change in changes:
        for i, piece in enumerate(change.text.split("\n\n")):
            if i:
                paragraphs[-1].mark = None if change.op == "equal" else (change.op, revision)
                paragraphs.append(Paragraph(style=style))
            if piece:
                paragraphs[-1].runs.append(Run(piece, change.op, revision))
    if whole != "equal":
        paragraphs[-1].mark = (whole, revision)  # type: ignore[assignment]
    return [p for p in paragraphs if p.runs or p.mark]


def _heading(row: ElementDiff, revision: Revision, style: str) -> Paragraph:
    whole = {"added": "insert", "removed": "delete"}.get(row.status, "equal")
    if row.old is not None and row.new is not None and row.old["label"] != row.new["label"]:
        runs = [Run(row.old["label"], "delete", revision), Run(row.new["label"], "insert", revision)]
    else:
        runs = [Run(row.label, whole, revision)]  # type: ignore[arg-type]
    old_title = row.old["title"] if row.old is not None else ""
    new_title = row.new["title"] if row.new is not None else ""
    if old_title or new_title:
        separator = "equal" if old_title and new_title else ("insert" if new_title else "delete")
        runs.append(Run(": ", whole if whole != "equal" else separator, revision))  # type: ignore[arg-type]
        runs += [Run(change.text, change.op, revision) for change in row.title.changes if change.text]
    paragraph = Paragraph(runs, style=style)
    if whole != "equal":
        paragraph.mark = (whole, revision)  # type: ignore[assignment]
    return paragraph


def comparison_paragraphs(comparison: Comparison, authors: dict[str, Revision]) -> list[Paragraph]:
    """The newer version's whole text with every change from the older one tracked, attributed by
    `authors` (element key -> revision; others get the site's name at the newer version's date)."""
    older, newer = comparison.older, comparison.newer
    title = newer.snapshot["vision"]["title"]
    default = Revision(SITE_AUTHOR, iso(newer.published_at))
    out = [
        Paragraph([Run(title)], style="Title"),
        Paragraph([Run(f"Changes from version {older.number} to version {newer.number}")], style="Subtitle"),
        Paragraph([Run(
            f"Version {older.number} was published {format_date(older.published_at)} and version "
            f"{newer.number} {format_date(newer.published_at)}. {comparison.diff.summary}. Every change is "
            "a tracked change, credited to the person whose proposal or edit made it: use your word "
            "processor's review features to go through them."
        )]),
    ]
    for row in comparison.diff.rows:
        revision = authors.get(row.key, default)
        style = "Heading1" if row.is_top_level else "Heading2"
        out.append(_heading(row, revision, style))
        whole = {"added": "insert", "removed": "delete"}.get(row.status, "equal")
        out += _paragraphs(row.body.changes, revision, "Normal", whole)
    return out


def change_authors(comparison: Comparison) -> dict[str, Revision]:
    """Element key -> who made its change and when, names as shown in public (two queries)."""
    attribution = attribute_changes(comparison)
    names = public_names(attribution.people)
    return {
        key: Revision(names.get(user_id, "a former participant") if user_id is not None else SITE_AUTHOR, iso(when))
        for key, (user_id, when) in attribution.by_key.items()
    }


def comparison_docx(comparison: Comparison, authors: dict[str, Revision]) -> bytes:
    """The comparison as a .docx with tracked changes attributed by `authors` (`change_authors`)."""
    older, newer = comparison.older, comparison.newer
    return build_docx(
        comparison_paragraphs(comparison, authors),
        title=f"{newer.snapshot['vision']['title']}: changes from version {older.number} to version {newer.number}",
        track_revisions=True,
    )
