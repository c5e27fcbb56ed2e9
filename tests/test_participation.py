"""Participation at a glance (issue 14, item 4): the public page of charts per vision, and the
counts per element in the vision page's contents list."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from html.parser import HTMLParser
from typing import Any

import pytest
from sqlalchemy import func, inspect, select
from sqlalchemy.exc import DBAPIError

from workbench.caching import clear_caches
from workbench.discussion.services import hide_content, post_reflection, retract_comment, unhide_content
from workbench.discussion.votes import cast_vote
from workbench.facilitation.decisions import reject_proposal
from workbench.models import Comment, Proposal, Role, Vote, db, utcnow, waiting
from workbench.participation.counts import (
    ROLES,
    count_participation,
    open_proposals,
    read_participation,
    waiting_proposals,
)
from workbench.participation.models import Participant, VisionTotals
from workbench.proposals.services import withdraw_proposal

from .conftest import schema_names
from .factories import add_comment, element_of, fresh, open_proposal

PAGE = "/visions/test-vision/participation"


@pytest.fixture
def app_config() -> dict[str, Any]:
    # Counts follow every change at once here (the default waits up to a minute between recounts).
    return {"PARTICIPATION_REFRESH_SECONDS": 0}


def _set(proposal: Proposal, **columns: Any) -> None:
    row = fresh(Proposal, proposal.id)
    for name, value in columns.items():
        setattr(row, name, value)
    db.session.commit()


@pytest.fixture
def consultation(vision, make_user) -> dict[str, Any]:
    """A small hand-made consultation, with hidden and retracted contributions that must not count.

    Counted: Alice's five proposals (open, accepted, accepted with changes, rejected, withdrawn) on
    Ambition 1's objectives; Bob's comment; Erin's reflection on Objective 2.1 and Fay's reply;
    Vic's vote and Val's vote, which she took back (cleared). Not counted: Hugh's hidden proposal,
    with Hana's comment and Hal's vote on it; Cat's retracted comment; Dan's hidden comment; Gus's
    hidden reflection.
    """
    people = {name: make_user(name=name, email=f"{name.lower()}@example.org") for name in
              ("Alice", "Bob", "Cat", "Dan", "Erin", "Fay", "Gus", "Hugh", "Hana", "Hal", "Vic", "Val")}
    facilitator = make_user(Role.FACILITATOR, name="Fiona Facilitator", email="fiona@example.org")
    first = open_proposal(vision, people["Alice"], "objective-1")
    accepted = open_proposal(vision, people["Alice"], "objective-1", "Objective 1.1 accepted.")
    changed = open_proposal(vision, people["Alice"], "objective-2")
    rejected = open_proposal(vision, people["Alice"], "objective-2", "Objective 1.2 rejected.")
    withdrawn = open_proposal(vision, people["Alice"], "objective-2", "Objective 1.2 withdrawn.")
    hidden = open_proposal(vision, people["Hugh"], "objective-3")

    cast_vote(fresh(Proposal, first.id), people["Vic"], "support")
    cast_vote(fresh(Proposal, first.id), people["Val"], "oppose")
    cast_vote(fresh(Proposal, first.id), people["Val"], "clear")
    cast_vote(fresh(Proposal, hidden.id), people["Hal"], "support")
    db.session.commit()

    add_comment(first, people["Bob"], "Counted.")
    retracted = add_comment(first, people["Cat"], "Taken back.")
    retract_comment(retracted, people["Cat"])
    db.session.commit()
    hidden_comment = add_comment(first, people["Dan"], "Hidden by the facilitators.")
    add_comment(hidden, people["Hana"], "On a proposal that will be hidden.")

    objective = element_of(vision, "objective-3")
    reflection = post_reflection(vision, objective, people["Erin"], "A reflection.")
    db.session.commit()
    post_reflection(vision, objective, people["Fay"], "A reply.", parent_id=reflection.id)
    hidden_reflection = post_reflection(vision, objective, people["Gus"], "A hidden reflection.")
    db.session.commit()

    hide_content("comment", hidden_comment, facilitator, "Off topic.")
    hide_content("comment", hidden_reflection, facilitator, "Off topic.")
    hide_content("proposal", fresh(Proposal, hidden.id), facilitator, "Off topic.")
    withdraw_proposal(fresh(Proposal, withdrawn.id), people["Alice"])
    db.session.commit()
    now = utcnow()
    _set(accepted, status="accepted", decided_at=now, decided_by_id=facilitator.id)
    _set(changed, status="accepted", accepted_with_changes=True, decided_at=now, decided_by_id=facilitator.id)
    _set(rejected, status="rejected", decision_reason="Not now.", decided_at=now, decided_by_id=facilitator.id)
    return {"vision": vision, "people": people}


def test_the_counts_are_what_the_database_holds_without_hidden_or_retracted_content(consultation):
    counts = count_participation(consultation["vision"])

    assert dict(counts.outcomes) == {"open": 1, "accepted": 1, "accepted with changes": 1, "rejected": 1, "withdrawn": 1}
    assert counts.participants == {"proposed": 1, "commented": 1, "reflected": 2, "voted": 2, "anyone": 6}
    assert dict(counts.by_element["objective-1"]) == {"proposals": 2, "comments": 1}
    assert dict(counts.by_element["objective-2"]) == {"proposals": 3}
    assert dict(counts.by_element["objective-3"]) == {"reflections": 2}
    assert sum(sum(week.values()) for week in counts.by_week.values()) == 8
    assert counts.open_proposals("objective-1") == 1 and counts.reflections("objective-3") == 2
    # The database does hold what was left out.
    assert db.session.scalar(select(Vote.id).where(Vote.value == 0)) is not None


def test_the_page_shows_each_chart_with_its_summary_and_its_table(client, consultation):
    html = client.get(PAGE).get_data(as_text=True)

    assert "Of 5 proposals, 1 is open, 1 accepted, 1 accepted with changes, 1 rejected and 1 withdrawn." in html
    assert "6 people took part: 2 voted, 1 proposed a change, 1 commented and 2 reflected." in html
    assert "Most contributions were about Ambition 1: 6 of 8." in html
    assert "Most contributions were about Objective 1.1 and Objective 1.2: 3 each, of 8." in html
    assert "The busiest week was the week of" in html and "8 contributions of 8." in html
    rows = _table_rows(html, "by-outcome-table")
    assert rows == [["Open", "1"], ["Accepted", "1"], ["Accepted with changes", "1"], ["Rejected", "1"], ["Withdrawn", "1"]]
    assert _table_rows(html, "participants-table")[0] == ["Took part in any way", "6"]
    assert ["Ambition 2: Ambition 2", "0", "0", "2", "2"] in _table_rows(html, "by-ambition-table")


def test_every_chart_is_an_svg_without_style_or_script_named_and_described(client, consultation):
    html = client.get(PAGE).get_data(as_text=True)
    main = html[html.index("<main"): html.index("</main>")]

    assert "style=" not in main and "<style" not in main and "<script" not in main
    sections = re.findall(r'<section class="app-chart" aria-labelledby="([a-z-]+)-heading">(.*?)</section>', main, re.S)
    assert [name for name, _ in sections] == ["over-time", "by-ambition", "by-element", "by-outcome", "participants"]
    for name, section in sections:
        svg = re.search(r"<svg[^>]*>", section).group(0)
        assert 'role="img"' in svg and f'aria-labelledby="{name}-title {name}-desc"' in svg
        assert f'<title id="{name}-title">' in section and f'<desc id="{name}-desc">' in section
        assert f'<p class="app-chart__summary" id="{name}-summary">' in section
        assert f'<table class="ds_table" id="{name}-table">' in section
        assert "<th scope=\"row\">" in section


def test_the_counts_follow_a_change(client, consultation, make_user):
    vision = consultation["vision"]
    assert "6 people took part" in client.get(PAGE).get_data(as_text=True)

    post_reflection(vision, element_of(vision, "objective-1"), make_user(name="Newcomer"), "Me too.")
    db.session.commit()

    assert "7 people took part" in client.get(PAGE).get_data(as_text=True)


def test_within_the_refresh_window_the_counts_wait_and_then_follow(app, client, consultation, make_user):
    app.config["PARTICIPATION_REFRESH_SECONDS"] = 3600
    vision = consultation["vision"]
    assert "6 people took part" in client.get(PAGE).get_data(as_text=True)
    post_reflection(vision, element_of(vision, "objective-1"), make_user(name="Newcomer"), "Me too.")
    db.session.commit()

    assert "6 people took part" in client.get(PAGE).get_data(as_text=True)  # kept: counted less than an hour ago
    app.config["PARTICIPATION_REFRESH_SECONDS"] = 0
    assert "7 people took part" in client.get(PAGE).get_data(as_text=True)


def test_a_vision_nobody_has_contributed_to_says_so(client, vision):
    html = client.get(PAGE).get_data(as_text=True)

    assert "Nobody has taken part yet." in html and "Nobody has proposed a change yet." in html
    assert "Nobody has contributed yet." in html


def test_an_unknown_vision_is_not_found(client):
    assert client.get("/visions/no-such-vision/participation").status_code == 404


def test_the_vision_page_lists_each_element_with_its_open_proposals_and_reflections(client, consultation):
    html = client.get("/visions/test-vision/").get_data(as_text=True)
    contents = html[html.index('<nav class="app-contents"'): html.index("</nav>", html.index('<nav class="app-contents"'))]
    items = [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in re.findall(r"<li.*?</li>", contents, re.S)]

    assert "Objective 1.1: Objective 1.1 — 1 open proposal, 0 reflections" in items
    assert "Objective 1.2: Objective 1.2 — 0 open proposals, 0 reflections" in items
    assert "Objective 2.1: Objective 2.1 — 0 open proposals, 2 reflections" in items
    assert 'href="/visions/test-vision/elements/objective-3"' in contents
    assert 'href="/visions/test-vision/participation"' in contents


def _more_data(vision, make_user, first: int, last: int) -> None:
    for n in range(first, last):
        person = make_user(name=f"Person {n}", email=f"person{n}@example.org")
        key = ("objective-1", "objective-3", "condition-1")[n % 3]
        proposal = open_proposal(vision, person, key, f"Changed words number {n}.")
        add_comment(proposal, make_user(name=f"Commenter {n}", email=f"commenter{n}@example.org"))
        post_reflection(vision, element_of(vision, key), person, f"Reflection {n}.")
        db.session.commit()


@pytest.mark.parametrize("path", [PAGE, "/visions/test-vision/"])
def test_the_pages_run_as_many_queries_whatever_the_data(client, vision, make_user, count_queries, path):
    def queries() -> tuple[int, int]:
        clear_caches()
        with count_queries() as cold:
            assert client.get(path).status_code == 200
        with count_queries() as warm:
            assert client.get(path).status_code == 200
        return cold.count, warm.count

    _more_data(vision, make_user, 0, 1)
    few = queries()
    _more_data(vision, make_user, 1, 7)
    many = queries()

    assert few == many
    assert many[1] < many[0]  # the counts come from the cache while nothing changes


def _table_rows(html: str, table_id: str) -> list[list[str]]:
    """The body rows of the table with that id, as the text of their cells."""

    class Rows(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside = self.in_body = self.in_cell = False
            self.rows: list[list[str]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            if tag == "table" and dict(attrs).get("id") == table_id:
                self.inside = True
            elif self.inside and tag == "tbody":
                self.in_body = True
            elif self.in_body and tag == "tr":
                self.rows.append([])
            elif self.in_body and tag in ("th", "td"):
                self.in_cell = True
                self.rows[-1].append("")

        def handle_endtag(self, tag: str) -> None:
            if tag in ("th", "td"):
                self.in_cell = False
            elif tag == "table":
                self.inside = self.in_body = False

        def handle_data(self, data: str) -> None:
            if self.in_cell:
                self.rows[-1][-1] += data.strip()

    parser = Rows()
    parser.feed(html)
    return parser.rows


def test_the_kept_counts_equal_the_counts_worked_out_from_the_contributions(consultation, make_user):
    vision, people = consultation["vision"], consultation["people"]

    def compared() -> dict[str, Any]:
        def plain(counts) -> dict[str, Any]:
            def nested(table) -> dict:
                return {key: {k: v for k, v in counter.items() if v} for key, counter in table.items() if any(counter.values())}

            return {"elements": nested(counts.by_element), "outcomes": nested(counts.outcomes_by_element),
                    "weeks": nested(counts.by_week), "participants": counts.participants}

        kept, counted = plain(read_participation(vision)), plain(count_participation(vision))
        assert kept == counted
        return kept

    assert compared()["participants"] == {"proposed": 1, "commented": 1, "reflected": 2, "voted": 2, "anyone": 6}
    facilitator = make_user(Role.FACILITATOR, name="Flo Facilitator")
    hidden = db.session.scalars(select(Proposal).where(Proposal.hidden_at.is_not(None))).one()
    unhide_content("proposal", hidden, facilitator)  # Hugh's proposal, Hana's comment and Hal's vote count again
    db.session.commit()
    assert compared()["participants"] == {"proposed": 2, "commented": 2, "reflected": 2, "voted": 3, "anyone": 9}
    for comment in db.session.scalars(select(Comment).where(Comment.hidden_at.is_not(None))).all():
        unhide_content("comment", comment, facilitator)
    cast_vote(fresh(Proposal, hidden.id), people["Vic"], "oppose")
    add_comment(fresh(Proposal, hidden.id), people["Gus"], "Seen again.")
    hide_content("proposal", fresh(Proposal, hidden.id), facilitator, "Off topic again.")
    db.session.commit()
    assert compared()["participants"] == {"proposed": 1, "commented": 2, "reflected": 3, "voted": 2, "anyone": 8}


def test_the_contents_list_reads_the_kept_counts_as_the_contributions_give_them(consultation):
    from workbench.participation.counts import count_per_element, read_per_element

    vision = consultation["vision"]
    kept, counted = read_per_element(vision), count_per_element(vision)
    assert (+kept.open, +kept.reflected) == (+counted.open, +counted.reflected)
    assert kept.open_proposals("objective-1") == 1 and kept.reflections("objective-3") == 2


# --- a vision's totals in one row (migration 0030) ---------------------------------------------------

TOTALS = ("participants", *ROLES, "open_proposals")
TOTALS_TRIGGERS = {
    "vision_totals_participant_added", "vision_totals_participant_changed",
    "vision_totals_proposal_added", "vision_totals_proposal_changed",
}
# The consultation fixture's: Hugh's hidden proposal and those on it, Cat's, Dan's and Gus's left out.
CONSULTATION_TOTALS = {"participants": 6, "proposed": 1, "commented": 1, "reflected": 2, "voted": 2, "open_proposals": 1}


def _kept(vision) -> dict[str, int]:
    """The vision's totals as `vision_totals` keeps them (zeros without a row), once checked against
    the same worked out from the contributions (`count_participation`) and from the proposals
    (`waiting()`), and against what `read_participation`, `open_proposals` and
    `waiting_proposals` for the whole site read."""
    row = db.session.execute(
        select(*(getattr(VisionTotals, name) for name in TOTALS)).where(VisionTotals.vision_id == vision.id)
    ).one_or_none()
    kept = dict(zip(TOTALS, row or (0,) * len(TOTALS)))
    people = count_participation(vision).participants
    waiting_here = db.session.scalar(select(func.count()).select_from(Proposal).where(Proposal.vision_id == vision.id, waiting()))
    assert kept == {"participants": people["anyone"], **{role: people[role] for role in ROLES}, "open_proposals": waiting_here}
    assert read_participation(vision).participants == people
    assert open_proposals(vision.id) == waiting_here
    assert db.session.scalar(waiting_proposals()) == db.session.scalar(select(func.count()).select_from(Proposal).where(waiting()))
    return kept


@contextmanager
def _change(vision) -> Iterator[dict[str, int]]:
    """`with _change(vision) as change: ...` commits, then `change` holds how each of the vision's
    kept totals moved (only those that did), each total checked as `_kept` does."""
    before = _kept(vision)
    change: dict[str, int] = {}
    yield change
    db.session.commit()
    after = _kept(vision)
    change.update({name: after[name] - before[name] for name in TOTALS if after[name] != before[name]})


def test_the_kept_totals_follow_every_kind_of_change(consultation, make_user, make_vision):
    vision, people = consultation["vision"], consultation["people"]
    facilitator = make_user(Role.FACILITATOR, name="Flo Facilitator")
    newcomer, commenter, voter = (make_user(name=name) for name in ("Nell Newcomer", "Cal Commenter", "Vera Voter"))
    assert _kept(vision) == CONSULTATION_TOTALS

    with _change(vision) as change:
        proposal = open_proposal(vision, newcomer, "objective-2", "Objective 1.2, put anew.")
    assert change == {"participants": 1, "proposed": 1, "open_proposals": 1}
    with _change(vision) as change:
        withdraw_proposal(fresh(Proposal, proposal.id), newcomer)
    assert change == {"open_proposals": -1}  # a withdrawn proposal still counts as proposed

    accepted = open_proposal(vision, newcomer, "objective-1", "Objective 1.1, accepted.")
    with _change(vision) as change:
        _set(accepted, status="accepted", decided_at=utcnow(), decided_by_id=facilitator.id)
    assert change == {"open_proposals": -1}
    rejected = open_proposal(vision, newcomer, "objective-1", "Objective 1.1, rejected.")
    with _change(vision) as change:
        reject_proposal(fresh(Proposal, rejected.id), facilitator, "Not now.")
    assert change == {"open_proposals": -1}

    hidden = open_proposal(vision, people["Bob"], "objective-3", "Objective 2.1, hidden.")
    with _change(vision) as change:
        hide_content("proposal", fresh(Proposal, hidden.id), facilitator, "Off topic.")
    assert change == {"proposed": -1, "open_proposals": -1}  # Bob still took part: his comment
    with _change(vision) as change:
        unhide_content("proposal", fresh(Proposal, hidden.id), facilitator)
    assert change == {"proposed": 1, "open_proposals": 1}

    with _change(vision) as change:
        commented = add_comment(hidden, commenter, "A first word here.")
    assert change == {"participants": 1, "commented": 1}
    with _change(vision) as change:  # Vic had only voted: his row's upsert updates it (UPDATE triggers)
        retracted = add_comment(hidden, people["Vic"], "Said, then taken back.")
    assert change == {"commented": 1}
    with _change(vision) as change:
        retract_comment(fresh(Comment, retracted.id), people["Vic"])
    assert change == {"commented": -1}
    with _change(vision) as change:
        hide_content("comment", fresh(Comment, commented.id), facilitator, "Off topic.")
    assert change == {"participants": -1, "commented": -1}

    with _change(vision) as change:
        cast_vote(fresh(Proposal, hidden.id), voter, "support")
    assert change == {"participants": 1, "voted": 1}
    with _change(vision) as change:
        cast_vote(fresh(Proposal, hidden.id), people["Alice"], "oppose")
    assert change == {"voted": 1}  # Alice had proposed, never voted
    with _change(vision) as change:
        cast_vote(fresh(Proposal, hidden.id), people["Vic"], "support")
    assert change == {}  # Vic had voted already

    quiet = make_vision(slug="quiet-vision")
    assert db.session.get(VisionTotals, quiet.id) is None  # nobody has contributed: no row, read as zeros
    assert _kept(quiet) == dict.fromkeys(TOTALS, 0)
    with _change(quiet) as change:
        open_proposal(quiet, newcomer, "objective-1", "Objective 1.1, in another vision.")
    assert change == {"participants": 1, "proposed": 1, "open_proposals": 1}
    assert db.session.scalar(waiting_proposals()) == open_proposals(vision.id) + 1 == 3


REFUSED = "vision_totals written"


@contextmanager
def _refusing_writes_to_the_totals() -> Iterator[None]:
    """Within: a write to any `vision_totals` row fails (`REFUSED`); at the end the
    transaction is rolled back (and, on SQLite, the watch dropped: it lives on the connection)."""
    connection = db.session.connection()
    postgresql = connection.dialect.name == "postgresql"
    if postgresql:  # gone with the rollback
        connection.exec_driver_sql(
            "CREATE FUNCTION refuse_totals() RETURNS trigger LANGUAGE plpgsql "
            f"AS $$ BEGIN RAISE EXCEPTION '{REFUSED}'; END $$"
        )
        connection.exec_driver_sql(
            "CREATE TRIGGER refuse_totals BEFORE UPDATE ON vision_totals FOR EACH ROW EXECUTE FUNCTION refuse_totals()"
        )
    else:
        connection.exec_driver_sql(
            f"CREATE TEMP TRIGGER refuse_totals BEFORE UPDATE ON main.vision_totals BEGIN SELECT RAISE(ABORT, '{REFUSED}'); END"
        )
    try:
        yield
    finally:
        if not postgresql:
            connection.exec_driver_sql("DROP TRIGGER temp.refuse_totals")
        db.session.rollback()


def test_a_vote_by_someone_who_took_part_does_not_write_the_vision_s_totals(consultation, make_user):
    # The vision's row is every writer's: most votes, by people who already took part, must leave it alone.
    vision, people = consultation["vision"], consultation["people"]
    other = open_proposal(vision, people["Bob"], "objective-2", "Objective 1.2, voted on.")
    newcomer = make_user(name="Nell Newcomer")
    before = _kept(vision)

    with _refusing_writes_to_the_totals():
        cast_vote(fresh(Proposal, other.id), people["Vic"], "support")  # he voted before: nothing to write
        voted = select(Participant.voted).where(Participant.vision_id == vision.id, Participant.user_id == people["Vic"].id)
        assert db.session.scalar(voted) == 2
        with pytest.raises(DBAPIError, match=REFUSED):  # the watch does see a write
            cast_vote(fresh(Proposal, other.id), newcomer, "support")
    assert _kept(vision) == before


def test_the_migration_fills_the_totals_from_the_rows_there_are(consultation, make_vision):
    from flask_migrate import downgrade, upgrade

    vision = consultation["vision"]
    quiet = make_vision(slug="quiet-vision")
    kept = _kept(vision)
    db.session.remove()
    try:
        downgrade(revision="0029_published_themes")
        assert "vision_totals" not in inspect(db.engine).get_table_names()
        assert not TOTALS_TRIGGERS & schema_names("trigger")
    finally:
        upgrade()

    assert TOTALS_TRIGGERS <= schema_names("trigger")
    assert _kept(vision) == kept == CONSULTATION_TOTALS
    assert db.session.get(VisionTotals, quiet.id).participants == 0  # every vision gets its row
