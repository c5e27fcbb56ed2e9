"""The administrators' accounts list (`/admin/accounts`): searching by email address or the words of
names and addresses, filtering by role, paging newest first to the oldest account, and odd input."""

from __future__ import annotations

import html
import re

import pytest
from sqlalchemy import insert, inspect, text

from workbench.accounts import services
from workbench.models import Role, User, db

from .conftest import TEST_PASSWORD, schema_names

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request

LIST = "/admin/accounts"


def names(page: str) -> list[str]:
    """The accounts a page lists, by name, in order."""
    return re.findall(r'<td><a href="/admin/accounts/\d+">([^<]+)</a>', page)


def link(page: str, rel: str) -> str | None:
    """The address of the page's pagination link `rel` (first, prev, next, last), if it has one."""
    found = re.search(rf'href="([^"]+)" rel="{rel}"', page)
    return html.unescape(found.group(1)) if found else None


def heading(page: str) -> str:
    found = re.search(r'<h2 class="ds_h3" id="results-heading">(.*?)</h2>', page, re.S)
    assert found, page
    return " ".join(found.group(1).split())


def get(client, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code)
    return response.get_data(as_text=True)


@pytest.fixture
def admin(make_user, login_as) -> User:
    return login_as(make_user(Role.ADMIN, email="boss@example.org", name="The Boss"))


@pytest.fixture
def people(admin, make_user) -> dict[str, User]:
    return {
        "ann": make_user(email="ann@example.org", name="Ann Leeming"),
        "annette": make_user(email="annette.other@example.org", name="Annette Other"),
        "lee": make_user(Role.FACILITATOR, email="l.annabel@sample.org", name="Lee Annabel"),
        "joanna": make_user(email="jo@mail.example.com", name="Joanna Smith"),
        "zoe": make_user(email="zoe@example.net", name="Zoë Ångström"),
    }


# --- searching ------------------------------------------------------------------------------------


def test_a_whole_email_address_finds_that_account_alone(client, people):
    page = get(client, f"{LIST}?q=ANN@Example.org")
    assert names(page) == ["Ann Leeming"]
    assert heading(page) == "1 account matching “ANN@Example.org”"


@pytest.mark.parametrize(
    "query, found",
    [
        ("ann", ["Lee Annabel", "Annette Other", "Ann Leeming"]),  # a word that starts with it, newest first
        ("ANN LEE", ["Lee Annabel", "Ann Leeming"]),  # every word, in any order and any case
        ("leem", ["Ann Leeming"]),  # a later word of the name
        ("sample.org", ["Lee Annabel"]),  # the words of an address
        ("annette.other", ["Annette Other"]),  # the start of an address
        ("example", ["Zoë Ångström", "Joanna Smith", "Annette Other", "Ann Leeming", "The Boss"]),
        ("ångström zoë", ["Zoë Ångström"]),
        ("ÅNGSTRÖM", ["Zoë Ångström"]),
        ("nna", []),  # not the middle of a word
        ("smith jo", ["Joanna Smith"]),
    ],
)
def test_each_word_finds_the_names_and_addresses_with_a_word_that_starts_with_it(client, people, query, found):
    page = get(client, f"{LIST}?q={query}")
    assert names(page) == found
    if found:
        assert heading(page).startswith(f"{len(found)} account{'s' if len(found) > 1 else ''} matching “{query}”")
    else:
        assert "No account matches" in page


def test_a_search_within_a_role(client, people):
    page = get(client, f"{LIST}?q=ann&role=facilitator")
    assert names(page) == ["Lee Annabel"]
    assert heading(page) == "1 account matching “ann” with the role facilitator"
    assert names(get(client, f"{LIST}?q=ann@example.org&role=facilitator")) == []


def test_the_search_follows_every_change_of_name_address_and_role(client, people, admin):
    ann = people["ann"]
    services.change_display_name(ann, "Ann Mackintosh")
    ann.email = "ann.mackintosh@council.example"
    services.change_role(admin, ann, Role.FACILITATOR.value)
    db.session.commit()
    assert names(get(client, f"{LIST}?q=leeming")) == []
    assert names(get(client, f"{LIST}?q=ann@example.org")) == ["Annette Other"]  # no longer the whole address of anyone
    assert names(get(client, f"{LIST}?q=mackin&role=facilitator")) == ["Ann Mackintosh"]
    assert names(get(client, f"{LIST}?q=council")) == ["Ann Mackintosh"]
    assert names(get(client, f"{LIST}?q=mackin&role=volunteer")) == []

    services.delete_account(db.session.get(User, people["zoe"].id), TEST_PASSWORD, confirmed=True)
    db.session.commit()
    assert names(get(client, f"{LIST}?q=zoë")) == []
    assert names(get(client, f"{LIST}?q=zoe@example.net")) == []
    assert "a former participant" in get(client, LIST)  # still listed, without a name or address


def test_accounts_written_behind_the_app_are_found(client, admin):
    db.session.execute(
        insert(User),
        [{"email": f"bulk{n}@bulk.example", "display_name": f"Bulk Person {n}", "role": "volunteer", "session_token": f"t{n}"} for n in range(3)],
    )
    db.session.commit()
    assert names(get(client, f"{LIST}?q=bulk+person+2")) == ["Bulk Person 2"]


def test_a_search_that_finds_many_lists_the_newest_and_says_so(client, admin, make_user, monkeypatch):
    monkeypatch.setattr(services, "SEARCH_LIMIT", 30)
    for n in range(40):
        make_user(email=f"sam{n}@example.org", name=f"Sam {n}")
    page = get(client, f"{LIST}?q=sam")
    assert heading(page).startswith("More than 30 accounts matching “sam”")
    assert "Only the newest 30 accounts that match are listed. Type more of the name, or the whole email address" in page
    seen = names(page)
    while (after := link(page, "next")) is not None:
        assert "q=sam" in after
        page = get(client, after)
        seen += names(page)
    assert seen == [f"Sam {n}" for n in range(39, 9, -1)]
    assert heading(page).endswith("newest first: this page shows 5, to the last one listed")


# --- pages ----------------------------------------------------------------------------------------


def test_pages_reach_every_account_newest_first_and_back(client, admin, make_user):
    for n in range(60):
        make_user(email=f"person{n}@example.org", name=f"Person {n}")
    everyone = [f"Person {n}" for n in range(59, -1, -1)] + ["The Boss"]
    page = get(client, LIST)
    assert heading(page) == "61 accounts, newest first: this page shows 25, from the newest"
    seen = names(page)
    while (after := link(page, "next")) is not None:
        page = get(client, after)
        seen += names(page)
    assert seen == everyone
    assert heading(page) == "61 accounts, newest first: this page shows 11, to the oldest"

    last = get(client, link(get(client, LIST), "last"))
    assert names(last) == everyone[-25:]
    assert link(last, "next") is None and link(last, "last") is None
    previous = get(client, link(last, "prev"))
    assert names(previous) == everyone[-50:-25]
    assert names(get(client, link(previous, "first"))) == everyone[:25]


def test_a_role_is_kept_from_page_to_page(client, admin, make_user):
    for n in range(30):
        make_user(Role.FACILITATOR if n % 2 else Role.VOLUNTEER, name=f"Person {n}")
    page = get(client, f"{LIST}?role=volunteer")
    assert heading(page) == "15 accounts with the role volunteer"
    for n in range(32):
        make_user(name=f"Later {n}")
    page = get(client, f"{LIST}?role=volunteer")
    after = link(page, "next")
    assert "role=volunteer" in after and "role=volunteer" in link(page, "last")
    assert names(get(client, after)) == [f"Later {n}" for n in range(6, -1, -1)] + [f"Person {n}" for n in range(28, -1, -2)]


def test_a_long_list_says_more_than_it_counts_and_still_reaches_the_oldest(client, admin, make_user, monkeypatch):
    monkeypatch.setattr(services, "COUNTED_UP_TO", 50)
    for n in range(60):
        make_user(name=f"Person {n}")
    page = get(client, LIST)
    assert heading(page) == "More than 50 accounts, newest first: this page shows 25, from the newest"
    assert names(get(client, link(page, "last")))[-1] == "The Boss"


@pytest.mark.parametrize("path", [LIST, f"{LIST}?last=1", f"{LIST}?role=volunteer", f"{LIST}?q=person", f"{LIST}?q=person&last=1"])
def test_the_list_runs_the_same_number_of_queries_however_many_accounts(client, admin, make_user, count_queries, path):
    for n in range(3):
        make_user(name=f"Person {n}")
    with count_queries() as small:
        get(client, path)
    for n in range(3, 70):
        make_user(name=f"Person {n}")
    with count_queries() as large:
        page = get(client, path)
    assert large.count == small.count <= 6
    assert len(names(page)) == 25


def test_a_page_after_the_oldest_account_is_empty_and_leads_back(client, admin):
    page = get(client, f"{LIST}?after={admin.id}")
    assert names(page) == [] and "Nothing is on this page" in page and 'href="/admin/accounts">Go to the first page' in page
    assert names(get(client, f"{LIST}?after=999999")) == ["The Boss"]  # after an id no account has yet: from the newest


# --- nothing found, and odd input -----------------------------------------------------------------


def test_nothing_found_says_so_and_leads_back_to_every_account(client, people):
    page = get(client, f"{LIST}?q=nobody")
    assert heading(page) == "0 accounts matching “nobody”"
    assert "No account matches" in page and 'href="/admin/accounts">show every account</a>' in page
    assert "No account matches" in get(client, f"{LIST}?role=admin&q=ann")


def test_a_search_with_no_words_says_so_beside_the_field(client, people):
    page = get(client, f"{LIST}?q=%25_%2A")
    assert names(page) == []
    assert "“%_*” has no words to search for: search finds words (letters and digits), not punctuation on its own" in page
    assert 'id="q-error"' in page and 'aria-describedby="q-hint q-error"' in page and 'aria-invalid="true"' in page


def test_an_unknown_role_says_so_beside_the_field_and_lists_every_role(client, people):
    page = get(client, f"{LIST}?role=superuser")
    assert "Choose a role from the list. The list shows every role" in page and 'id="filter-role-error"' in page
    assert len(names(page)) == 6


@pytest.mark.parametrize(
    "query",
    [
        "q=%22ann", "q=ann*", "q=NEAR(ann+lee)", "q=%7Bdisplay_name%7D:ann", "q=-ann", "q=%5Eann", "q=ann+OR+bob",
        "q=ann+AND+NOT", "q=%27", "q=:*", "q=%26%7C!", "q=%00", "q=%ff%fe", "q=" + "ann+" * 2000, "q=role:admin",
        "q=%E2%80%AE", "q=a%40b", "q=@", "after=abc", "before=0", "last=2", "after=1&before=2",
        "after=99999999999999999999", "page=abc", "page=-1", "role=admin%27--", "role=", "sort=email",
    ],
)
def test_odd_input_never_breaks_the_list(client, people, query):
    page = get(client, f"{LIST}?{query}")
    assert "<h1 class=\"ds_page-header__title\">Accounts</h1>" in page


# --- the index ------------------------------------------------------------------------------------


def test_the_words_index_exists_after_upgrade(app):
    if db.engine.dialect.name == "postgresql":
        assert "search_words" in {column["name"] for column in inspect(db.engine).get_columns("users")}
        assert "ix_users_search_words" in schema_names("index")
    else:
        with db.engine.connect() as connection:
            assert connection.execute(text("SELECT count(*) FROM sqlite_master WHERE name = 'account_words'")).scalar() == 1
        assert {"account_words_insert", "account_words_update", "account_words_delete"} <= schema_names("trigger")
    assert "ix_users_role_id" in schema_names("index")
