"""The one title-and-body diff: what every page that shows a change of an element's text renders
with the `text_diff` macro of `templates/macros/diff.html`."""

from __future__ import annotations

from dataclasses import dataclass

from . import diffcache, diffing


@dataclass
class TextDiff:
    """A change of an element's title and body, each as `diffing.DiffViews` (inline, side by side,
    list). Text pairs never change, so the word diffs come from the content-addressed cache."""

    title: diffing.DiffViews
    body: diffing.DiffViews

    @classmethod
    def between(cls, old_title: str, old_body: str, new_title: str, new_body: str) -> TextDiff:
        return cls(
            diffing.DiffViews(diffcache.diff(old_title, new_title)),
            diffing.DiffViews(diffcache.diff(old_body, new_body)),
        )

    @property
    def has_changes(self) -> bool:
        return self.title.has_changes or self.body.has_changes
