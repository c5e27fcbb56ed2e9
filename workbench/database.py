"""Engine set-up: SQLite pragmas, `BEGIN IMMEDIATE` for write requests, and a queue for writers.

SQLite cannot upgrade a read transaction to a write one after another writer committed, so a request
that may write starts its transaction with `BEGIN IMMEDIATE` and waits (busy timeout) for the write
lock instead of failing with "database is locked" half way (REFERENCE.md, concurrency).

SQLite's busy handler waits by sleeping 1, 2, 5, 10... ms between tries, so when two gunicorn workers
want to write at once the second one mostly sleeps past the moment the lock is free. Writers of a
database file therefore first take an exclusive `flock` on a file beside it (`WriteQueue`): the
kernel wakes the next writer as soon as the lock is released, after COMMIT. SQLite's own lock stays
the authority (with its busy timeout as before); the queue only decides who asks first. Votes from
16 clients: about 380 -> 540 writes a second on two cores (bench/votes.py).
"""

from __future__ import annotations

import os
import signal
import sqlite3
import threading
import time
from typing import Any

from flask import Flask, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

try:
    import fcntl
except ImportError:  # not on Windows: writers then rely on SQLite's busy timeout alone
    fcntl = None  # type: ignore[assignment]

from .extensions import db

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# How long a request waits for a lock held by another, and how long one statement may run, before
# the person is told the service is busy (errors.py: 503, nothing saved). Both well under
# gunicorn's 30 s worker timeout, so a stuck lock never takes a worker down with it.
DEFAULT_LOCK_TIMEOUT_MS = 5_000
DEFAULT_STATEMENT_TIMEOUT_MS = 15_000
# SQLSTATEs that mean "busy, try again", nothing written: lock_timeout, statement_timeout,
# a deadlock, a serialization failure.
BUSY_SQLSTATES = frozenset({"55P03", "57014", "40P01", "40001"})


def setting_ms(app: Flask, name: str, default: int) -> int:
    return int(app.config.get(name) or default)


def is_busy(error: OperationalError) -> bool:
    """Whether a database error means another request holds what this one needed (or ran too
    long): the transaction was rolled back whole and the same request may work in a moment."""
    original = error.orig
    if getattr(original, "sqlstate", None) in BUSY_SQLSTATES:
        return True
    return "database is locked" in str(original) or "database table is locked" in str(original)


def _is_write_request() -> bool:
    return has_request_context() and request.method not in READ_METHODS and not g.get("database_read_only")


def read_only_from_now() -> None:
    """The rest of this request only reads (e.g. the page saying the database was busy): its next
    transaction begins as a reader, which SQLite lets through while another writer holds the lock."""
    g.database_read_only = True


class WriteQueue:
    """An exclusive `flock` on `<database>.write-lock`, taken before `BEGIN IMMEDIATE` and released
    after COMMIT or ROLLBACK, or at the latest when the connection goes back to the pool. The kernel
    releases it if the process dies (and gunicorn kills a worker stuck longer than its timeout).

    The file is opened once per process (a descriptor inherited across fork would share its lock).
    Threads of one process share the lock: they still queue on SQLite's busy timeout, as before.
    A writer waits at most the lock timeout for its turn, like SQLite's own lock: then the request
    is told the database is busy (503, nothing written) instead of waiting for gunicorn to kill it.
    """

    _held = threading.local()  # (pid, descriptor) pairs this thread has locked

    def __init__(self, database_path: str):
        self.path = database_path + ".write-lock"
        self._descriptor: int | None = None
        self._pid: int | None = None
        self._opening = threading.Lock()

    def _file(self) -> int:
        with self._opening:  # two threads' first writes must not open the file twice
            if self._pid != os.getpid() or self._descriptor is None:
                self._descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
                self._pid = os.getpid()
            return self._descriptor

    def acquire(self, timeout: float) -> None:
        """Take the lock, waiting at most `timeout` seconds; raises a "database is locked"
        OperationalError (`is_busy`) when the wait runs out."""
        descriptor = self._file()
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            _wait_for_turn(descriptor, timeout)
        held = getattr(self._held, "locks", None)
        if held is None:
            held = self._held.locks = set()
        held.add((os.getpid(), descriptor))

    @classmethod
    def release_held(cls) -> None:
        """Release every write lock this thread holds."""
        for pid, descriptor in getattr(cls._held, "locks", ()):
            if pid == os.getpid():
                fcntl.flock(descriptor, fcntl.LOCK_UN)
        cls._held.locks = set()


class _TurnTimedOut(Exception):
    pass


def _busy() -> OperationalError:
    return OperationalError("waiting for the writers' queue", None, sqlite3.OperationalError("database is locked"))


def _wait_for_turn(descriptor: int, timeout: float) -> None:
    """Block on the lock until it is free or `timeout` seconds have passed.

    In the main thread (gunicorn's sync workers) the kernel wakes the writer the moment the lock is
    free, and a timer signal ends the wait; other threads (the development server) poll.
    """
    if threading.current_thread() is not threading.main_thread():
        deadline, pause = time.monotonic() + timeout, 0.0005
        while True:
            try:
                fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _busy() from None
                time.sleep(pause)
                pause = min(pause * 2, 0.01)

    def give_up(signum: int, frame: Any) -> None:
        raise _TurnTimedOut

    previous = signal.signal(signal.SIGALRM, give_up)
    try:
        try:
            signal.setitimer(signal.ITIMER_REAL, max(timeout, 0.001))
            fcntl.flock(descriptor, fcntl.LOCK_EX)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
    except _TurnTimedOut:
        # The timer may have fired just after the lock was granted: let it go either way.
        fcntl.flock(descriptor, fcntl.LOCK_UN)
        raise _busy() from None
    finally:
        signal.signal(signal.SIGALRM, previous)


@event.listens_for(Session, "after_commit")
@event.listens_for(Session, "after_rollback")
def _release_write_queue(session: Any) -> None:
    WriteQueue.release_held()


def configure_sqlite(engine: Engine, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, connection_record: Any) -> None:
        # Let SQLAlchemy's "begin" event emit BEGIN itself (pysqlite's own handling is off).
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.execute("PRAGMA foreign_keys=ON")
        # REPLACE deletes the row it replaces: with recursive triggers, that delete fires the
        # DELETE guard of published versions, element texts and revisions (migrations 0002, 0014).
        cursor.execute("PRAGMA recursive_triggers=ON")
        cursor.close()

    on_disk = fcntl is not None and engine.url.database not in (None, "", ":memory:")
    queue = WriteQueue(engine.url.database) if on_disk else None

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if _is_write_request():
            if queue is not None:
                queue.acquire(busy_timeout_ms / 1000)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")

    @event.listens_for(engine, "checkin")
    def _on_checkin(dbapi_connection: Any, connection_record: Any) -> None:
        # However the transaction ended (an error, a closed session), the queue moves on.
        WriteQueue.release_held()


def init_database(app: Flask) -> None:
    lock_timeout = setting_ms(app, "DATABASE_LOCK_TIMEOUT_MS", DEFAULT_LOCK_TIMEOUT_MS)
    if str(app.config["SQLALCHEMY_DATABASE_URI"]).startswith("postgresql"):
        statement_timeout = setting_ms(app, "DATABASE_STATEMENT_TIMEOUT_MS", DEFAULT_STATEMENT_TIMEOUT_MS)
        options = app.config.setdefault("SQLALCHEMY_ENGINE_OPTIONS", {})
        options.setdefault("connect_args", {})["options"] = (
            f"-c lock_timeout={lock_timeout} -c statement_timeout={statement_timeout}"
        )
    db.init_app(app)
    with app.app_context():
        engine = db.engine
        if engine.dialect.name == "sqlite":
            configure_sqlite(engine, lock_timeout)
