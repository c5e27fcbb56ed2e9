"""The vision file format: valid files import; every problem is named with its field."""

from __future__ import annotations

from importlib import resources

import pytest
import yaml
from sqlalchemy import func, select

from workbench.models import DraftEntry, Element, ElementText, Version, Vision, db
from workbench.exceptions import ValidationError
from workbench.visions.importer import VisionFileError, import_vision, parse_vision
from workbench.visions.services import working_tree

GOOD = """
slug: city-data
title: A Vision for City Data
summary: What the city will do with data.
statement:
  body: Data serves the people of the city.
ambitions:
  - title: Open by default
    body: |-
      We publish what we can.

      And explain what we cannot.
    objectives:
      - {title: A register, body: We keep a register of datasets.}
      - {title: Standards, body: We use common standards.}
    conditions:
      - {title: Skills, body: Staff have the skills they need.}
  - title: Trusted
    body: People trust how data is used.
"""


def problems_of(text: str) -> list[str]:
    with pytest.raises(VisionFileError) as caught:
        parse_vision(text)
    return caught.value.problems


def test_a_valid_file_becomes_the_working_draft(app) -> None:
    vision = import_vision(parse_vision(GOOD), actor=None, publish=False)
    db.session.commit()

    tree = working_tree(vision)
    assert [(e["key"], e["label"], e["title"]) for e in tree] == [
        ("statement-1", "Vision statement", ""),
        ("ambition-1", "Ambition 1", "Open by default"),
        ("objective-1", "Objective 1.1", "A register"),
        ("objective-2", "Objective 1.2", "Standards"),
        ("condition-1", "Enabling condition 1.1", "Skills"),
        ("ambition-2", "Ambition 2", "Trusted"),
    ]
    assert tree[1]["body"] == "We publish what we can.\n\nAnd explain what we cannot."
    assert db.session.scalar(select(func.count()).select_from(Version)) == 0
    assert vision.latest_version_number == 0


def test_publishing_on_import_makes_version_1(app) -> None:
    vision = import_vision(parse_vision(GOOD), actor=None, publish=True)
    db.session.commit()
    version = db.session.scalar(select(Version).where(Version.vision_id == vision.id))
    assert version.number == 1
    assert vision.latest_version_number == 1
    assert len(version.content_hash) == 64


def test_the_same_slug_cannot_be_imported_twice(app) -> None:
    import_vision(parse_vision(GOOD), actor=None, publish=False)
    db.session.commit()
    with pytest.raises(ValidationError) as caught:
        import_vision(parse_vision(GOOD), actor=None, publish=False)
    assert "already exists" in caught.value.errors["slug"][0]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (lambda d: d.pop("statement"), "statement: is required"),
        (lambda d: d.update(slug="Not A Slug"), "slug: must be lower-case"),
        (lambda d: d.update(title=""), "title: is required and is empty"),
        (lambda d: d.update(ambitions=[]), "ambitions: is required"),
        (lambda d: d["ambitions"][1].update(title=None), "ambitions[2].title: is required"),
        (lambda d: d["ambitions"][0]["objectives"][1].update(title="two\nlines"), "ambitions[1].objectives[2].title: must be one line"),
        (lambda d: d["ambitions"][0]["objectives"][0].update(body=42), "ambitions[1].objectives[1].body: must be text, not int"),
        (lambda d: d["ambitions"][0]["conditions"][0].update(body=""), "ambitions[1].conditions[1].body: is required"),
        (lambda d: d["ambitions"][0].update(objectives="none"), "ambitions[1].objectives: must be a list"),
        (lambda d: d["ambitions"][0].update(owner="x"), "ambitions[1].owner: is not a known field"),
        (lambda d: d.update(colour="blue"), "colour: is not a known field"),
        (lambda d: d["ambitions"][1].update(body="x" * 20_001), "ambitions[2].body: is 20,001 characters long"),
        (lambda d: d["ambitions"][1].update(title="Evil\u202etxt"), "ambitions[2].title: contains invisible or direction-changing characters"),
        (lambda d: d["ambitions"].append("just text"), "ambitions[3]: must be a mapping"),
    ],
)
def test_each_problem_names_the_field(change, expected: str) -> None:
    data = yaml.safe_load(GOOD)
    change(data)
    problems = problems_of(yaml.safe_dump(data, allow_unicode=True))
    assert any(p.startswith(expected) for p in problems), problems


def test_all_problems_are_reported_at_once() -> None:
    data = yaml.safe_load(GOOD)
    data["slug"] = "BAD"
    data["ambitions"][0]["title"] = ""
    data["ambitions"][1]["body"] = ""
    assert len(problems_of(yaml.safe_dump(data))) == 3


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("slug: [unclosed", "the file is not valid YAML at line 1"),
        ("- a list\n- not a mapping", "the file must be a mapping"),
        ("", "the file must be a mapping"),
    ],
)
def test_unreadable_files_say_why(text: str, expected: str) -> None:
    assert problems_of(text)[0].startswith(expected)


def test_text_is_normalised() -> None:
    data = yaml.safe_load(GOOD)
    data["ambitions"][0]["title"] = "  Cafe\u0301   open  "
    data["ambitions"][0]["body"] = "One.\r\n\r\n\r\n\r\nTwo.  \n"
    spec = parse_vision(yaml.safe_dump(data, allow_unicode=True))
    assert spec.ambitions[0].title == "Café open"
    assert spec.ambitions[0].body == "One.\n\nTwo."


def test_the_demo_vision_is_a_valid_file_of_the_promised_shape() -> None:
    text = resources.files("workbench.demo").joinpath("vision.yaml").read_text(encoding="utf-8")
    spec = parse_vision(text)
    assert spec.statement.body
    assert len(spec.ambitions) == 5
    for ambition in spec.ambitions:
        objectives = [c for c in ambition.children if c.kind == "objective"]
        conditions = [c for c in ambition.children if c.kind == "condition"]
        assert 2 <= len(objectives) <= 4
        assert 1 <= len(conditions) <= 3


def test_keys_count_per_kind_and_are_never_reused(app) -> None:
    vision = import_vision(parse_vision(GOOD), actor=None, publish=False)
    db.session.commit()
    keys = db.session.scalars(select(Element.key).where(Element.vision_id == vision.id).order_by(Element.id)).all()
    assert keys == ["statement-1", "ambition-1", "objective-1", "objective-2", "condition-1", "ambition-2"]
    assert db.session.scalar(select(func.count()).select_from(ElementText)) == 6
    assert db.session.scalar(select(func.count()).select_from(DraftEntry)) == 6
    assert db.session.scalar(select(func.count()).select_from(Vision)) == 1
