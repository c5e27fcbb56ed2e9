"""Who wrote each word of a published version (issue 18, item 1): recorded at publish from the chain
of element texts, stored immutable with the version, shown on request ("Show who wrote each part"),
given as open data, and counted per person ("your words in version 3")."""

from __future__ import annotations

import html
import json
import re
import sqlite3

import pytest
from sqlalchemy import func, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from workbench import diffing
from workbench.caching import clear_caches
from workbench.drafting.edits import edit_element_text
from workbench.drafting.publishing import publish_version
from workbench.facilitation import decisions
from workbench.facilitation.together import accept_together
from workbench.models import ImmutableError, Proposal, Role, User, Version, Vision, db, utcnow
from workbench.provenance_models import VersionProvenance, VersionWords

from .factories import entry_of, fresh, open_proposal

SLUG = "test-vision"


def dialect() -> str:
    return db.engine.dialect.name


def accept(proposal: Proposal, facilitator: User, body: str | None = None, title: str | None = None) -> None:
    """Accept through the service, as the accept page would send it (the proposal's text, its
    rebase onto the current text, or the facilitator's edit)."""
    proposal = fresh(Proposal, proposal.id)
    entry = entry_of(proposal.vision, proposal.element.key)
    decisions.accept_proposal(
        proposal, fresh(User, facilitator.id),
        title=entry.text.title if title is None else title, body=proposal.body if body is None else body,
        note="", expected_text_id=entry.text_id, revision=proposal.revision_count,
    )
    db.session.commit()


def edit(vision: Vision, key: str, body: str, facilitator: User) -> None:
    entry = entry_of(vision, key)
    edit_element_text(fresh(Vision, vision.id), key, title=entry.text.title, body=body, reason="Clearer.",
                      lock_version=entry.lock_version, actor=fresh(User, facilitator.id))
    db.session.commit()


def publish(vision: Vision, facilitator: User, notes: str = "Next.") -> Version:
    version = publish_version(fresh(Vision, vision.id), actor=fresh(User, facilitator.id), notes=notes)
    db.session.commit()
    return version


def spans_of(number: int) -> dict:
    version_id = db.session.scalar(select(Version.id).where(Version.number == number))
    return json.loads(db.session.scalar(select(VersionProvenance.spans).where(VersionProvenance.version_id == version_id)))


def authors(number: int, key: str, body: str) -> list[tuple[str, str]]:
    """Each word of the element's body in version `number` with its source, from the stored spans."""
    result = []
    for start, end, source in spans_of(number)[key]["body"]:
        label = source["kind"] + (f" {source['proposal']}" if "proposal" in source else "")
        result += [(token, label) for token in diffing.tokenize(body[start:end]) if not token.isspace()]
    return result


@pytest.fixture
def people(make_user):
    return {
        "ann": make_user(name="Ann Example"),
        "ben": make_user(name="Ben Example"),
        "cat": make_user(name="Cat Example"),
        "fay": make_user(Role.FACILITATOR, name="Fay Facilitator"),
    }


@pytest.fixture
def history(make_vision, people):
    """Three versions. 2: Ann's proposal on objective-1 accepted as is, Ben's on objective-2 accepted
    with a change, Cat's and Ann's on condition-1 accepted together. 3: a direct edit of objective-1,
    then Ben's proposal (written against version 2's text) accepted after a rebase."""
    vision = make_vision()
    ann, ben, cat, fay = people["ann"], people["ben"], people["cat"], people["fay"]
    p_ann = open_proposal(vision, ann, "objective-1", "Objective 1.1 body, for everyone.")
    p_ben = open_proposal(vision, ben, "objective-2", "Objective 1.2 body, open by default.")
    p_cat = open_proposal(vision, cat, "condition-1", "Good Condition 1.1 body.")
    p_ann2 = open_proposal(vision, ann, "condition-1", "Condition 1.1 body, kept.")
    accept(p_ann, fay)
    accept(p_ben, fay, body="Objective 1.2 body, open and shared by default.")
    entry = entry_of(vision, "condition-1")
    accept_together(fresh(Vision, vision.id), "condition-1", [p_cat.id, p_ann2.id], fresh(User, fay.id),
                    expected_text_id=entry.text_id, note="Together.")
    db.session.commit()
    publish(vision, fay)
    p_ben2 = open_proposal(vision, ben, "objective-1", "New Objective 1.1 body, for everyone.")
    edit(vision, "objective-1", "Objective 1.1 body, for everyone in Scotland.", fay)
    accept(p_ben2, fay, body="New Objective 1.1 body, for everyone in Scotland.")
    publish(vision, fay)
    clear_caches()
    return {"vision": fresh(Vision, vision.id), "ann": p_ann, "ben": p_ben, "cat": p_cat, "ann2": p_ann2, "ben2": p_ben2}


# --- recorded at publish --------------------------------------------------------------------------


def test_the_first_version_credits_every_word_to_the_first_draft(make_vision) -> None:
    make_vision()
    spans = spans_of(1)
    assert spans["objective-1"]["body"] == [[0, len("Objective 1.1 body."), {"kind": "draft"}]]
    assert spans["objective-1"]["title"] == [[0, len("Objective 1.1"), {"kind": "draft"}]]
    assert db.session.scalar(select(func.count()).select_from(VersionWords)) == 0


def test_each_path_credits_each_word_to_its_author(history) -> None:
    h = history
    ann, ben, cat, ann2, ben2 = (h[k].id for k in ("ann", "ben", "cat", "ann2", "ben2"))
    # Accepted as is.
    assert authors(2, "objective-1", "Objective 1.1 body, for everyone.") == [
        ("Objective", "draft"), ("1.1", "draft"), ("body", "draft"), (",", f"proposal {ann}"),
        ("for", f"proposal {ann}"), ("everyone", f"proposal {ann}"), (".", "draft"),
    ]
    # Accepted with changes: the facilitator's "and shared" is theirs.
    assert authors(2, "objective-2", "Objective 1.2 body, open and shared by default.") == [
        ("Objective", "draft"), ("1.2", "draft"), ("body", "draft"), (",", f"proposal {ben}"),
        ("open", f"proposal {ben}"), ("and", f"facilitator {ben}"), ("shared", f"facilitator {ben}"),
        ("by", f"proposal {ben}"), ("default", f"proposal {ben}"), (".", "draft"),
    ]
    # Accepted together: each proposal its own words.
    assert authors(2, "condition-1", "Good Condition 1.1 body, kept.") == [
        ("Good", f"proposal {cat}"), ("Condition", "draft"), ("1.1", "draft"), ("body", "draft"),
        (",", f"proposal {ann2}"), ("kept", f"proposal {ann2}"), (".", "draft"),
    ]
    # Version 3: a direct edit, then a proposal accepted after a rebase; unchanged elements copied.
    assert authors(3, "objective-1", "New Objective 1.1 body, for everyone in Scotland.") == [
        ("New", f"proposal {ben2}"), ("Objective", "draft"), ("1.1", "draft"), ("body", "draft"),
        (",", f"proposal {ann}"), ("for", f"proposal {ann}"), ("everyone", f"proposal {ann}"),
        ("in", "edit"), ("Scotland", "edit"), (".", "draft"),
    ]
    assert spans_of(3)["objective-2"] == spans_of(2)["objective-2"]


def test_each_persons_words_are_counted_per_version_and_element(history, people) -> None:
    rows = db.session.execute(
        select(Version.number, VersionWords.user_id, VersionWords.element_key, VersionWords.words)
        .join(Version, Version.id == VersionWords.version_id).order_by(Version.number, VersionWords.element_key, VersionWords.user_id)
    ).all()
    ann, ben, cat, fay = (people[k].id for k in ("ann", "ben", "cat", "fay"))
    assert [tuple(r) for r in rows if r.number == 3 and r.element_key == "objective-1"] == sorted(
        [(3, ann, "objective-1", 2), (3, ben, "objective-1", 1), (3, fay, "objective-1", 2)],
        key=lambda r: r[1],
    )
    assert (2, cat, "condition-1", 1) in [tuple(r) for r in rows]


def test_the_migration_fills_in_versions_published_before_it_as_publishing_did(history) -> None:
    """Back to the schema before 0019 and up again: the versions get the spans and word counts
    they were given at publish, and what they say (snapshot, hashes, signature) is untouched."""
    from flask_migrate import downgrade, upgrade

    def recorded():
        return (
            [spans_of(n) for n in (1, 2, 3)],
            sorted(tuple(r) for r in db.session.execute(select(VersionWords.version_id, VersionWords.user_id, VersionWords.element_key, VersionWords.words))),
            db.session.execute(select(Version.snapshot, Version.content_hash, Version.signature).order_by(Version.number)).all(),
        )

    before = recorded()
    db.session.remove()
    try:
        downgrade(revision="0018_proposals_that_add")
        assert "version_provenance" not in inspect(db.engine).get_table_names()
    finally:
        upgrade()
    assert recorded() == before


# --- immutable like the version -------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_provenance(history) -> None:
    row = db.session.scalar(select(VersionProvenance))
    row.spans = "{}"
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()
    words = db.session.scalar(select(VersionWords))
    db.session.delete(words)
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize("statement", [
    "UPDATE version_provenance SET spans = '{}'",
    "DELETE FROM version_provenance",
    "UPDATE version_words SET words = words + 100",
    "DELETE FROM version_words",
])
def test_the_database_refuses_to_change_or_delete_provenance(history, statement) -> None:
    before = spans_of(3)
    db.session.remove()
    with pytest.raises((IntegrityError, DBAPIError), match="immutable"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert spans_of(3) == before


@pytest.mark.skipif("__import__('os').environ.get('WORKBENCH_TEST_DATABASE_URL')", reason="SQLite's REPLACE")
@pytest.mark.parametrize("table", ["version_provenance", "version_words"])
def test_insert_or_replace_cannot_replace_provenance(history, table) -> None:
    row = dict(db.session.execute(text(f"SELECT * FROM {table} LIMIT 1")).mappings().one())
    if table == "version_provenance":
        row["spans"] = "{}"
    else:
        row["words"] = 999
    db.session.remove()
    statement = f"INSERT OR REPLACE INTO {table} ({', '.join(row)}) VALUES ({', '.join(':' + c for c in row)})"
    connection = sqlite3.connect(db.engine.url.database)  # any client: no pragmas of the app's
    try:
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            connection.execute(statement, row)
    finally:
        connection.close()
    with pytest.raises(IntegrityError, match="immutable"):
        with db.engine.begin() as app_connection:
            app_connection.execute(text(statement), row)
    assert db.session.scalar(select(func.count()).select_from(VersionWords).where(VersionWords.words == 999)) == 0
    assert "{}" not in db.session.scalars(select(VersionProvenance.spans)).all()


@pytest.mark.skipif("not __import__('os').environ.get('WORKBENCH_TEST_DATABASE_URL')", reason="PostgreSQL's TRUNCATE")
@pytest.mark.parametrize("table", ["version_provenance", "version_words"])
def test_truncate_of_provenance_is_refused(history, table) -> None:
    db.session.remove()
    with pytest.raises(DBAPIError, match="immutable"):
        with db.engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {table}"))
    assert db.session.scalar(select(func.count()).select_from(VersionProvenance)) == 3


def test_the_guards_exist_after_upgrade(app) -> None:
    from .conftest import schema_names

    extra = "replace" if dialect() == "sqlite" else "truncate"
    expected = {f"{table}_refuse_{action}" for table in ("version_provenance", "version_words") for action in ("update", "delete", extra)}
    assert expected <= schema_names("trigger")


# --- the pages ------------------------------------------------------------------------------------


def test_the_permalink_links_to_who_wrote_each_part(client, make_vision) -> None:
    make_vision()
    page = client.get(f"/visions/{SLUG}/v/1/").get_data(as_text=True)
    assert f'<a href="/visions/{SLUG}/v/1/who-wrote">Show who wrote each part</a>' in page


def test_who_wrote_each_part_announces_each_source_and_numbers_it(client, history) -> None:
    h = history
    response = client.get(f"/visions/{SLUG}/v/3/who-wrote")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1" in page and "Who wrote each part of" in page
    legend = re.findall(r'<li id="source-(\d+)">([^<]*)</li>', page)
    words = {html.unescape(text): number for number, text in legend}
    assert f"From proposal {h['ann'].id} by Ann Example" in words
    assert f"From proposal {h['ben2'].id} by Ben Example" in words
    assert "From the first draft" in words
    assert "A facilitator's edit of the draft" in words
    # Each run of words: what a screen reader announces, the words, and the legend's number.
    number = words[f"From proposal {h['ben2'].id} by Ben Example"]
    assert (
        f'<span class="visually-hidden">(from proposal {h["ben2"].id} by Ben Example) </span>New'
        f'<sup class="app-credited__number" aria-hidden="true">{number}</sup>'
    ) in page
    edit_number = words["A facilitator's edit of the draft"]
    assert f"in Scotland<sup class=\"app-credited__number\" aria-hidden=\"true\">{edit_number}</sup>" in page
    assert 'id="objective-1"' in page  # the anchors that "your words" link to


def test_who_wrote_is_cached_and_revalidated_with_its_etag(client, history) -> None:
    first = client.get(f"/visions/{SLUG}/v/3/who-wrote")
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get(f"/visions/{SLUG}/v/3/who-wrote", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_who_wrote_runs_a_bounded_number_of_queries(client, history, count_queries) -> None:
    client.get(f"/visions/{SLUG}/v/3/who-wrote")
    with count_queries() as log:
        assert client.get(f"/visions/{SLUG}/v/3/who-wrote").status_code == 200
    assert log.count <= 4


def test_a_deleted_account_is_a_former_participant_and_a_hidden_proposal_names_nobody(client, history, people) -> None:
    h = history
    client.get(f"/visions/{SLUG}/v/3/who-wrote")  # cached with the names as they were
    ann = fresh(User, people["ann"].id)
    ann.is_deleted = True
    ben2 = fresh(Proposal, h["ben2"].id)
    ben2.hidden_at = utcnow()
    db.session.commit()
    page = client.get(f"/visions/{SLUG}/v/3/who-wrote").get_data(as_text=True)
    assert "Ann Example" not in page
    assert f"From proposal {h['ann'].id} by a former participant" in page
    assert re.search(rf'<li id="source-\d+">From proposal {h["ben2"].id}</li>', page)
    assert "Ben Example" in page  # his other, visible proposal still credits him
    data = client.get(f"/visions/{SLUG}/v/3/who-wrote.json").get_json()
    sources = [span["from"] for e in data["elements"] for span in e["provenance"]]
    assert {"kind": "proposal", "proposal": h["ben2"].id, "author": None} in sources
    assert {"kind": "proposal", "proposal": h["ann"].id, "author": "a former participant"} in sources


def test_no_such_version_is_404(client, history) -> None:
    assert client.get(f"/visions/{SLUG}/v/9/who-wrote").status_code == 404
    assert client.get(f"/visions/{SLUG}/v/9/who-wrote.json").status_code == 404
    assert client.get("/visions/nothing/v/1/who-wrote").status_code == 404


def test_the_open_data_gives_each_elements_spans_and_leaves_the_version_hash_alone(client, history) -> None:
    h = history
    data = client.get(f"/visions/{SLUG}/v/2/who-wrote.json").get_json()
    version = client.get(f"/visions/{SLUG}/v/2.json").get_json()
    assert data["content_hash"] == version["content_hash"]
    assert "provenance" not in json.dumps(version)
    by_key = {e["key"]: e["provenance"] for e in data["elements"]}
    body = next(e for e in version["elements"][1]["children"] if e["key"] == "objective-1")["body"]
    assert body == "Objective 1.1 body, for everyone."
    assert [(s["field"], body[s["start"]:s["end"]] if s["field"] == "body" else None, s["from"]) for s in by_key["objective-1"] if s["field"] == "body"] == [
        ("body", "Objective 1.1 body", {"kind": "draft"}),
        ("body", ", for everyone", {"kind": "proposal", "proposal": h["ann"].id, "author": "Ann Example"}),
        ("body", ".", {"kind": "draft"}),
    ]
    ben = [s["from"] for s in by_key["objective-2"] if s["from"]["kind"] == "facilitator"]
    assert ben == [{"kind": "facilitator", "proposal": h["ben"].id}]


def test_your_words_lists_each_version_with_your_words_and_where(client, history, people, login_as) -> None:
    login_as(people["ann"])
    activity = client.get("/account/activity").get_data(as_text=True)
    assert '<a href="/account/your-words">Your words in the published versions</a>' in activity
    page = client.get("/account/your-words").get_data(as_text=True)
    assert "Your words in version 3 of Vision test-vision" in page
    assert "Your words in version 2 of Vision test-vision" in page
    assert "Your words in version 1" not in page
    assert f'<a href="/visions/{SLUG}/v/3/who-wrote#objective-1">Objective 1.1</a>: 2 words' in page
    assert f'<a href="/visions/{SLUG}/v/2/who-wrote#condition-1">Enabling condition 1.1</a>: 1 word' in page
    assert page.index("version 3") < page.index("version 2")


def test_your_words_says_when_there_are_none(client, make_vision, make_user, login_as) -> None:
    make_vision()
    login_as(make_user(name="New Person"))
    page = client.get("/account/your-words").get_data(as_text=True)
    assert "None of the published versions has words of yours yet" in page
