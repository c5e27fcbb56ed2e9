"""Finding authors by a part of their name (workbench/people_named.py): fragments of any length, in
any case, typed as they are; never the people the public does not see named; one statement."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from workbench import people_named
from workbench.accounts.about_you import save_about_you
from workbench.accounts.services import delete_account
from workbench.extensions import db
from workbench.models import Proposal
from workbench.people_named import people_named as find

from .conftest import POSTGRES_URL, TEST_PASSWORD
from .factories import open_proposal


@pytest.fixture
def named(make_user):
    """A few people with names that share fragments, and wildcards written into two of them."""
    names = ["Ann Lee", "Joanna Campbell", "Johann Ng", "Sam Reid", "Ali 100% Shah", "Kim_Murray", "Kim Murray"]
    return {name: make_user(name=name).id for name in names}


def found(fragment: str) -> set[int]:
    return set(find(fragment, 50))


def ids(named: dict[str, int], *names: str) -> set[int]:
    return {named[name] for name in names}


@pytest.mark.parametrize(
    "fragment, expected",
    [
        ("ann", ("Ann Lee", "Joanna Campbell", "Johann Ng")),  # the trigram index, any case
        ("ANN", ("Ann Lee", "Joanna Campbell", "Johann Ng")),
        ("joh", ("Johann Ng",)),
        ("an", ("Ann Lee", "Joanna Campbell", "Johann Ng")),  # two characters: the bounded scan
        ("A", ("Ann Lee", "Joanna Campbell", "Johann Ng", "Sam Reid", "Ali 100% Shah", "Kim_Murray", "Kim Murray")),
        ("ng", ("Johann Ng",)),
        ("campbell", ("Joanna Campbell",)),
        ("nobody", ()),
    ],
)
def test_a_fragment_of_any_length_finds_the_people_whose_name_holds_it(named, fragment, expected) -> None:
    assert found(fragment) == ids(named, *expected)


@pytest.mark.parametrize(
    "fragment, expected",
    [
        ("%", ("Ali 100% Shah",)),
        ("0%", ("Ali 100% Shah",)),
        ("100% s", ("Ali 100% Shah",)),
        ("_", ("Kim_Murray",)),
        ("m_m", ("Kim_Murray",)),
        ("kim_", ("Kim_Murray",)),
        ('"', ()),
        ('ann"', ()),
    ],
)
def test_wildcards_and_quotes_are_looked_for_as_typed(named, fragment, expected) -> None:
    assert found(fragment) == ids(named, *expected)


@pytest.mark.skipif(not POSTGRES_URL, reason="SQLite's lower() folds ASCII letters only (the trigram index folds the rest)")
def test_non_ascii_names_are_found_in_any_case_on_postgresql(make_user) -> None:
    zoe = make_user(name="Zoë Ørsted-Émile").id
    assert set(find("ørs", 5)) == {zoe} and set(find("ÉMILE", 5)) == {zoe} and set(find("zoË", 5)) == {zoe}
    assert set(find("ø", 5)) == {zoe} and set(find("Ë", 5)) == {zoe}


def test_non_ascii_fragments_of_three_letters_are_found_in_any_case(make_user) -> None:
    zoe = make_user(name="Zoë Ørsted").id
    assert set(find("ØRS", 5)) == {zoe} and set(find("zoë", 5)) == {zoe}


def test_people_not_published_with_their_name_or_deleted_are_never_found_by_name(app, named, vision) -> None:
    from workbench.models import User

    anonymous, private = db.session.get(User, named["Joanna Campbell"]), db.session.get(User, named["Johann Ng"])
    proposal = open_proposal(vision, anonymous, "objective-1", "Objective 1.1 body, changed.").id
    save_about_you(anonymous, "individual", "", "anonymous")
    save_about_you(private, "individual", "", "private")
    delete_account(db.session.get(User, named["Ann Lee"]), TEST_PASSWORD, True)
    db.session.commit()
    for fragment in ("ann", "an", "a", "joanna campbell", "ng"):
        assert not found(fragment) & ids(named, "Joanna Campbell", "Johann Ng", "Ann Lee"), fragment
    condition = people_named.written_by_someone_named("campbell").condition
    assert db.session.scalars(select(Proposal.id).where(condition)).all() == []
    # Named again, found again; a new name is found by its own words only.
    save_about_you(anonymous, "individual", "", "name")
    anonymous.display_name = "Joanna Okafor"
    db.session.commit()
    assert found("okafor") == ids(named, "Joanna Campbell") and found("campbell") == set()
    assert db.session.scalars(select(Proposal.id).where(people_named.written_by_someone_named("okaf").condition)).all() == [proposal]


def test_a_name_too_many_people_share_finds_nobody_and_says_so(named, monkeypatch) -> None:
    monkeypatch.setattr(people_named, "MOST_PEOPLE_NAMED", 2)
    assert people_named.written_by_someone_named("ann").note == (
        "More than 2 people have “ann” in their name: type more of the name to find theirs."
    )
    assert people_named.written_by_someone_named("ann lee").note == ""


@pytest.mark.parametrize("fragment", ["a", "an", "ann", "joanna campbell", "%_"])
def test_finding_people_by_name_is_one_statement(named, count_queries, fragment) -> None:
    with count_queries() as log:
        people_named.written_by_someone_named(fragment)
    assert log.count == 1
