"""Concurrent decisions against a live server (REFERENCE.md bad input 17), on SQLite and PostgreSQL.

The app is served from a thread (`werkzeug.serving.make_server(..., threaded=True)`), so each request
runs in its own thread with its own database session and connection, as under gunicorn. Facilitators
prepare their accept pages first, then post at the same moment (a barrier):

- facilitators accepting conflicting proposals on one element: exactly one wins, every other one
  gets the conflict screen (409) and nothing is lost: their proposals stay open and can still be
  accepted from that screen;
- a double-clicked accept (the same form twice at once): one new text, one draft change;
- the lock version alone (no row lock) still refuses the second writer.
"""

from __future__ import annotations

import http.client
import secrets
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import urlencode

import pytest
from flask import Flask
from sqlalchemy import func, select
from werkzeug.serving import WSGIRequestHandler, make_server

from workbench.extensions import db
from workbench.facilitation import edit
from workbench.models import AuditEvent, DraftChange, DraftEntry, ElementText, Proposal, Role, User

from .factories import element_of
from .test_facilitation import current_text, field_value, propose, set_text

USER_AGENT = "facilitation-concurrency-test"


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture
def server(app: Flask) -> Iterator[tuple[str, int]]:
    srv = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=srv.serve_forever, name="facilitation-live-server", daemon=True)
    thread.start()
    db.session.commit()  # the test's own session holds no transaction while requests run
    try:
        yield "127.0.0.1", srv.server_port
    finally:
        srv.shutdown()
        thread.join(timeout=10)
        srv.server_close()


@dataclass
class Browser:
    """One person's cookie against the live server (session built as Flask-Login would sign in)."""

    host: str
    port: int
    cookie: str

    def request(self, method: str, path: str, form: dict[str, str] | None = None) -> tuple[int, str, str]:
        connection = http.client.HTTPConnection(self.host, self.port, timeout=30)
        try:
            headers = {"Cookie": self.cookie, "User-Agent": USER_AGENT}
            body = None
            if form is not None:
                body = urlencode(form)
                headers["Content-Type"] = "application/x-www-form-urlencoded"
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, response.getheader("Location") or "", response.read().decode()
        finally:
            connection.close()


def browser_for(app: Flask, user: User, host: str, port: int) -> Browser:
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base={"REMOTE_ADDR": "127.0.0.1"}, headers={"User-Agent": USER_AGENT}):
        data = {"_user_id": user.get_id(), "_fresh": True, "_id": _create_identifier(), "csrf_token": secrets.token_hex(20)}
        value = app.session_interface.get_signing_serializer(app).dumps(data)
    return Browser(host, port, f"{app.config['SESSION_COOKIE_NAME']}={value}")


def prepared_form(browser: Browser, proposal_id: int) -> dict[str, str]:
    status, _, page = browser.request("GET", f"/proposals/{proposal_id}/accept")
    assert status == 200, page
    form = {name: field_value(page, name) or "" for name in ("csrf_token", "title", "body", "note", "expected_text_id", "revision")}
    assert form["csrf_token"] and form["expected_text_id"]
    return form


def post_together(jobs: list[tuple[Browser, str, dict[str, str]]]) -> list[tuple[int, str, str]]:
    """Post every job at the same moment (a barrier); the answers in the jobs' order."""
    barrier = threading.Barrier(len(jobs))
    results: list[tuple[int, str, str] | BaseException | None] = [None] * len(jobs)

    def run(index: int, browser: Browser, path: str, form: dict[str, str]) -> None:
        try:
            barrier.wait(timeout=10)
            results[index] = browser.request("POST", path, form)
        except BaseException as error:  # noqa: BLE001 - reported below
            results[index] = error

    threads = [threading.Thread(target=run, args=(i, *job)) for i, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    for result in results:
        if isinstance(result, BaseException):
            raise result
        assert result is not None, "a request did not finish"
    return results  # type: ignore[return-value]


def snapshot(vision) -> dict[str, object]:
    db.session.rollback()  # see what the server committed
    element = element_of(vision)
    return {
        "texts": db.session.scalar(select(func.count()).select_from(ElementText).where(ElementText.element_id == element.id)),
        "accepts": db.session.scalar(select(func.count()).select_from(DraftChange).where(DraftChange.kind == "accept")),
        "events": db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "proposal.accepted")),
        "lock_version": db.session.scalar(select(DraftEntry.lock_version).where(DraftEntry.element_id == element.id)),
        "body": current_text(vision).body,
    }


def statuses(proposal_ids: list[int]) -> dict[int, str]:
    db.session.rollback()
    return dict(db.session.execute(select(Proposal.id, Proposal.status).where(Proposal.id.in_(proposal_ids))).all())


@pytest.mark.parametrize("facilitators", [2, 6])
def test_facilitators_accepting_conflicting_proposals_at_once(app, server, make_vision, make_user, facilitators):
    vision = make_vision()
    set_text(vision, "By 2030 we will have trained 10,000 people in data skills.")
    proposals = []
    for n in range(facilitators):
        author = make_user(Role.VOLUNTEER)
        proposals.append(propose(vision, author, f"By 2030 we will have trained {11 + n},000 people in data skills."))
    browsers = [browser_for(app, make_user(Role.FACILITATOR), *server) for _ in range(facilitators)]
    forms = [prepared_form(b, p.id) for b, p in zip(browsers, proposals)]
    before = snapshot(vision)

    results = post_together([(b, f"/proposals/{p.id}/accept", f) for b, p, f in zip(browsers, proposals, forms)])

    codes = [status for status, _, _ in results]
    assert sorted(codes) == [302] + [409] * (facilitators - 1), codes
    winner = codes.index(302)
    after = snapshot(vision)
    assert after["texts"] == before["texts"] + 1
    assert after["accepts"] == before["accepts"] + 1 and after["events"] == before["events"] + 1
    assert after["lock_version"] == before["lock_version"] + 1
    assert after["body"] == proposals[winner].body
    state = statuses([p.id for p in proposals])
    assert [state[p.id] for p in proposals] == ["accepted" if i == winner else "open" for i in range(facilitators)]

    # Every loser sees the conflict, not a merge, and nothing of theirs is lost: the conflict
    # screen's form accepts their proposal with a resolved text.
    loser = next(i for i in range(facilitators) if i != winner)
    for i, (_, _, page) in enumerate(results):
        if i != winner:
            assert "Nothing has been saved yet" in page and "Resolve the conflict" in page
            assert field_value(page, "body") == proposals[winner].body
    page = results[loser][2]
    resolution = {name: field_value(page, name) or "" for name in ("csrf_token", "title", "expected_text_id", "revision")}
    resolution.update(body="By 2030 we will have trained 12,500 people in data skills.", note="Both counted.")
    status, location, _ = browsers[loser].request("POST", f"/proposals/{proposals[loser].id}/accept", resolution)
    assert status == 302 and location.endswith(f"/proposals/{proposals[loser].id}")
    assert statuses([proposals[loser].id])[proposals[loser].id] == "accepted"
    assert snapshot(vision)["body"] == "By 2030 we will have trained 12,500 people in data skills."


def test_double_clicked_accept_writes_once(app, server, make_vision, make_user):
    vision = make_vision()
    proposal = propose(vision, make_user(Role.VOLUNTEER), "Objective 1.1 body, made clearer.")
    browser = browser_for(app, make_user(Role.FACILITATOR), *server)
    form = prepared_form(browser, proposal.id)
    before = snapshot(vision)

    results = post_together([(browser, f"/proposals/{proposal.id}/accept", dict(form)) for _ in range(2)])

    assert [status for status, _, _ in results] == [302, 302]
    assert all(location.endswith(f"/proposals/{proposal.id}") for _, location, _ in results)
    after = snapshot(vision)
    assert after["texts"] == before["texts"] + 1
    assert after["accepts"] == before["accepts"] + 1
    assert after["events"] == before["events"] + 1
    assert after["body"] == "Objective 1.1 body, made clearer."


def test_lock_version_alone_refuses_the_second_writer(app, server, make_vision, make_user, monkeypatch):
    """Without the row lock (PostgreSQL's FOR UPDATE), the draft entry's lock version still stops a
    second accept from overwriting the first: StaleDataError becomes the conflict screen."""
    original = edit.draft_entry
    monkeypatch.setattr(edit, "draft_entry", lambda element_id, *, lock=False: original(element_id, lock=False))
    vision = make_vision()
    set_text(vision, "By 2030 we will have trained 10,000 people in data skills.")
    first = propose(vision, make_user(Role.VOLUNTEER), "By 2030 we will have trained 20,000 people in data skills.")
    second = propose(vision, make_user(Role.VOLUNTEER), "By 2030 we will have trained 15,000 people in data skills.")
    browsers = [browser_for(app, make_user(Role.FACILITATOR), *server) for _ in range(2)]
    forms = [prepared_form(browsers[0], first.id), prepared_form(browsers[1], second.id)]
    before = snapshot(vision)

    results = post_together(
        [(browsers[0], f"/proposals/{first.id}/accept", forms[0]), (browsers[1], f"/proposals/{second.id}/accept", forms[1])]
    )

    assert sorted(status for status, _, _ in results) == [302, 409]
    after = snapshot(vision)
    assert after["texts"] == before["texts"] + 1 and after["accepts"] == before["accepts"] + 1
    assert after["lock_version"] == before["lock_version"] + 1
    assert "25,000" not in after["body"] and not any("25,000" in page for _, _, page in results)

