"""Published versions: self-contained, hashed, and immutable in the ORM and in the database."""

from __future__ import annotations

import hashlib
import json

import pytest
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from workbench.models import DraftChange, ElementText, ImmutableError, Version, db
from workbench.exceptions import ValidationError
from workbench.drafting.publishing import publish_version
from workbench.visions.services import load_version

from .factories import entry_of


def first_version(vision) -> Version:
    return db.session.scalar(select(Version).where(Version.vision_id == vision.id, Version.number == 1))


def test_the_snapshot_is_self_contained_and_its_hash_is_the_sha256_of_its_bytes(make_vision) -> None:
    vision = make_vision(ambitions=2, objectives=3, conditions=2)
    version = first_version(vision)
    assert hashlib.sha256(version.snapshot.encode("utf-8")).hexdigest() == version.snapshot_hash
    snapshot = json.loads(version.snapshot)
    assert snapshot["vision"]["slug"] == vision.slug
    labels = [e["label"] for e in snapshot["elements"]]
    assert labels[:7] == [
        "Vision statement", "Ambition 1", "Objective 1.1", "Objective 1.2", "Objective 1.3",
        "Enabling condition 1.1", "Enabling condition 1.2",
    ]
    objective = next(e for e in snapshot["elements"] if e["label"] == "Objective 2.3")
    assert objective["body"] == "Objective 2.3 body."
    assert objective["parent"] == "ambition-2"


def test_the_orm_refuses_to_change_or_delete_a_version(make_vision) -> None:
    version = first_version(make_vision())
    version.notes = "rewritten history"
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(first_version(db.session.get(Version, version.id).vision))
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE versions SET notes = 'changed'",
        "UPDATE versions SET snapshot = '{}'",
        "DELETE FROM versions",
        "UPDATE element_texts SET body = 'changed'",
        "DELETE FROM element_texts",
    ],
)
def test_the_database_refuses_to_change_published_history(make_vision, statement: str) -> None:
    vision = make_vision()
    before = first_version(vision).snapshot
    with pytest.raises(DBAPIError) as caught:
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert "immutable" in str(caught.value)
    db.session.remove()
    assert first_version(vision).snapshot == before


def test_publishing_with_nothing_changed_is_refused(make_vision) -> None:
    vision = make_vision()
    with pytest.raises(ValidationError) as caught:
        publish_version(vision, actor=None, notes="again")
    assert "Nothing has changed" in caught.value.errors["notes"][0]


def test_a_new_version_leaves_the_old_one_as_it_was(make_vision) -> None:
    vision = make_vision()
    v1 = load_version(vision.slug, 1)
    entry = entry_of(vision, "ambition-1")
    new_text = ElementText(element_id=entry.element_id, title="Ambition 1", body="A sharper ambition.")
    db.session.add(new_text)
    db.session.flush()
    entry.text_id = new_text.id
    db.session.add(DraftChange(vision_id=vision.id, element_id=entry.element_id, kind="edit", text_id=new_text.id, reason="Sharper"))
    publish_version(vision, actor=None, notes="Second")
    db.session.commit()

    v2 = load_version(vision.slug, 2)
    assert v2.element("ambition-1")["body"] == "A sharper ambition."
    assert load_version(vision.slug, 1).snapshot == v1.snapshot
    assert v2.content_hash != v1.content_hash
    assert vision.latest_version_number == 2
    # The draft change now belongs to version 2 and no longer waits.
    change = db.session.scalar(select(DraftChange).where(DraftChange.kind == "edit"))
    assert change.version_id == db.session.scalar(select(Version.id).where(Version.number == 2))


def test_version_numbers_are_unique_per_vision(make_vision) -> None:
    vision = make_vision()
    original = first_version(vision)
    db.session.add(
        Version(vision_id=vision.id, number=1, content_hash="x" * 64, snapshot="{}", changelog="[]")
    )
    with pytest.raises(Exception):
        db.session.flush()
    db.session.rollback()
    assert first_version(vision).id == original.id
