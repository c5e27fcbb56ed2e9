"""Times are shown and entered on the site's clock (UK time by default: GMT in winter, BST in
summer) and stored in UTC."""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from workbench import create_app
from workbench.config import build_config
from workbench.drafting.window import local_date_and_time
from workbench.models import Vision
from workbench.templating import format_date, format_datetime, zone_words

from .factories import fresh
from .test_drafting_support import facilitator, per_request_login  # noqa: F401  (fixtures)

UTC = timezone.utc


@pytest.mark.parametrize(
    "moment, words",
    [
        (datetime(2026, 11, 30, 23, 59, tzinfo=UTC), "30 November 2026, 23:59 GMT"),
        (datetime(2026, 6, 1, 8, 0, tzinfo=UTC), "1 June 2026, 09:00 BST"),
        ("2026-06-01T08:00:00Z", "1 June 2026, 09:00 BST"),
        # The last minute of BST and the first of GMT again, on the night the clocks go back.
        (datetime(2026, 10, 25, 0, 59, tzinfo=UTC), "25 October 2026, 01:59 BST"),
        (datetime(2026, 10, 25, 1, 0, tzinfo=UTC), "25 October 2026, 01:00 GMT"),
    ],
)
def test_moments_are_shown_in_uk_time_with_gmt_or_bst(moment, words) -> None:
    assert format_datetime(moment) == words


def test_a_day_is_the_day_on_the_uk_clock() -> None:
    assert format_date(datetime(2026, 5, 31, 23, 30, tzinfo=UTC)) == "1 June 2026"
    assert format_date("2026-11-25") == "25 November 2026"
    assert zone_words() == "UK time (GMT in winter, BST in summer)"


def set_window(client, **data):
    return client.post("/visions/test-vision/window", data=data)


def test_a_summer_time_entered_is_stored_an_hour_earlier_in_utc_and_shown_as_entered(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    response = set_window(client, opens_date="2026-06-01", opens_time="09:00", closes_date="2026-11-30", closes_time="23:59")
    assert response.status_code == 302
    saved = fresh(Vision, vision.id)
    assert saved.opens_at == datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    assert saved.closes_at == datetime(2026, 11, 30, 23, 59, tzinfo=UTC)
    page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert "it opens on 1 June 2026, 09:00 BST and closes on 30 November 2026, 23:59 GMT" in page
    # The form shows the times as they were entered, not in UTC.
    assert 'value="09:00"' in page and 'value="23:59"' in page and 'value="08:00"' not in page


def test_a_time_the_clocks_skip_gets_a_message_beside_the_field(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    response = set_window(client, opens_date="2026-03-29", opens_time="01:30")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'id="opens_time-error"' in page
    assert "The clocks go forward on 29 March 2026, so there is no 01:30 that night" in page
    assert "for example 02:30" in page
    assert fresh(Vision, vision.id).opens_at is None


def test_a_time_that_happens_twice_when_the_clocks_go_back_is_the_first_of_the_two(client, make_vision, facilitator) -> None:
    vision = make_vision(open_window=False)
    page = client.get("/visions/test-vision/window").get_data(as_text=True)
    assert "a time that happens twice means the first of the two" in page
    assert set_window(client, opens_date="2026-10-25", opens_time="01:30").status_code == 302
    assert fresh(Vision, vision.id).opens_at == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert "it opens on 25 October 2026, 01:30 BST" in client.get("/visions/test-vision/window").get_data(as_text=True)


def test_the_closed_message_says_when_in_uk_time(make_vision) -> None:
    from workbench.drafting.window import closed_words

    vision = make_vision(open_window=False)
    vision.opens_at = datetime(2025, 3, 1, tzinfo=UTC)
    vision.closes_at = datetime(2025, 7, 31, 16, 0, tzinfo=UTC)
    assert "closed on 31 July 2025, 17:00 BST" in closed_words(vision)


@pytest.mark.parametrize("app_config", [{"TIME_ZONE": "America/New_York"}])
def test_another_time_zone_can_be_set(app, app_config) -> None:
    assert format_datetime(datetime(2026, 6, 1, 13, 0, tzinfo=UTC)) == "1 June 2026, 09:00 EDT"
    assert local_date_and_time(datetime(2026, 1, 1, 3, 0, tzinfo=UTC)) == ("2025-12-31", "22:00")
    assert zone_words() == "America/New York time (EST in winter, EDT in summer)"


def test_an_unknown_time_zone_stops_the_app_with_a_clear_message(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="WORKBENCH_TIME_ZONE: 'Mars/Olympus' is not a time zone name"):
        build_config(tmp_path, {"TESTING": True, "TIME_ZONE": "Mars/Olympus"})
    with pytest.raises(RuntimeError, match="WORKBENCH_TIME_ZONE"):
        create_app({"TESTING": True, "TIME_ZONE": "../etc/passwd", "DATABASE_URL": "sqlite://"})
