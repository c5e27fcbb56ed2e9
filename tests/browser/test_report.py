"""The consultation report in a real browser: reached from the version's permalink, axe clean, its
tables captioned, and on paper (print media) only the report: no site header or download link."""

from __future__ import annotations

from ..test_report import consulted  # noqa: F401  (the fixture: version 1, a consultation, version 2)
from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll


def test_read_and_print_the_report_of_a_version(page, consulted):  # noqa: F811
    page.goto("/visions/test-vision/v/2/")
    page.get_by_role("link", name="Read the consultation report: we asked, you said, we did").click()
    page.wait_for_url("**/visions/test-vision/v/2/report")
    assert page.get_by_role("heading", name="We asked, you said, we did: Vision test-vision", level=1).is_visible()
    for name in ("We asked", "You said", "We did"):
        assert page.get_by_role("heading", name=name, exact=True, level=2).is_visible()
    assert page.get_by_role("table", name="Visible proposals, comments and reflections on each element").is_visible()
    assert page.get_by_text("It goes beyond our remit.").is_visible()
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page)

    page.emulate_media(media="print")
    assert not page.locator(".ds_site-header").is_visible()
    assert not page.get_by_role("link", name="Download this report as a Word document").is_visible()
    assert page.get_by_role("heading", name="We did", exact=True).is_visible()
