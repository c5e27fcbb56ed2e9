"""Facilitators move an element anywhere in the working draft: under any ambition, to any position
(issue 16, item 5); bad input is refused beside the field and moves nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from workbench.models import DraftChange, Vision, db

from .factories import entry_of, events, fresh
from .test_drafting_support import facilitator, hidden_value, per_request_login, publish  # noqa: F401  (fixtures)
from workbench.visions.services import working_tree

MOVE = "/visions/test-vision/draft/elements/{key}/move-to"


def labels(vision) -> dict[str, str]:
    return {e["key"]: e["label"] for e in working_tree(fresh(Vision, vision.id))}


def move(client, key: str, parent: str | None, position: str, **extra: str):
    data = {"position": position, **extra}
    if parent is not None:
        data["parent"] = parent
    return client.post(MOVE.format(key=key), data=data)


def moves_recorded() -> int:
    return db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.kind == "reorder"))


def test_an_objective_moves_to_another_ambition_at_a_chosen_position_and_both_renumber(client, make_vision, facilitator) -> None:
    vision = make_vision(ambitions=3)
    lock = entry_of(vision, "objective-2").lock_version
    page = client.get(MOVE.format(key="objective-2")).get_data(as_text=True)
    assert "Move Objective 1.2" in page
    assert "is now at position 2 of the 2 objectives under Ambition 1" in page
    assert '<option value="ambition-3">Ambition 3: Ambition 3</option>' in page
    assert hidden_value(page, "from_parent") == "ambition-1" and hidden_value(page, "from_position") == "2"

    response = move(client, "objective-2", "ambition-3", "1", from_parent="ambition-1", from_position="2")
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/draft#element-objective-2")
    found = labels(vision)
    assert (found["objective-2"], found["objective-5"], found["objective-6"], found["objective-1"]) == (
        "Objective 3.1", "Objective 3.2", "Objective 3.3", "Objective 1.1",
    )
    entry = entry_of(vision, "objective-2")
    assert entry.parent_element_id == entry_of(vision, "ambition-3").element_id
    assert entry.lock_version == lock  # a move is not a change of text
    words = "from Ambition 1, position 2, to Ambition 3, position 1"
    assert f"Objective 1.2 moved {words}: it is now Objective 3.1." in client.get("/visions/test-vision/draft").get_data(as_text=True)
    change = db.session.scalar(select(DraftChange).where(DraftChange.kind == "reorder"))
    assert change.reason == f"Moved {words}."
    [event] = events("draft.element_moved")
    assert event.details == {
        "key": "objective-2", "from_parent": "ambition-1", "from_place": 2, "to_parent": "ambition-3", "to_place": 1, "words": words,
    }


def test_an_empty_position_puts_it_last_and_a_condition_counts_among_conditions(client, make_vision, facilitator) -> None:
    vision = make_vision(conditions=2)
    assert move(client, "condition-1", "ambition-2", "").status_code == 302
    found = labels(vision)
    assert (found["condition-3"], found["condition-4"], found["condition-1"], found["condition-2"]) == (
        "Enabling condition 2.1", "Enabling condition 2.2", "Enabling condition 2.3", "Enabling condition 1.1",
    )
    assert events("draft.element_moved")[0].details["to_place"] == 3


def test_an_objective_moves_several_places_within_its_ambition(client, make_vision, facilitator) -> None:
    vision = make_vision(objectives=4)
    assert move(client, "objective-4", "ambition-1", "1").status_code == 302
    found = labels(vision)
    assert [found[f"objective-{n}"] for n in (4, 1, 2, 3)] == ["Objective 1.1", "Objective 1.2", "Objective 1.3", "Objective 1.4"]
    assert db.session.scalar(select(DraftChange.reason).where(DraftChange.kind == "reorder")) == (
        "Moved from Ambition 1, position 4, to Ambition 1, position 1."
    )


def test_an_ambition_moves_among_the_ambitions_with_its_children(client, make_vision, facilitator) -> None:
    vision = make_vision(ambitions=3)
    page = client.get(MOVE.format(key="ambition-1")).get_data(as_text=True)
    assert 'name="parent"' not in page.replace('name="from_parent"', "")  # ambitions sit at the top level
    assert move(client, "ambition-1", None, "3").status_code == 302
    found = labels(vision)
    assert (found["ambition-2"], found["ambition-3"], found["ambition-1"], found["objective-1"]) == (
        "Ambition 1", "Ambition 2", "Ambition 3", "Objective 3.1",
    )
    assert db.session.scalar(select(DraftChange.reason).where(DraftChange.kind == "reorder")) == "Moved from position 1 to position 3 among the ambitions."


@pytest.mark.parametrize(
    ("key", "parent", "position", "field", "message"),
    [
        ("objective-1", "ambition-9", "1", "parent", "Choose an ambition of this vision from the list"),
        ("objective-1", "ambition-1" + "x" * 60, "1", "parent", "Choose an ambition of this vision from the list"),
        ("objective-1", "", "1", "parent", "Choose an ambition of this vision from the list"),
        ("objective-1", "objective-3", "1", "parent", "An objective goes under an ambition: choose an ambition from the list"),
        ("condition-1", "statement-1", "1", "parent", "An enabling condition goes under an ambition"),
        ("ambition-1", "ambition-2", "1", None, "An ambition cannot go under another element: ambitions sit at the top level"),
        ("objective-1", "ambition-2", "-1", "position", "Enter a position from 1 to 3"),
        ("objective-1", "ambition-2", "0", "position", "Enter a position from 1 to 3"),
        ("objective-1", "ambition-2", "4", "position", "Enter a position from 1 to 3"),
        ("objective-1", "ambition-2", "1000000000", "position", "Enter a position from 1 to 3"),
        ("objective-1", "ambition-2", "1.5", "position", "Enter a position from 1 to 3"),
        ("objective-1", "ambition-2", "two", "position", "Enter a position from 1 to 3"),
        ("ambition-2", None, "3", "position", "Enter a position from 1 to 2"),
        ("objective-1", "ambition-1", "1", "position", "It is already there: choose another ambition or position"),
    ],
)
def test_bad_input_is_refused_beside_the_field_and_moves_nothing(
    client, make_vision, facilitator, key, parent, position, field, message
) -> None:
    vision = make_vision()
    before = labels(vision)
    response = move(client, key, parent, position)
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    if field:
        assert f'<a href="#{field}">{message}' in page  # the error summary links to the field
        assert f'id="{field}-error"><span class="visually-hidden">Error:</span> {message}' in page  # beside it
    else:  # no field for it: said in the error summary
        assert f"<li>{message}</li>" in page
    assert labels(vision) == before
    assert moves_recorded() == 0 and events("draft.element_moved") == []


def test_a_target_in_another_vision_is_refused(client, make_vision, facilitator) -> None:
    vision = make_vision()
    make_vision(slug="other-vision", ambitions=3)
    response = move(client, "objective-1", "ambition-3", "1")
    assert response.status_code == 422
    assert "Choose an ambition of this vision from the list" in response.get_data(as_text=True)
    assert entry_of(vision, "objective-1").parent_element_id == entry_of(vision, "ambition-1").element_id


def test_the_statement_cannot_be_moved(client, make_vision, facilitator) -> None:
    vision = make_vision()
    page = client.get(MOVE.format(key="statement-1")).get_data(as_text=True)
    assert "The vision statement always comes first: it cannot be moved" in page
    assert f'action="{MOVE.format(key="statement-1")}"' not in page
    response = move(client, "statement-1", None, "2")
    assert response.status_code == 422
    assert "The vision statement always comes first: it cannot be moved" in response.get_data(as_text=True)
    assert moves_recorded() == 0
    assert labels(vision)["statement-1"] == "Vision statement"


def test_a_move_from_an_out_of_date_page_is_refused_and_moves_nothing_twice(client, make_vision, facilitator) -> None:
    vision = make_vision()
    assert move(client, "objective-1", "ambition-2", "1", from_parent="ambition-1", from_position="1").status_code == 302
    again = move(client, "objective-1", "ambition-2", "2", from_parent="ambition-1", from_position="1")
    assert again.status_code == 409
    assert "had already moved since the page was loaded" in again.get_data(as_text=True)
    assert labels(vision)["objective-1"] == "Objective 2.1"
    assert moves_recorded() == 1


def test_unknown_and_removed_elements_cannot_be_moved(client, make_vision, facilitator) -> None:
    vision = make_vision()
    assert client.get(MOVE.format(key="objective-77")).status_code == 404
    assert move(client, "objective-77", "ambition-1", "1").status_code == 404
    client.post("/visions/test-vision/draft/elements/objective-1/remove", data={"reason": "Gone."})
    response = move(client, "objective-1", "ambition-2", "1")
    assert response.status_code == 409
    assert "removed from the working draft, so it cannot be moved" in response.get_data(as_text=True)
    assert moves_recorded() == 0


def test_the_draft_page_links_each_element_to_its_move_page(client, make_vision, facilitator) -> None:
    make_vision()
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert f'href="{MOVE.format(key="objective-2")}">Move<span class="visually-hidden"> Objective 1.2</span> elsewhere</a>' in page
    assert MOVE.format(key="statement-1") not in page


def test_the_next_version_holds_the_move_and_version_1_does_not(client, make_vision, facilitator) -> None:
    vision = make_vision()
    move(client, "objective-2", "ambition-2", "1")
    assert publish(client, vision, "Moved one.").status_code == 302
    history = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert "Moved from Ambition 1, position 2, to Ambition 2, position 1." in history

    def numbers(doc) -> dict[str, str]:
        found: dict[str, str] = {}

        def walk(elements) -> None:
            for element in elements:
                found[element["key"]] = element["number"]
                walk(element.get("children", []))

        walk(doc["elements"] if "elements" in doc else [doc["statement"]])
        return found

    v1 = numbers(client.get("/visions/test-vision/v/1.json").get_json())
    v2 = numbers(client.get("/visions/test-vision/v/2.json").get_json())
    assert (v1["objective-2"], v1["objective-3"]) == ("1.2", "2.1")
    assert (v2["objective-2"], v2["objective-3"]) == ("2.1", "2.2")
