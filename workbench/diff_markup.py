"""The markup of word-diff runs: additions in <ins>, removals in <del>, said in words too.

Each addition and removal carries visually hidden "added: " / "removed: " and an end marker, so
screen readers announce them; diff.css adds the underline / strike-through and tints, so the
diff never relies on colour. A change that is only whitespace shows a visible ¶ or ␣ (a blank
cannot be underlined) and names it for screen readers.

These few tags are written here in Python, not in Jinja macros, because a comparison of two
versions holds thousands of runs and a macro call per run was most of its rendering time. The
macros in templates/macros/diff.html build the views around them and call them as filters
(`install` registers them). Every piece of user text goes through `escape`.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import Environment
from markupsafe import Markup, escape

from .diffing import Change, DiffViews, is_rewritten


def space_name(text: str) -> str:
    """What a whitespace-only change is called: a space, a line break or a paragraph break."""
    if text.count("\n") > 1:
        return "paragraph break"
    return "line break" if "\n" in text else "space"


def _space_mark(text: str) -> Markup:
    symbol = "¶" if "\n" in text else "␣"
    return Markup(
        f'<span class="diff__mark" aria-hidden="true">{symbol}</span><span class="visually-hidden">{space_name(text)}</span>'
    )


def inserted(text: str) -> Markup:
    """An addition; whitespace is kept (it is part of the new text) after its mark."""
    shown = escape(text) if text.strip() else _space_mark(text) + escape(text)
    return Markup(
        f'<ins class="diff__ins"><span class="visually-hidden">added: </span>{shown}'
        '<span class="visually-hidden"> (end of addition)</span></ins>'
    )


def removed(text: str) -> Markup:
    """A removal; removed whitespace shows as its mark only (a struck ¶, not a line break)."""
    shown = escape(text) if text.strip() else _space_mark(text)
    return Markup(
        f'<del class="diff__del"><span class="visually-hidden">removed: </span>{shown}'
        '<span class="visually-hidden"> (end of removal)</span></del>'
    )


def runs(changes: Iterable[Change]) -> Markup:
    """A run of changes as text with its additions and removals marked."""
    parts = []
    for op, text in changes:
        if op == "insert":
            parts.append(inserted(text))
        elif op == "delete":
            parts.append(removed(text))
        else:
            parts.append(escape(text))
    return Markup("".join(parts))


def rewritten(changes: Iterable[Change] | DiffViews) -> bool:
    """Whether a diff (its changes, or its `DiffViews`) shows a passage as one replaced block
    because comparing it word by word would have cost too much (`diffing.is_rewritten`)."""
    if isinstance(changes, DiffViews):
        return changes.rewritten
    return is_rewritten(changes)


def any_change(changes: Iterable[Change]) -> bool:
    """Whether anything was added or removed."""
    return any(op != "equal" for op, _ in changes)


def install(env: Environment) -> None:
    """Make the filters available to templates (the app's environment, or a test's own)."""
    env.filters.update(
        diff_runs=runs,
        diff_inserted=inserted,
        diff_removed=removed,
        diff_rewritten=rewritten,
        any_change=any_change,
        space_name=space_name,
    )
