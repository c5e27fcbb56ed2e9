"""The worker's pass: tell people of the events due (notifications and their mail), then deliver
the mail due. `flask --app wsgi mail worker` runs passes until stopped; `mail send-due` runs them
until nothing is due (for cron).

With MAIL_SEND_AT_ONCE (the tests' setting), a pass runs as each request that wrote an event or a
mail ends, after the view committed, so a test sees notifications and mail at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, Response, current_app, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from . import outbox
from .models import EventToTell, OutgoingMail, db
from .notifications import telling

DEVELOPMENT_ADDRESS = "http://127.0.0.1:5000"


@contextmanager
def links_context() -> Iterator[None]:
    """Where links in mail can be made outside a request: at the site's public address."""
    if has_request_context():
        yield
        return
    base = current_app.config.get("PUBLIC_URL") or DEVELOPMENT_ADDRESS
    with current_app.test_request_context("/", base_url=base):
        yield


def one_pass(limit: int | None = outbox.BATCH, stop: outbox.Stop | None = None) -> outbox.Pass:
    """Tell the events due (at most `limit`; None: all), then deliver the mail due."""
    with links_context():
        told = telling.tell_due(limit=limit)
    done = outbox.send_due(limit=limit, stop=stop)
    done.told = told
    return done


def _pass_as_the_request_ends(response: Response) -> Response:
    # Whatever the view did not commit is dropped first, as it would be at the end of the request:
    # only committed events and mail are handled, as by the worker.
    db.session.rollback()
    g.worker_pass = True
    try:
        one_pass(limit=None)
    finally:
        g.worker_pass = False
    return response


def in_pass_after_request() -> bool:
    """Whether the statements running now are the MAIL_SEND_AT_ONCE pass's (tests leave them out
    of a request's count: in production the worker runs them in its own process)."""
    return has_request_context() and bool(g.get("worker_pass"))


def _note_work_written(session: Session, flush_context: object, instances: object) -> None:
    if has_request_context() and any(isinstance(row, (EventToTell, OutgoingMail)) for row in session.new):
        g.work_written = True


def init_app(app: Flask) -> None:
    if app.config.get("MAIL_SEND_AT_ONCE"):
        # Only after a request that wrote an event or a mail: the others run no statement more.
        if not event.contains(Session, "before_flush", _note_work_written):
            event.listen(Session, "before_flush", _note_work_written)

        @app.after_request
        def work_at_once(response: Response) -> Response:
            return _pass_as_the_request_ends(response) if g.pop("work_written", False) else response
