"""The database guard closed, and what gets past it caught (issue 18, items 3 to 5).

On SQLite, `INSERT OR REPLACE` cannot replace a published version, element text or proposal revision
(a BEFORE INSERT trigger, and `recursive_triggers` on the app's connections); on PostgreSQL, TRUNCATE
is refused. A version altered anyway (triggers dropped, the file edited, a middle version replaced)
is refused by every page that would show it, with a critical log line, and `flask vision verify`
says what is wrong."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import logging
import sqlite3

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from workbench.caching import clear_caches
from workbench.models import ElementText, ProposalRevision, Role, Version, Vision, db
from workbench.visions import verification

from .factories import entry_of, fresh, open_proposal

SLUG = "test-vision"


def dialect() -> str:
    return db.engine.dialect.name


@pytest.fixture
def history(make_vision, make_user):
    """Three published versions of `test-vision`; objective-1 changes in version 2."""
    from workbench.drafting.edits import edit_element_text
    from workbench.drafting.publishing import publish_version

    vision = make_vision()
    facilitator = make_user(Role.FACILITATOR)
    for key, body, notes in (("objective-1", "Objective 1.1, sharper.", "Two."), ("objective-2", "Objective 1.2, sharper.", "Three.")):
        entry = entry_of(vision, key)
        edit_element_text(fresh(Vision, vision.id), key, title=entry.text.title, body=body, reason="Why.",
                          lock_version=entry.lock_version, actor=facilitator)
        publish_version(fresh(Vision, vision.id), actor=facilitator, notes=notes)
        db.session.commit()
    clear_caches()
    return fresh(Vision, vision.id)


def row_of(number: int) -> Version:
    return db.session.scalar(select(Version).where(Version.number == number).execution_options(populate_existing=True))


@contextlib.contextmanager
def triggers_dropped(table: str):
    """As the database's owner could: drop the table's triggers, and put them back afterwards."""
    with db.engine.begin() as connection:
        if dialect() == "sqlite":
            found = connection.execute(
                text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = :t"), {"t": table}
            ).all()
            for name, _ in found:
                connection.execute(text(f"DROP TRIGGER {name}"))
        else:
            found = connection.execute(
                text("SELECT tgname, pg_get_triggerdef(oid) FROM pg_trigger WHERE tgrelid = CAST(:t AS regclass) AND NOT tgisinternal"),
                {"t": table},
            ).all()
            for name, _ in found:
                connection.execute(text(f"DROP TRIGGER {name} ON {table}"))
    assert found
    try:
        yield
    finally:
        with db.engine.begin() as connection:
            for _, sql in found:
                connection.execute(text(sql))


def tamper(number: int, **values) -> None:
    """UPDATE a published version behind the app's back (its guard dropped for the moment)."""
    db.session.remove()
    with triggers_dropped("versions"):
        with db.engine.begin() as connection:
            sets = ", ".join(f"{name} = :{name}" for name in values)
            connection.execute(text(f"UPDATE versions SET {sets} WHERE number = :number"), {**values, "number": number})
    clear_caches()


def altered_snapshot(number: int, old: str, new: str) -> str:
    snapshot = row_of(number).snapshot
    assert old in snapshot
    return snapshot.replace(old, new)


def resealed(number: int, snapshot_text: str, *, key=None) -> dict[str, str]:
    """What someone who knows the public algorithm would write to make a replaced version look
    whole: both hashes recomputed, and signed with `key` (their own) if given."""
    row = row_of(number)
    content = verification.canonical_bytes(verification.public_content(json.loads(snapshot_text), row.notes, row.previous_hash))
    values = {
        "snapshot": snapshot_text,
        "snapshot_hash": hashlib.sha256(snapshot_text.encode()).hexdigest(),
        "content_hash": hashlib.sha256(content).hexdigest(),
    }
    if key is not None:
        values["signature"] = base64.b64encode(key.sign(content).signature).decode()
        values["signing_key"] = base64.b64encode(bytes(key.verify_key)).decode()
    return values


PAGES = (
    "/visions/test-vision/v/{n}/",
    "/visions/test-vision/v/{n}/objective-1",
    "/visions/test-vision/v/{n}.json",
    "/visions/test-vision/compare/1...{n}",
)


def assert_refused(client, caplog, number: int) -> None:
    for path in PAGES:
        path = path.format(n=number)
        caplog.clear()
        with caplog.at_level(logging.CRITICAL, logger="workbench.visions.verification"):
            response = client.get(path)
        assert response.status_code == 503, path
        assert response.headers["Cache-Control"] == "no-store"
        assert "ETag" not in response.headers
        body = response.get_data(as_text=True)
        assert "This version cannot be shown" in body
        assert f"Version {number} of this vision no longer matches" in body
        assert "Objective 1.1, tampered." not in body
        [record] = [r for r in caplog.records if r.levelno == logging.CRITICAL]
        assert f"Refusing to serve version {number} of 'test-vision'" in record.getMessage()


# --- the guard: SQLite ------------------------------------------------------------------------------


def test_the_new_guards_exist_after_upgrade(app) -> None:
    from .conftest import schema_names

    action = "replace" if dialect() == "sqlite" else "truncate"
    expected = {f"{table}_refuse_{action}" for table in ("versions", "element_texts", "proposal_revisions")}
    assert expected <= schema_names("trigger")


sqlite_only = pytest.mark.skipif("__import__('os').environ.get('WORKBENCH_TEST_DATABASE_URL')", reason="SQLite's REPLACE")
postgres_only = pytest.mark.skipif("not __import__('os').environ.get('WORKBENCH_TEST_DATABASE_URL')", reason="PostgreSQL's TRUNCATE")


def replace_statement(table: str, row: dict) -> str:
    columns = ", ".join(row)
    return f"INSERT OR REPLACE INTO {table} ({columns}) VALUES ({', '.join(':' + c for c in row)})"


def guarded_row(table: str, vision) -> dict:
    """The first row of `table` as the database holds it, with its words changed (id and natural
    key kept): what a REPLACE would put in its place."""
    if table == "proposal_revisions":
        from workbench.models import User

        author = User(email="author@example.org", display_name="Alice Author", role="volunteer", password_hash="x")
        db.session.add(author)
        db.session.commit()
        open_proposal(vision, author)
    row = dict(db.session.execute(text(f"SELECT * FROM {table} ORDER BY id LIMIT 1")).mappings().one())
    if table == "versions":
        row["snapshot"] = row["snapshot"].replace("Objective 1.1 body.", "Objective 1.1, tampered.")
    else:
        row["body"] = row["body"] + " Tampered."
    return row


@sqlite_only
@pytest.mark.parametrize("table", ["versions", "element_texts", "proposal_revisions"])
def test_insert_or_replace_cannot_replace_a_guarded_row_from_the_app(table, vision) -> None:
    row = guarded_row(table, vision)
    before = db.session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row["id"]}).one()
    db.session.remove()
    with pytest.raises(IntegrityError, match="immutable"):
        with db.engine.begin() as connection:
            connection.execute(text(replace_statement(table, row)), row)
    assert db.session.execute(text(f"SELECT * FROM {table} WHERE id = :id"), {"id": row["id"]}).one() == before


@sqlite_only
@pytest.mark.parametrize("table", ["versions", "element_texts", "proposal_revisions"])
def test_insert_or_replace_is_refused_from_any_client_by_the_insert_trigger(table, vision, app) -> None:
    """A plain sqlite3 connection (no pragmas: recursive triggers off) is refused by the trigger."""
    row = guarded_row(table, vision)
    db.session.remove()
    path = db.engine.url.database
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA recursive_triggers").fetchone() == (0,)
        with pytest.raises(sqlite3.IntegrityError, match="immutable"):
            connection.execute(replace_statement(table, row), row)
        # By its natural key too: a new id with the number of a published version.
        if table == "versions":
            with pytest.raises(sqlite3.IntegrityError, match="immutable"):
                connection.execute(replace_statement(table, {**row, "id": 999}), {**row, "id": 999})
    finally:
        connection.close()


@sqlite_only
def test_with_the_insert_trigger_gone_the_apps_connections_still_refuse_a_replace(vision) -> None:
    """recursive_triggers (database.py): the delete a REPLACE makes fires the DELETE guard."""
    row = guarded_row("versions", vision)
    db.session.remove()
    with db.engine.begin() as connection:
        connection.execute(text("DROP TRIGGER versions_refuse_replace"))
    with pytest.raises(IntegrityError, match="published versions are immutable"):
        with db.engine.begin() as connection:
            assert connection.execute(text("PRAGMA recursive_triggers")).scalar() == 1
            connection.execute(text(replace_statement("versions", row)), row)


@sqlite_only
def test_a_replace_with_every_trigger_gone_is_caught_before_serving(client, vision, caplog) -> None:
    """A raw edit of the file (every trigger dropped): the page is refused, not served."""
    row = guarded_row("versions", vision)
    db.session.remove()
    with triggers_dropped("versions"):
        with db.engine.begin() as connection:
            connection.execute(text(replace_statement("versions", row)), row)
    clear_caches()
    assert "Objective 1.1, tampered." in row_of(1).snapshot
    assert_refused(client, caplog, 1)


# --- the guard: PostgreSQL ------------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize("statement", [
    "TRUNCATE versions CASCADE", "TRUNCATE element_texts CASCADE", "TRUNCATE proposal_revisions",
    # Reaching the guarded tables through foreign keys, as the clean-up of a test suite would.
    "TRUNCATE visions CASCADE", "TRUNCATE users RESTART IDENTITY CASCADE",
])
def test_truncate_is_refused(statement, vision) -> None:
    db.session.remove()
    with pytest.raises(DBAPIError, match="immutable"):
        with db.engine.begin() as connection:
            connection.execute(text(statement))
    assert db.session.scalar(select(Version.number)) == 1
    assert db.session.scalar(select(ElementText.id)) is not None


@postgres_only
def test_upsert_cannot_replace_a_version(vision) -> None:
    row = guarded_row("versions", vision)
    db.session.remove()
    with pytest.raises(DBAPIError, match="immutable"):
        with db.engine.begin() as connection:
            connection.execute(
                text("INSERT INTO versions (id, vision_id, number, published_at, notes, content_hash, snapshot, changelog) "
                     "VALUES (:id, :vision_id, :number, :published_at, :notes, :content_hash, :snapshot, :changelog) "
                     "ON CONFLICT (id) DO UPDATE SET snapshot = EXCLUDED.snapshot"),
                row,
            )
    assert "tampered" not in row_of(1).snapshot


# --- what gets past the guard is caught -----------------------------------------------------------


def test_a_raw_update_with_the_triggers_dropped_is_refused_on_every_page(client, history, caplog) -> None:
    tamper(2, snapshot=altered_snapshot(2, "Objective 1.1, sharper.", "Objective 1.1, tampered."))
    assert_refused(client, caplog, 2)
    # The vision's own page shows the latest version: still fine, and so are the others.
    assert client.get("/visions/test-vision/v/1/").status_code == 200
    assert client.get("/visions/test-vision/v/3.json").status_code == 200


def test_a_tampered_latest_version_is_not_shown_on_the_visions_page(client, history, caplog) -> None:
    tamper(3, notes="Other notes.")
    response = client.get("/visions/test-vision/")
    assert response.status_code == 503
    assert "This version cannot be shown" in response.get_data(as_text=True)


def test_a_replaced_middle_version_is_refused_and_found_by_vision_verify(client, history, caplog, runner) -> None:
    replaced = altered_snapshot(2, "Objective 1.1, sharper.", "Objective 1.1, tampered.")
    tamper(2, **resealed(2, replaced))
    assert_refused(client, caplog, 2)
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 1
    assert "Version 2: its signature does not match what it says." in result.output
    assert "Version 3: its previous hash is not version 2's content hash" in result.output
    assert "version 2 was replaced or history rewritten" in result.output
    assert "Version 1:" not in result.output


def test_a_version_re_signed_with_another_key_is_refused(client, history, caplog, runner) -> None:
    from nacl.signing import SigningKey

    replaced = altered_snapshot(2, "Objective 1.1, sharper.", "Objective 1.1, tampered.")
    tamper(2, **resealed(2, replaced, key=SigningKey(b"\x02" * 32)))
    assert_refused(client, caplog, 2)
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 1
    assert "Version 2: it is signed with a key that is not one of this site's keys" in result.output


def test_vision_verify_says_what_is_wrong_with_each_version(runner, history) -> None:
    tamper(1, notes="Rewritten notes.")
    tamper(3, snapshot_hash="0" * 64)
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert any(line.startswith("Version 1: its content does not match its content hash (recorded sha256:") for line in lines)
    assert "Version 1: its signature does not match what it says." in lines
    assert "Version 3: its stored snapshot was changed after it was published (it no longer matches its snapshot hash)." in lines
    assert not any(line.startswith("Version 2") for line in lines)
    assert lines[-1] == "'test-vision': 3 problems in 3 versions. Restore the versions named from a backup."


def test_vision_verify_finds_a_missing_version(runner, history) -> None:
    db.session.remove()
    # What was recorded with version 2 (who wrote each word) goes with it, as a forger would remove it.
    with triggers_dropped("versions"), triggers_dropped("version_provenance"), triggers_dropped("version_words"):
        with db.engine.begin() as connection:
            version_2 = "(SELECT id FROM versions WHERE number = 2)"
            connection.execute(text(f"DELETE FROM draft_changes WHERE version_id IN {version_2}"))
            connection.execute(text(f"UPDATE draft_changes SET version_id = NULL WHERE version_id IN {version_2}"))
            connection.execute(text(f"DELETE FROM version_provenance WHERE version_id IN {version_2}"))
            connection.execute(text(f"DELETE FROM version_words WHERE version_id IN {version_2}"))
            connection.execute(text("DELETE FROM versions WHERE number = 2"))
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 1
    assert "Version 2 is missing: the versions jump from 1 to 3." in result.output


# --- checked once per process ---------------------------------------------------------------------


def test_each_version_is_checked_once_per_process_then_served_from_memory(client, history, monkeypatch) -> None:
    checked = []
    original = verification.check_version
    monkeypatch.setattr(verification, "check_version", lambda text_, seal: checked.append(seal.number) or original(text_, seal))
    for _ in range(2):
        for n in (1, 2, 3):
            for path in PAGES:
                assert client.get(path.format(n=n)).status_code == 200
        assert client.get("/visions/test-vision/").status_code == 200
        assert client.get("/visions/test-vision/elements/objective-1").status_code == 200
    assert sorted(checked) == [1, 2, 3]
    # A version altered after it was checked keeps being served as it was checked (from memory).
    before = client.get("/visions/test-vision/v/2/").data
    tamper_keep_caches = altered_snapshot(2, "Objective 1.1, sharper.", "Objective 1.1, tampered.")
    db.session.remove()
    with triggers_dropped("versions"):
        with db.engine.begin() as connection:
            connection.execute(text("UPDATE versions SET snapshot = :s WHERE number = 2"), {"s": tamper_keep_caches})
    assert client.get("/visions/test-vision/v/2/").data == before


def test_a_server_without_a_key_still_refuses_an_altered_version(client, history, monkeypatch, caplog) -> None:
    """A server that cannot publish (no WORKBENCH_SIGNING_KEY outside development) still checks the
    hashes, and each signature with the key its version names; it publishes no key."""

    def missing(app=None):
        raise verification.SigningKeyMissing("WORKBENCH_SIGNING_KEY is not set")

    monkeypatch.setattr(verification, "site_keys", missing)
    assert client.get("/.well-known/vision-workbench-signing-key").status_code == 404
    assert client.get("/about/verifying").status_code == 200
    assert client.get("/visions/test-vision/v/1/").status_code == 200
    tamper(2, snapshot=altered_snapshot(2, "Objective 1.1, sharper.", "Objective 1.1, tampered."))
    assert_refused(client, caplog, 2)
