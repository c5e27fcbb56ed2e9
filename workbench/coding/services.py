"""Changes to a codebook (its tags, and which are published as themes) and to what carries its tags. Each function checks the permission again
(`can_code_responses`), raises ValidationError with a message per field for bad input, records an
audit event, and flushes; the view commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, select, update

from ..exceptions import NotAllowed, NotFound, ValidationError
from ..models import Comment, Proposal, Vision, db, record_event, utcnow
from ..numbers import whole_number
from ..permissions import can_code_responses
from ..validation import clean_text, has_disguising_characters, has_something_visible, hidden_characters_message
from .models import LINKS, TAG_NAME_MAX, Tag

# How many items one "tag the selected" may change at once (a page of the queue or of responses).
MAX_TAGGED_AT_ONCE = 100


def _check_may_code(actor: Any, vision: Vision) -> None:
    if not can_code_responses(actor, vision):
        raise NotAllowed("Only facilitators can keep the codebook and tag responses.")


def name_key(name: str) -> str:
    """How two names are compared: case and width folded, so "Housing" and "HOUSING" are one."""
    return name.casefold()


def _checked_name(vision: Vision, raw: str | None, *, field: str = "name", keeping: Tag | None = None) -> str:
    """The cleaned tag name, or ValidationError (`field`): empty, too long, hidden characters, or
    another active tag of the vision has it in any case."""
    name = clean_text(raw, multiline=False)
    if not name or not has_something_visible(name):
        raise ValidationError({field: "Enter a name for the tag"})
    if len(name) > TAG_NAME_MAX:
        raise ValidationError({field: f"Tag names can be at most {TAG_NAME_MAX} characters long (this one has {len(name)})"})
    if has_disguising_characters(name):
        raise ValidationError({field: hidden_characters_message("tag name")})
    same = db.session.scalar(select(Tag).where(Tag.vision_id == vision.id, Tag.name_key == name_key(name)))
    if same is not None and same is not keeping:
        raise ValidationError({field: f"There is already a tag called “{same.name}” (names differ by more than upper or lower case)"})
    return name


def create_tag(vision: Vision, raw_name: str | None, actor: Any) -> Tag:
    """A new active tag in the vision's codebook. Raises NotAllowed, ValidationError (`name`)."""
    _check_may_code(actor, vision)
    name = _checked_name(vision, raw_name)
    tag = Tag(vision_id=vision.id, name=name, name_key=name_key(name), state="active", created_by_id=actor.id)
    db.session.add(tag)
    db.session.flush()
    record_event("tag.created", "tag", tag.id, actor=actor, vision_id=vision.id, name=name)
    return tag


def rename_tag(tag: Tag, raw_name: str | None, actor: Any) -> Tag:
    """Give an active tag a new name (a change of case only is allowed). Raises NotAllowed,
    ValidationError (`name`: bad name, or the tag was merged)."""
    vision = db.session.get(Vision, tag.vision_id)
    _check_may_code(actor, vision)
    if tag.merged:
        raise ValidationError({"name": f"“{tag.name}” was merged into another tag, so it cannot be renamed"})
    name = _checked_name(vision, raw_name, keeping=tag)
    if name != tag.name:
        record_event("tag.renamed", "tag", tag.id, actor=actor, vision_id=vision.id, old_name=tag.name, name=name)
        tag.name, tag.name_key = name, name_key(name)
        db.session.flush()
    return tag


def tag_of_vision(vision: Vision, raw_id: Any, *, field: str = "tag", active: bool = True) -> Tag:
    """The tag of `vision` that a form names by id. Raises ValidationError (`field`) when there is
    none such (another vision's tag, a merged tag when `active`, or not a number)."""
    number = whole_number(raw_id)
    tag = db.session.get(Tag, number) if number is not None else None
    if tag is None or tag.vision_id != vision.id or (active and tag.merged):
        raise ValidationError({field: "Choose a tag of this vision’s codebook"})
    return tag


def merge_tag(tag: Tag, into: Tag, actor: Any) -> int:
    """Merge `tag` into `into`: every item tagged with `tag` carries `into` instead (once), and
    `tag` stays, as "merged into" `into`, its name free for a new tag. Returns how many items
    moved. Raises NotAllowed, ValidationError (`into`: itself, another vision's, a merged one)."""
    vision = db.session.get(Vision, tag.vision_id)
    _check_may_code(actor, vision)
    if tag.merged:
        raise ValidationError({"into": f"“{tag.name}” was merged already"})
    if into.id == tag.id:
        raise ValidationError({"into": "Choose another tag to merge it into: a tag cannot be merged into itself"})
    if into.vision_id != tag.vision_id or into.merged:
        raise ValidationError({"into": "Choose a tag of this vision’s codebook"})
    moved = 0
    for link, item_column in LINKS.values():
        already = select(item_column).where(link.tag_id == into.id)
        # Items that carry both lose the old link; the others move theirs over.
        db.session.execute(delete(link).where(link.tag_id == tag.id, item_column.in_(already)))
        moved += db.session.execute(update(link).where(link.tag_id == tag.id).values(tag_id=into.id)).rowcount or 0
    # A merged tag is never a theme; `into` keeps its own choice.
    was_published = tag.published
    tag.state, tag.merged_into_id, tag.name_key, tag.published_at = "merged", into.id, None, None
    db.session.flush()
    record_event(
        "tag.merged", "tag", tag.id, actor=actor, vision_id=vision.id, name=tag.name, into=into.id, into_name=into.name,
        **({"was_published": True} if was_published else {}),
    )
    return moved


def publish_theme(tag: Tag, actor: Any) -> bool:
    """Publish an active tag as a theme: its name, and how many visible contributions carry it, then
    appear in the public consultation reports. Returns False when it was published already (nothing
    changes). Raises NotAllowed, ValidationError (`theme`: the tag was merged)."""
    vision = db.session.get(Vision, tag.vision_id)
    _check_may_code(actor, vision)
    # One conditional statement: a merge committed since the page was read (by another facilitator)
    # is seen here, never written over (the database refuses a published merged tag).
    published = db.session.execute(
        update(Tag)
        .where(Tag.id == tag.id, Tag.state == "active", Tag.published_at.is_(None))
        .values(published_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.refresh(tag)
    if tag.merged:
        raise ValidationError({"theme": f"“{tag.name}” was merged into another tag, so it cannot be published as a theme"})
    if not published:
        return False
    record_event("tag.published", "tag", tag.id, actor=actor, vision_id=vision.id, name=tag.name)
    return True


def stop_publishing_theme(tag: Tag, actor: Any) -> bool:
    """Make a published theme a private tag again (its taggings stay). Returns False when it was not
    published (nothing changes). Raises NotAllowed."""
    vision = db.session.get(Vision, tag.vision_id)
    _check_may_code(actor, vision)
    if not tag.published:
        return False
    tag.published_at = None
    db.session.flush()
    record_event("tag.unpublished", "tag", tag.id, actor=actor, vision_id=vision.id, name=tag.name)
    return True


# --- putting tags on items --------------------------------------------------------------------------


def item_of_vision(vision: Vision, kind: str, item_id: int) -> Proposal | Comment:
    """The proposal or comment (reflections are comments) of `vision` with that id. Raises
    NotFound for an unknown kind, a missing item or another vision's."""
    model = {"proposal": Proposal, "comment": Comment}.get(kind)
    item = db.session.get(model, item_id) if model is not None else None
    if item is None or item.vision_id != vision.id:
        raise NotFound("There is no such item in this vision.")
    return item


def set_tags(vision: Vision, kind: str, item: Proposal | Comment, raw_tag_ids: Sequence[str], actor: Any) -> tuple[list[Tag], list[Tag]]:
    """Make the tags of one item exactly those ticked (`raw_tag_ids`, active tags of `vision`).
    Returns (added, removed). Raises NotAllowed, NotFound (the item is not the vision's),
    ValidationError (`tags`: a tag that is not in the codebook; nothing changes then)."""
    _check_may_code(actor, vision)
    if item.vision_id != vision.id:
        raise NotFound("There is no such item in this vision.")
    wanted = {tag.id: tag for tag in (tag_of_vision(vision, raw, field="tags") for raw in raw_tag_ids)}
    link, item_column = LINKS[kind]
    have = {row.tag_id: row for row in db.session.scalars(select(link).where(item_column == item.id))}
    added = [tag for tag_id, tag in wanted.items() if tag_id not in have]
    removed_ids = [tag_id for tag_id in have if tag_id not in wanted]
    for tag in added:
        db.session.add(link(tag_id=tag.id, tagged_by_id=actor.id, **{item_column.key: item.id}))
    removed = [db.session.get(Tag, tag_id) for tag_id in removed_ids]
    if removed_ids:
        db.session.execute(delete(link).where(item_column == item.id, link.tag_id.in_(removed_ids)))
    if added or removed:
        db.session.flush()
        record_event(
            "tags.changed", kind, item.id, actor=actor, vision_id=vision.id,
            added=sorted(t.name for t in added), removed=sorted(t.name for t in removed),
        )
    return added, removed


def tag_selected(vision: Vision, kind: str, raw_ids: Sequence[str], raw_tag_id: Any, actor: Any) -> tuple[Tag, int, int]:
    """Put one tag on every selected item (ids of proposals or comments of `vision`). Returns (the
    tag, how many items were selected, how many newly carry it). All or nothing: raises NotAllowed,
    ValidationError (`tag`: not in the codebook; `selected`: none, too many, or one that is not the
    vision's, said by its number)."""
    _check_may_code(actor, vision)
    tag = tag_of_vision(vision, raw_tag_id)
    ids = sorted({n for n in (whole_number(raw) for raw in raw_ids) if n is not None})
    if not ids:
        raise ValidationError({"selected": "Select at least one item to tag"})
    if len(ids) > MAX_TAGGED_AT_ONCE:
        raise ValidationError({"selected": f"Select at most {MAX_TAGGED_AT_ONCE} items at once (you selected {len(ids)})"})
    model = Proposal if kind == "proposal" else Comment
    found = set(db.session.scalars(select(model.id).where(model.id.in_(ids), model.vision_id == vision.id)))
    missing = [n for n in ids if n not in found]
    if missing:
        what = "Proposal" if kind == "proposal" else "Comment"
        raise ValidationError({"selected": [f"{what} {n} is not in {vision.title}." for n in missing]})
    link, item_column = LINKS[kind]
    have = set(db.session.scalars(select(item_column).where(link.tag_id == tag.id, item_column.in_(ids))))
    new = [n for n in ids if n not in have]
    for n in new:
        db.session.add(link(tag_id=tag.id, tagged_by_id=actor.id, **{item_column.key: n}))
    db.session.flush()
    if new:
        record_event("tags.added", kind, None, actor=actor, vision_id=vision.id, tag=tag.id, name=tag.name, items=new)
    return tag, len(ids), len(new)
