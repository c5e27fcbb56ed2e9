"""Pages made for a signed-in person are never kept by a shared cache (issue 19, item 2)."""

from __future__ import annotations

import pytest

from workbench.models import Role


@pytest.mark.parametrize(
    ("role", "path"),
    [
        (Role.VOLUNTEER, "/account"),
        (Role.ADMIN, "/admin/accounts"),
        (Role.FACILITATOR, "/visions/test-vision/facilitate"),
        (Role.VOLUNTEER, "/visions/test-vision/"),
        (Role.VOLUNTEER, "/about"),
    ],
)
def test_a_page_for_a_signed_in_person_is_private_and_not_stored(client, make_user, login_as, vision, role, path):
    login_as(make_user(role))
    response = client.get(path)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"


def test_a_public_page_for_an_anonymous_visitor_sets_no_private_caching(client, vision):
    response = client.get("/visions/test-vision/")
    assert response.status_code == 200
    assert "private" not in response.headers.get("Cache-Control", "")


def test_a_permalink_keeps_its_own_caching_for_a_signed_in_person(client, make_user, login_as, vision):
    login_as(make_user())
    response = client.get("/visions/test-vision/v/1/")
    assert response.status_code == 200
    assert "immutable" in response.headers["Cache-Control"]
