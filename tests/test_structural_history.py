"""History shows structural changes in words (issue 16, item 6): the compare page and its JSON, the
changelog (each change once, crediting the proposal's author), the Atom feed and each element's
timeline say what was added, removed and moved, and where; display numbers follow; version 1's
permalink and JSON keep the same bytes."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from workbench.caching import clear_caches
from workbench.history.documents import diff_documents
from workbench.history.services import describe_versions, element_timeline
from workbench.models import Proposal, Role, Version, Vision, db
from workbench.visions.verification import verify_chain

from .factories import fresh
from .test_drafting_support import facilitator, per_request_login, publish  # noqa: F401  (fixtures; per_request_login is autouse)
from .test_facilitation import accept_form, text, words

ATOM = "{http://www.w3.org/2005/Atom}"
SLUG = "test-vision"


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        remover=make_user(Role.VOLUNTEER, name="Ana Author"),
        mover=make_user(Role.VOLUNTEER, name="Olu Other"),
    )


def newest_proposal(kind: str) -> Proposal:
    return db.session.scalar(select(Proposal).where(Proposal.kind == kind).order_by(Proposal.id.desc()))


def accept_it(client, proposal_id: int, note: str = "Agreed.") -> None:
    response = client.post(f"/proposals/{proposal_id}/accept", data=accept_form(client, proposal_id, note=note))
    assert response.status_code == 302, text(response)


@pytest.fixture
def published(client, login_as, make_vision, people):
    """Version 1: three ambitions of two objectives each (objective-1..6). Version 2: Ana's accepted
    proposal removes Ambition 3 (with objective-5 and -6), Olu's accepted proposal moves Objective
    1.2 (objective-2) to Ambition 2, position 1, and the facilitator adds an objective at the end
    of Ambition 1 directly. Version 1's permalink and JSON are read before anything changes."""
    vision = make_vision(ambitions=3, objectives=2, conditions=0)
    before = {url: client.get(url).data for url in (f"/visions/{SLUG}/v/1/", f"/visions/{SLUG}/v/1.json")}

    login_as(people.remover)
    assert client.post(f"/visions/{SLUG}/elements/ambition-3/propose-removal", data={"rationale": "Ambition 2 covers it."}).status_code == 302
    removal = newest_proposal("remove")
    login_as(people.mover)
    response = client.post(
        f"/visions/{SLUG}/elements/objective-2/propose-move",
        data={"parent": "ambition-2", "position": "1", "rationale": "It is about sharing."},
    )
    assert response.status_code == 302, text(response)
    move = newest_proposal("move")

    login_as(people.facilitator)
    accept_it(client, removal.id)
    accept_it(client, move.id)
    response = client.post(
        f"/visions/{SLUG}/draft/add?kind=objective&parent=ambition-1",
        data={"title": "Skills", "body": "People have the skills to use data well.", "position": "end", "reason": "Missing."},
    )
    assert response.status_code == 302, text(response)
    assert publish(client, vision, "Second.").status_code == 302
    clear_caches()
    return SimpleNamespace(vision=fresh(Vision, vision.id), before=before, removal=removal, move=move, people=people)


# --- the compare page -------------------------------------------------------------------------------


def section_of(page: str, key: str) -> str:
    return words(page.split(f'id="element-{key}"')[1].split("</section>")[0])


def test_compare_counts_and_says_each_structural_change_in_words(client, published) -> None:
    page = text(client.get(f"/visions/{SLUG}/compare/1...2"))
    shown = words(page)
    assert "7 elements differ: 1 added, 3 removed, 1 moved and 2 renumbered." in shown

    added = section_of(page, "objective-7")
    assert "Added New under Ambition 1, position 2." in added
    assert "added: People have the skills to use data well." in added  # its text as an insertion

    removed = section_of(page, "ambition-3")
    assert "Removed Removed from position 3 among the ambitions, with the 2 objectives under it." in removed
    assert "removed: Ambition 3 body." in removed  # its text as a deletion
    assert "Removed with Ambition 3, which it was under." in section_of(page, "objective-5")

    moved = section_of(page, "objective-2")
    assert (
        "Moved Moved from Ambition 1, position 2, to Ambition 2, position 1: it was Objective 1.2 and is now Objective 2.1."
    ) in moved
    # Display numbers follow, said as a renumbering, not as a move of their own.
    assert "Renumbered Was Objective 2.1; now Objective 2.2." in section_of(page, "objective-3")

    # The short list at the top says the same in words, linking to each element.
    assert "Objective 2.1: Objective 1.2 – moved from Ambition 1, position 2, to Ambition 2, position 1" in shown
    assert "Objective 1.2: Skills – new under Ambition 1, position 2" in shown
    # The removed elements stand where they were: after Ambition 2's objectives.
    assert page.index('id="element-objective-4"') < page.index('id="element-ambition-3"') < page.index('id="element-objective-5"')


def test_the_changes_as_open_data(client, published) -> None:
    response = client.get(f"/visions/{SLUG}/compare/1...2.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    assert "immutable" in response.headers["Cache-Control"]
    document = json.loads(response.data)
    assert (document["from_version"], document["to_version"]) == (1, 2)
    assert document["counts"] == {"added": 1, "removed": 3, "moved": 1, "changed": 0, "renumbered": 2}
    by_key = {change["key"]: change for change in document["changes"]}
    assert by_key["objective-2"]["change"] == "moved"
    assert by_key["objective-2"]["from"] == {
        "parent": "ambition-1", "parent_label": "Ambition 1", "position": 2, "number": "1.2", "label": "Objective 1.2"
    }
    assert by_key["objective-2"]["to"] == {
        "parent": "ambition-2", "parent_label": "Ambition 2", "position": 1, "number": "2.1", "label": "Objective 2.1"
    }
    assert by_key["ambition-3"]["change"] == "removed" and by_key["ambition-3"]["with"] == ["objective-5", "objective-6"]
    assert by_key["objective-6"]["removed_with"] == "ambition-3"
    assert by_key["objective-7"]["change"] == "added" and by_key["objective-7"]["words"] == "New under Ambition 1, position 2."
    assert by_key["objective-3"]["change"] == "renumbered"
    assert "objective-1" not in by_key  # unchanged
    # Backwards is redirected to the ordered URL; versions that do not exist are not found.
    back = client.get(f"/visions/{SLUG}/compare/2...1.json")
    assert back.status_code == 301 and back.headers["Location"].endswith(f"/visions/{SLUG}/compare/1...2.json")
    assert client.get(f"/visions/{SLUG}/compare/1...9.json").status_code == 404
    assert f'href="/visions/{SLUG}/compare/1...2.json"' in text(client.get(f"/visions/{SLUG}/compare/1...2"))


# --- the changelog ------------------------------------------------------------------------------------


def test_the_changelog_lists_each_structural_change_once_crediting_the_proposals_author(client, published) -> None:
    changelog = json.loads(db.session.scalar(select(Version.changelog).where(Version.number == 2)))
    removal, move = published.removal.id, published.move.id
    assert [(e["type"], e.get("proposal_id"), e["element"], e.get("change")) for e in changelog] == [
        ("accepted", removal, "ambition-3", "remove"),
        ("accepted", move, "objective-2", "move"),
        ("edit", None, "objective-7", "add"),
    ]
    assert changelog[0]["where"] == "removed from position 3 among the ambitions, with the 2 objectives under it"
    assert changelog[1]["where"] == "moved from Ambition 1, position 2, to Ambition 2, position 1"
    assert changelog[2]["where"] == "new under Ambition 1, position 2"

    shown = words(text(client.get(f"/visions/{SLUG}/versions")))
    assert (
        f"Proposal {removal} to remove Ambition 3 by Ana Author: Accepted. Removed from position 3 among the ambitions, "
        "with the 2 objectives under it. Note: Agreed."
    ) in shown
    assert (
        f"Proposal {move} to move Objective 2.1 by Olu Other: Accepted. Moved from Ambition 1, position 2, "
        "to Ambition 2, position 1. Note: Agreed."
    ) in shown
    assert "Objective 1.2: added by Fran Facilitator. New under Ambition 1, position 2. Why: Missing." in shown
    assert shown.count(f"Proposal {removal} ") == 1 and "removed by Fran Facilitator" not in shown
    assert "With thanks to Ana Author, Olu Other, Fran Facilitator." in shown


def test_a_direct_move_made_twice_is_listed_once_and_one_undone_not_at_all(client, make_vision, facilitator) -> None:
    vision = make_vision(ambitions=2, objectives=3, conditions=0)
    move_to = f"/visions/{SLUG}/draft/elements/{{key}}/move-to"
    assert client.post(move_to.format(key="objective-3"), data={"parent": "ambition-1", "position": "2"}).status_code == 302
    assert client.post(move_to.format(key="objective-3"), data={"parent": "ambition-1", "position": "1"}).status_code == 302
    assert client.post(move_to.format(key="objective-4"), data={"parent": "ambition-1", "position": "1"}).status_code == 302
    assert client.post(move_to.format(key="objective-4"), data={"parent": "ambition-2", "position": "1"}).status_code == 302
    assert publish(client, vision, "Moves.").status_code == 302
    changelog = json.loads(db.session.scalar(select(Version.changelog).where(Version.number == 2)))
    assert [(e["element"], e["change"], e["where"]) for e in changelog] == [
        ("objective-3", "reorder", "moved from Ambition 1, position 3, to Ambition 1, position 1"),
    ]
    shown = words(text(client.get(f"/visions/{SLUG}/versions")))
    assert "Objective 1.1: moved by Fiona Facilitator. Moved from Ambition 1, position 3, to Ambition 1, position 1. With thanks" in shown


def test_a_changelog_stored_before_the_fix_shows_an_accepted_removal_once(app) -> None:
    """Versions published earlier stored an accepted removal twice (its accept, and the removal as a
    direct edit, once per element removed): shown once, as the accepted proposal's."""
    stored = [
        {"type": "accepted", "proposal_id": 7, "element": "ambition-3", "label": "Ambition 3", "author_id": None,
         "actor_id": None, "with_changes": False, "note": ""},
        {"type": "edit", "change": "remove", "element": "ambition-3", "label": "Ambition 3", "actor_id": None,
         "reason": "Removed by accepting proposal 7."},
        {"type": "edit", "change": "remove", "element": "objective-5", "label": "Objective 3.1", "actor_id": None,
         "reason": "Removed by accepting proposal 7."},
        {"type": "edit", "change": "remove", "element": "objective-1", "label": "Objective 1.1", "actor_id": None,
         "reason": "Not needed."},
    ]
    version = SimpleNamespace(number=2, published_at=None, notes="", published_by_id=None, changelog=json.dumps(stored))
    [history] = describe_versions([version])
    assert [(i.proposal_id, i.change, i.where) for i in history.accepted] == [(7, "remove", "removed")]
    assert [(i.element, i.text) for i in history.edits] == [("objective-1", "Not needed.")]


# --- the feed and the timeline ------------------------------------------------------------------------


def test_the_feed_entry_says_what_was_added_removed_and_moved(client, published) -> None:
    root = ET.fromstring(client.get(f"/visions/{SLUG}/feed.atom").data)
    summary = root.find(f"{ATOM}entry/{ATOM}summary").text
    assert (
        f"- Ambition 3: proposal {published.removal.id} by Ana Author accepted: removed from position 3 among the "
        "ambitions, with the 2 objectives under it."
    ) in summary
    assert (
        f"- Objective 2.1: proposal {published.move.id} by Olu Other accepted: moved from Ambition 1, position 2, "
        "to Ambition 2, position 1."
    ) in summary
    assert "- Objective 1.2: new under Ambition 1, position 2 by Fran Facilitator: Missing." in summary


def test_each_elements_timeline_says_added_removed_and_moved_in_which_version(client, published, app) -> None:
    vision = published.vision
    moved = element_timeline(vision, "objective-2")
    assert [(e.number, e.status) for e in moved] == [(2, "moved"), (1, "added")]
    page = words(text(client.get(f"/visions/{SLUG}/elements/objective-2")))
    assert (
        "Moved Objective 1.2 moved from Ambition 1, position 2, to Ambition 2, position 1 in version 2: it is now Objective 2.1."
    ) in page
    page = words(text(client.get(f"/visions/{SLUG}/elements/ambition-3")))
    assert (
        "Removed Ambition 3 was removed in version 2, from position 3 among the ambitions, with the 2 objectives under it."
    ) in page
    page = text(client.get(f"/visions/{SLUG}/elements/objective-5"))
    assert "Removed Objective 3.1 was removed in version 2, with Ambition 3, which it was under." in words(page)
    # Its heading links to the version that removed it as a whole: the element is not in it.
    assert f'href="/visions/{SLUG}/v/2/">Version 2</a>' in page and f'href="/visions/{SLUG}/v/2/objective-5"' not in page
    page = words(text(client.get(f"/visions/{SLUG}/elements/objective-7")))
    assert "Added Objective 1.2 was added in version 2: new under Ambition 1, position 2." in page
    # A renumbering because of changes around it is not an entry of its own.
    assert [(e.number, e.status) for e in element_timeline(vision, "objective-3")] == [(1, "added")]


# --- what never changes -------------------------------------------------------------------------------


def test_version_1_keeps_its_bytes_and_every_version_still_verifies(client, published) -> None:
    clear_caches()
    for url, body in published.before.items():
        assert client.get(url).data == body, url
    report = verify_chain(SLUG)
    assert report is not None and report.checked == 2 and report.problems == []
    # Version 2 holds the change, version 1 does not.
    assert "objective-5" in text(client.get(f"/visions/{SLUG}/v/1.json"))
    assert "objective-5" not in text(client.get(f"/visions/{SLUG}/v/2.json"))


# --- the pure document diff ---------------------------------------------------------------------------


def element(key, kind, parent, number):
    label = {"ambition": "Ambition", "objective": "Objective", "condition": "Enabling condition"}[kind] + f" {number}"
    return {"key": key, "kind": kind, "parent": parent, "number": number, "label": label, "title": "", "body": f"{key} body."}


def test_of_two_swapped_siblings_the_one_the_changelog_moved_is_the_moved_one() -> None:
    old = [element("ambition-1", "ambition", None, "1"), element("ambition-2", "ambition", None, "2")]
    new = [element("ambition-2", "ambition", None, "1"), element("ambition-1", "ambition", None, "2")]
    for moved_key, renumbered_key in (("ambition-1", "ambition-2"), ("ambition-2", "ambition-1")):
        rows = {row.key: row for row in diff_documents(old, new, moved_keys=frozenset({moved_key})).rows}
        assert rows[moved_key].status_words == ["Moved"] and rows[renumbered_key].status_words == ["Renumbered"]


def test_one_sibling_moved_to_the_front_is_the_only_one_moved() -> None:
    old = [element("ambition-1", "ambition", None, "1")] + [
        element(f"objective-{n}", "objective", "ambition-1", f"1.{n}") for n in (1, 2, 3, 4)
    ]
    new = [element("ambition-1", "ambition", None, "1")] + [
        element(f"objective-{n}", "objective", "ambition-1", f"1.{i}") for i, n in enumerate((4, 1, 2, 3), start=1)
    ]
    diff = diff_documents(old, new)
    assert [row.key for row in diff.rows if row.moved] == ["objective-4"]
    assert diff.summary == "4 elements differ: 1 moved and 3 renumbered"
    assert next(r for r in diff.rows if r.key == "objective-4").place_change == (
        "moved from Ambition 1, position 4, to Ambition 1, position 1"
    )


