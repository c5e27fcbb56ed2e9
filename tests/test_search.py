"""Search across proposals, comments, reflections and aligned work (issue 14, item 3): what is
found, by whom, that it follows every write, and that no input breaks it."""

from __future__ import annotations

import re

import pytest

from workbench.discussion.services import hide_content, post_reflection, retract_comment, unhide_content
from workbench.exceptions import ValidationError
from workbench.extensions import db
from workbench.models import Comment, Proposal, Role
from workbench.search import services
from workbench.search.query import read_search

from .conftest import POSTGRES_URL, schema_names
from .factories import add_comment, element_of, fresh, open_proposal


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR)


@pytest.fixture
def volunteer(make_user):
    return make_user()


def search(client, vision, **args):
    return client.get(f"/visions/{vision.slug}/search", query_string=args)


def results(page) -> list[str]:
    """The results' headings, in order."""
    return [re.sub(r"\s+", " ", h).strip() for h in re.findall(r'class="ds_search-result__link"[^>]*>(.*?)</a>', page.text, re.S)]


def result_count(page) -> str:
    return re.sub(r"\s+", " ", re.search(r'id="results-heading">(.*?)</h2>', page.text, re.S).group(1)).strip()


# --- what is found ---------------------------------------------------------------------------------


def test_a_proposal_is_found_by_its_text_and_its_rationale_with_the_words_marked(client, vision, author):
    proposal = open_proposal(vision, author, body="Publish the timetables openly.", rationale="Travellers plan journeys.")
    by_text = search(client, vision, q="timetable")  # stemmed: "timetables" is found
    assert by_text.status_code == 200
    assert results(by_text) == [f"Proposal {proposal.id} on Objective 1.1"]
    assert "<mark>timetables</mark>" in by_text.text
    assert "Open · Objective 1.1" in by_text.text
    assert results(search(client, vision, q="journeys travellers")) == [f"Proposal {proposal.id} on Objective 1.1"]
    assert result_count(search(client, vision, q="timetables journeys")) == "1 result"


def test_comments_reflections_and_approved_aligned_work_are_found(client, vision, author, volunteer, facilitator):
    from workbench.aligned.services import approve_aligned_work, submit_aligned_work

    proposal = open_proposal(vision, author)
    comment = add_comment(proposal, volunteer, "Kelpies would love this.")
    reflection = post_reflection(vision, element_of(vision, "objective-2"), volunteer, "Kelpies need clearer goals.")
    work = submit_aligned_work(
        vision, volunteer, organisation="Kelpie Data Trust", title="Open bus timetables", description="Every timetable as open data.",
        status="current", link="", contact="", element_ids=[str(element_of(vision, "objective-2").id)],
    )
    db.session.commit()
    assert results(search(client, vision, q="kelpie")) == [
        "Reflection on Objective 1.2", f"Comment on proposal {proposal.id} (Objective 1.1)",
    ], "aligned work waiting for screening is found by nobody"
    approve_aligned_work(fresh(type(work), work.id), facilitator, expected_submitted_at=None)
    db.session.commit()
    page = search(client, vision, q="kelpie")
    assert set(results(page)) == {
        "Aligned work: Open bus timetables", "Reflection on Objective 1.2", f"Comment on proposal {proposal.id} (Objective 1.1)",
    }
    assert f'href="/comments/{comment.id}"' in page.text and f'href="/comments/{reflection.id}"' in page.text
    assert f'href="/aligned-work/{work.id}"' in page.text and "Kelpie Data Trust" in page.text


def test_filters_by_kind_and_by_element(client, vision, author, volunteer, facilitator):
    from workbench.aligned.services import approve_aligned_work, submit_aligned_work

    on_one = open_proposal(vision, author, "objective-1", body="Harbour data for all.")
    on_two = open_proposal(vision, author, "objective-2", body="Harbour data for some.")
    add_comment(on_two, volunteer, "Harbour first.")
    work = submit_aligned_work(
        vision, volunteer, organisation="Port", title="Harbour register", description="Berths.", status="current", link="",
        contact="", element_ids=[str(element_of(vision, "objective-2").id)],
    )
    approve_aligned_work(work, facilitator, expected_submitted_at=None)
    db.session.commit()
    assert len(results(search(client, vision, q="harbour"))) == 4
    assert results(search(client, vision, q="harbour", kind="proposal")) == [
        f"Proposal {on_two.id} on Objective 1.2", f"Proposal {on_one.id} on Objective 1.1",
    ]
    assert results(search(client, vision, q="harbour", kind="comment")) == [f"Comment on proposal {on_two.id} (Objective 1.2)"]
    assert results(search(client, vision, q="harbour", kind="aligned_work")) == ["Aligned work: Harbour register"]
    # Aligned work is found on each element it supports.
    assert set(results(search(client, vision, q="harbour", element="objective-2"))) == {
        f"Proposal {on_two.id} on Objective 1.2", f"Comment on proposal {on_two.id} (Objective 1.2)", "Aligned work: Harbour register",
    }
    assert results(search(client, vision, q="harbour", element="objective-1")) == [f"Proposal {on_one.id} on Objective 1.1"]
    assert result_count(search(client, vision, q="harbour", kind="reflection")) == "No results"


def test_unknown_filters_are_no_filter(client, vision, author):
    open_proposal(vision, author, body="Lighthouse.")
    for args in ({"kind": "users"}, {"kind": "proposal;--"}, {"element": "objective-999"}, {"element": "author.email"}):
        page = search(client, vision, q="lighthouse", **args)
        assert page.status_code == 200
    assert result_count(search(client, vision, q="lighthouse", kind="users")) == "1 result"
    # A well-formed key of no element of this vision finds nothing rather than everything.
    assert result_count(search(client, vision, q="lighthouse", element="objective-999")) == "No results"


def test_other_visions_are_not_searched(client, make_vision, author):
    first = make_vision(slug="first")
    second = make_vision(slug="second")
    open_proposal(first, author, body="Puffins.")
    assert result_count(search(client, first, q="puffins")) == "1 result"
    assert result_count(search(client, second, q="puffins")) == "No results"


def test_an_unknown_vision_is_a_404(client):
    assert client.get("/visions/nowhere/search?q=data").status_code == 404


def test_the_best_match_comes_first(client, vision, author, volunteer):
    proposal = open_proposal(vision, author, body="Otters.", rationale="Because of otters, otters and otters.")
    add_comment(proposal, volunteer, "Perhaps otters, one day, somewhere in the long list of things to think about here.")
    assert results(search(client, vision, q="otters"))[0] == f"Proposal {proposal.id} on Objective 1.1"


# --- who finds what, kept in step with every write --------------------------------------------------


def test_a_new_revision_replaces_the_words_found(client, vision, author):
    from workbench.proposals.services import revise_proposal

    proposal = open_proposal(vision, author, body="Gannets everywhere.")
    assert result_count(search(client, vision, q="gannets")) == "1 result"
    revise_proposal(fresh(Proposal, proposal.id), author, "Objective 1.1", "Guillemots everywhere.", "Better birds.")
    db.session.commit()
    assert result_count(search(client, vision, q="gannets")) == "No results"
    assert results(search(client, vision, q="guillemots")) == [f"Proposal {proposal.id} on Objective 1.1"]


def test_a_hidden_comment_is_found_only_by_facilitators_marked_hidden(client, login_as, vision, author, volunteer, facilitator):
    proposal = open_proposal(vision, author)
    comment = add_comment(proposal, volunteer, "Buy my puffin calendars.")
    hide_content("comment", fresh(Comment, comment.id), facilitator, "Advertising")
    db.session.commit()
    assert result_count(search(client, vision, q="calendars")) == "No results"
    login_as(volunteer)  # its author too: search shows hidden content to facilitators only
    assert result_count(search(client, vision, q="calendars")) == "No results"
    login_as(facilitator)
    page = search(client, vision, q="calendars")
    assert results(page) == [f"Comment on proposal {proposal.id} (Objective 1.1)"]
    assert '<strong class="ds_tag">Hidden</strong>' in page.text
    unhide_content("comment", fresh(Comment, comment.id), facilitator)
    db.session.commit()
    client.get("/")  # as anyone again
    with client.session_transaction() as session:
        session.clear()
    assert result_count(search(client, vision, q="calendars")) == "1 result"


def test_hiding_a_proposal_hides_its_comments_from_search(client, login_as, vision, author, volunteer, facilitator):
    proposal = open_proposal(vision, author, body="Skuas.")
    add_comment(proposal, volunteer, "Skuas are fierce.")
    hide_content("proposal", fresh(Proposal, proposal.id), facilitator, "Off topic")
    db.session.commit()
    assert result_count(search(client, vision, q="skuas")) == "No results"
    login_as(facilitator)
    page = search(client, vision, q="skuas")
    assert len(results(page)) == 2 and page.text.count('<strong class="ds_tag">Hidden</strong>') == 2


def test_a_retracted_comment_is_not_found_by_the_public(client, login_as, vision, author, volunteer, facilitator):
    proposal = open_proposal(vision, author)
    comment = add_comment(proposal, volunteer, "Terns, I was wrong.")
    retract_comment(fresh(Comment, comment.id), volunteer)
    db.session.commit()
    assert result_count(search(client, vision, q="terns")) == "No results"
    login_as(facilitator)
    assert '<strong class="ds_tag">Retracted</strong>' in search(client, vision, q="terns").text


def test_an_edited_comment_is_found_by_its_new_words(client, vision, author, volunteer):
    from workbench.discussion.services import edit_comment

    comment = add_comment(open_proposal(vision, author), volunteer, "Shags.")
    edit_comment(fresh(Comment, comment.id), volunteer, "Cormorants.", vision)
    db.session.commit()
    assert result_count(search(client, vision, q="shags")) == "No results"
    assert result_count(search(client, vision, q="cormorants")) == "1 result"


def test_withdrawn_and_rejected_proposals_are_found_and_say_so(client, vision, author):
    from workbench.proposals.services import withdraw_proposal

    proposal = open_proposal(vision, author, body="Fulmars.")
    withdraw_proposal(fresh(Proposal, proposal.id), author)
    db.session.commit()
    page = search(client, vision, q="fulmars")
    assert results(page) == [f"Proposal {proposal.id} on Objective 1.1"] and "Withdrawn" in page.text


def test_aligned_work_follows_screening(client, vision, volunteer, facilitator):
    from workbench.aligned.services import approve_aligned_work, change_aligned_work, submit_aligned_work

    fields = dict(
        organisation="Trust", title="Seabird census", description="Counting.", status="current", link="", contact="",
        element_ids=[str(element_of(vision, "objective-1").id)],
    )
    work = submit_aligned_work(vision, volunteer, **fields)
    db.session.commit()
    assert result_count(search(client, vision, q="seabird")) == "No results"
    approve_aligned_work(fresh(type(work), work.id), facilitator, expected_submitted_at=None)
    db.session.commit()
    assert result_count(search(client, vision, q="seabird")) == "1 result"
    # New wording waits for screening: the approved one is still what is found.
    change_aligned_work(fresh(type(work), work.id), volunteer, **{**fields, "title": "Seal census"})
    db.session.commit()
    assert result_count(search(client, vision, q="seal")) == "No results"
    assert result_count(search(client, vision, q="seabird")) == "1 result"
    approve_aligned_work(fresh(type(work), work.id), facilitator, expected_submitted_at=None)
    db.session.commit()
    assert result_count(search(client, vision, q="seal")) == "1 result"
    assert result_count(search(client, vision, q="seabird")) == "No results"


def test_the_search_triggers_exist_after_upgrade(app) -> None:
    names = schema_names("trigger")
    if db.engine.dialect.name == "postgresql":
        assert {"search_entries_proposals", "search_entries_comments", "search_entries_aligned_work"} <= names
    else:
        assert {
            f"search_entries_{table}_{action}" for table in ("proposals", "comments", "aligned_work") for action in ("insert", "update", "delete")
        } | {f"search_entry_words_{action}" for action in ("insert", "update", "delete")} <= names


# --- bad input -------------------------------------------------------------------------------------

ODD_SEARCHES = [
    '"', '""', "'", "foo-bar", "it's", "a AND", "OR", "NOT x", "NEAR(a b)", "a*", "title:x", "^x", "(x", "x)",
    "data\x00base", "\u202edata", "بيانات مفتوحة", "données", "😀 data", "数据", "-", "--x", "x -", "1=1; DROP TABLE users",
    "<script>alert(1)</script>", "a" * 200, "a b " * 60, "\u200b", "\ufeffdata",
]


@pytest.mark.parametrize("typed", ODD_SEARCHES)
def test_odd_searches_give_results_or_a_message(client, vision, author, typed):
    open_proposal(vision, author, body="Data base, foo bar and it's données.")
    page = search(client, vision, q=typed, kind="proposal", element="objective-1")
    assert page.status_code in (200, 400)
    if page.status_code == 400:
        assert 'id="search-q-error"' in page.text and "There is a problem" in page.text


def test_what_cannot_be_searched_gets_a_message_beside_the_box(client, vision):
    long = search(client, vision, q="x" * 10_000)
    assert long.status_code == 400 and "Search for at most 200 characters" in long.text
    emoji = search(client, vision, q="😀")
    assert emoji.status_code == 400 and "Enter a word to search for, using letters or numbers" in emoji.text
    excluded = search(client, vision, q="-data")
    assert excluded.status_code == 400 and "cannot be only words to leave out" in excluded.text
    assert 'aria-invalid="true"' in excluded.text and '<a href="#search-q">' in excluded.text


def test_hyphens_and_apostrophes_search_their_words(client, vision, author):
    open_proposal(vision, author, body="A well-known fact, it's said.")
    assert result_count(search(client, vision, q="well-known")) == "1 result"
    assert result_count(search(client, vision, q="it's said")) == "1 result"
    assert result_count(search(client, vision, q='"known fact"')) == "1 result"
    assert result_count(search(client, vision, q='"fact known"')) == "No results"
    assert result_count(search(client, vision, q="fact -said")) == "No results"
    assert result_count(search(client, vision, q="walrus or fact")) == "1 result"


def test_markup_in_content_is_escaped_and_only_the_matches_are_marked(client, vision, author, volunteer):
    comment_text = '<script>alert(1)</script> <img src=x onerror="x()"> data-hx-get="/x" auklets'
    add_comment(open_proposal(vision, author), volunteer, comment_text)
    page = search(client, vision, q="auklets")
    assert "<script>alert" not in page.text and "<img src=x" not in page.text
    assert "<mark>auklets</mark>" in page.text
    # SQLite's snippet keeps the whole text, escaped; PostgreSQL's headline may leave the tags out.
    assert "&lt;script&gt;" in page.text or db.engine.dialect.name == "postgresql"
    assert 'data-hx-get="/x"' not in page.text


def test_the_search_box_keeps_what_was_typed_without_control_characters(client, vision):
    page = search(client, vision, q='say "hi"\x00 <b>')
    assert 'value="say &#34;hi&#34; &lt;b&gt;"' in page.text


# --- bounded work ----------------------------------------------------------------------------------


def test_a_page_runs_the_same_number_of_queries_whatever_it_finds(client, vision, author, volunteer, count_queries):
    def queries(typed: str) -> int:
        with count_queries() as log:
            assert search(client, vision, q=typed).status_code == 200
        return log.count

    proposal = open_proposal(vision, author, body="Eiders.")
    add_comment(proposal, volunteer, "Eiders.")
    few = queries("eiders")
    for n in range(30):
        add_comment(proposal, volunteer, f"Eiders again {n}.")
    assert queries("eiders") == few
    assert queries("nothing") <= few


def test_ranking_is_capped_and_paged(client, vision, author, volunteer, monkeypatch):
    monkeypatch.setattr(services, "CANDIDATES", 8)
    monkeypatch.setattr(services, "PER_PAGE", 3)
    proposal = open_proposal(vision, author, body="Razorbills.")
    for n in range(10):
        add_comment(proposal, volunteer, f"Razorbills {n}.")
    first = search(client, vision, q="razorbills")
    assert result_count(first) == "More than 8 results: the best of the newest 8, page 1 of 3"
    assert len(results(first)) == 3 and "Add a word" in first.text
    last = search(client, vision, q="razorbills", page="3")
    assert len(results(last)) == 2
    beyond = search(client, vision, q="razorbills", page="9")
    assert beyond.status_code == 200 and "There are no results on this page" in beyond.text
    for page in ("-1", "abc", "٣", "99999999999999999999"):
        assert search(client, vision, q="razorbills", page=page).status_code == 200


# --- reading what was typed (pure) -------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed, fts5, websearch",
    [
        ("open data", '("open") AND ("data")', '"open" "data"'),
        ('"open data" trust', '("open data") AND ("trust")', '"open data" "trust"'),
        ("foo-bar it's", '("foo bar") AND ("it s")', '"foo bar" "it s"'),
        ("a or b -c", '("a" OR "b") NOT ("c")', '"a" or "b" -"c"'),
        ('NEAR(x) "unclosed', '("near x") AND ("unclosed")', '"near x" "unclosed"'),
        ("AND OR NOT", '("and" OR "not")', '"and" or "not"'),
    ],
)
def test_what_is_typed_becomes_words_for_each_engine(typed, fts5, websearch):
    search_ = read_search(typed)
    assert search_.fts5() == fts5
    assert search_.websearch() == websearch


def test_at_most_twelve_words_are_looked_for():
    search_ = read_search(" ".join(f"w{n}" for n in range(40)))
    assert sum(len(p.words) for group in search_.groups for p in group) == 12


@pytest.mark.parametrize("typed", ["", "   ", "-x", "😀", "!!!", "or"])
def test_searches_without_a_word_to_find_are_refused(typed):
    with pytest.raises(ValidationError):
        read_search(typed)


def test_the_filters_words_are_never_found_by_what_is_typed(client, vision, author):
    proposal = open_proposal(vision, author, body="Storm petrels.")
    element_id = element_of(vision, "objective-1").id
    for typed in ("kproposal", f"e{element_id}", "kcomment", "kalignedwork"):
        assert result_count(search(client, vision, q=typed)) == "No results", typed
    assert results(search(client, vision, q="petrels", kind="proposal", element="objective-1")) == [f"Proposal {proposal.id} on Objective 1.1"]


def test_aligned_work_is_found_on_the_elements_screening_approved(client, vision, volunteer, facilitator):
    from workbench.aligned.services import approve_aligned_work, change_aligned_work, submit_aligned_work

    fields = dict(
        organisation="Trust", title="Dolphin watch", description="Counting.", status="current", link="", contact="",
        element_ids=[str(element_of(vision, "objective-1").id)],
    )
    work = submit_aligned_work(vision, volunteer, **fields)
    approve_aligned_work(work, facilitator, expected_submitted_at=None)
    db.session.commit()
    assert result_count(search(client, vision, q="dolphin", element="objective-1")) == "1 result"
    change_aligned_work(fresh(type(work), work.id), volunteer, **{**fields, "element_ids": [str(element_of(vision, "objective-2").id)]})
    approve_aligned_work(fresh(type(work), work.id), facilitator, expected_submitted_at=None)
    db.session.commit()
    assert result_count(search(client, vision, q="dolphin", element="objective-1")) == "No results"
    assert result_count(search(client, vision, q="dolphin", element="objective-2")) == "1 result"


@pytest.mark.parametrize(
    "typed, has_phrase, all_words",
    [
        ("open data", False, "((open)) & ((data))"),
        ('"public sector" trust', True, "((public & sector)) & ((trust))"),
        ('a or "b c" -d', True, "((a) | (b & c))"),
        ("foo-bar", True, "((foo & bar))"),
        ('"x" -"y z"', False, "((x))"),
    ],
)
def test_a_phrase_loosens_into_its_words_for_the_word_index(typed, has_phrase, all_words):
    search_ = read_search(typed)
    assert search_.has_phrase is has_phrase
    assert search_.all_words_tsquery() == all_words


@pytest.mark.skipif(not POSTGRES_URL, reason="to_tsquery is PostgreSQL's")
@pytest.mark.parametrize("typed", ['"public sector" trust', 'the or "of it" 2026', "it's open -x", '"data, sharing" or "open"'])
def test_the_loosened_words_match_every_row_that_the_search_matches(app, typed):
    from sqlalchemy import text as sql

    search_ = read_search(typed)
    texts = ["public sector trust", "trust the sector public", "of it 2026", "it s open", "data sharing open", "data and sharing"]
    for body in texts:
        both = db.session.execute(
            sql("SELECT to_tsvector('english', :body) @@ websearch_to_tsquery('english', :q), "
                "to_tsvector('english', :body) @@ to_tsquery('english', :words)"),
            {"body": body, "q": search_.websearch(), "words": search_.all_words_tsquery()},
        ).one()
        assert not both[0] or both[1], (body, typed)


@pytest.mark.skipif(not POSTGRES_URL, reason="the phrase's window is PostgreSQL's (FTS5 finds phrases in its index)")
def test_a_phrase_is_tested_on_the_newest_rows_holding_its_words_and_says_when_older_ones_were_not(
    client, vision, author, volunteer, monkeypatch
):
    monkeypatch.setattr(services, "PHRASE_WINDOW", 3)
    proposal = open_proposal(vision, author, body="Puffins nest where gannets fish.")
    add_comment(proposal, volunteer, "Gannets puffins, the older phrase.")  # the phrase, oldest
    assert result_count(search(client, vision, q='"gannets puffins"')) == "1 result"  # 2 rows hold the words

    for n in range(3):  # newer rows holding both words, not as the phrase: the window fills
        add_comment(proposal, volunteer, f"Puffins and gannets {n}.")
    page = search(client, vision, q='"gannets puffins"')
    assert result_count(page) == "No results among the newest 3 things that hold these words"
    assert "Older contributions hold these words too" in page.text

    add_comment(proposal, volunteer, "Gannets puffins, the newest phrase.")
    page = search(client, vision, q='"gannets puffins"')
    assert result_count(page) == "1 result among the newest 3 things that hold these words"
    assert results(page) and "Older contributions hold these words too" in page.text
    assert result_count(search(client, vision, q="gannets puffins")) == "6 results"  # words alone: no window
