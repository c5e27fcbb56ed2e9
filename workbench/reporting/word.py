"""The consultation report as a Word document (documents/wordml.py: the standard library only)."""

from __future__ import annotations

from ..history.services import ChangelogItem
from ..documents.wordml import Paragraph, Run, build_docx
from ..templating import format_date, format_datetime, zone_words
from .services import KINDS, ConsultationReport


def _author(item: ChangelogItem) -> str:
    """The proposal's author's public name; a hidden proposal's author is not named."""
    return "a participant" if item.hidden or not item.author else item.author


def _plural(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


def report_docx(report: ConsultationReport, base: str) -> bytes:
    """The report's .docx: the same headings and numbers as the page, tables as lines of text.
    `base` is the vision's absolute URL (".../visions/<slug>")."""
    p: list[Paragraph] = []

    def heading(text: str, level: int = 1) -> None:
        p.append(Paragraph([Run(text)], style=f"Heading{level}"))

    def line(text: str, *, bold: str = "", indent: bool = False) -> None:
        runs = ([Run(bold, bold=True)] if bold else []) + [Run(text)]
        p.append(Paragraph(runs, indent=indent))

    p.append(Paragraph([Run(f"We asked, you said, we did: version {report.number}")], style="Title"))
    p.append(Paragraph([Run(report.vision_title)], style="Subtitle"))
    line(f"Version {report.number} was published on {format_date(report.published_at)}. Times are {zone_words()}.")

    heading("We asked")
    if report.first:
        line("Version 1 is the first draft: it is what was first put to consultation. "
             "Its report counts what people said before it was published.")
    else:
        line(f"We consulted on version {report.previous_number} ({base}/v/{report.previous_number}/), "
             f"published on {format_date(report.since)}.")
    if report.opens_at:
        closes = f" and closes on {format_datetime(report.closes_at)}" if report.closes_at else ""
        line(f"The consultation window opened on {format_datetime(report.opens_at)}{closes}.")
    else:
        line("No consultation window has been set.")
    heading("Webinars held", 2)
    if report.webinars:
        for webinar in report.webinars:
            line(f"{webinar.title}: {format_datetime(webinar.starts_at)}", indent=True)
    else:
        line("No webinars were held.")

    heading("You said")
    totals = report.totals
    line(
        f"{_plural(totals['proposals'], 'proposal', 'proposals')}, {_plural(totals['comments'], 'comment', 'comments')} "
        f"and {_plural(totals['reflections'], 'reflection', 'reflections')} from "
        f"{_plural(report.participants, 'participant', 'participants')}."
    )
    if report.hidden:
        line(f"{report.hidden} hidden by moderators.")
    heading("Contributions per element", 2)
    for element in report.elements:
        line(", ".join(f"{getattr(element, kind)} {kind}" for kind in KINDS), bold=f"{element.label}: ", indent=True)
    if not report.elements:
        line("Nothing was said in this time.")
    heading("The most supported proposals", 2)
    for proposal in report.supported:
        line(
            f"proposal {proposal.id} by {proposal.author} on {proposal.label}: {proposal.support} support, "
            f"{proposal.oppose} oppose; {proposal.outcome}.",
            bold=f"{proposal.title or proposal.label}: ",
            indent=True,
        )
    if not report.supported:
        line("No proposal was supported in this time.")
    if report.tags:
        heading("Themes", 2)
        line("Themes are the facilitators’ codes of what people said; they chose to publish these. "
             "How many published contributions of this time carry each, most used first:")
        for tag, n in report.tags:
            line(_plural(n, "contribution", "contributions"), bold=f"{tag}: ", indent=True)

    heading("We did")
    for title, items in (("Accepted", report.accepted), ("Accepted with changes", report.accepted_with_changes)):
        heading(title, 2)
        for item in items:
            line(f"proposal {item.proposal_id} by {_author(item)}.", bold=f"{item.label}: ", indent=True)
        if not items:
            line("None.")
    heading("Rejected, with reasons", 2)
    for item in report.changes.rejected:
        reason = "The reason is hidden by moderators." if item.hidden else item.text
        line(f"proposal {item.proposal_id} by {_author(item)}. {reason}", bold=f"{item.label}: ", indent=True)
    if not report.changes.rejected:
        line("None.")
    heading("Changes to the structure", 2)
    for item in report.structural:
        line(item.where_sentence or item.change_words, bold=f"{item.label}: ", indent=True)
    if not report.structural:
        line("None.")
    heading("Contributors credited", 2)
    line(", ".join(report.changes.credits) + "." if report.changes.credits else "No one was credited in this version.")
    return build_docx(p, title=f"We asked, you said, we did: {report.vision_title}, version {report.number}", subject="Consultation report")
