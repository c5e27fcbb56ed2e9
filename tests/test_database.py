"""Database set-up: SQLite pragmas, and write requests that take the write lock up front."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

import pytest
from sqlalchemy import event, select, text

from workbench.config import build_config
from workbench.models import Vision, db



def on_sqlite() -> bool:
    return db.engine.dialect.name == "sqlite"


def test_sqlite_connections_use_wal_busy_timeout_and_foreign_keys(app) -> None:
    if not on_sqlite():
        pytest.skip("SQLite pragmas: this run is on PostgreSQL")
    with db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 5000
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 1  # NORMAL


def test_write_requests_begin_immediate_and_reads_do_not(app, client) -> None:
    if not on_sqlite():
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL uses row locks")

    def write():
        db.session.add(Vision(slug="written", title="Written"))
        db.session.commit()
        return "ok"

    def read():
        return str(len(db.session.scalars(select(Vision)).all()))

    app.add_url_rule("/_test/write", "test_write", write, methods=["POST"])
    app.add_url_rule("/_test/read", "test_read", read)
    begins: list[str] = []

    def capture(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if statement.startswith("BEGIN"):
            begins.append(statement)

    event.listen(db.engine, "before_cursor_execute", capture)
    try:
        assert client.post("/_test/write").status_code == 200
        write_begins = list(begins)
        begins.clear()
        assert client.get("/_test/read").data == b"1"
    finally:
        event.remove(db.engine, "before_cursor_execute", capture)
    assert write_begins == ["BEGIN IMMEDIATE"]
    assert begins == ["BEGIN"]


def _queue_is_free(app) -> bool:
    """Whether another process could take the writers' queue now (a second open file stands in)."""
    path = db.engine.url.database + ".write-lock"
    descriptor = os.open(path, os.O_CREAT | os.O_RDWR)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    finally:
        os.close(descriptor)  # closing drops a lock taken here
    return True


def test_writers_queue_until_commit_and_any_ending_frees_the_queue(app, client) -> None:
    if not on_sqlite():
        pytest.skip("the writers' queue is for SQLite files")
    seen: dict[str, bool] = {}

    def write():
        db.session.add(Vision(slug="queued", title="Queued"))
        db.session.flush()
        seen["during"] = _queue_is_free(app)
        db.session.commit()
        seen["after commit"] = _queue_is_free(app)
        db.session.scalars(select(Vision)).all()  # a new transaction of the same write request
        seen["next transaction"] = _queue_is_free(app)
        return "ok"

    def fail():
        db.session.add(Vision(slug="never", title="Never"))
        db.session.flush()
        seen["before the error"] = _queue_is_free(app)
        raise RuntimeError("boom")

    app.add_url_rule("/_test/queued", "test_queued", write, methods=["POST"])
    app.add_url_rule("/_test/fails", "test_fails", fail, methods=["POST"])
    assert client.post("/_test/queued").status_code == 200
    assert seen == {"during": False, "after commit": True, "next transaction": False}
    assert _queue_is_free(app)  # the request's end returned the connection

    with pytest.raises(RuntimeError):  # the test client re-raises what would be a 500
        client.post("/_test/fails")
    assert seen["before the error"] is False
    assert _queue_is_free(app)  # no commit, but the error's rollback freed it
    assert db.session.scalar(select(Vision).where(Vision.slug == "never")) is None


def test_the_default_database_is_a_sqlite_file_under_instance(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WORKBENCH_DATABASE_URL", raising=False)
    config = build_config(tmp_path, {"TESTING": True})
    assert config["SQLALCHEMY_DATABASE_URI"] == f"sqlite:///{tmp_path / 'workbench.sqlite3'}"


def test_settings_come_from_workbench_environment_variables(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_DATABASE_URL", "postgresql+psycopg://u@h/db")
    monkeypatch.setenv("WORKBENCH_SECRET_KEY", "from-env")
    monkeypatch.setenv("WORKBENCH_SESSION_COOKIE_SECURE", "true")
    monkeypatch.setenv("WORKBENCH_PERMALINK_CACHE_SIZE", "12")
    monkeypatch.setenv("WORKBENCH_PUBLIC_URL", "https://vision.example.org")
    config = build_config(tmp_path)
    assert config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@h/db"
    assert config["SECRET_KEY"] == "from-env"
    assert config["SESSION_COOKIE_SECURE"] is True
    assert config["PERMALINK_CACHE_SIZE"] == 12
    assert config["TRUSTED_HOSTS"] == ["vision.example.org"]


def test_a_production_app_without_a_secret_key_refuses_to_start(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WORKBENCH_SECRET_KEY", raising=False)
    monkeypatch.delenv("WORKBENCH_DEV", raising=False)
    with pytest.raises(RuntimeError, match="WORKBENCH_SECRET_KEY is not set"):
        build_config(tmp_path)


def test_a_secret_key_file_in_the_instance_folder_is_used(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("WORKBENCH_SECRET_KEY", raising=False)
    monkeypatch.setenv("WORKBENCH_PUBLIC_URL", "https://vision.example.org")
    (tmp_path / "secret_key").write_text("from-file\n")
    assert build_config(tmp_path)["SECRET_KEY"] == "from-file"


def test_a_malformed_setting_is_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("WORKBENCH_SESSION_COOKIE_SECURE", "perhaps")
    with pytest.raises(RuntimeError, match="WORKBENCH_SESSION_COOKIE_SECURE"):
        build_config(tmp_path, {"TESTING": True})


def test_a_serving_process_keeps_its_startup_objects_out_of_full_collections() -> None:
    import gc

    from workbench import ready_to_serve

    before = gc.get_freeze_count()
    try:
        ready_to_serve()
        assert gc.get_freeze_count() > before
    finally:
        gc.unfreeze()  # this test process is not serving
    wsgi_source = (Path(__file__).resolve().parents[1] / "wsgi.py").read_text()
    assert "ready_to_serve()" in wsgi_source
