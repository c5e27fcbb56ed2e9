"""History between versions: the comparison of any two versions, element timelines and the Atom feed."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from flask import render_template_string
from sqlalchemy import select

from workbench.extensions import db
from workbench.history.documents import diff_documents
from workbench.history.services import element_timeline
from workbench.models import Vision
from workbench.visions.permalinks import IMMUTABLE
from workbench.caching import clear_caches

from .factories import element_of, fresh
from .test_drafting_support import (  # noqa: F401  (fixtures: per_request_login is autouse; facilitator)
    edit_text,
    facilitator,
    per_request_login,
    publish,
)

ATOM = "{http://www.w3.org/2005/Atom}"


@pytest.fixture
def history(client, make_vision, facilitator):
    """Version 1 as imported; version 2 with a word changed, an objective added, one removed (so
    the objective after it is renumbered) and two ambitions swapped; version 3 changes a title."""
    vision = make_vision(ambitions=2, objectives=3, conditions=1)
    edit_text(client, vision, "objective-1", "Objective 1.1 text, sharper.")  # "body." -> "text, sharper."
    client.post("/visions/test-vision/draft/elements/objective-2/remove", data={"reason": "Repeats 1.1."})
    client.post(
        "/visions/test-vision/draft/add?kind=condition&parent=ambition-1",
        data={"title": "Skills", "body": "People have the skills to use data well.", "position": "end", "reason": "Missing."},
    )
    client.post("/visions/test-vision/draft/elements/ambition-2/move", data={"direction": "up", "from_place": "2"})
    assert publish(client, vision, "Second.").status_code == 302
    edit_text(client, vision, "condition-1", "Condition 1.1 body.", title="A better title")
    assert publish(client, vision, "Third.").status_code == 302
    clear_caches()
    return fresh(Vision, vision.id)


# --- comparing versions ---------------------------------------------------------------------------


def test_compare_shows_changed_added_removed_and_moved_elements_word_by_word(client, history) -> None:
    response = client.get("/visions/test-vision/compare/1...2")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Changes from version 1 to version 2" in page
    # A word change is that word removed and the new words added, never letters inside a word.
    assert (
        'Objective 1.1 <del class="diff__del"><span class="visually-hidden">removed: </span>body<span class="visually-hidden"> (end of removal)</span></del>'
        '<ins class="diff__ins"><span class="visually-hidden">added: </span>text, sharper<span class="visually-hidden"> (end of addition)</span></ins>.'
    ) in page
    section = page.split('id="element-objective-2"')[1].split("</section>")[0]
    assert "Removed" in section and "Objective 1.2 body." in section and "<del" in section
    section = page.split('id="element-condition-3"')[1].split("</section>")[0]
    assert "Added" in section and "People have the skills" in section and "<ins" in section
    section = page.split('id="element-objective-3"')[1].split("</section>")[0]
    assert "Renumbered" in section and "Was Objective 1.3; now Objective 2.2." in section  # ambitions swapped and 1.2 removed
    # The ambition the facilitator moved up is the one that moved (the changelog says so); the
    # other only follows in number.
    section = page.split('id="element-ambition-2"')[1].split("</section>")[0]
    assert "Moved" in section and "Moved from position 2 to position 1 among the ambitions: it was Ambition 2 and is now Ambition 1." in section
    section = page.split('id="element-ambition-1"')[1].split("</section>")[0]
    assert "Renumbered" in section and "Was Ambition 1; now Ambition 2." in section
    # Reading order: the removed objective sits where it was, after Objective 1.1.
    assert page.index('id="element-objective-1"') < page.index('id="element-objective-2"') < page.index('id="element-objective-3"')


def test_compare_views_are_whitelisted_and_the_list_shows_only_what_differs(client, history) -> None:
    inline = client.get("/visions/test-vision/compare/2...3").get_data(as_text=True)
    assert "Objective 2.1 body." in inline  # the whole document
    listed = client.get("/visions/test-vision/compare/2...3?view=list").get_data(as_text=True)
    assert "Objective 2.1 body." not in listed and "A better title" in listed and "Replaced" in listed
    side = client.get("/visions/test-vision/compare/2...3?view=side-by-side").get_data(as_text=True)
    assert "diff--side-by-side" in side and ">Version 2<" in side and ">Version 3<" in side
    assert client.get("/visions/test-vision/compare/2...3?view=author.email").data == client.get("/visions/test-vision/compare/2...3").data


def test_compare_is_immutable_cached_and_revalidated_without_the_database(client, history, count_queries) -> None:
    first = client.get("/visions/test-vision/compare/1...3")
    assert first.headers["Cache-Control"] == IMMUTABLE
    etag, weak = first.get_etag()
    assert etag and not weak
    assert "Set-Cookie" not in first.headers
    with count_queries() as log:
        again = client.get("/visions/test-vision/compare/1...3")
        not_modified = client.get("/visions/test-vision/compare/1...3", headers={"If-None-Match": f'"{etag}"'})
    assert log.count == 0
    assert again.data == first.data
    assert not_modified.status_code == 304 and not_modified.data == b""


def test_compare_pages_are_the_same_for_everyone_and_never_carry_a_flash(client, history) -> None:
    # A facilitator with a pending flash message asks first: nothing personal may be cached.
    client.post("/visions/test-vision/window/close")
    page = client.get("/visions/test-vision/compare/1...2").get_data(as_text=True)
    assert "The consultation is closed" not in page
    assert 'name="csrf-token"' not in page and "Fiona" not in page
    assert "The consultation is closed" in client.get("/visions/test-vision/window").get_data(as_text=True)


def test_a_reversed_comparison_redirects_to_the_ordered_url(client, history) -> None:
    response = client.get("/visions/test-vision/compare/3...1?view=list")
    assert response.status_code == 301
    assert response.headers["Location"].endswith("/visions/test-vision/compare/1...3?view=list")


@pytest.mark.parametrize(
    "path",
    [
        "/visions/test-vision/compare/1...4",
        "/visions/test-vision/compare/0...2",
        "/visions/test-vision/compare/-1...2",
        "/visions/test-vision/compare/1...99999999999999999999",
        "/visions/test-vision/compare/a...b",
        "/visions/nope/compare/1...2",
        "/visions/test-vision/compare/1..2",
    ],
)
def test_missing_versions_and_bad_numbers_are_404(client, history, path) -> None:
    assert client.get(path).status_code == 404


def test_comparing_a_version_with_itself_says_nothing_differs(client, history) -> None:
    page = client.get("/visions/test-vision/compare/2...2").get_data(as_text=True)
    assert "You are comparing version 2 with itself" in page


def test_the_versions_page_form_redirects_to_the_canonical_comparison(client, history) -> None:
    page = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert 'action="/visions/test-vision/compare"' in page and 'method="get"' in page
    assert 'href="/visions/test-vision/compare/2...3"' in page  # "what changed since version 2"
    response = client.get("/visions/test-vision/compare?from=3&to=1")
    assert response.status_code == 302 and response.headers["Location"].endswith("/visions/test-vision/compare/1...3")
    response = client.get("/visions/test-vision/compare?from=2&to=2")
    assert response.status_code == 400 and "Choose two different versions" in response.get_data(as_text=True)
    response = client.get("/visions/test-vision/compare?from=abc&to=9")
    page = response.get_data(as_text=True)
    assert response.status_code == 400 and page.count("Choose a version from 1 to 3") >= 2
    assert client.get("/visions/test-vision/compare").status_code == 200


def test_compare_runs_the_same_queries_cold_however_big_the_vision(client, make_vision, facilitator, count_queries, app) -> None:
    counts = []
    for slug, size, edits in (("small", 1, 1), ("large", 5, 8)):
        vision = make_vision(slug=slug, ambitions=size, objectives=size, conditions=1)
        for n in range(1, edits + 1):
            edit_text(client, vision, f"objective-{n}", f"Edited {n}.")
            publish(client, vision)
        clear_caches()
        with count_queries() as log:
            assert client.get(f"/visions/{slug}/compare/1...2").status_code == 200
        counts.append(log.count)
    assert counts[0] == counts[1] <= 2


# --- the pure document diff -----------------------------------------------------------------------


def element(key, kind, parent, number, body=None, title=""):
    label = {"ambition": "Ambition", "objective": "Objective", "condition": "Enabling condition"}[kind] + f" {number}"
    return {"key": key, "kind": kind, "parent": parent, "number": number, "label": label, "title": title, "body": body or f"{key} body."}


def test_an_element_under_another_parent_is_moved_with_both_places_named() -> None:
    old = [element("ambition-1", "ambition", None, "1"), element("objective-1", "objective", "ambition-1", "1.1"),
           element("ambition-2", "ambition", None, "2")]
    new = [element("ambition-1", "ambition", None, "1"), element("ambition-2", "ambition", None, "2"),
           element("objective-1", "objective", "ambition-2", "2.1")]
    diff = diff_documents(old, new)
    row = next(r for r in diff.rows if r.key == "objective-1")
    assert row.moved and row.reparented and row.status == "unchanged"
    assert row.status_words == ["Moved"]
    assert row.move_description == (
        "Moved from Ambition 1, position 1, to Ambition 2, position 1: it was Objective 1.1 and is now Objective 2.1."
    )
    assert diff.counts["moved"] == 1 and diff.summary == "1 element differs: 1 moved"


def test_a_removed_ambition_is_followed_by_its_removed_objectives_where_it_stood() -> None:
    old = [element("ambition-1", "ambition", None, "1"), element("objective-1", "objective", "ambition-1", "1.1"),
           element("ambition-2", "ambition", None, "2"), element("objective-2", "objective", "ambition-2", "2.1"),
           element("ambition-3", "ambition", None, "3")]
    new = [element("ambition-1", "ambition", None, "1"), element("objective-1", "objective", "ambition-1", "1.1"),
           element("objective-9", "objective", "ambition-1", "1.2"), element("ambition-3", "ambition", None, "2")]
    rows = diff_documents(old, new).rows
    assert [(r.key, r.status) for r in rows] == [
        ("ambition-1", "unchanged"), ("objective-1", "unchanged"), ("objective-9", "added"),
        ("ambition-2", "removed"), ("objective-2", "removed"), ("ambition-3", "unchanged"),
    ]


# --- element timelines ----------------------------------------------------------------------------


def test_the_timeline_lists_each_version_where_the_words_changed(client, history) -> None:
    timeline = element_timeline(history, "condition-1")
    assert [(e.number, e.status, e.previous_number) for e in timeline] == [(3, "changed", 2), (1, "added", None)]
    assert [c.text for c in timeline[0].title.changes if c.op == "insert"] == ["A better title"]
    assert not timeline[0].body.has_changes
    assert [(e.number, e.status) for e in element_timeline(history, "objective-2")] == [(2, "removed"), (1, "added")]
    assert [(e.number, e.status) for e in element_timeline(history, "condition-3")] == [(2, "added")]
    # A move is listed, with no change of words; a renumbering (Enabling condition 1.1 became 2.1
    # in version 2, above) is not.
    moved = element_timeline(history, "ambition-2")
    assert [(e.number, e.status) for e in moved] == [(2, "moved"), (1, "added")]
    assert moved[0].place == "moved from position 2 to position 1 among the ambitions" and not moved[0].body.has_changes


def test_the_timeline_is_read_once_then_served_without_queries(client, history, count_queries, app) -> None:
    clear_caches()
    vision = fresh(Vision, history.id)
    with count_queries() as log:
        element_timeline(vision, "objective-1")
    assert log.count == 2  # every snapshot not parsed yet in one query, the changelogs (which moved) in one more
    with count_queries() as log:
        element_timeline(vision, "objective-1")
        element_timeline(vision, "objective-3")
    assert log.count == 0


def test_the_timeline_partial_renders_for_the_element_page(client, history, app) -> None:
    element = element_of(history, "objective-1")
    with app.test_request_context("/visions/test-vision/elements/objective-1"):
        html = render_template_string('{% include "history/_timeline.html" %}', vision=history, element=element)
    assert "Timeline" in html
    assert 'href="/visions/test-vision/v/2/objective-1"' in html
    assert 'href="/visions/test-vision/compare/1...2#element-objective-1"' in html
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>text, sharper<' in html
    new_vision = db.session.scalar(select(Vision).where(Vision.id == history.id))
    with app.test_request_context("/"):
        html = render_template_string('{% include "history/_timeline.html" %}', vision=new_vision, element=element, timeline=[])
    assert "has not been in a published version yet" in html


# --- the feed -------------------------------------------------------------------------------------


def test_the_feed_is_valid_atom_with_one_entry_per_version(client, history) -> None:
    response = client.get("/visions/test-vision/feed.atom")
    assert response.status_code == 200
    assert response.mimetype == "application/atom+xml"
    root = ET.fromstring(response.data)
    assert root.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert root.find(f"{ATOM}{name}") is not None
    assert root.find(f"{ATOM}link[@rel='self']").get("href") == "http://localhost/visions/test-vision/feed.atom"
    entries = root.findall(f"{ATOM}entry")
    assert [e.find(f"{ATOM}title").text for e in entries] == [f"Version {n} of Vision test-vision" for n in (3, 2, 1)]
    newest = entries[0]
    assert newest.find(f"{ATOM}link[@rel='alternate']").get("href") == "http://localhost/visions/test-vision/v/3/"
    assert newest.find(f"{ATOM}id").text == "http://localhost/visions/test-vision/v/3/"
    assert newest.find(f"{ATOM}published").text.endswith("Z")
    summary = newest.find(f"{ATOM}summary").text
    assert summary.startswith("Third.")
    assert "In this version: 1 direct edit." in summary and "Enabling condition 2.1: text edited by Fiona Facilitator" in summary  # renumbered in version 2
    assert "With thanks to Fiona Facilitator." in summary
    assert entries[1].find(f"{ATOM}link[@rel='related']").get("href").endswith("/compare/1...2")


def test_the_feed_escapes_what_people_wrote(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Changed.", reason='Because </summary><script>alert("x")</script> & more')
    publish(client, vision, "Notes with <b>tags</b> & ampersands ]]> and \u2028 separators")
    response = client.get("/visions/test-vision/feed.atom")
    root = ET.fromstring(response.data)  # parses: everything escaped
    summary = root.find(f"{ATOM}entry/{ATOM}summary").text
    assert "Notes with <b>tags</b> & ampersands ]]>" in summary
    assert '</summary><script>alert("x")</script> & more' in summary
    assert b"<script>" not in response.data


def test_the_feed_answers_a_revalidation_with_304(client, history) -> None:
    first = client.get("/visions/test-vision/feed.atom")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get("/visions/test-vision/feed.atom", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_vision_without_versions_has_an_empty_feed(client, make_vision) -> None:
    make_vision(publish=False)
    root = ET.fromstring(client.get("/visions/test-vision/feed.atom").data)
    assert root.findall(f"{ATOM}entry") == [] and root.find(f"{ATOM}updated").text
    assert client.get("/visions/nope/feed.atom").status_code == 404
