"""Charts as plain data: each chart's rows, its one-sentence summary, and the geometry that
templates/macros/charts.html draws as SVG (attributes only: no inline style under our CSP; the
look comes from static/css/charts.css). Pure: no Flask, no database."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from .counts import KINDS, OUTCOMES, Participation, weeks_between

# Bar charts: label column, bar area and the number after each bar, in SVG user units.
LABEL_WIDTH = 200
BAR_AREA = 440
BAR_HEIGHT = 22
BAR_GAP = 10
CHART_WIDTH = LABEL_WIDTH + BAR_AREA + 80
# The line chart.
LINE_WIDTH = 720
LINE_HEIGHT = 300
LINE_LEFT, LINE_RIGHT, LINE_TOP, LINE_BOTTOM = 56, 130, 16, 48
TOP_ELEMENTS = 15  # the element chart shows the busiest; its table lists them all


def number(value: int) -> str:
    return f"{value:,}"


def counted(value: int, singular: str, plural: str) -> str:
    """ "1 open proposal", "1,200 open proposals" """
    return f"{number(value)} {singular if value == 1 else plural}"


@dataclass
class Bar:
    label: str
    value: int
    y: float = 0
    width: float = 0


@dataclass
class BarChart:
    id: str
    title: str
    description: str
    summary: str
    bars: list[Bar]
    # The table alternative: its column headings and rows (first cell a row heading).
    columns: list[str] = field(default_factory=list)
    rows: list[list[Any]] = field(default_factory=list)
    note: str = ""
    width: int = CHART_WIDTH
    label_width: int = LABEL_WIDTH
    bar_height: int = BAR_HEIGHT

    @property
    def height(self) -> float:
        return max(len(self.bars), 1) * (BAR_HEIGHT + BAR_GAP) + BAR_GAP


def bar_chart(id: str, title: str, description: str, summary: str, bars: Sequence[tuple[str, int]], **table: Any) -> BarChart:
    """Horizontal bars scaled to the largest value, each labelled with its name and number."""
    largest = max((value for _, value in bars), default=0) or 1
    laid_out = [
        Bar(label, value, y=BAR_GAP + index * (BAR_HEIGHT + BAR_GAP), width=round(BAR_AREA * value / largest, 1))
        for index, (label, value) in enumerate(bars)
    ]
    return BarChart(id, title, description, summary, laid_out, **table)


@dataclass
class Series:
    kind: str  # "proposals", "comments" or "reflections": its CSS class and its marker
    label: str
    points: list[tuple[float, float]]
    values: list[int]
    end_label_y: float = 0

    @property
    def path(self) -> str:
        return " ".join(f"{'M' if i == 0 else 'L'}{x:.1f},{y:.1f}" for i, (x, y) in enumerate(self.points))


@dataclass
class LineChart:
    id: str
    title: str
    description: str
    summary: str
    weeks: list[date]
    series: list[Series]
    x_ticks: list[tuple[float, str]]
    y_ticks: list[tuple[float, str]]
    columns: list[str]
    rows: list[list[Any]]
    width: int = LINE_WIDTH
    height: int = LINE_HEIGHT
    left: int = LINE_LEFT
    bottom: float = LINE_HEIGHT - LINE_BOTTOM
    right: float = LINE_WIDTH - LINE_RIGHT


def _axis_top(largest: int) -> int:
    top = 1
    while True:
        for multiple in (1, 2, 5):
            if top * multiple >= largest:
                return top * multiple
        top *= 10


KIND_LABELS = {"proposals": "Proposals", "comments": "Comments", "reflections": "Reflections"}


def line_chart(participation: Participation) -> LineChart:
    """Proposals, comments and reflections per week, one line each (with its own marker and dash,
    and its name at its end), from the first week with a contribution to the last."""
    by_week = participation.by_week
    weeks = weeks_between(min(by_week), max(by_week)) if by_week else []
    totals = {kind: sum(by_week.get(week, Counter())[kind] for week in weeks) for kind in KINDS}
    largest = max((by_week.get(week, Counter())[kind] for week in weeks for kind in KINDS), default=0)
    top = _axis_top(max(largest, 1))
    left, right = LINE_LEFT, LINE_WIDTH - LINE_RIGHT
    upper, bottom = LINE_TOP, LINE_HEIGHT - LINE_BOTTOM
    step = (right - left) / max(len(weeks) - 1, 1)

    def x(index: int) -> float:
        return left + index * step if len(weeks) > 1 else (left + right) / 2

    def y(value: int) -> float:
        return bottom - (bottom - upper) * value / top

    series = []
    for kind in KINDS:
        values = [by_week.get(week, Counter())[kind] for week in weeks]
        series.append(Series(kind, KIND_LABELS[kind], [(x(i), y(v)) for i, v in enumerate(values)], values))
    # Names at the lines' ends, kept at least 14 units apart so that they never overlap.
    placed: list[float] = []
    for line in sorted(series, key=lambda s: s.points[-1][1] if s.points else 0):
        wanted = line.points[-1][1] + 4 if line.points else bottom
        if placed and wanted < placed[-1] + 14:
            wanted = placed[-1] + 14
        line.end_label_y = wanted
        placed.append(wanted)
    every = max(1, -(-len(weeks) // 8))  # at most about eight dates under the axis
    x_ticks = [(x(i), f"{week.day} {week:%b}") for i, week in enumerate(weeks) if i % every == 0]
    steps = top if top < 5 else (5 if top % 5 == 0 else 4)
    y_ticks = [(y(top * share // steps), number(top * share // steps)) for share in range(steps + 1)]
    busiest = max(weeks, key=lambda week: sum(by_week.get(week, Counter()).values()), default=None)
    total = sum(totals.values())
    if busiest is None:
        summary = "Nobody has contributed yet."
    else:
        in_busiest = sum(by_week[busiest].values())
        summary = (
            f"The busiest week was the week of {busiest.day} {busiest:%B %Y}: "
            f"{counted(in_busiest, 'contribution', 'contributions')} of {number(total)}."
        )
    rows = [[f"Week of {week.day} {week:%B %Y}", *(by_week.get(week, Counter())[kind] for kind in KINDS)] for week in weeks]
    description = (
        f"A line chart of proposals, comments and reflections per week, over {counted(len(weeks), 'week', 'weeks')}: "
        + ", ".join(f"{counted(totals[kind], kind[:-1], kind)}" for kind in KINDS)
        + " in all."
    )
    return LineChart(
        "over-time", "Contributions over time", description, summary, weeks, series, x_ticks, y_ticks,
        ["Week", "Proposals", "Comments", "Reflections"], rows,
    )


@dataclass
class ElementRow:
    key: str
    label: str
    title: str
    kind: str
    ambition: str | None  # the key of the ambition it sits under (itself, for an ambition)


def element_rows(elements: Iterable[dict[str, Any]]) -> list[ElementRow]:
    """The elements of a version (or of the working draft), in document order, each with its ambition."""
    elements = list(elements)
    parents = {e["key"]: e["parent"] for e in elements}
    kinds = {e["key"]: e["kind"] for e in elements}

    def ambition_of(key: str | None) -> str | None:
        while key is not None and kinds.get(key) != "ambition":
            key = parents.get(key)
        return key

    return [ElementRow(e["key"], e["label"], e["title"], e["kind"], ambition_of(e["key"])) for e in elements]


def _contributions(counts: Counter[str]) -> int:
    return sum(counts[kind] for kind in KINDS)


def _most(rows: Sequence[tuple[str, int]], about: str, total: int) -> str:
    if not total:
        return f"Nobody has contributed {about} yet."
    value = max(row[1] for row in rows)
    leaders = [label for label, count in rows if count == value]
    if len(leaders) == 1:
        return f"Most contributions were about {leaders[0]}: {number(value)} of {number(total)}."
    named = ", ".join(leaders[:3]) if len(leaders) <= 3 else f"{', '.join(leaders[:3])} and {len(leaders) - 3} more"
    if len(leaders) <= 3:
        named = f"{', '.join(leaders[:-1])} and {leaders[-1]}"
    return f"Most contributions were about {named}: {number(value)} each, of {number(total)}."


def ambition_chart(participation: Participation, elements: list[ElementRow]) -> BarChart:
    """Contributions per ambition, each with everything under it; the statement and elements no
    longer in the vision apart."""
    labels = {row.key: row.label for row in elements}
    titles = {row.key: row.title for row in elements}
    ambitions = [row.key for row in elements if row.kind == "ambition"]
    under = {row.key: row.ambition for row in elements}
    groups: dict[str, Counter[str]] = {key: Counter() for key in ambitions}
    other: Counter[str] = Counter()
    for key, counts in participation.by_element.items():
        group = under.get(key)
        (groups[group] if group in groups else other).update(counts)
    bars = [(labels[key], _contributions(groups[key])) for key in ambitions]
    rows = [[f"{labels[key]}{': ' + titles[key] if titles[key] else ''}", *(groups[key][kind] for kind in KINDS), _contributions(groups[key])] for key in ambitions]
    if _contributions(other):
        bars.append(("Elsewhere", _contributions(other)))
        rows.append(["Elsewhere: the vision statement, and elements no longer in the vision", *(other[kind] for kind in KINDS), _contributions(other)])
    total = sum(value for _, value in bars)
    return bar_chart(
        "by-ambition", "Contributions by ambition",
        "A bar chart of the proposals, comments and reflections on each ambition and the elements under it.",
        _most(bars, "on any ambition", total), bars,
        columns=["Ambition", "Proposals", "Comments", "Reflections", "All contributions"], rows=rows,
    )


def element_chart(participation: Participation, elements: list[ElementRow]) -> BarChart:
    """Contributions per element: the busiest TOP_ELEMENTS as bars, every element in the table."""
    known = {row.key for row in elements}
    per_element = [(row.label, participation.by_element.get(row.key, Counter())) for row in elements]
    gone = Counter()
    for key, counts in participation.by_element.items():
        if key not in known:
            gone.update(counts)
    if _contributions(gone):
        per_element.append(("Elements no longer in the vision", gone))
    ranked = sorted(per_element, key=lambda item: -_contributions(item[1]))[:TOP_ELEMENTS]
    bars = [(label, _contributions(counts)) for label, counts in ranked if _contributions(counts)]
    total = sum(_contributions(counts) for _, counts in per_element)
    rows = [[label, *(counts[kind] for kind in KINDS), _contributions(counts)] for label, counts in per_element]
    return bar_chart(
        "by-element", "Contributions by element",
        f"A bar chart of the {counted(len(bars), 'element', 'elements')} with the most proposals, comments and reflections.",
        _most([(label, _contributions(counts)) for label, counts in per_element], "on any element", total), bars,
        columns=["Element", "Proposals", "Comments", "Reflections", "All contributions"], rows=rows,
        note=f"The chart shows the {counted(len(bars), 'element', 'elements')} with the most contributions; the table lists every element.",
    )


OUTCOME_LABELS = {
    "open": "Open", "accepted": "Accepted", "accepted with changes": "Accepted with changes",
    "rejected": "Rejected", "withdrawn": "Withdrawn",
}


def outcome_chart(participation: Participation) -> BarChart:
    outcomes = participation.outcomes
    total = sum(outcomes.values())
    bars = [(OUTCOME_LABELS[outcome], outcomes[outcome]) for outcome in OUTCOMES]
    if total:
        summary = (
            f"Of {counted(total, 'proposal', 'proposals')}, {number(outcomes['open'])} "
            f"{'is' if outcomes['open'] == 1 else 'are'} open, {number(outcomes['accepted'])} accepted, "
            f"{number(outcomes['accepted with changes'])} accepted with changes, {number(outcomes['rejected'])} rejected "
            f"and {number(outcomes['withdrawn'])} withdrawn."
        )
    else:
        summary = "Nobody has proposed a change yet."
    return bar_chart(
        "by-outcome", "Proposals by outcome",
        "A bar chart of how many proposals are open, accepted, accepted with changes, rejected and withdrawn.",
        summary, bars, columns=["Outcome", "Proposals"], rows=[[label, value] for label, value in bars],
    )


PARTICIPANT_LABELS = {
    "anyone": "Took part in any way", "proposed": "Proposed a change", "commented": "Commented on a proposal",
    "reflected": "Reflected on an element", "voted": "Voted on a proposal",
}


def participant_chart(participation: Participation) -> BarChart:
    people = participation.participants
    bars = [(PARTICIPANT_LABELS[role], people.get(role, 0)) for role in PARTICIPANT_LABELS]
    anyone = people.get("anyone", 0)
    if anyone:
        summary = (
            f"{counted(anyone, 'person', 'people')} took part: {number(people.get('voted', 0))} voted, "
            f"{number(people.get('proposed', 0))} proposed a change, {number(people.get('commented', 0))} commented "
            f"and {number(people.get('reflected', 0))} reflected. Many did more than one."
        )
    else:
        summary = "Nobody has taken part yet."
    return bar_chart(
        "participants", "Distinct participants",
        "A bar chart of how many different people took part, in any way and in each way.",
        summary, bars, columns=["How they took part", "People"], rows=[[label, value] for label, value in bars],
        note="A person counts once in each row, however many times they took part that way.",
    )


def element_words(participation: Participation, key: str) -> str:
    """ "3 open proposals, 12 reflections" for the vision page's contents list."""
    return (
        f"{counted(participation.open_proposals(key), 'open proposal', 'open proposals')}, "
        f"{counted(participation.reflections(key), 'reflection', 'reflections')}"
    )
