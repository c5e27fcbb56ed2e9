"""What the validators found (issue 19, item 9): ids unique on a page, links that land on the page
they name, the feed discoverable from every page of a vision."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from workbench.models import Role


def duplicate_ids(page: str) -> list[str]:
    return [name for name, n in Counter(re.findall(r'\sid="([^"]+)"', page)).items() if n > 1]


@pytest.mark.parametrize("path", ["/visions/test-vision/window", "/admin/accounts/{other}", "/moderation", "/account"])
def test_pages_with_several_forms_have_unique_ids(client, vision, make_user, login_as, path):
    login_as(make_user(Role.ADMIN))
    other = make_user(Role.VOLUNTEER)
    response = client.get(path.format(other=other.id))
    assert response.status_code == 200
    assert duplicate_ids(response.get_data(as_text=True)) == []


def test_the_publish_page_links_each_change_to_where_the_draft_shows_it(client, vision, make_user, login_as):
    login_as(make_user(Role.FACILITATOR))
    client.post(
        "/visions/test-vision/draft/elements/condition-1/edit",
        data={"title": "Condition 1.1", "body": "Condition 1.1 new body.", "reason": "Clearer.", "lock_version": "1"},
    )
    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    links = re.findall(r'href="([^"]*#element-[^"]+)"', page)
    assert links, page
    assert all(link.startswith("/visions/test-vision/draft#element-") for link in links)
    draft = client.get("/visions/test-vision/draft").get_data(as_text=True)
    for link in links:
        assert f'id="{link.split("#")[1]}"' in draft


@pytest.mark.parametrize("path", ["/visions/test-vision/", "/visions/test-vision/v/1/", "/visions/test-vision/versions", "/visions/test-vision/elements/objective-1"])
def test_every_page_of_a_published_vision_names_its_feed(client, vision, path):
    page = client.get(path).get_data(as_text=True)
    assert page.count('type="application/atom+xml"') == 1
    assert 'href="/visions/test-vision/feed.atom"' in page
