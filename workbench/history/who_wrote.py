"""Who wrote each word of a published version (issue 18, item 1): recorded at publish, shown on
request.

`record_provenance` runs when a version is published (drafting/publishing.py, one call): for each
element it starts from the previous version's stored spans and applies only the steps since (the
draft changes this version publishes, each a new element text): an element whose text did not
change copies its spans. The attribution itself is the pure `workbench.provenance`. The spans are
stored with the version (`VersionProvenance`, immutable like it) together with each person's word
count per element (`VersionWords`, for "your words in version 3").

Names are never stored: `credit` words a source when it is shown, naming its author as everywhere
in public (`publication.name_shown`, the one place that decides how a person is named).

Every function here takes a SQLAlchemy connection where it writes or reads the chain (migration 0019
keeps its own frozen copy of the recording, for the versions published before it).
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from .. import provenance
from ..caching import app_cache
from ..facilitation.edit import carry_over_what_applies
from ..models import DraftChange, Element, ElementText, Proposal, User, Version, Vision, db, utcnow
from ..provenance import AcceptedProposal, Provenance, Source, Step, Words
from ..provenance_models import VersionProvenance, VersionWords
from ..publication import name_shown


# --- recording, at publish ------------------------------------------------------------------------


def _changes(conn: Connection, version_ids: Sequence[int]) -> list[Any]:
    """The draft changes that gave elements new texts in these versions, oldest first, with the
    proposal each accept names."""
    return conn.execute(
        select(
            DraftChange.id,
            DraftChange.kind,
            DraftChange.actor_id,
            DraftChange.text_id,
            DraftChange.proposal_id,
            Element.key,
            Proposal.author_id,
            Proposal.base_text_id,
            Proposal.title.label("proposed_title"),
            Proposal.body.label("proposed_body"),
            Proposal.accepted_with_changes,
        )
        .join(Element, Element.id == DraftChange.element_id)
        .outerjoin(Proposal, Proposal.id == DraftChange.proposal_id)
        .where(DraftChange.version_id.in_(version_ids), DraftChange.text_id.is_not(None))
        .order_by(DraftChange.id)
    ).all()


def _texts(conn: Connection, ids: Iterable[int]) -> dict[int, Words]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = conn.execute(select(ElementText.id, ElementText.title, ElementText.body).where(ElementText.id.in_(wanted)))
    return {row.id: Words(row.title or "", row.body or "") for row in rows}


def _steps(changes: Sequence[Any], texts: dict[int, Words], start: Words) -> list[Step]:
    """The steps of one element's changes: accepts of the same new text (accepted together) make
    one group."""
    steps: list[Step] = []
    current = start
    i = 0
    while i < len(changes):
        change = changes[i]
        result = texts[change.text_id]
        if change.kind == "accept" and change.proposal_id is not None:
            group = [change]
            while (
                i + 1 < len(changes)
                and changes[i + 1].kind == "accept"
                and changes[i + 1].text_id == change.text_id
                and changes[i + 1].proposal_id is not None
            ):
                i += 1
                group.append(changes[i])
            accepted = [
                AcceptedProposal(
                    id=c.proposal_id,
                    author=c.author_id,
                    base=texts.get(c.base_text_id, Words()),
                    proposed=Words(c.proposed_title or "", c.proposed_body or ""),
                )
                for c in group
            ]
            steps += provenance.accept_steps(
                current,
                accepted,
                result,
                facilitator=change.actor_id,
                with_changes=len(group) == 1 and bool(change.accepted_with_changes),
                carry_over=carry_over_what_applies,
            )
        elif change.kind == "import":
            steps.append(Step(result, provenance.FIRST_DRAFT))
        else:  # a direct edit, or an element added by a facilitator
            steps.append(Step(result, provenance.edit_source(change.actor_id)))
        current = result
        i += 1
    return steps


def _stored(conn: Connection, version_id: int) -> dict[str, Any] | None:
    text = conn.execute(select(VersionProvenance.spans).where(VersionProvenance.version_id == version_id)).scalar()
    return None if text is None else json.loads(text)


def compute_provenance(conn: Connection, version_id: int) -> tuple[dict[str, dict[str, Any]], dict[str, Words]]:
    """The spans of every element of the version `version_id`, by key (the stored form).

    Starts from the previous version's stored spans and applies only this version's changes; an
    element whose text is the one it had there copies its spans. Without stored spans for the
    previous version, starts from the beginning (every change up to this version). Also returns
    each element's words, by key."""
    row = conn.execute(
        select(Version.vision_id, Version.number, Version.snapshot).where(Version.id == version_id)
    ).one()
    snapshot = json.loads(row.snapshot)
    previous_row = conn.execute(
        select(Version.id, Version.snapshot).where(Version.vision_id == row.vision_id, Version.number == row.number - 1)
    ).first()
    previous_spans = _stored(conn, previous_row.id) if previous_row is not None else None
    previous_elements: dict[str, dict[str, Any]] = {}
    if previous_spans is not None:
        version_ids = [version_id]
        previous_elements = {e["key"]: e for e in json.loads(previous_row.snapshot)["elements"]}
    else:
        previous_spans = {}
        version_ids = list(
            conn.execute(
                select(Version.id).where(Version.vision_id == row.vision_id, Version.number <= row.number)
            ).scalars()
        )
    changes = _changes(conn, version_ids)
    texts = _texts(conn, [c.text_id for c in changes] + [c.base_text_id for c in changes])
    by_key: dict[str, list[Any]] = defaultdict(list)
    for change in changes:
        by_key[change.key].append(change)

    result: dict[str, dict[str, Any]] = {}
    words_by_key: dict[str, Words] = {}
    for element in snapshot["elements"]:
        key = element["key"]
        words = words_by_key[key] = Words(element["title"] or "", element["body"] or "")
        before = previous_elements.get(key)
        stored = previous_spans.get(key)
        if before is not None and stored is not None and before["text_id"] == element["text_id"]:
            result[key] = {**stored, "text_id": element["text_id"]}
            continue
        start = None
        if before is not None and stored is not None:
            start = Provenance.from_json(Words(before["title"] or "", before["body"] or ""), stored)
        steps = _steps(by_key.get(key, []), texts, start.words if start else Words())
        if not steps or steps[-1].words != words:
            # Never expected (the changes lead to the published text): credit what remains
            # rather than leave it unattributed.
            steps.append(Step(words, provenance.FIRST_DRAFT if row.number == 1 else provenance.edit_source(None)))
        result[key] = {**provenance.attribute(steps, start).to_json(), "text_id": element["text_id"]}
    return result, words_by_key


def record_provenance(version_id: int, conn: Connection | None = None) -> None:
    """Compute and store who wrote each word of the version just published (and each person's
    word counts). Bounded: the previous version's spans plus this version's changes. Flushes
    nothing else; the caller commits."""
    conn = conn if conn is not None else db.session.connection()
    spans, snapshot_words = compute_provenance(conn, version_id)
    conn.execute(
        insert(VersionProvenance.__table__),
        [{"version_id": version_id, "spans": json.dumps(spans, sort_keys=True, separators=(",", ":")),
          "created_at": utcnow()}],
    )
    words = []
    for key, stored in spans.items():
        counted = provenance.words_by_person(Provenance.from_json(snapshot_words[key], stored))
        words += [
            {"version_id": version_id, "user_id": person, "element_key": key, "words": count}
            for person, count in counted.items()
            if count
        ]
    if words:
        conn.execute(insert(VersionWords.__table__), words)


# --- reading, for the pages -----------------------------------------------------------------------


def stored_provenance(version: Any) -> dict[str, Provenance] | None:
    """The version's spans by element key (None when none were recorded), parsed once per process:
    one query the first time. `version` is a `visions.services.PublishedVersion`."""
    cache = app_cache("provenance", 64)
    key = (version.vision_id, version.number)
    found = cache.get(key)
    if found is None:
        text = db.session.scalar(
            select(VersionProvenance.spans)
            .join(Version, Version.id == VersionProvenance.version_id)
            .where(Version.vision_id == version.vision_id, Version.number == version.number)
        )
        if text is None:
            return None
        stored = json.loads(text)
        found = cache.put(
            key,
            {
                e["key"]: Provenance.from_json(Words(e["title"] or "", e["body"] or ""), stored[e["key"]])
                for e in version.elements
                if e["key"] in stored
            },
        )
    return found


@dataclass(frozen=True)
class Credits:
    """What the names of a version's sources depend on: each credited person's public name (None:
    not named) and the proposals hidden by moderators. `fingerprint` changes when any of it does."""

    names: dict[int, str | None]
    hidden: frozenset[int]

    @property
    def fingerprint(self) -> str:
        text = json.dumps([sorted(self.names.items()), sorted(self.hidden)], default=str)
        return hashlib.sha256(text.encode()).hexdigest()[:16]


def credits_for(sources: Iterable[Source]) -> Credits:
    """The names and moderation state of these sources: two queries at most."""
    sources = list(sources)
    # Only authors of proposals are named (facilitators' changes are the facilitators' role's).
    people = {s.person for s in sources if s.kind == "proposal" and s.person is not None}
    proposals = {s.proposal for s in sources if s.proposal is not None}
    names: dict[int, str | None] = {}
    if people:
        rows = db.session.execute(select(User.id, User.display_name, User.is_deleted, User.publish_as).where(User.id.in_(people)))
        for row in rows:
            names[row.id] = name_shown(row.display_name, is_deleted=row.is_deleted, publish_as=row.publish_as)
    hidden: frozenset[int] = frozenset()
    if proposals:
        hidden = frozenset(
            db.session.scalars(select(Proposal.id).where(Proposal.id.in_(proposals), Proposal.hidden_at.is_not(None)))
        )
    return Credits(names, hidden)


def credit(source: Source, credits: Credits) -> str:
    """A source in words, as a screen reader announces it and the legend lists it: "from proposal
    12 by Ann Example", "from the first draft", "a facilitator's change"..."""
    if source.kind == "draft":
        return "from the first draft"
    if source.kind == "edit":
        return "a facilitator's edit of the draft"
    if source.kind == "facilitator":
        return f"a facilitator's change when accepting proposal {source.proposal}"
    name = None if source.proposal in credits.hidden else credits.names.get(source.person or 0)
    return f"from proposal {source.proposal} by {name}" if name else f"from proposal {source.proposal}"


def author_of(source: Source, credits: Credits) -> str | None:
    """The name the version's open data gives for a source's author (None: not named)."""
    if source.kind != "proposal" or source.proposal in credits.hidden:
        return None
    return credits.names.get(source.person or 0)


def all_sources(spans: dict[str, Provenance]) -> list[Source]:
    """Every source of a version, in order of first appearance."""
    seen: dict[Source, None] = {}
    for element in spans.values():
        for name in provenance.FIELDS:
            for span in element.spans(name):
                seen.setdefault(span.source)
    return list(seen)


def public_spans(element: Provenance, credits: Credits) -> list[dict[str, Any]]:
    """An element's spans as the open data gives them (`who-wrote.json`)."""
    result = []
    for name in provenance.FIELDS:
        for span in element.spans(name):
            source: dict[str, Any] = {"kind": span.source.kind}
            if span.source.proposal is not None:
                source["proposal"] = span.source.proposal
            if span.source.kind == "proposal":
                source["author"] = author_of(span.source, credits)
            result.append({"field": name, "start": span.start, "end": span.end, "from": source})
    return result


# --- your words -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class YourWords:
    """A person's words in one version: how many, and in which elements (key, label, words)."""

    vision_slug: str
    vision_title: str
    number: int
    words: int
    elements: list[tuple[str, str, int]]


def your_words(user: User, limit: int = 20) -> list[YourWords]:
    """The versions with words of `user` in them, newest first (at most `limit` versions): two
    queries (the versions, then their rows), element labels from each version's snapshot as parsed
    once per process."""
    from ..visions import services as visions

    chosen = db.session.execute(
        select(VersionWords.version_id)
        .where(VersionWords.user_id == user.id)
        .group_by(VersionWords.version_id)
        .order_by(VersionWords.version_id.desc())
        .limit(limit)
    ).scalars().all()
    if not chosen:
        return []
    rows = db.session.execute(
        select(VersionWords.version_id, VersionWords.element_key, VersionWords.words, Version.number,
               Version.vision_id, Vision.slug, Vision.title)
        .join(Version, Version.id == VersionWords.version_id)
        .join(Vision, Vision.id == Version.vision_id)
        .where(VersionWords.user_id == user.id, VersionWords.version_id.in_(chosen))
        .order_by(VersionWords.version_id.desc(), VersionWords.element_key)
    ).all()
    grouped: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        grouped[row.version_id].append(row)
    result = []
    for version_id in chosen:
        group = grouped[version_id]
        first = group[0]
        snapshot = visions.parsed_snapshot(first.vision_id, first.number) or {"elements": []}
        labels = {e["key"]: e["label"] for e in snapshot["elements"]}
        order = {e["key"]: n for n, e in enumerate(snapshot["elements"])}
        elements = sorted(
            ((r.element_key, labels.get(r.element_key, r.element_key), r.words) for r in group),
            key=lambda item: order.get(item[0], len(order)),
        )
        result.append(
            YourWords(first.slug, first.title, first.number, sum(r.words for r in group), elements)
        )
    return result


def paragraphs_of(text: str, spans: Sequence[provenance.Span]) -> list[list[tuple[str, Source | None]]]:
    """`text` as the page shows it, paragraphs (split as `snapshots.paragraphs` splits a body: at
    blank lines, empty ones left out), each a list of pieces with their source (None between
    spans)."""
    result: list[list[tuple[str, Source | None]]] = [[]]
    for piece, source in provenance.pieces(text, spans):
        parts = piece.split("\n\n")
        for n, part in enumerate(parts):
            if n:
                result.append([])
            if part:
                result[-1].append((part, source))
    return [paragraph for paragraph in result if "".join(p for p, _ in paragraph).strip()]
