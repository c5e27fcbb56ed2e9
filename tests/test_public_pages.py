"""Public reading at permanent links (DESIGN.md §4)."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from workbench.caching import clear_caches
from workbench.models import DraftChange, ElementText, Version, db
from workbench.visions.permalinks import IMMUTABLE, page_cache
from workbench.drafting.publishing import publish_version

from .factories import entry_of


def edit_and_publish(vision, key: str, body: str) -> None:
    entry = entry_of(vision, key)
    text = ElementText(element_id=entry.element_id, title=entry.text.title, body=body)
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.add(DraftChange(vision_id=vision.id, element_id=entry.element_id, kind="edit", text_id=text.id))
    publish_version(vision, actor=None, notes=f"Changed {key}")
    db.session.commit()


def test_the_home_page_lists_visions(client, make_vision) -> None:
    make_vision(slug="data-vision")
    page = client.get("/").get_data(as_text=True)
    assert "Vision data-vision" in page
    assert 'href="/visions/data-vision/"' in page
    assert "Version 1 published" in page


def test_the_home_page_without_visions_says_so(client) -> None:
    assert "There are no visions on this site yet" in client.get("/").get_data(as_text=True)


def test_the_vision_page_shows_the_latest_version_and_the_consultation(client, make_vision) -> None:
    vision = make_vision()
    edit_and_publish(vision, "objective-2", "A newer objective text.")
    page = client.get("/visions/test-vision/").get_data(as_text=True)
    assert "Version 2, published" in page
    assert "A newer objective text." in page
    assert "Consultation open" in page
    assert "Objective 1.2" in page
    assert 'href="/visions/test-vision/v/2/"' in page


def test_an_unpublished_vision_says_it_is_not_published(client, make_vision) -> None:
    make_vision(publish=False, open_window=False)
    page = client.get("/visions/test-vision/").get_data(as_text=True)
    assert "has not been published yet" in page
    assert "No consultation scheduled" in page


def test_a_version_permalink_is_immutable_and_cacheable(client, make_vision) -> None:
    make_vision()
    response = client.get("/visions/test-vision/v/1/")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE == "public, max-age=31536000, immutable"
    etag, weak = response.get_etag()
    assert etag and not weak
    assert "Set-Cookie" not in response.headers
    page = response.get_data(as_text=True)
    assert 'name="csrf-token"' not in page  # shared by everyone: nothing personal in it
    assert "Objective 2.1" in page and "Objective 2.1 body." in page


def test_revalidation_is_answered_304_without_touching_the_database(client, make_vision, count_queries) -> None:
    make_vision()
    etag = client.get("/visions/test-vision/v/1/").get_etag()[0]
    with count_queries() as log:
        response = client.get("/visions/test-vision/v/1/", headers={"If-None-Match": f'"{etag}"'})
    assert response.status_code == 304
    assert response.data == b""
    assert response.get_etag()[0] == etag
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert log.count == 0


def test_a_cached_permalink_is_served_without_the_database(client, make_vision, count_queries) -> None:
    make_vision()
    first = client.get("/visions/test-vision/v/1/ambition-2")
    with count_queries() as log:
        again = client.get("/visions/test-vision/v/1/ambition-2")
    assert log.count == 0
    assert again.data == first.data


def test_a_stale_etag_gets_the_page(client, make_vision) -> None:
    make_vision()
    response = client.get("/visions/test-vision/v/1/", headers={"If-None-Match": '"not-this-one"'})
    assert response.status_code == 200


def test_an_old_version_keeps_its_bytes_after_a_new_one(client, make_vision, app) -> None:
    vision = make_vision()
    before = client.get("/visions/test-vision/v/1/").data
    edit_and_publish(vision, "ambition-1", "Changed.")
    clear_caches()  # as after a restart
    assert client.get("/visions/test-vision/v/1/").data == before
    assert b"Changed." in client.get("/visions/test-vision/v/2/").data


def test_the_permalink_shows_how_to_cite_it(client, make_vision) -> None:
    vision = make_vision()
    version = db.session.scalar(select(Version).where(Version.vision_id == vision.id))
    page = client.get("/visions/test-vision/v/1/").get_data(as_text=True)
    assert "How to cite this version" in page
    assert "Vision test-vision, version 1, published" in page
    assert "http://localhost/visions/test-vision/v/1/" in page
    assert version.content_hash in page


def test_an_element_permalink_shows_the_element_as_published(client, make_vision) -> None:
    make_vision()
    page = client.get("/visions/test-vision/v/1/objective-3").get_data(as_text=True)
    # objective-3 is the first objective of the second ambition: "Objective 2.1"
    assert "Objective 2.1" in page
    assert "Objective 2.1 body." in page
    assert "How to cite this element" in page
    assert "http://localhost/visions/test-vision/v/1/objective-3" in page


def test_an_ambition_permalink_lists_what_underpins_it(client, make_vision) -> None:
    make_vision()
    page = client.get("/visions/test-vision/v/1/ambition-1").get_data(as_text=True)
    assert "Underpinned by" in page
    assert 'href="/visions/test-vision/v/1/condition-1"' in page


def test_the_json_holds_every_element(client, make_vision) -> None:
    make_vision(ambitions=2, objectives=2, conditions=1)
    response = client.get("/visions/test-vision/v/1.json")
    assert response.mimetype == "application/json"
    assert response.headers["Cache-Control"] == IMMUTABLE
    data = json.loads(response.data)
    version = db.session.scalar(select(Version))
    assert data["version"] == 1
    assert data["content_hash"] == f"sha256:{version.content_hash}"
    flat = []

    def walk(nodes):
        for node in nodes:
            assert {"key", "kind", "number", "title", "body", "children"} <= set(node)
            assert isinstance(node["title"], str)
            flat.append(node)
            walk(node["children"])

    walk(data["elements"])
    assert len(flat) == 1 + 2 * (1 + 2 + 1)
    statement = data["elements"][0]
    assert (statement["kind"], statement["number"], statement["title"]) == ("statement", "", "")
    objective = data["elements"][2]["children"][1]
    assert (objective["key"], objective["kind"], objective["number"], objective["body"]) == (
        "objective-4", "objective", "2.2", "Objective 2.2 body.",
    )


def test_the_versions_page_lists_each_version(client, make_vision) -> None:
    vision = make_vision()
    edit_and_publish(vision, "ambition-1", "Changed.")
    page = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert page.index("Version 2") < page.index("Version 1")
    assert "Changed ambition-1" in page
    assert "1 change since version 1" in page


def test_the_living_element_page_shows_the_working_text(client, make_vision) -> None:
    make_vision()
    page = client.get("/visions/test-vision/elements/condition-2").get_data(as_text=True)
    assert "Enabling condition 2.1" in page
    assert "Condition 2.1 body." in page
    assert "Current working text" in page


@pytest.mark.parametrize(
    "url",
    [
        "/visions/nope/",
        "/visions/Test-Vision/",
        "/visions/test-vision/v/0/",
        "/visions/test-vision/v/-1/",
        "/visions/test-vision/v/abc/",
        "/visions/test-vision/v/99/",
        "/visions/test-vision/v/99999999999999999999/",
        "/visions/test-vision/v/1/objective-99",
        "/visions/test-vision/v/1/objective-0",
        "/visions/test-vision/v/1/paragraph-1",
        "/visions/test-vision/v/2.json",
        "/visions/test-vision/v/0.json",
        "/visions/test-vision/elements/objective-99",
        "/visions/test-vision/elements/ambition-99999999999999999999",
        "/visions/nope/versions",
    ],
)
def test_what_does_not_exist_is_a_404_page(client, make_vision, url: str) -> None:
    make_vision()
    response = client.get(url)
    assert response.status_code == 404
    if not url.endswith(".json"):
        assert "Page not found" in response.get_data(as_text=True)


def test_a_missing_version_is_not_cached(client, make_vision, app) -> None:
    vision = make_vision()
    assert client.get("/visions/test-vision/v/2/").status_code == 404
    edit_and_publish(vision, "ambition-1", "Changed.")
    assert client.get("/visions/test-vision/v/2/").status_code == 200


PAGES = [
    "/",
    "/visions/test-vision/",
    "/visions/test-vision/versions",
    "/visions/test-vision/elements/objective-1",
    "/visions/test-vision/v/1/",
    "/visions/test-vision/v/1/ambition-1",
    "/visions/test-vision/v/1.json",
]


def queries_for(client, count_queries, url: str) -> tuple[int, int]:
    """SQL statements for the page with every in-process cache cold (as after a restart), then warm."""
    counts = []
    clear_caches()
    for _ in range(2):
        with count_queries() as log:
            assert client.get(url).status_code == 200
        counts.append(log.count)
    return counts[0], counts[1]


@pytest.mark.parametrize("url", PAGES)
def test_queries_do_not_grow_with_elements_or_versions(client, make_vision, count_queries, url) -> None:
    make_vision(slug="test-vision", ambitions=1, objectives=1, conditions=1)
    small_cold, small_warm = queries_for(client, count_queries, url)

    large = make_vision(slug="large", ambitions=5, objectives=4, conditions=3)
    for n in range(5):
        edit_and_publish(large, "objective-3", f"Edit {n}.")
    large_cold, large_warm = queries_for(client, count_queries, url.replace("test-vision", "large"))
    assert large_warm == small_warm
    # Cold, a page may read what it caches (all older snapshots in one query), never one per version.
    assert small_cold <= large_cold <= small_cold + 1 <= 7


def test_a_permalink_is_sent_gzipped_to_clients_that_accept_it(client, make_vision) -> None:
    import gzip

    make_vision()
    plain = client.get("/visions/test-vision/v/1/")
    packed = client.get("/visions/test-vision/v/1/", headers={"Accept-Encoding": "gzip, br"})
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 2
    assert packed.get_etag()[0] == plain.get_etag()[0] + "-gzip"
    # Either validator revalidates.
    for etag in (plain.get_etag()[0], packed.get_etag()[0]):
        again = client.get("/visions/test-vision/v/1/", headers={"If-None-Match": f'"{etag}"', "Accept-Encoding": "gzip"})
        assert again.status_code == 304


@pytest.mark.parametrize(
    ("accept", "gzipped"),
    [("gzip", True), ("br, gzip;q=0.5", True), ("*", True), ("gzip;q=0, br", False), ("deflate, br", False), ("", False),
     ("gzip-ish", False), ("x-gzip-ish;q=1", False)],
)
def test_gzip_goes_only_to_clients_that_accept_it(client, make_vision, accept, gzipped) -> None:
    make_vision()
    response = client.get("/visions/test-vision/v/1/", headers={"Accept-Encoding": accept})
    assert response.status_code == 200
    assert (response.headers.get("Content-Encoding") == "gzip") is gzipped
    assert response.headers["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response.get_etag()[0].endswith("-gzip") is gzipped
    assert "Accept-Encoding" in response.headers["Vary"]


def test_the_latest_page_renders_its_published_text_once(client, make_vision, app) -> None:
    make_vision()
    # The CSRF token in the page head carries a timestamp: two requests a second apart differ there.
    without_token = lambda page: re.sub(r'name="csrf-token" content="[^"]*"', "", page)  # noqa: E731
    first = client.get("/visions/test-vision/").get_data(as_text=True)
    cache = page_cache()
    assert len(cache) == 1  # the rendered text of version 1
    assert without_token(client.get("/visions/test-vision/").get_data(as_text=True)) == without_token(first)
