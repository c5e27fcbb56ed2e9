"""Lists of proposals (issue 4): the vision's list with filters, sorts and pages; the element page;
and query counts that do not grow with the number of proposals."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from workbench.models import Proposal, db, utcnow
from workbench.proposals import services

from tests.factories import fresh, open_proposal
from tests.test_proposals import edit_draft, html

SLUG = "test-vision"
LIST = f"/visions/{SLUG}/proposals"


def titles_in_order(page: str) -> list[int]:
    return [int(n) for n in re.findall(r'href="/proposals/(\d+)" ?>Proposal \d+: a change', page)] or [
        int(n) for n in re.findall(r'<a class="ds_search-result__link" href="/proposals/(\d+)"', page)
    ]


def age(proposal: Proposal, minutes: int) -> None:
    """Make the proposal `minutes` old (so that sorting by date is deterministic)."""
    stored = fresh(Proposal, proposal.id)
    stored.created_at = utcnow() - timedelta(minutes=minutes)
    db.session.commit()


@pytest.fixture
def three(vision, make_user):
    """Three proposals: open on objective-1 (oldest), withdrawn on objective-2, open on ambition-1."""
    ada, bea = make_user(name="Ada Writer"), make_user(name="Bea Writer")
    first = open_proposal(vision, ada, "objective-1", body="Objective 1.1 sharper body.")
    second = open_proposal(vision, bea, "objective-2", body="Objective 1.2 body, extended.")
    services.withdraw_proposal(fresh(Proposal, second.id), bea)
    db.session.commit()
    third = open_proposal(vision, ada, "ambition-1", body="Ambition 1 body.\n\nIts second paragraph, reworded.")
    for proposal, minutes in ((first, 30), (second, 20), (third, 10)):
        age(proposal, minutes)
    return {"first": first, "second": second, "third": third, "ada": ada, "bea": bea}


# --- the vision's list ----------------------------------------------------------------------------


def test_the_list_shows_each_proposal_with_its_element_change_status_author_and_date(client, three) -> None:
    page = html(client.get(LIST))
    assert "<h1" in page and ">Proposals</h1>" in page
    assert ">3 proposals</h2>" in page
    assert f"Proposal {three['first'].id}: a change to Objective 1.1" in page
    assert f"Proposal {three['second'].id}: a change to Objective 1.2" in page
    assert f"Proposal {three['third'].id}: a change to Ambition 1" in page
    assert "Added “sharper”" in page  # the excerpt: the first change, in words
    assert "added: </span>sharper" in page
    assert 'app-status--withdrawn">Withdrawn</strong>' in page and 'app-status--open">Open</strong>' in page
    assert "Ada Writer" in page and "Bea Writer" in page
    assert page.count('<time datetime="') == 3  # each proposal's date


def test_the_list_is_newest_first_and_can_be_oldest_first(client, three) -> None:
    newest = titles_in_order(html(client.get(LIST)))
    assert newest == [three["third"].id, three["second"].id, three["first"].id]
    oldest = titles_in_order(html(client.get(LIST + "?sort=oldest")))
    assert oldest == [three["first"].id, three["second"].id, three["third"].id]


@pytest.mark.parametrize("sort", ["author.email", "1;--", "created_at", "%27", "support"])
def test_an_unknown_sort_falls_back_to_newest(client, three, sort) -> None:
    response = client.get(LIST, query_string={"sort": sort, "order": "1;--"})
    assert response.status_code == 200
    assert titles_in_order(html(response)) == [three["third"].id, three["second"].id, three["first"].id]


def test_sorts_are_one_whitelist() -> None:
    assert set(services.SORTS) == {"newest", "oldest", "supported", "contested", "discussed"}
    assert services.DEFAULT_SORT in services.SORTS


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"status": "open"}, ["third", "first"]),
        ({"status": "withdrawn"}, ["second"]),
        ({"status": "accepted"}, []),
        ({"status": "bogus"}, ["third", "second", "first"]),
        ({"element": "objective-2"}, ["second"]),
        ({"element": "ambition-1", "status": "open"}, ["third"]),
        ({"element": "nonsense' OR 1=1"}, ["third", "second", "first"]),
        ({"element": "objective-99"}, []),
    ],
)
def test_filters_by_status_and_element(client, three, query, expected) -> None:
    response = client.get(LIST, query_string=query)
    assert response.status_code == 200
    assert titles_in_order(html(response)) == [three[name].id for name in expected]


def test_filter_by_author(client, three) -> None:
    page = html(client.get(LIST, query_string={"author": three["bea"].id}))
    assert titles_in_order(page) == [three["second"].id]
    assert "Showing only proposals by Bea Writer" in page
    assert titles_in_order(html(client.get(LIST, query_string={"author": "abc"}))) == [
        three["third"].id, three["second"].id, three["first"].id
    ]
    nobody = html(client.get(LIST, query_string={"author": "999999"}))
    assert "No proposals match these filters" in nobody


def test_the_empty_states_help(client, vision, make_user, login_as) -> None:
    page = html(client.get(LIST))
    assert "No proposals" in page and "Nobody has proposed a change to this vision yet" in page
    login_as(make_user())
    assert "choose “Propose a change” to be the first" in html(client.get(LIST))
    filtered = html(client.get(LIST, query_string={"status": "rejected"}))
    assert "No proposals match these filters" in filtered and f'href="{LIST}"' in filtered


def pagination_links(page: str) -> dict[str, str]:
    """The pagination's links by their rel (first, prev, next, last)."""
    return {rel: href.replace("&amp;", "&") for href, rel in re.findall(r'href="([^"]+)" rel="(\w+)"', page)}


def test_the_list_is_paginated_by_twenty(client, vision, make_user) -> None:
    author = make_user()
    made = [open_proposal(vision, author, body=f"Objective 1.1 body {n}.") for n in range(25)]
    for minutes, proposal in enumerate(reversed(made)):
        age(proposal, minutes + 1)  # made[0] oldest
    first = html(client.get(LIST))
    assert "25 proposals, showing 20 from the start" in first
    assert titles_in_order(first) == [p.id for p in reversed(made[5:])]
    links = pagination_links(first)
    assert 'class="ds_pagination"' in first and links == {"next": f"{LIST}?after={made[5].id}", "last": f"{LIST}?last=1"}
    second = html(client.get(links["next"]))
    assert "25 proposals, showing 5 to the end" in second
    assert titles_in_order(second) == [p.id for p in reversed(made[:5])]
    assert pagination_links(second)["first"] == LIST  # back to the first page, with no cursor
    assert titles_in_order(html(client.get(pagination_links(second)["prev"]))) == titles_in_order(first)
    # The last page is the last twenty, reached in one step.
    assert titles_in_order(html(client.get(LIST + "?last=1"))) == [p.id for p in reversed(made[:20])]
    for bad in ("after=abc", "after=-1", "before=0", "after=1.5", "after=99999999999999999999", "after=²", "last=2", "after=1&last=1"):
        response = client.get(f"{LIST}?{bad}")
        assert response.status_code == 200 and "showing 20 from the start" in html(response), bad
    filtered = html(client.get(LIST, query_string={"status": "open", "after": made[5].id}))
    assert f'href="{LIST}?status=open" rel="first"' in filtered  # page links keep the filters


def test_hidden_proposals_are_left_out_of_the_list(client, three) -> None:
    stored = fresh(Proposal, three["first"].id)
    stored.hidden_at = utcnow()
    db.session.commit()
    page = html(client.get(LIST))
    assert ">2 proposals</h2>" in page
    assert three["first"].id not in titles_in_order(page)


def test_an_unknown_vision_has_no_list(client, vision) -> None:
    assert client.get("/visions/nothing-here/proposals").status_code == 404


def test_the_vision_page_links_to_the_list(client, vision) -> None:
    assert f'<a href="{LIST}">Proposals to change this vision</a>' in html(client.get(f"/visions/{SLUG}/"))


# --- the element page -----------------------------------------------------------------------------


def test_the_element_page_lists_open_proposals_and_offers_to_propose(client, three, make_user, login_as) -> None:
    url = f"/visions/{SLUG}/elements/objective-1"
    page = html(client.get(url))
    assert "Open proposals" in page
    assert f'href="/proposals/{three["first"].id}"' in page and "Ada Writer" in page
    assert 'app-status--open">Open</strong>' in page
    assert "1 open proposal to change Objective 1.1" in page
    assert "Sign in to propose a change" in page and 'class="ds_button" href="' not in page
    login_as(make_user())
    page = html(client.get(url))
    assert f'<a class="ds_button" href="/visions/{SLUG}/elements/objective-1/propose">Propose a change' in page
    withdrawn = html(client.get(f"/visions/{SLUG}/elements/objective-2"))
    assert f'href="/proposals/{three["second"].id}"' not in withdrawn
    assert "There are no open proposals to change Objective 1.2" in withdrawn
    assert f'href="{LIST}?element=objective-2"' in withdrawn


def test_the_element_page_offers_no_proposing_outside_the_window(client, vision, make_user, login_as) -> None:
    vision.closes_at = utcnow() - timedelta(days=1)
    db.session.commit()
    login_as(make_user())
    page = html(client.get(f"/visions/{SLUG}/elements/objective-1"))
    assert "/propose" not in page
    assert "Consultation closed" in page


# --- queries do not grow with the data ------------------------------------------------------------


def many_proposals(vision, make_user, count: int) -> list[Proposal]:
    authors = [make_user() for _ in range(min(count, 5))]
    keys = ["objective-1", "objective-2", "ambition-1", "condition-1", "ambition-2"]
    made = []
    for n in range(count):
        author = authors[n % len(authors)]
        key = keys[n % len(keys)]
        proposal = open_proposal(vision, author, key, body=f"Proposed text number {n} for {key}.")
        made.append(proposal)
    return made


def query_count(client, count_queries, url: str) -> int:
    client.get(url)  # warm caches (permalink snapshots, templates)
    with count_queries() as log:
        response = client.get(url)
    assert response.status_code == 200
    return log.count


def test_the_list_runs_the_same_queries_for_3_or_40_proposals(client, vision, make_user, count_queries) -> None:
    many_proposals(vision, make_user, 3)
    small = query_count(client, count_queries, LIST)
    small_filtered = query_count(client, count_queries, LIST + "?status=open&element=objective-1&sort=oldest")
    many_proposals(vision, make_user, 37)
    assert query_count(client, count_queries, LIST) == small
    later = query_count(client, count_queries, LIST + f"?after={db.session.scalar(select(func.max(Proposal.id)))}")
    assert later <= small + 2  # the row named, and whether anything comes before it
    assert query_count(client, count_queries, LIST + "?last=1") <= small
    assert query_count(client, count_queries, LIST + "?status=open&element=objective-1&sort=oldest") == small_filtered
    assert small <= 6


def test_the_proposal_page_runs_the_same_queries_however_much_surrounds_it(client, vision, make_user, count_queries, login_as) -> None:
    author = make_user()
    login_as(author)
    proposal = open_proposal(vision, author, body="Objective 1.1 body, first.")
    url = f"/proposals/{proposal.id}"
    small = query_count(client, count_queries, url)
    for n in range(6):
        services.revise_proposal(fresh(Proposal, proposal.id), author, "Objective 1.1", f"Objective 1.1 body, take {n}.", "Why.")
        db.session.commit()
    for n in range(25):
        open_proposal(vision, make_user(), body=f"Objective 1.1 rival body {n}.")
    edit_draft(vision, "objective-1", "Objective 1.1 body, moved on.")  # now stale as well
    large = query_count(client, count_queries, url)
    print(f"proposal page: {small} queries with one revision and no rivals, {large} with 7 revisions, 25 rivals, stale")
    assert large == small
    assert small <= 10


def test_the_element_page_runs_the_same_queries_for_1_or_30_open_proposals(client, vision, make_user, count_queries) -> None:
    url = f"/visions/{SLUG}/elements/objective-1"
    open_proposal(vision, make_user())
    small = query_count(client, count_queries, url)
    for n in range(29):
        open_proposal(vision, make_user(), body=f"Objective 1.1 other body {n}.")
    assert query_count(client, count_queries, url) == small


def test_the_list_sorts_by_tallies_from_the_whitelist(client, vision, make_user) -> None:
    from workbench.models import Proposal, db as database

    author = make_user()
    loved = open_proposal(vision, author, body="Loved words.")
    split = open_proposal(vision, author, key="objective-2", body="Split words.")
    for proposal, support, oppose, comments in ((loved, 9, 0, 1), (split, 4, 5, 7)):
        stored = database.session.get(Proposal, proposal.id)
        stored.support_count, stored.oppose_count, stored.comment_count = support, oppose, comments
    database.session.commit()
    url = f"/visions/{vision.slug}/proposals"

    def order(sort: str) -> list[bool]:
        page = client.get(f"{url}?sort={sort}").get_data(as_text=True)
        return page.index(f"/proposals/{loved.id}\"") < page.index(f"/proposals/{split.id}\"")

    assert order("supported") is True
    assert order("contested") is False
    assert order("discussed") is False
    assert "Most contested" in client.get(url).get_data(as_text=True)


# --- what each row says, and the author filter in the form ----------------------------------------


def test_each_row_shows_its_votes_and_comments_in_words(client, vision, make_user) -> None:
    proposal = open_proposal(vision, make_user())
    stored = fresh(Proposal, proposal.id)
    stored.support_count, stored.oppose_count, stored.comment_count = 3, 1, 2
    db.session.commit()
    page = html(client.get(LIST))
    assert '<dt class="ds_metadata__key">Votes</dt>' in page
    assert '<dd class="ds_metadata__value">3 support, 1 oppose</dd>' in page
    assert '<dt class="ds_metadata__key">Comments</dt>' in page and '<dd class="ds_metadata__value">2</dd>' in page


def test_each_row_shows_its_first_change_in_context_and_how_many_more(client, vision, make_user) -> None:
    open_proposal(vision, make_user(), "ambition-1", body="Ambition 1 text.\n\nIts second paragraph, reworded.")
    page = html(client.get(LIST))
    # The change in words, then in context with <del>/<ins> that screen readers announce.
    assert "Replaced “body” with “text”" in page
    assert '<del class="diff__del"><span class="visually-hidden">removed: </span>body' in page
    assert '<ins class="diff__ins"><span class="visually-hidden">added: </span>text' in page
    assert "In context:</span> Ambition 1" in page
    assert "and 1 more change</p>" in page


def test_the_form_filters_by_part_of_a_name_in_any_case(client, three) -> None:
    page = html(client.get(LIST))
    assert '<label class="ds_label" for="filter-by">Proposed by</label>' in page
    assert 'id="filter-by" name="by" value=""' in page and 'aria-describedby="filter-by-hint"' in page
    bea = html(client.get(LIST, query_string={"by": "  bea  "}))
    assert titles_in_order(bea) == [three["second"].id]
    assert 'name="by" value="bea"' in bea  # what was searched stays in the field
    assert "Clear the filters" in bea
    both = html(client.get(LIST, query_string={"by": "WRITER", "status": "open"}))
    assert titles_in_order(both) == [three["third"].id, three["first"].id]
    nobody = html(client.get(LIST, query_string={"by": "Zed"}))
    assert "No proposals match these filters: nobody whose name contains “Zed” has a proposal that matches" in nobody


def test_pages_of_a_name_search_keep_the_name(client, vision, make_user) -> None:
    author = make_user(name="Pat Pager")
    for n in range(21):
        open_proposal(vision, author, body=f"Objective 1.1 body {n}.")
    page = html(client.get(LIST, query_string={"by": "pat"}))
    assert "21 proposals, showing 20 from the start" in page and f'href="{LIST}?by=pat&amp;after=' in page


def test_a_deleted_account_is_not_found_by_its_former_name(client, vision, make_user) -> None:
    from workbench.models import User

    gone = make_user(name="Gwen Gone")
    open_proposal(vision, gone)
    stored = fresh(User, gone.id)
    stored.is_deleted = True  # its name is kept here on purpose: the filter must not find it
    db.session.commit()
    assert titles_in_order(html(client.get(LIST, query_string={"by": "Gwen"}))) == []


@pytest.mark.parametrize(
    "query",
    [
        {"author": "abc"},
        {"author": "²"},  # a digit to str.isdigit, not to int()
        {"author": "١٢"},
        {"author": "0"},
        {"author": "-3"},
        {"author": "1" * 30},
        {"by": "\x00"},
        {"by": "%_\\"},
        {"by": "x" * 5000},
        {"by": "‮evil"},
    ],
)
def test_odd_author_filters_never_fail(client, three, query) -> None:
    response = client.get(LIST, query_string=query)
    assert response.status_code == 200


def test_odd_author_ids_are_ignored_and_odd_names_match_nobody(client, three) -> None:
    everyone = [three["third"].id, three["second"].id, three["first"].id]
    assert titles_in_order(html(client.get(LIST + "?author=%C2%B2"))) == everyone
    assert titles_in_order(html(client.get(LIST, query_string={"by": "\x00"}))) == everyone  # nothing printable: no filter
    assert titles_in_order(html(client.get(LIST, query_string={"by": "%"}))) == []  # a literal %, not a wildcard


def test_the_list_runs_the_same_queries_for_1_or_20_rows_with_every_filter(client, vision, make_user, count_queries) -> None:
    from workbench.drafting.edits import remove_element_from_draft
    from workbench.models import Role

    author = make_user(name="Quinn Counter")
    open_proposal(vision, author, "objective-2")
    remove_element_from_draft(vision, "objective-2", reason="Merged into 1.1.", actor=make_user(Role.FACILITATOR))
    db.session.commit()
    url = LIST + f"?by=quinn&author={author.id}&sort=supported"
    one = query_count(client, count_queries, url)
    for n in range(19):
        open_proposal(vision, author, ["objective-1", "ambition-1", "condition-1"][n % 3], body=f"Words number {n}.")
    page = html(client.get(url))
    assert ">20 proposals</h2>" in page
    assert "a change to Objective 1.2 (removed from the working draft)" in page  # a removed element's last label
    assert query_count(client, count_queries, url) == one
