"""The accept-together form (issue 13) and how the chosen proposals and their order are read from
a request. The rules (how many, which, the plan) live in `together.py`."""

from __future__ import annotations

from collections.abc import Mapping

from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField

from ..numbers import whole_number
from .together import arrange


class TogetherForm(FlaskForm):
    note = TextAreaField("Note for the public record (optional)")
    # The working text the combined text was shown against: never accepted from an out-of-date page.
    expected_text_id = HiddenField()

    def expected_id(self) -> int | None:
        return whole_number(self.expected_text_id.data)


def chosen_in_order(values: Mapping[str, str]) -> list[int]:
    """The ticked proposals (`p`, whole numbers only; anything else is no proposal) in the order
    asked for: the positions typed in `order-<id>` (see `together.arrange`). `values` is a
    request's `values` (a MultiDict)."""
    ids = [n for raw in values.getlist("p") if (n := whole_number(raw)) is not None]  # type: ignore[attr-defined]
    positions = {i: whole_number(values.get(f"order-{i}"), maximum=999) for i in ids}
    return arrange(ids, positions)


def shown_revisions(values: Mapping[str, str], ids: list[int]) -> dict[int, int | None]:
    """The revision of each proposal the page showed (`rev-<id>`)."""
    return {i: whole_number(values.get(f"rev-{i}")) for i in ids}
