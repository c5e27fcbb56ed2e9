"""What the analysts' files hold: the one list of tables and fields.

Everything that describes the files is made from these definitions: the columns of the CSV, JSON
and XLSX files (`analysis/exports.py`), the Table Schema of each resource in `datapackage.json`,
and the "about the data" page. A field is added, renamed or explained here and nowhere else.

Two scopes: the public files hold only what anyone can read on the site; the facilitators' files
also hold hidden (moderated) proposals and comments, marked in the fields that only they have
(`facilitators_only`). No Flask, no queries.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..models import ProposalStatus

PROPOSAL_STATUSES = tuple(status.value for status in ProposalStatus)

PUBLIC = "public"
FACILITATORS = "facilitators"
SCOPES = (PUBLIC, FACILITATORS)

# Formats per scope. XLSX cannot be streamed (the file is finished, then sent) and takes seconds
# for a large table, so only facilitators may ask the site for it (see analysis/exports.py).
FORMATS = {PUBLIC: ("csv", "json"), FACILITATORS: ("csv", "json", "xlsx")}
MEDIA_TYPES = {
    "csv": "text/csv",
    "json": "application/json",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMAT_NAMES = {"csv": "CSV", "json": "JSON", "xlsx": "Excel (XLSX)"}

# Table Schema types, and how the about page names them.
TYPE_WORDS = {
    "integer": "whole number",
    "string": "text",
    "boolean": "true or false",
    "datetime": "date and time (UTC)",
}

PARTICIPANT_WORDS = (
    "a participant id: the same person has the same id in every file and every download, and no "
    "id says who the person is (never a name or an email address)"
)
UTC_WORDS = "in UTC (ISO 8601, e.g. 2026-03-01T14:05:00Z)"


@dataclass(frozen=True)
class Field:
    """One column: its name in the files, its Table Schema type, and what it means in words."""

    name: str
    type: str
    description: str
    required: bool = False
    enum: tuple[str, ...] = ()
    facilitators_only: bool = False

    @property
    def type_words(self) -> str:
        return TYPE_WORDS[self.type]

    def table_schema(self) -> dict[str, Any]:
        field: dict[str, Any] = {"name": self.name, "type": self.type, "description": self.description}
        constraints: dict[str, Any] = {}
        if self.required:
            constraints["required"] = True
        if self.enum:
            constraints["enum"] = list(self.enum)
        if constraints:
            field["constraints"] = constraints
        return field


@dataclass(frozen=True)
class Table:
    """One resource of the data package (a file per format: `<name>.csv`, `.json`, `.xlsx`)."""

    name: str
    title: str
    description: str
    fields: tuple[Field, ...]
    primary_key: str

    def fields_for(self, scope: str) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if scope == FACILITATORS or not f.facilitators_only)

    def columns(self, scope: str) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields_for(scope))

    def table_schema(self, scope: str) -> dict[str, Any]:
        return {
            "fields": [f.table_schema() for f in self.fields_for(scope)],
            "primaryKey": [self.primary_key],
            "missingValues": [""],
        }


def _element_fields(what: str) -> tuple[Field, ...]:
    return (
        Field(
            "element_key",
            "string",
            f"The part of the vision {what}: its key, which never changes and is never reused "
            "(e.g. objective-12). Use it to join these files with the published versions.",
            required=True,
        ),
        Field(
            "element_label",
            "string",
            "That part's number and title in the working draft now (e.g. \"Objective 2.3: Open by "
            "default\"); numbers change when the vision is reorganised, keys do not.",
        ),
    )


_HIDDEN = Field(
    "hidden",
    "boolean",
    "Whether the facilitators hid it (moderation): hidden items are never in the public files.",
    facilitators_only=True,
)
_HIDDEN_REASON = Field(
    "hidden_reason", "string", "Why the facilitators hid it, as they wrote it; empty when not hidden.", facilitators_only=True
)
# The codebook (workbench/coding/) is the facilitators' own: its tags are in their files only.
_TAGS = Field(
    "tags",
    "string",
    "The tags of the facilitators' codebook that it carries, by name, separated by \"; \" (semicolon and "
    "space); empty when it carries none. Only in the facilitators' files.",
    facilitators_only=True,
)

PROPOSALS = Table(
    name="proposals",
    title="Proposals",
    description="Every proposal to change the vision, one row each, with its text before and after, "
    "its votes and the facilitators' decision.",
    primary_key="id",
    fields=(
        Field("id", "integer", "The proposal's number; it never changes.", required=True),
        Field("url", "string", "The proposal's own page.", required=True),
        *_element_fields("that it changes"),
        Field("kind", "string", "What it proposes: edit (new wording) or remove (take the part out).", required=True),
        Field(
            "status",
            "string",
            "open (waiting for a decision), accepted, rejected (with a reason) or withdrawn (by its author).",
            required=True,
            enum=PROPOSAL_STATUSES,
        ),
        Field(
            "stale",
            "boolean",
            "For open proposals: true when the part's working text has changed since the proposal was "
            "written, so its changes must be carried over before a decision.",
            required=True,
        ),
        Field(
            "accepted_with_changes",
            "boolean",
            "True when a facilitator accepted it with changes of their own.",
            required=True,
        ),
        Field("title_before", "string", "The title of the text the proposal was written against."),
        Field("body_before", "string", "The body of that text: plain text, paragraphs separated by a blank line."),
        Field("title_after", "string", "The title the proposal puts forward (its latest revision)."),
        Field("body_after", "string", "The body the proposal puts forward (its latest revision)."),
        Field(
            "title_as_accepted",
            "string",
            "For accepted proposals: the title that went into the working draft (it differs from "
            "title_after when accepted with changes); empty otherwise.",
        ),
        Field("body_as_accepted", "string", "For accepted proposals: the body that went into the working draft; empty otherwise."),
        Field("rationale", "string", "Why its author proposes it, in their words."),
        Field("support", "integer", "How many people support it.", required=True),
        Field("oppose", "integer", "How many people oppose it.", required=True),
        Field("comments", "integer", "How many comments and replies on it anyone can read.", required=True),
        Field("revisions", "integer", "How many wordings its author has written (1 when never revised).", required=True),
        Field("author", "string", f"Who wrote it: {PARTICIPANT_WORDS}.", required=True),
        Field("created_at", "datetime", f"When it was first written, {UTC_WORDS}.", required=True),
        Field("updated_at", "datetime", f"When its author last revised or withdrew it, {UTC_WORDS}.", required=True),
        Field("decided_at", "datetime", f"When a facilitator accepted or rejected it, {UTC_WORDS}; empty while open and when withdrawn."),
        Field("decided_by", "string", "The facilitator who decided: a participant id (see author); empty when undecided or withdrawn."),
        Field("decision_reason", "string", "The facilitator's reason or note with the decision, as published on the proposal's page."),
        _HIDDEN,
        _HIDDEN_REASON,
        _TAGS,
    ),
)

COMMENTS = Table(
    name="comments",
    title="Comments and reflections",
    description="Every comment on a proposal and every reflection on a part of the vision, with the "
    "replies to them (one level), one row each.",
    primary_key="id",
    fields=(
        Field("id", "integer", "The comment's number; it never changes.", required=True),
        Field("url", "string", "The comment's own page.", required=True),
        Field(
            "kind",
            "string",
            "comment (on a proposal) or reflection (on a part of the vision).",
            required=True,
            enum=("comment", "reflection"),
        ),
        Field(
            "parent_id",
            "integer",
            "For a reply: the id of the comment it answers; empty for a comment that starts a thread. "
            "In the public files the comment answered may be missing, when the facilitators hid it.",
        ),
        Field("proposal_id", "integer", "For a comment: the proposal it is about (see proposals); empty for a reflection."),
        *_element_fields("it is about (for a comment: the part its proposal changes)"),
        Field("author", "string", f"Who wrote it: {PARTICIPANT_WORDS}.", required=True),
        Field("created_at", "datetime", f"When it was written, {UTC_WORDS}.", required=True),
        Field("edited_at", "datetime", f"When its author last changed its wording, {UTC_WORDS}; empty when never edited."),
        Field(
            "retracted",
            "boolean",
            "True when its author took it back. The public files keep its place in the thread but "
            "not its words.",
            required=True,
        ),
        Field("body", "string", "What it says: plain text, paragraphs separated by a blank line; empty in the public files when retracted."),
        _HIDDEN,
        _HIDDEN_REASON,
        _TAGS,
    ),
)

VOTES = Table(
    name="votes",
    title="Votes per proposal",
    description="How people voted on each proposal that has votes: tallies only, never who voted how.",
    primary_key="proposal_id",
    fields=(
        Field("proposal_id", "integer", "The proposal (see proposals).", required=True),
        *_element_fields("that the proposal changes"),
        Field("support", "integer", "Votes in support now.", required=True),
        Field("oppose", "integer", "Votes against now.", required=True),
        Field("voters", "integer", "People who have a vote on it now (support and oppose).", required=True),
        Field("first_vote_at", "datetime", f"When the earliest vote still standing was cast, {UTC_WORDS}.", required=True),
        Field("last_vote_at", "datetime", f"When a vote was last cast or changed, {UTC_WORDS}.", required=True),
        _HIDDEN,
    ),
)

PARTICIPANTS = Table(
    name="participants",
    title="Participants",
    description="Everyone who proposed, commented, reflected or voted, by participant id, with how "
    "much of each they did. Counts match the rows of the other files of the same download.",
    primary_key="participant",
    fields=(
        Field("participant", "string", f"The person: {PARTICIPANT_WORDS}.", required=True),
        Field("proposals", "integer", "Proposals they wrote.", required=True),
        Field("comments", "integer", "Comments (and replies) they wrote on proposals.", required=True),
        Field("reflections", "integer", "Reflections (and replies) they wrote on parts of the vision.", required=True),
        Field("votes", "integer", "Proposals they have a vote on now.", required=True),
        Field("first_contribution_at", "datetime", f"Their earliest contribution counted here, {UTC_WORDS}.", required=True),
        Field("last_contribution_at", "datetime", f"Their latest contribution counted here, {UTC_WORDS}.", required=True),
    ),
)

TABLES: dict[str, Table] = {t.name: t for t in (PROPOSALS, COMMENTS, VOTES, PARTICIPANTS)}


def file_name(table: Table, fmt: str) -> str:
    return f"{table.name}.{fmt}"


def resource_name(table: Table, fmt: str) -> str:
    """The resource's name in the data package: the CSV file is the table itself, the other
    formats are the same table again (`proposals-json`)."""
    return table.name if fmt == "csv" else f"{table.name}-{fmt}"


def resource(table: Table, fmt: str, scope: str) -> dict[str, Any]:
    """One Data Resource (Frictionless) for the table in a format: a path relative to the
    package, so that the package works online and from a folder of downloaded files."""
    descriptor: dict[str, Any] = {
        "name": resource_name(table, fmt),
        "path": file_name(table, fmt),
        "profile": "tabular-data-resource",
        "title": table.title if fmt == "csv" else f"{table.title} ({FORMAT_NAMES[fmt]})",
        "description": table.description,
        "format": fmt,
        "mediatype": MEDIA_TYPES[fmt],
    }
    if fmt != "xlsx":
        descriptor["encoding"] = "utf-8"
    if fmt == "json":
        descriptor["dialect"] = {"json": {"property": "rows", "keyed": True}}
    descriptor["schema"] = table.table_schema(scope)
    return descriptor


def data_package(*, name: str, title: str, description: str, homepage: str, created: str, scope: str) -> dict[str, Any]:
    """The `datapackage.json` of one vision's files in one scope (Frictionless Tabular Data Package)."""
    return {
        "profile": "tabular-data-package",
        "name": name,
        "title": title,
        "description": description,
        "homepage": homepage,
        "created": created,
        "resources": [resource(table, fmt, scope) for table in TABLES.values() for fmt in FORMATS[scope]],
    }
