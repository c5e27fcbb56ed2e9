"""Vision files: read and validate one from YAML (`parse_vision`; the format is documented in
docs/vision-yaml.md), and create the vision it describes (`import_vision`).

    slug: public-sector-data          # lower-case letters, digits and hyphens
    title: A Vision for Public Sector Data
    summary: One paragraph.            # optional
    statement: {title: "", body: ...}  # the central vision statement
    ambitions:
      - title: ...
        body: ...
        objectives: [{title, body}, ...]   # optional
        conditions: [{title, body}, ...]   # enabling conditions, optional

Every problem found is reported at once, each naming the field (`ambitions[2].objectives[1].title`)
and what is wrong with it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml
from sqlalchemy import select

from ..drafting.publishing import publish_version
from ..exceptions import ValidationError
from ..models import Element, User, Vision, db, record_event
from ..validation import clean_text, has_disguising_characters
from .services import add_element

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
TITLE_MAX = 200
BODY_MAX = 20_000


class VisionFileError(ValueError):
    """The file cannot be imported; `problems` lists each field and what is wrong."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


@dataclass
class ElementSpec:
    kind: str
    title: str
    body: str
    children: list[ElementSpec] = field(default_factory=list)


@dataclass
class VisionSpec:
    slug: str
    title: str
    summary: str
    statement: ElementSpec
    ambitions: list[ElementSpec]


def _text(value: Any, where: str, problems: list[str], *, multiline: bool, required: bool, limit: int) -> str:
    if value is None:
        value = ""
    if not isinstance(value, str):
        problems.append(f"{where}: must be text, not {type(value).__name__}")
        return ""
    if "\x00" in value:
        problems.append(f"{where}: contains a NUL character")
    if has_disguising_characters(value):
        problems.append(f"{where}: contains invisible or direction-changing characters")
    if not multiline and "\n" in value.strip():
        problems.append(f"{where}: must be one line")
    text = clean_text(value, multiline=multiline)
    if required and not text:
        problems.append(f"{where}: is required and is empty")
    if len(text) > limit:
        problems.append(f"{where}: is {len(text):,} characters long; the most allowed is {limit:,}")
    return text


def _element(raw: Any, kind: str, where: str, problems: list[str], *, title_required: bool) -> ElementSpec:
    if not isinstance(raw, dict):
        problems.append(f"{where}: must be a mapping with title and body")
        return ElementSpec(kind, "", "")
    allowed = {"title", "body"} | ({"objectives", "conditions"} if kind == "ambition" else set())
    for extra in sorted(set(map(str, raw)) - allowed):
        problems.append(f"{where}.{extra}: is not a known field (expected {', '.join(sorted(allowed))})")
    spec = ElementSpec(
        kind,
        _text(raw.get("title"), f"{where}.title", problems, multiline=False, required=title_required, limit=TITLE_MAX),
        _text(raw.get("body"), f"{where}.body", problems, multiline=True, required=True, limit=BODY_MAX),
    )
    if kind == "ambition":
        for child_kind, name in (("objective", "objectives"), ("condition", "conditions")):
            items = raw.get(name) or []
            if not isinstance(items, list):
                problems.append(f"{where}.{name}: must be a list")
                continue
            for i, item in enumerate(items, start=1):
                spec.children.append(
                    _element(item, child_kind, f"{where}.{name}[{i}]", problems, title_required=True)
                )
    return spec


def parse_vision(text: str) -> VisionSpec:
    """Validate YAML text; raise VisionFileError listing every problem."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise VisionFileError([f"the file is not valid YAML{where}: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(raw, dict):
        raise VisionFileError(["the file must be a mapping with slug, title, statement and ambitions"])

    problems: list[str] = []
    known = {"slug", "title", "summary", "statement", "ambitions"}
    for extra in sorted(set(map(str, raw)) - known):
        problems.append(f"{extra}: is not a known field (expected {', '.join(sorted(known))})")
    slug = raw.get("slug")
    if not isinstance(slug, str) or not SLUG.match(slug) or len(slug) > 80:
        problems.append("slug: must be lower-case letters, digits and single hyphens, at most 80 characters")
        slug = ""
    title = _text(raw.get("title"), "title", problems, multiline=False, required=True, limit=TITLE_MAX)
    summary = _text(raw.get("summary"), "summary", problems, multiline=True, required=False, limit=BODY_MAX)
    if "statement" not in raw:
        problems.append("statement: is required (the central vision statement, with a body)")
    statement = _element(raw.get("statement"), "statement", "statement", problems, title_required=False)
    ambitions_raw = raw.get("ambitions")
    ambitions: list[ElementSpec] = []
    if not isinstance(ambitions_raw, list) or not ambitions_raw:
        problems.append("ambitions: is required: a list of at least one ambition")
    else:
        for i, item in enumerate(ambitions_raw, start=1):
            ambitions.append(_element(item, "ambition", f"ambitions[{i}]", problems, title_required=True))
    if problems:
        raise VisionFileError(problems)
    return VisionSpec(slug=slug, title=title, summary=summary, statement=statement, ambitions=ambitions)


# --- importing -------------------------------------------------------------------------------------


def import_vision(spec: VisionSpec, *, actor: User | None, publish: bool, notes: str = "") -> Vision:
    """Create a vision from a validated file as its working draft; publish version 1 if asked.
    Raises ValidationError({"slug": ...}) when a vision has that slug already."""
    if db.session.scalar(select(Vision.id).where(Vision.slug == spec.slug)) is not None:
        raise ValidationError({"slug": f"a vision with the slug {spec.slug!r} already exists"})
    vision = Vision(slug=spec.slug, title=spec.title, summary=spec.summary)
    db.session.add(vision)
    db.session.flush()
    reason = "Imported from a vision file"

    def place(node: ElementSpec, parent: Element | None, position: int) -> None:
        entry = add_element(
            vision,
            node.kind,
            title=node.title,
            body=node.body,
            parent=parent,
            position=position,
            actor=actor,
            reason=reason,
            change_kind="import",
        )
        for child_position, child in enumerate(node.children, start=1):
            place(child, entry.element, child_position)

    place(spec.statement, None, 0)
    for position, ambition in enumerate(spec.ambitions, start=1):
        place(ambition, None, position)
    record_event("vision.imported", "vision", vision.id, actor=actor, vision_id=vision.id, slug=vision.slug)
    if publish:
        publish_version(vision, actor=actor, notes=notes or "First published draft.")
    return vision
