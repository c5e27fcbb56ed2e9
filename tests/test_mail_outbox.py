"""Mail is never lost: the transactional outbox and its worker (workbench/outbox.py), against a real
SMTP server (aiosmtpd) listening on a free port of this machine.

Here the worker delivers the mail, as in production (MAIL_SEND_AT_ONCE off): a request only writes
it into the outbox table.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sqlite3
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import OperationalError

from workbench import outbox
from workbench.mail import Mail, read_outbox
from workbench.models import OutgoingMail, Role, db, utcnow

from .conftest import TEST_PASSWORD
from . import smtp

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")

# A real SMTP server (tests/smtp.py), and the app pointed at it with MAIL_SEND_AT_ONCE off.
smtp_port, app_config, mail_server = smtp.smtp_port, smtp.app_config, smtp.mail_server

ROOT = Path(__file__).resolve().parent.parent
NEW_PASSWORD = "a brand new passphrase"


@pytest.fixture(autouse=True)
def outbox_logs_enabled(monkeypatch):
    # migrations/env.py's logging.config.fileConfig() disables the loggers that existed before it ran.
    for name in ("workbench.outbox", "workbench.mail"):
        monkeypatch.setattr(logging.getLogger(name), "disabled", False)


def queue_mail(to: str = "ada@example.org", subject: str = "Hello", user=None) -> OutgoingMail:  # noqa: ANN001
    mail = outbox.queue(Mail(to, subject, f"A mail for {to}.\n"), user=user)
    db.session.commit()
    return mail


def rows() -> list[OutgoingMail]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutgoingMail).order_by(OutgoingMail.id)))


def time_passes() -> None:
    """Every waiting mail's next attempt is now due (as if its wait had run out)."""
    db.session.execute(update(OutgoingMail).values(send_after=utcnow() - timedelta(seconds=1)))
    db.session.commit()


# --- delivered by the worker, exactly once ---------------------------------------------------------


def test_a_request_only_queues_its_mail_and_a_worker_pass_delivers_it_once(app, client, mail_server):
    response = client.post("/auth/register", data={"email": "new.person@example.org"})
    assert response.status_code == 303 and response.headers["Location"] == "/auth/check-email"
    [row] = rows()
    assert (row.state, row.recipient, row.attempts, row.sent_at) == ("waiting", "new.person@example.org", 0, None)
    assert mail_server.received == []  # the request wrote the mail; nothing was sent yet

    assert outbox.send_due().sent == 1
    [(recipients, message)] = mail_server.mailbox.messages
    assert recipients == ["new.person@example.org"]
    assert message["Subject"] == "Finish creating your Vision Workbench account"
    assert message["Message-ID"] == row.message_id
    assert "/auth/register/" in message.get_content()
    [row] = rows()
    assert row.state == "sent" and row.sent_at is not None and row.attempts == 1

    assert outbox.send_due().handled == 0
    assert len(mail_server.received) == 1
    assert read_outbox(app.config["MAIL_OUTBOX"]) == []  # SMTP, not the folder


def test_without_smtp_host_the_worker_writes_the_mail_to_the_outbox_folder(app, client):
    app.config["SMTP_HOST"] = None
    client.post("/auth/reset", data={"email": "nobody@example.org"})
    assert read_outbox(app.config["MAIL_OUTBOX"]) == []
    assert outbox.send_due().sent == 1
    [message] = read_outbox(app.config["MAIL_OUTBOX"])
    assert message["To"] == "nobody@example.org" and message["Message-ID"] == rows()[0].message_id


# --- the mail server down: delayed, never lost, never doubled ---------------------------------------


def test_with_the_server_down_the_failure_is_recorded_and_the_mail_goes_once_when_it_is_back(app, mail_server):
    mail_server.stop()  # nothing listens on the port
    queued = queue_mail()
    message_id = queued.message_id

    before = utcnow()
    done = outbox.send_due()
    assert (done.sent, done.retrying, done.failed) == (0, 1, 0)
    [row] = rows()
    assert row.state == "waiting" and row.sent_at is None and row.attempts == 1
    assert "ConnectionRefusedError" in row.last_error
    assert before + timedelta(minutes=1) <= row.send_after <= utcnow() + timedelta(minutes=1)

    assert outbox.send_due().handled == 0  # not due again before its wait ends, even with the server back
    mail_server.start()
    assert outbox.send_due().handled == 0 and mail_server.received == []

    time_passes()
    assert outbox.send_due().sent == 1
    [message] = mail_server.received
    assert message["Message-ID"] == message_id  # the same mail, made when it was written
    [row] = rows()
    assert row.state == "sent" and row.attempts == 2
    time_passes()
    assert outbox.send_due().handled == 0 and len(mail_server.received) == 1


def test_each_failed_attempt_waits_twice_as_long_up_to_an_hour_then_the_mail_is_failed_and_listed(
    app, mail_server, runner, caplog
):
    app.config["MAIL_MAX_ATTEMPTS"] = 8
    mail_server.mailbox.data_answer = "451 4.3.0 Try again later"
    queue_mail(subject="Your password was changed")
    waits = []
    with caplog.at_level(logging.WARNING, logger="workbench.outbox"):
        for _ in range(7):
            started = utcnow()
            assert outbox.send_due().retrying == 1
            waits.append(round((rows()[0].send_after - started).total_seconds() / 60))
            time_passes()
        assert outbox.send_due().failed == 1
    assert waits == [1, 2, 4, 8, 16, 32, 60]
    [row] = rows()
    assert row.state == "failed" and row.attempts == 8 and row.sent_at is None
    assert row.last_error == "The mail server answered 451 4.3.0 Try again later"
    assert f"Mail #{row.id} to ada@example.org (Your password was changed) is not sent and will not be tried again" in caplog.text

    time_passes()
    assert outbox.send_due().handled == 0  # given up: not tried again by itself...
    status = runner.invoke(args=["mail", "status"])
    assert status.exit_code == 1  # ...and said, for monitoring
    assert "0 waiting, 0 sent, 1 failed, 0 withheld." in status.output
    assert f"#{row.id} to ada@example.org, 'Your password was changed'" in status.output
    assert "8 attempt(s): The mail server answered 451 4.3.0 Try again later" in status.output

    mail_server.mailbox.data_answer = None
    retried = runner.invoke(args=["mail", "retry", str(row.id)])
    assert retried.exit_code == 0 and "1 failed mail(s) put back in the queue." in retried.output
    sent = runner.invoke(args=["mail", "send-due"])
    assert sent.exit_code == 0 and "Mail: 0 event(s) told, 1 sent" in sent.output
    assert len(mail_server.received) == 1
    assert runner.invoke(args=["mail", "status"]).exit_code == 0


def test_an_address_the_server_refuses_for_good_is_failed_at_once(app, mail_server):
    mail_server.mailbox.refuse_recipients = True
    queue_mail(to="gone@example.org")
    assert outbox.send_due().failed == 1
    [row] = rows()
    assert row.state == "failed" and row.attempts == 1
    assert row.last_error == "The mail server refused the address: 550 5.1.1 No such mailbox here"


def test_the_worker_finds_due_mail_through_the_index_of_unsent_mail(app):
    due = select(OutgoingMail.id).where(outbox._due(utcnow())).order_by(OutgoingMail.send_after, OutgoingMail.id).limit(1)
    sql = str(due.compile(db.engine, compile_kwargs={"literal_binds": True}))
    with db.engine.connect() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SET enable_seqscan = off"))  # an empty table would be scanned
            plan = "\n".join(connection.execute(text(f"EXPLAIN {sql}")).scalars())
        else:
            plan = "\n".join(str(row[-1]) for row in connection.execute(text(f"EXPLAIN QUERY PLAN {sql}")))
    assert "ix_outgoing_mail_unsent" in plan and "TEMP B-TREE" not in plan and "Sort" not in plan


# --- the mail exists if and only if the change was committed ----------------------------------------


def test_a_request_whose_commit_fails_leaves_no_mail(app, client, mail_server, monkeypatch):
    def busy() -> None:
        raise OperationalError("COMMIT", None, sqlite3.OperationalError("database is locked"))

    monkeypatch.setattr(db.session, "commit", busy)
    response = client.post("/auth/register", data={"email": "new.person@example.org"})
    assert response.status_code == 503
    monkeypatch.undo()
    assert rows() == []
    assert outbox.send_due().handled == 0 and mail_server.received == []


def test_mail_queued_in_a_transaction_that_rolls_back_is_never_sent(app, mail_server):
    outbox.queue(Mail("ada@example.org", "Hello", "Body\n"))
    db.session.rollback()
    assert rows() == [] and outbox.send_due().handled == 0 and mail_server.received == []


# --- two workers at once ----------------------------------------------------------------------------


def test_two_workers_racing_deliver_each_mail_once(app, mail_server):
    # Many small mails, so that the two workers' claims often meet (with the claim's row lock taken
    # away on PostgreSQL, some mails were sent twice here).
    for n in range(100):
        outbox.queue(Mail(f"person{n}@example.org", f"Mail {n}", "Body\n"))
    db.session.commit()
    start = threading.Barrier(2)
    passes: list[outbox.Pass] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with app.app_context():
                start.wait()
                passes.append(outbox.send_due(limit=None))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    assert sorted(p.sent for p in passes)[0] > 0, "both workers delivered some"
    assert sum(p.sent for p in passes) == 100
    ids = [message["Message-ID"] for message in mail_server.received]
    assert len(ids) == 100 and len(set(ids)) == 100
    assert {row.state for row in rows()} == {"sent"} and {row.attempts for row in rows()} == {1}


# --- no mail to deleted or deactivated accounts -----------------------------------------------------


def change_password(client) -> None:  # noqa: ANN001
    response = client.post(
        "/account/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD, "confirm_password": NEW_PASSWORD}
    )
    assert response.status_code == 303, response.get_data(as_text=True)


def test_a_deactivated_accounts_mail_is_withheld_and_stays_recorded(app, client, login_as, make_user, mail_server, caplog):
    person = make_user(email="person@example.org")
    admin = make_user(Role.ADMIN)
    login_as(person)
    change_password(client)
    [row] = rows()
    assert row.user_id == person.id and row.subject == "Your password was changed"

    login_as(admin)
    assert client.post(f"/admin/accounts/{person.id}/deactivate").status_code == 303
    with caplog.at_level(logging.WARNING, logger="workbench.outbox"):
        assert outbox.send_due().withheld == 1
    assert mail_server.received == []
    [row] = rows()
    assert (row.state, row.sent_at, row.last_error) == ("withheld", None, "Not sent: the account was deactivated")
    assert f"Mail #{row.id} withheld" in caplog.text
    time_passes()
    assert outbox.send_due().handled == 0 and mail_server.received == []
    assert "1 withheld." in app.test_cli_runner().invoke(args=["mail", "status"]).output


def test_a_deleted_accounts_mail_is_withheld(app, client, login_as, make_user, mail_server):
    person = make_user(email="person@example.org")
    login_as(person)
    change_password(client)
    response = client.post("/account/delete", data={"current_password": NEW_PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    [row] = rows()  # withheld at once, its address and words blanked
    assert (row.state, row.last_error, row.recipient, row.body) == ("withheld", "Not sent: the account was deleted", "", "")
    assert outbox.send_due().handled == 0 and mail_server.received == []


def test_mail_for_an_active_account_is_delivered(app, client, login_as, make_user, mail_server):
    login_as(make_user(email="person@example.org"))
    change_password(client)
    assert outbox.send_due().sent == 1
    [(recipients, message)] = mail_server.mailbox.messages
    assert recipients == ["person@example.org"] and message["Subject"] == "Your password was changed"


# --- the worker process -------------------------------------------------------------------------------


def test_the_worker_outlives_a_database_that_fails_and_delivers_when_it_is_back(app, mail_server, monkeypatch, caplog):
    queue_mail()
    claim, failures = outbox._claim_next, []

    def fails_once():
        if not failures:
            failures.append(1)
            raise OperationalError("UPDATE outgoing_mail", None, ConnectionRefusedError("the database is down"))
        return claim()

    monkeypatch.setattr(outbox, "_claim_next", fails_once)
    stop = threading.Event()

    def worker() -> None:
        with app.app_context():
            outbox.run_worker(stop, poll_seconds=0.05)

    thread = threading.Thread(target=worker)
    with caplog.at_level(logging.INFO, logger="workbench.outbox"):
        thread.start()
        deadline = time.monotonic() + 20
        while not mail_server.received and time.monotonic() < deadline:
            time.sleep(0.05)
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive() and len(mail_server.received) == 1
    assert "The mail worker cannot use the database; trying again in 0.05 seconds" in caplog.text
    assert caplog.records[-1].getMessage() == "The mail worker has stopped."


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_the_worker_delivers_as_mail_falls_due_and_stops_cleanly_on_a_signal(app, database_url, smtp_port, mail_server, stop_signal):
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_DEV": "1",
        "WORKBENCH_SECRET_KEY": "test-secret-key",
        "WORKBENCH_SMTP_HOST": "127.0.0.1",
        "WORKBENCH_SMTP_PORT": str(smtp_port),
        "WORKBENCH_SMTP_STARTTLS": "false",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "mail", "worker", "--poll", "0.2"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    try:
        queue_mail()
        deadline = time.monotonic() + 30
        while not mail_server.received and time.monotonic() < deadline and worker.poll() is None:
            time.sleep(0.1)
        assert len(mail_server.received) == 1
        worker.send_signal(stop_signal)
        _, errors = worker.communicate(timeout=30)
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.communicate()
    assert worker.returncode == 0, errors
    assert "Mail sent to ada@example.org: Hello" in errors
    assert errors.rstrip().endswith("The mail worker has stopped.")
    assert "Traceback" not in errors
    assert [row.state for row in rows()] == ["sent"]
    assert db.session.scalar(select(func.count(OutgoingMail.id))) == 1
