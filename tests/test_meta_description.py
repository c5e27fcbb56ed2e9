"""Every page says what it is in a meta description (issue 19, item 8, in part)."""

from __future__ import annotations

import re

import pytest


def description(page: str) -> str:
    found = re.findall(r'<meta name="description" content="([^"]*)">', page)
    assert len(found) == 1, found
    return found[0]


@pytest.mark.parametrize("path", ["/", "/about", "/auth/login", "/no/such/page"])
def test_every_page_has_one_meta_description(client, vision, path):
    assert description(client.get(path).get_data(as_text=True)).startswith("Vision Workbench: public bodies")


@pytest.mark.parametrize("path", ["/visions/test-vision/", "/visions/test-vision/v/1/", "/visions/test-vision/versions"])
def test_a_visions_pages_describe_it_by_its_summary(client, vision, path):
    assert description(client.get(path).get_data(as_text=True)) == "A vision used in tests."
