"""A busy database is an answer, not a 500 (issue 19, item 4): a request that waits past the lock
timeout is told, in a 503 with Retry-After, that nothing was saved, and gets back what it typed."""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import func, select

from tests.factories import open_proposal
from workbench.extensions import db
from workbench.models import Comment, Vote


@pytest.fixture
def app_config():
    return {"DATABASE_LOCK_TIMEOUT_MS": 200}


@contextlib.contextmanager
def another_writer_holds(app, proposal_id: int) -> Iterator[None]:
    """Another connection holds the lock a write needs: SQLite's write lock, or PostgreSQL's row
    lock on the proposal, until the block ends."""
    url = db.engine.url
    if url.get_backend_name() == "sqlite":
        connection = sqlite3.connect(url.database, isolation_level=None)
        connection.execute("BEGIN IMMEDIATE")
    else:
        connection = psycopg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
        connection.execute("SELECT id FROM proposals WHERE id = %s FOR UPDATE", (proposal_id,))
    try:
        yield
    finally:
        connection.rollback()
        connection.close()


def count(model) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model))


def test_a_vote_that_waits_past_the_lock_timeout_is_told_nothing_was_saved(app, client, vision, author, make_user, login_as):
    proposal = open_proposal(vision, author)
    login_as(make_user(name="Vera Voter"))
    with another_writer_holds(app, proposal.id):
        response = client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"})
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    page = response.get_data(as_text=True)
    assert "The service is busy" in page and "Nothing was saved" in page
    assert count(Vote) == 0
    # Once the lock is gone, the same vote goes through.
    assert client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}).status_code in (302, 303)
    assert count(Vote) == 1


def test_a_comment_that_could_not_be_saved_is_given_back(app, client, vision, author, make_user, login_as):
    proposal = open_proposal(vision, author)
    login_as(make_user(name="Carla Commenter"))
    words = "My long and careful comment,\nwith a second line."
    with another_writer_holds(app, proposal.id):
        response = client.post(f"/proposals/{proposal.id}/comments", data={"body": words})
    if db.engine.url.get_backend_name() != "sqlite" and response.status_code != 503:
        pytest.skip("posting a comment takes no lock on the proposal row on PostgreSQL")
    assert response.status_code == 503
    page = response.get_data(as_text=True)
    assert "What you wrote" in page and "My long and careful comment," in page
    assert "csrf_token" not in page.split("What you wrote")[1].split("</textarea>")[0]
    assert count(Comment) == 0


def test_a_busy_answer_to_htmx_varies_by_hx_request(app, client, vision, author, make_user, login_as):
    proposal = open_proposal(vision, author)
    login_as(make_user())
    with another_writer_holds(app, proposal.id):
        response = client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}, headers={"HX-Request": "true"})
    assert response.status_code == 503 and "HX-Request" in response.headers["Vary"]


@contextlib.contextmanager
def another_process_holds_the_writers_queue() -> Iterator[None]:
    """Another writer (a second open file stands in for another process) holds the SQLite
    writers' queue (`database.WriteQueue`) until the block ends."""
    import fcntl
    import os

    descriptor = os.open(db.engine.url.database + ".write-lock", os.O_CREAT | os.O_RDWR)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        yield
    finally:
        os.close(descriptor)


def test_a_writer_waiting_in_the_writers_queue_past_the_lock_timeout_is_told_it_is_busy(app, client, vision, author, make_user, login_as):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("the writers' queue is for SQLite files")
    import time

    proposal = open_proposal(vision, author)
    login_as(make_user())
    with another_process_holds_the_writers_queue():
        started = time.monotonic()
        response = client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"})
        waited = time.monotonic() - started
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
    assert 0.15 < waited < 3  # the 200 ms lock timeout, not gunicorn's 30 s
    assert count(Vote) == 0
    assert client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}).status_code in (302, 303)
    assert count(Vote) == 1


def test_a_writer_in_another_thread_also_gives_up_after_the_lock_timeout(app):
    if db.engine.url.get_backend_name() != "sqlite":
        pytest.skip("the writers' queue is for SQLite files")
    import threading

    from sqlalchemy.exc import OperationalError

    from workbench.database import WriteQueue, is_busy

    queue = WriteQueue(db.engine.url.database)
    outcome: list[object] = []

    def write() -> None:
        try:
            queue.acquire(0.2)
            outcome.append("acquired")
            WriteQueue.release_held()
        except OperationalError as error:
            outcome.append(is_busy(error))

    with another_process_holds_the_writers_queue():
        thread = threading.Thread(target=write)
        thread.start()
        thread.join(timeout=5)
    assert outcome == [True]
    thread = threading.Thread(target=write)
    thread.start()
    thread.join(timeout=5)
    assert outcome == [True, "acquired"]
