"""The page explaining how to check a version, and the page refusing an altered one, in a real
browser: WCAG 2.2 AA (axe-core), the skip link, reflow at 320 px (long commands wrap)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from workbench.caching import clear_caches
from workbench.extensions import db

from ..test_version_guard import triggers_dropped
from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll, first_tab_reaches_skip_link, focused_element


@pytest.fixture
def vision(make_vision):
    return make_vision(slug="public-sector-data")


def test_the_about_verifying_page_is_accessible_and_reflows(vision, page):
    response = page.goto("/about/verifying")
    assert response is not None and response.status == 200
    assert "How to check a published version" in page.inner_text("main")
    assert "vision-workbench-signing-key" in page.inner_text("main")
    assert_no_axe_violations(page)
    assert first_tab_reaches_skip_link(page), f"the first Tab focused {focused_element(page)}"
    page.goto("/about/verifying")  # the skip link, now shown, would cover the header
    assert_no_horizontal_scroll(page, 320)
    assert_no_axe_violations(page)


@pytest.mark.allow_console_errors(r"503")
def test_the_page_refusing_an_altered_version_is_accessible(vision, page):
    db.session.remove()
    with triggers_dropped("versions"), db.engine.begin() as connection:
        connection.execute(text("UPDATE versions SET notes = 'Altered.'"))
    clear_caches()
    response = page.goto("/visions/public-sector-data/v/1/")
    assert response is not None and response.status == 503
    assert "This version cannot be shown" in page.inner_text("main")
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)
