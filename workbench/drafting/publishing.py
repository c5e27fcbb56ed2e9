"""Publishing: the working draft becomes version n+1, and what the publish page shows before.

`publish_version` turns the working draft into an immutable, self-contained snapshot with its
content hash (chained to the previous version's and signed with the site's key: see
visions/verification.py) and an automatic changelog; the draft changes waiting to be published now
belong to it.
The publish form carries what its page showed (`PublishReview`: the latest version number and the
newest waiting change), so that a draft that moved on meanwhile is never published unseen.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..exceptions import NotAllowed, ValidationError
from ..history.documents import DocumentDiff, outline_diff
from ..history.who_wrote import record_provenance
from ..models import DraftChange, Element, Proposal, ProposalStatus, User, Version, Vision, db, record_event, utcnow
from ..validation import clean_text, has_disguising_characters
from ..visions import snapshots, verification
from ..visions.services import lock_vision, parsed_snapshot, working_rows
from .state import ChangesPage, DraftState, draft_state, pending_changes_page

NOTHING_CHANGED = "Nothing has changed since the latest version, so there is nothing to publish."
NOTES_MAX = 5_000
NO_SIGNING_KEY = (
    "This site cannot publish yet: it has no key to sign versions with. Ask the site's operators to "
    "set WORKBENCH_SIGNING_KEY (see the README, \"Verifying a version\"), then publish again."
)

# Content that makes two versions different for a reader; `text_id` is left out, so a change that
# was undone (the same words in a new text) counts as nothing changed.
CONTENT_FIELDS = ("key", "kind", "number", "label", "title", "body", "parent")


class PublishConflict(ValidationError):
    """Someone published, or changed the draft, after the publish page was prepared."""

    def __init__(self, message: str):
        super().__init__({"form": message})


def same_content(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Whether two snapshots show a reader the same vision (ignoring number, date and text ids)."""
    if old.get("vision") != new.get("vision"):
        return False
    if len(old["elements"]) != len(new["elements"]):
        return False
    return all(
        all(a.get(name) == b.get(name) for name in CONTENT_FIELDS)
        for a, b in zip(old["elements"], new["elements"])
    )


def clean_notes(notes: str | None) -> str:
    """A version's notes, cleaned (plain text, paragraphs kept), or ValidationError({"notes": ...})."""
    raw = notes or ""
    if has_disguising_characters(raw):
        raise ValidationError(
            {"notes": "Remove the hidden formatting characters (such as right-to-left overrides) from the notes"}
        )
    cleaned = clean_text(raw, multiline=True)
    if len(cleaned) > NOTES_MAX:
        raise ValidationError({"notes": f"The notes must be {NOTES_MAX:,} characters or fewer (they have {len(cleaned):,})"})
    return cleaned


def last_pending_change_id(vision: Vision) -> int:
    """The id of the newest draft change waiting to be published (0 when none): a publish form
    carries it so that a draft that moved on after the page was prepared is not published unseen."""
    return (
        db.session.scalar(
            select(DraftChange.id)
            .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
            .order_by(DraftChange.id.desc())
            .limit(1)
        )
        or 0
    )


# --- what the publish page shows -----------------------------------------------------------------


@dataclass(frozen=True)
class PublishReview:
    """What publishing now would publish: the draft against the latest version, the changes the
    changelog will list (newest first), and the two numbers the publish form carries back."""

    state: DraftState
    changes: ChangesPage
    expected_version: int
    expected_change: int

    @property
    def empty(self) -> bool:
        """The draft has no elements: there is nothing to publish."""
        return not self.state.element_count

    @property
    def nothing_changed(self) -> bool:
        """There is a published version and the draft reads as it does."""
        return bool(self.expected_version) and not self.state.diff.has_changes


def publish_review(vision: Vision) -> PublishReview:
    """The publish page's content for `vision` as it is now."""
    return PublishReview(
        state=draft_state(vision),
        changes=pending_changes_page(vision, 1),
        expected_version=vision.latest_version_number,
        expected_change=last_pending_change_id(vision),
    )


# --- publishing ----------------------------------------------------------------------------------


def _pending_change_rows(vision: Vision) -> list[Any]:
    """Unpublished draft changes with their element key and, for accepts, the proposal's author."""
    return db.session.execute(
        select(
            DraftChange.id,
            DraftChange.kind,
            DraftChange.actor_id,
            DraftChange.reason,
            DraftChange.proposal_id,
            Element.key,
            Proposal.author_id,
            Proposal.accepted_with_changes,
            Proposal.kind.label("proposal_kind"),
        )
        .join(Element, Element.id == DraftChange.element_id)
        .outerjoin(Proposal, Proposal.id == DraftChange.proposal_id)
        .where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None))
        .order_by(DraftChange.id)
    ).all()


def _rejections_between(vision: Vision, since: datetime | None, until: datetime) -> list[Any]:
    """Proposals rejected in [since, until): each rejection falls in exactly one version's window."""
    where = [
        Proposal.vision_id == vision.id,
        Proposal.status == ProposalStatus.REJECTED.value,
        Proposal.decided_at < until,
    ]
    if since is not None:
        where.append(Proposal.decided_at >= since)
    return db.session.execute(
        select(
            Proposal.id,
            Element.key,
            Proposal.author_id,
            Proposal.decided_by_id,
            Proposal.decision_reason,
        )
        .join(Element, Element.id == Proposal.element_id)
        .where(*where)
        .order_by(Proposal.decided_at, Proposal.id)
    ).all()


# Draft changes that change the outline, and the word a changelog entry uses for each.
STRUCTURAL_CHANGES = {"add": "add", "remove": "remove", "reorder": "move"}


def build_changelog(
    changes: Sequence[Any],
    rejections: Sequence[Any],
    labels: dict[str, str],
    outline: DocumentDiff | None = None,
) -> list[dict[str, Any]]:
    """The changelog entries of a version (stored as JSON with it; names are looked up on display).

    - ``{"type": "accepted", "proposal_id", "element", "label", "author_id", "actor_id",
      "with_changes", "note"}`` for each accepted proposal, with ``change`` (add, remove or move)
      when it changed the outline rather than words;
    - ``{"type": "edit", "change", "element", "label", "actor_id", "reason"}`` for each direct edit
      of the draft (``change``: edit, add, remove, reorder...);
    - ``{"type": "rejected", "proposal_id", "element", "label", "author_id", "actor_id", "reason"}``
      for each proposal rejected since the previous version.

    Each change of the outline is listed once, said in words from `outline` (the previous
    version's tree against this one's, `history.documents.outline_diff`): an entry that adds,
    removes or moves an element gets ``where`` ("moved from Ambition 2, position 3, to Ambition 4,
    position 1", "removed from Ambition 1, position 2, with the 2 objectives under it", "new under
    Ambition 2, position 3"). What a proposal did to the outline (the removal of its element and
    of those under it, the move, the addition) belongs to its accepted entry, which credits its
    author; an element moved directly several times is one entry (the last mover's) for where it
    ended up, and a direct add, removal or move that left no trace between the two versions
    (added then removed, moved back) is not listed.

    Imports are not listed (version 1 is "the first published version").
    """
    rows = {row.key: row for row in outline.rows} if outline is not None else {}
    accepted_ids = {c.proposal_id for c in changes if c.kind == "accept" and c.proposal_id is not None}
    added_by_proposal = {
        c.key for c in changes if c.kind == "accept" and c.proposal_id is not None and c.proposal_kind == "add"
    }

    def where(key: str, change: str) -> str | None:
        """The change of place in words, "" when the outline shows none, None without an outline."""
        if outline is None:
            return None
        row = rows.get(key)
        if row is None:
            return ""
        if change == "add":
            return row.place_change if row.status == "added" else ""
        if change == "remove":
            return row.place_change if row.status == "removed" else ""
        return row.place_change if row.moved else ""

    accepted: list[dict[str, Any]] = []
    edits: list[dict[str, Any]] = []
    last_move: dict[str, int] = {}  # element key -> index in `edits` of its one direct-move entry
    for change in changes:
        label = labels.get(change.key, change.key)
        if change.kind == "import":
            continue
        if change.kind == "accept" and change.proposal_id is not None:
            kind = change.proposal_kind or "edit"
            entry = {
                "type": "accepted",
                "proposal_id": change.proposal_id,
                "element": change.key,
                "label": label,
                "author_id": change.author_id,
                "actor_id": change.actor_id,
                "with_changes": bool(change.accepted_with_changes),
                "note": change.reason or "",
            }
            if kind in STRUCTURAL_CHANGES.values():
                entry["change"] = kind
                words = where(change.key, kind)
                if words:
                    entry["where"] = words
            accepted.append(entry)
            continue
        structural = STRUCTURAL_CHANGES.get(change.kind)
        if structural is not None and (
            change.proposal_id in accepted_ids or (change.kind == "add" and change.key in added_by_proposal)
        ):
            continue  # the accepted proposal's entry says it, once
        entry = {
            "type": "edit",
            "change": change.kind,
            "element": change.key,
            "label": label,
            "actor_id": change.actor_id,
            "reason": change.reason or "",
        }
        if structural is not None:
            words = where(change.key, structural)
            if words == "":
                continue  # undone before publishing: nothing changed between the versions
            if words:
                entry["where"] = words
            if change.kind == "reorder":
                if change.key in last_move:
                    edits[last_move[change.key]] = entry
                    continue
                last_move[change.key] = len(edits)
        edits.append(entry)
    rejected = [
        {
            "type": "rejected",
            "proposal_id": row.id,
            "element": row.key,
            "label": labels.get(row.key, row.key),
            "author_id": row.author_id,
            "actor_id": row.decided_by_id,
            "reason": row.decision_reason or "",
        }
        for row in rejections
    ]
    return accepted + edits + rejected


def publish_version(
    vision: Vision,
    *,
    actor: User | None,
    notes: str,
    expected_version: int | None = None,
    expected_change: int | None = None,
) -> Version:
    """Publish the working draft as version n+1: an immutable snapshot with its content hash and an
    automatic changelog; the waiting draft changes now belong to it. One transaction (flushes; the
    caller commits).

    `actor` None is the system (an import, a script); a person must be allowed to publish, or
    NotAllowed is raised. `expected_version` / `expected_change` are what the publish page showed (the latest version
    number and `last_pending_change_id`): if someone published or changed the draft since, raises
    PublishConflict. Raises ValidationError ({"notes": NOTHING_CHANGED}) when the draft shows a
    reader the same vision as the latest version (even if changes were made and undone), and
    PublishConflict if another publish of the same number won the race; ValidationError
    ({"form": NO_SIGNING_KEY}) when the site has no signing key.
    """
    if actor is not None and not permissions.can_publish(actor, vision):
        raise NotAllowed()
    if verification.configured_site_keys() is None:
        raise ValidationError({"form": NO_SIGNING_KEY})
    notes = clean_notes(notes)
    vision = lock_vision(vision)
    latest_number = vision.latest_version_number
    if expected_version is not None and latest_number != expected_version:
        raise PublishConflict(
            f"Version {latest_number} was published while you were preparing this one. "
            "Check the draft again before you publish."
        )
    rows = working_rows(vision, for_update=True)
    changes = _pending_change_rows(vision)
    if expected_change is not None and max((c.id for c in changes), default=0) != expected_change:
        raise PublishConflict(
            "The draft changed while you were preparing to publish it. "
            "Check the changes below, then publish again."
        )
    if not rows:
        raise ValidationError({"notes": "The draft has no elements, so there is nothing to publish."})

    previous = None
    if latest_number:
        previous = db.session.execute(
            select(Version.published_at, Version.snapshot, *verification.seal_columns())
            .join(Vision, Vision.id == Version.vision_id)
            .where(Version.vision_id == vision.id, Version.number == latest_number)
        ).one()
    number = latest_number + 1
    # Exact in the database (rejections are assigned to versions by it: each falls in exactly one
    # [previous, this) window); the snapshot says it to the second.
    published_at = utcnow()
    snapshot = snapshots.build_snapshot(
        slug=vision.slug,
        title=vision.title,
        summary=vision.summary,
        number=number,
        published_at=published_at,
        rows=rows,
    )
    labels: dict[str, str] = {}
    previous_elements: list[dict[str, Any]] = []
    if previous is not None:
        # Checked against its hashes first: nothing is chained onto an altered version.
        previous_snapshot = parsed_snapshot(vision.id, latest_number, previous.snapshot, verification.Seal.of(previous))
        if same_content(previous_snapshot, snapshot):
            raise ValidationError({"notes": NOTHING_CHANGED})
        labels.update((e["key"], e["label"]) for e in previous_snapshot["elements"])
        previous_elements = previous_snapshot["elements"]
    labels.update((e["key"], e["label"]) for e in snapshot["elements"])

    canonical = snapshots.canonical_json(snapshot)
    sealed = verification.seal_new_version(canonical, snapshot, notes, previous.content_hash if previous else None)
    changelog = build_changelog(
        changes,
        _rejections_between(vision, previous.published_at if previous else None, published_at),
        labels,
        outline_diff(previous_elements, snapshot["elements"], frozenset(c.key for c in changes if c.kind == "reorder")),
    )
    version = Version(
        vision_id=vision.id,
        number=number,
        published_at=published_at,
        published_by_id=actor.id if actor else None,
        notes=notes,
        content_hash=sealed.content_hash,
        snapshot=canonical,
        snapshot_hash=sealed.snapshot_hash,
        previous_hash=sealed.previous_hash,
        signature=sealed.signature,
        signing_key=sealed.signing_key,
        changelog=json.dumps(changelog, ensure_ascii=False, sort_keys=True),
    )
    try:
        with db.session.begin_nested():
            db.session.add(version)
            db.session.flush()
    except IntegrityError:
        raise PublishConflict(
            f"Someone else published version {number} at the same moment. "
            "Check the versions page: your draft may already be published."
        ) from None
    if changes:
        db.session.execute(
            update(DraftChange.__table__)
            .where(DraftChange.__table__.c.id == bindparam("change_id"))
            .values(version_id=version.id),
            [{"change_id": change.id} for change in changes],
        )
        # Changes loaded in this session must not keep a stale version_id.
        for change in db.session.identity_map.values():
            if isinstance(change, DraftChange) and change.version_id is None and change.vision_id == vision.id:
                db.session.expire(change, ["version_id"])
    record_provenance(version.id)  # who wrote each word, stored with the version (history/who_wrote.py)
    vision.latest_version_number = number
    record_event(
        "version.published",
        "version",
        version.id,
        actor=actor,
        vision_id=vision.id,
        number=number,
        content_hash=version.content_hash,
        changes=len([c for c in changes if c.kind != "import"]),
        accepted=sum(1 for e in changelog if e["type"] == "accepted"),
        rejected=sum(1 for e in changelog if e["type"] == "rejected"),
    )
    db.session.flush()
    return version
