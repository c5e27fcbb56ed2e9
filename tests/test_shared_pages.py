"""Pages served to everyone from a shared cache never carry anything personal."""

from __future__ import annotations

import pytest

from workbench.models import Role


@pytest.mark.parametrize(
    "url", ["/visions/test-vision/v/1/", "/visions/test-vision/v/1/ambition-1", "/visions/test-vision/compare/1...1"]
)
def test_a_shared_page_holds_no_flash_token_or_name(client, make_vision, make_user, login_as, app, url) -> None:
    make_vision()
    user = login_as(make_user(Role.FACILITATOR, name="Private Person"))
    with client.session_transaction() as session:
        session["_flashes"] = [("success", "Secret flash for one person")]
    page = client.get(url, follow_redirects=True).get_data(as_text=True)
    assert "Secret flash" not in page
    assert "Private Person" not in page
    assert 'name="csrf-token"' not in page
    assert 'name="csrf_token"' not in page
    # The message waits for the person's own next page.
    assert "Secret flash for one person" in client.get("/").get_data(as_text=True)
    assert user.id
