"""Searching a vision's proposals, comments, reflections and aligned work.

What is found, and by whom (`search_entries`, kept by the database on every write: models.py):
- everyone: what is public: proposals in every status (withdrawn and rejected ones are public
  pages, and say so), comments and reflections, and aligned work approved in screening;
- facilitators also: hidden proposals and comments (and the comments on a hidden proposal), and
  retracted comments, each marked as such; and what people who chose not to be published wrote
  (and what was said on their proposals), which nobody else finds (`UNPUBLISHED_ENTRIES`);
- nobody: aligned work that screening has not approved (its public wording is empty; what waits
  for screening is on the screening page only).

Ranking is bounded (REFERENCE.md: ranking every match of a common word costs 90-190 ms at 100,000
rows): the newest CANDIDATES matches that pass the filters are ranked, and a page of them shown.
A search that matches more says so. Queries: the candidates (one), then for the page shown its
rows and their snippets (two), whatever the number of matches.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from markupsafe import Markup, escape
from sqlalchemy import bindparam, text

from .. import permissions
from ..extensions import db
from ..models import Vision
from ..publication import NOT_PUBLISHED
from .models import SEARCHED_KINDS, facet_words
from .query import Search

# The most matches ranked for one search (the newest that pass the filters).
CANDIDATES = 400
PER_PAGE = 20
# Marks put around matched words by the engines: control characters, which no stored text holds
# (validation.clean_text removes them), so the snippet is escaped first and marked afterwards.
_START, _STOP = "\x01", "\x02"
SNIPPET_WORDS = 24


@dataclass(frozen=True)
class SearchFilters:
    """What to search and where: the words typed (cleaned), a kind ("" for all) and an element
    key ("" for all). Tags (issue 14, item 2) do not exist yet: a `tag` filter joins these, and
    `_filters_sql` gains its condition, when they do."""

    typed: str = ""
    kind: str = ""
    element_key: str = ""


@dataclass(frozen=True)
class Found:
    """One thing found, as a result shows it."""

    kind: str
    subject_id: int
    element_key: str | None
    proposal_id: int | None
    proposal_status: str | None
    accepted_with_changes: bool
    title: str
    extra: str
    visibility: str  # public, hidden, retracted or not_published (the last three for facilitators only)
    snippet: Markup

    @property
    def marked_hidden(self) -> bool:
        return self.visibility != "public"


@dataclass
class SearchResult:
    page: int
    rows: list[Found] = field(default_factory=list)
    candidates: int = 0  # matches ranked (at most CANDIDATES)
    more_not_ranked: bool = False  # a phrase's older matches may lie beyond the rows it was tested on

    @property
    def capped(self) -> bool:
        """Whether there are (or may be) more matches than were ranked."""
        return self.candidates >= CANDIDATES or self.more_not_ranked

    @property
    def pages(self) -> int:
        return max(1, -(-self.candidates // PER_PAGE))

    @property
    def first_shown(self) -> int:
        return (self.page - 1) * PER_PAGE + 1


def element_for_filter(vision: Vision, key: str) -> int | None:
    """The id of the vision's element `key` (any, removed ones too), or None."""
    if not key:
        return None
    return db.session.scalar(
        text("SELECT id FROM elements WHERE vision_id = :vision AND key = :key").bindparams(vision=vision.id, key=key)
    )


# The entries of people who chose not to be published (publication.NOT_PUBLISHED), read when the
# search runs (models.published_by in SQL words): their proposals and what is said on them, their
# comments and reflections, their aligned work. Computed once per search from the few such people
# (ix_users_publish_as) and the indexes on authors and on entries' subjects, whatever the matches.
UNPUBLISHED_ENTRIES = (
    "SELECT x.id FROM users u JOIN proposals p ON p.author_id = u.id "
    f"JOIN search_entries x ON x.proposal_id = p.id WHERE u.publish_as = '{NOT_PUBLISHED}' "
    "UNION ALL SELECT x.id FROM users u JOIN comments c ON c.author_id = u.id "
    f"JOIN search_entries x ON x.kind IN ('comment', 'reflection') AND x.subject_id = c.id WHERE u.publish_as = '{NOT_PUBLISHED}' "
    "UNION ALL SELECT x.id FROM users u JOIN aligned_work w ON w.submitter_id = u.id "
    f"JOIN search_entries x ON x.kind = 'aligned_work' AND x.subject_id = w.id WHERE u.publish_as = '{NOT_PUBLISHED}'"
)


def _visible_sql(user: Any) -> str:
    """SQL over `e` (search_entries): what `user` may find (see the module's docstring)."""
    if permissions.can_moderate(user):
        return "e.visibility IN ('public', 'hidden', 'retracted')"
    return f"e.visibility = 'public' AND NOT e.proposal_hidden AND e.id NOT IN ({UNPUBLISHED_ENTRIES})"


def _postgresql_candidates(visible: str, kind: str, element_id: int | None) -> str:
    """SQL: the ids of the newest CANDIDATES matches of `:q` in `:vision` that `visible` lets
    through, of `:kind` and on `:element` when given.

    The newest matches are found by walking an index in id order and testing each row's words
    (a common word: a page of matches after a few rows), or, for few matches, from the word index
    and a sort. Kinds and elements are far from spread evenly over the ids (the comments came after
    the proposals), which the planner cannot know: asked for `kind = :kind ORDER BY id`, it walked
    the whole table by id (225 ms for the reflections at 112,000 entries). Given the kind as a range
    and ordered by it, only the index of kinds and ids gives that order (1 ms); an element likewise,
    its aligned work found through its links in a second branch."""
    matching = f"e.search_words @@ websearch_to_tsquery('english'::regconfig, :q) AND e.vision_id = :vision AND {visible}"
    if element_id is None:
        if kind:
            return (
                f"SELECT e.id FROM search_entries e WHERE {matching} AND e.kind >= :kind AND e.kind <= :kind "
                "ORDER BY e.kind DESC, e.id DESC LIMIT :cap"
            )
        return f"SELECT e.id FROM search_entries e WHERE {matching} ORDER BY e.id DESC LIMIT :cap"
    branches = []
    if kind != "aligned_work":
        # One element's entries are few (~900 of 112,000 here): walking them and testing each row's
        # words beats reading a common word's whole list from the word index (~50 ms), which the
        # planner preferred; `coalesce` keeps the word index out of this branch.
        on_element = matching.replace("e.search_words @@", "coalesce(e.search_words, ''::tsvector) @@", 1)
        branches.append(
            f"(SELECT e.id FROM search_entries e WHERE {on_element} AND e.element_id >= :element AND e.element_id <= :element "
            f"{'AND e.kind = :kind ' if kind else ''}ORDER BY e.element_id DESC, e.id DESC LIMIT :cap)"
        )
    if kind in ("", "aligned_work"):
        # Aligned work supports several elements: it is found through its links to them.
        branches.append(
            f"(SELECT e.id FROM search_entries e WHERE {matching} AND e.kind = 'aligned_work' AND e.subject_id IN "
            "(SELECT aligned_work_id FROM aligned_work_elements WHERE element_id = :element) ORDER BY e.id DESC LIMIT :cap)"
        )
    return f"SELECT u.id FROM ({' UNION ALL '.join(branches)}) AS u ORDER BY u.id DESC LIMIT :cap"


# A phrase on PostgreSQL is tested on at most this many of the newest rows holding all its words.
PHRASE_WINDOW = 2_000


def _postgresql_phrase_candidates(visible: str, kind: str) -> str:
    """SQL: the newest CANDIDATES matches of the phrase search `:q` among the newest PHRASE_WINDOW
    rows that hold all its words (`:words`, Search.all_words_tsquery), which the word index finds
    without reading the rows' words; the phrase is then tested on those rows only. Testing it on
    every row holding the words costs what common words cost (~14,000 rows, 50-100 ms, for
    "public sector" at the large scale); this costs what the window does (~10 ms). Older matches
    beyond the window are not ranked: each row says how many rows the window held (`seen`), so a
    full window tells that there may be some."""
    return (
        f"WITH w AS ({_postgresql_words_window(visible, kind)}) "
        "SELECT w.id, (SELECT count(*) FROM w) AS seen FROM w "
        "WHERE w.search_words @@ websearch_to_tsquery('english'::regconfig, :q) ORDER BY w.id DESC LIMIT :cap"
    )


def _postgresql_words_window(visible: str, kind: str) -> str:
    holding = f"e.search_words @@ to_tsquery('english'::regconfig, :words) AND e.vision_id = :vision AND {visible}"
    if kind:
        return (
            f"SELECT e.id, e.search_words FROM search_entries e WHERE {holding} AND e.kind >= :kind AND e.kind <= :kind "
            "ORDER BY e.kind DESC, e.id DESC LIMIT :window"
        )
    return f"SELECT e.id, e.search_words FROM search_entries e WHERE {holding} ORDER BY e.id DESC LIMIT :window"


def _phrase_window_held(params: dict[str, Any], visible: str, kind: str) -> int:
    """How many rows the phrase's window held, when it found no match to say so."""
    return int(db.session.scalar(text(f"SELECT count(*) FROM ({_postgresql_words_window(visible, kind)}) AS w"), params) or 0)


def search_vision(vision: Vision, search: Search, filters: SearchFilters, element_id: int | None, page: int, user: Any) -> SearchResult:
    """The page `page` of what `user` may find in `vision` for `search`, best first among the newest
    CANDIDATES matches that pass the filters (a page past the last is empty)."""
    if filters.kind and filters.kind not in SEARCHED_KINDS:
        raise ValueError(f"unknown kind {filters.kind!r}")
    postgresql = db.session.get_bind().dialect.name == "postgresql"
    params: dict[str, Any] = {"vision": vision.id, "cap": CANDIDATES}
    by_window = False
    if postgresql:
        if filters.kind:
            params["kind"] = filters.kind
        if element_id is not None:
            params["element"] = element_id
        query = params["q"] = search.websearch()
        by_window = search.has_phrase and element_id is None  # an element's entries are few: tested all
        if by_window:
            params.update(words=search.all_words_tsquery(), window=PHRASE_WINDOW)
            candidates = _postgresql_phrase_candidates(_visible_sql(user), filters.kind)
        else:
            candidates = _postgresql_candidates(_visible_sql(user), filters.kind, element_id)
        # ts_rank reads each candidate's vector once.
        ranked = text(
            "SELECT c.id, ts_rank(e.search_words, websearch_to_tsquery('english'::regconfig, :q)) AS score"
            f"{', c.seen' if by_window else ''} FROM ({candidates}) c JOIN search_entries e ON e.id = c.id "
            "ORDER BY score DESC, c.id DESC"
        )
    else:
        # What was typed is looked for in the text only, never in the facets' words ("e12").
        query = "{title body extra}: (" + search.fts5() + ")"
        facets = facet_words(filters.kind, element_id)
        # FTS5 gives its matches newest (highest rowid) first and stops at the cap; the kind and
        # element are words of the index, so it intersects lists rather than testing rows. bm25
        # (lower is better) weighs a word in a title four times one in the text, facets not at all.
        params["matching"] = f"({query}) AND {{facets}}: ({facets})" if facets else query
        ranked = text(
            "SELECT id, score FROM (SELECT e.id AS id, bm25(search_entry_words, 4.0, 1.0, 1.0, 0.0) AS score "
            "FROM search_entry_words JOIN search_entries e ON e.id = search_entry_words.rowid "
            f"WHERE search_entry_words MATCH :matching AND e.vision_id = :vision AND {_visible_sql(user)} "
            "ORDER BY search_entry_words.rowid DESC LIMIT :cap) ORDER BY score, id DESC"
        )
    rows = db.session.execute(ranked, params).all()
    ranking = [row[0] for row in rows]
    result = SearchResult(page=page, candidates=len(ranking))
    if by_window and len(ranking) < CANDIDATES:
        held = rows[0].seen if rows else _phrase_window_held(params, _visible_sql(user), filters.kind)
        result.more_not_ranked = held >= PHRASE_WINDOW
    shown = ranking[(page - 1) * PER_PAGE : page * PER_PAGE]
    if shown:
        snippets = _snippets(shown, query, postgresql)
        result.rows = _found(shown, snippets)
    return result


def _snippets(ids: list[int], query: str, postgresql: bool) -> dict[int, Markup]:
    """The words around the matches of each of `ids`, escaped, with the matches in <mark>."""
    if postgresql:
        statement = text(
            "SELECT id, ts_headline('english'::regconfig, title || ' ' || body || ' ' || extra, "
            "websearch_to_tsquery('english'::regconfig, :q), :options) FROM search_entries WHERE id IN :ids"
        ).bindparams(
            bindparam("ids", expanding=True),
            options=f"StartSel={_START}, StopSel={_STOP}, MaxWords={SNIPPET_WORDS}, MinWords={SNIPPET_WORDS // 2}, "
            "MaxFragments=2, FragmentDelimiter=\" … \"",
        )
    else:
        statement = text(
            "SELECT rowid, snippet(search_entry_words, -1, char(1), char(2), '…', :words) FROM search_entry_words "
            "WHERE search_entry_words MATCH :q AND rowid IN :ids"
        ).bindparams(bindparam("ids", expanding=True), words=SNIPPET_WORDS)
    rows = db.session.execute(statement, {"q": query, "ids": ids})
    return {row[0]: marked(row[1] or "") for row in rows}


def marked(snippet: str) -> Markup:
    """`snippet` (with the engine's marks around matches) escaped, the matches in <mark>. Marks
    that do not pair up (never seen from either engine) are dropped rather than left open."""
    html = str(escape(snippet))
    if html.count(_START) != html.count(_STOP):
        return Markup(html.replace(_START, "").replace(_STOP, ""))
    return Markup(html.replace(_START, "<mark>").replace(_STOP, "</mark>"))


def _found(ids: list[int], snippets: dict[int, Markup]) -> list[Found]:
    """The entries `ids`, in that order, with what a result shows of each (one query)."""
    statement = text(
        "SELECT e.id, e.kind, e.subject_id, el.key, e.proposal_id, p.status, p.accepted_with_changes, "
        "e.title, e.extra, CASE WHEN e.proposal_hidden AND e.visibility = 'public' THEN 'hidden' "
        f"WHEN e.visibility = 'public' AND e.id IN ({UNPUBLISHED_ENTRIES}) THEN 'not_published' ELSE e.visibility END "
        "FROM search_entries e LEFT JOIN elements el ON el.id = e.element_id "
        "LEFT JOIN proposals p ON p.id = e.proposal_id WHERE e.id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    rows = {row[0]: row for row in db.session.execute(statement, {"ids": ids})}
    return [
        Found(
            kind=row[1], subject_id=row[2], element_key=row[3], proposal_id=row[4], proposal_status=row[5],
            accepted_with_changes=bool(row[6]), title=row[7], extra=row[8], visibility=row[9],
            snippet=snippets.get(entry_id, Markup("")),
        )
        for entry_id in ids
        if (row := rows.get(entry_id)) is not None
    ]

