"""Command line: `flask --app wsgi vision import`, `vision verify`, `demo load`, `users create`, `assets build`,
`mail worker`, `mail send-due`, `mail status`, `mail retry`, `notifications digest`."""

from __future__ import annotations

import logging
import signal
import sys
from importlib import resources

import click
from flask import Flask, current_app
from sqlalchemy import select

from . import assets, outbox, worker
from .auth.passwords import hash_password, password_problem
from .auth.services import clean_display_name, normalise_email
from .drafting import window
from .exceptions import ValidationError
from .models import Role, User, Vision, db, record_event
from .notifications import digest, telling
from .visions.importer import VisionFileError, import_vision, parse_vision
from .visions.verification import verify_chain

DEMO_PASSWORD = "demo-password-2026"
DEMO_ACCOUNTS = [
    ("admin@example.org", "Alex Admin", Role.ADMIN),
    ("facilitator@example.org", "Fran Facilitator", Role.FACILITATOR),
    ("volunteer@example.org", "Val Volunteer", Role.VOLUNTEER),
    ("volunteer2@example.org", "Sam Volunteer", Role.VOLUNTEER),
]


def create_user(email: str, name: str, role: Role, password: str) -> User:
    """Create an account (CLI and demo); raises ValidationError."""
    problems: dict[str, str] = {}
    normalised = normalise_email(email)
    if normalised is None:
        problems["email"] = "Enter an email address in the correct format, like name@example.org"
    elif db.session.scalar(select(User.id).where(User.email == normalised)) is not None:
        problems["email"] = "An account with this email address already exists"
    try:
        name = clean_display_name(name)
    except ValidationError as exc:
        problems.update({k: v[0] for k, v in exc.errors.items()})
    problem = password_problem(password)
    if problem:
        problems["password"] = problem
    if problems:
        raise ValidationError(problems)
    user = User(email=normalised, display_name=name, role=role.value, password_hash=hash_password(password))
    db.session.add(user)
    db.session.flush()
    record_event("user.created", "user", user.id, role=role.value, via="command line")
    return user


def _fail(message: str) -> None:
    click.echo(message, err=True)
    sys.exit(1)


@click.group("vision", help="Import and verify visions.")
def vision_group() -> None:
    pass


@vision_group.command("import")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--publish/--no-publish", default=False, help="Publish the imported draft as version 1.")
@click.option("--open-days", type=click.IntRange(0, 3650), default=0, help="Open the consultation window now for this many days (0: leave it closed).")
def import_command(path: str, publish: bool, open_days: int) -> None:
    """Import a vision file (YAML) as a new vision's working draft."""
    try:
        with open(path, encoding="utf-8") as handle:
            spec = parse_vision(handle.read())
    except UnicodeDecodeError:
        _fail(f"{path}: the file is not UTF-8 text")
    except VisionFileError as exc:
        _fail(f"{path} cannot be imported:\n" + "\n".join(f"  - {p}" for p in exc.problems))
    try:
        vision = import_vision(spec, actor=None, publish=publish)
    except ValidationError as exc:
        db.session.rollback()
        _fail(f"{path} cannot be imported: {exc}")
    if open_days:
        window.open_for(vision, days=open_days)
    db.session.commit()
    published = f", published as version {vision.latest_version_number}" if publish else ""
    click.echo(f"Imported {vision.title!r} as /visions/{vision.slug}/{published}.")


@vision_group.command("verify")
@click.argument("slug")
def verify_command(slug: str) -> None:
    """Check every published version of a vision: each content hash recomputed from what it says,
    each previous hash, each signature. Exits 1 when anything is wrong."""
    report = verify_chain(slug)
    if report is None:
        _fail(f"There is no vision {slug!r}.")
    assert report is not None
    if not report.keys_known:
        click.echo("No signing key is configured here (WORKBENCH_SIGNING_KEY): each signature is checked "
                   "with the key its version names, not against this site's key.", err=True)
    if not report.problems:
        signed_by = "this site's key" if report.keys_known else "the key it names"
        if not report.checked:
            click.echo(f"{slug!r} has no published version yet: there is nothing to check.")
            return
        every = "The only version" if report.checked == 1 else f"All {report.checked} versions"
        click.echo(
            f"{every} of {slug!r} check out: each content hash recomputed from what the version says, "
            f"each previous hash, each signature by {signed_by}."
        )
        return
    for problem in report.problems:
        click.echo(problem, err=True)
    problems = len(report.problems)
    _fail(
        f"{slug!r}: {problems} problem{'s' if problems != 1 else ''} in {report.checked} "
        f"version{'s' if report.checked != 1 else ''}. Restore the versions named from a backup."
    )


@click.group("demo", help="Demo data.")
def demo_group() -> None:
    pass


@demo_group.command("load")
def demo_load() -> None:
    """Load the demo vision (published as version 1, window open) and demo accounts. Idempotent."""
    for email, name, role in DEMO_ACCOUNTS:
        if db.session.scalar(select(User.id).where(User.email == email)) is None:
            create_user(email, name, role, DEMO_PASSWORD)
            click.echo(f"Created {role.value} {email}")
    text = resources.files("workbench.demo").joinpath("vision.yaml").read_text(encoding="utf-8")
    spec = parse_vision(text)
    vision = db.session.scalar(select(Vision).where(Vision.slug == spec.slug))
    if vision is None:
        vision = import_vision(spec, actor=None, publish=True, notes="The draft vision for consultation.")
        click.echo(f"Loaded the demo vision at /visions/{vision.slug}/ (version 1)")
    else:
        click.echo(f"The demo vision is already loaded at /visions/{vision.slug}/")
    if not vision.is_open():
        window.open_for(vision, days=90)
        click.echo(f"Opened its consultation window until {vision.closes_at:%d %B %Y}")
    db.session.commit()


@click.group("users", help="Manage accounts.")
def users_group() -> None:
    pass


@users_group.command("create")
@click.argument("email")
@click.option("--name", required=True, help="Display name.")
@click.option("--role", type=click.Choice([r.value for r in Role]), default=Role.VOLUNTEER.value, show_default=True)
def users_create(email: str, name: str, role: str) -> None:
    """Create an account. The password is read from standard input (or asked for twice on a terminal)."""
    if sys.stdin.isatty():
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    try:
        user = create_user(email, name, Role(role), password)
    except ValidationError as exc:
        db.session.rollback()
        _fail("Cannot create the account:\n" + "\n".join(f"  - {f}: {m[0]}" for f, m in exc.errors.items()))
    db.session.commit()
    click.echo(f"Created {user.role} {user.email}")


@click.group("assets", help="Static files.")
def assets_group() -> None:
    pass


@assets_group.command("build")
def assets_build() -> None:
    """Copy static/ to content-hashed names, compressed (brotli, gzip), for serving (assets.py)."""
    build, made = assets.build_assets(assets.source_folder(current_app), assets.build_folder(current_app))
    if made:
        click.echo(f"Built {len(build.names)} static files into {build.files.parent} (restart the server to serve them)")
    else:
        click.echo(f"The static files are built already: {build.files.parent}")


@click.group("mail", help="Deliver the mail waiting in the outbox (workbench/outbox.py).")
def mail_group() -> None:
    pass


def _log_mail_to_stderr() -> None:
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    for name in ("workbench.mail", "workbench.outbox", "workbench.notifications.telling", "workbench.notifications.digest"):
        logging.getLogger(name).disabled = False  # in case a logging configuration turned them off


@mail_group.command("worker")
@click.option("--poll", type=click.FloatRange(0.1, 3600), default=5.0, show_default=True, help="Seconds between two looks for due mail.")
def mail_worker(poll: float) -> None:
    """Deliver mail as it falls due, until stopped: SIGTERM or Ctrl+C finish the mail in hand, then exit."""
    stop = outbox.StopSignal()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, stop.set)
    _log_mail_to_stderr()
    outbox.run_worker(stop, poll_seconds=poll, work=worker.one_pass)


@mail_group.command("send-due")
def mail_send_due() -> None:
    """Deliver every mail that is due, once, then exit (for cron); silent when there was none."""
    done = worker.one_pass(limit=None)
    if done.handled:
        click.echo(f"Mail: {done}.")


@mail_group.command("status")
def mail_status() -> None:
    """How much mail is waiting, sent, failed and withheld; the failed mails and those being retried.
    Exits with 1 when some mail has failed (for monitoring)."""
    status = outbox.outbox_status()
    counts = {state: status.counts.get(state, 0) for state in ("waiting", "sent", "failed", "withheld")}
    click.echo(", ".join(f"{n} {state}" for state, n in counts.items()) + ".")
    click.echo(f"{telling.due_count()} event(s) waiting for the worker to tell people of them.")
    if status.oldest_waiting is not None:
        click.echo(f"The oldest waiting mail was written at {status.oldest_waiting:%Y-%m-%d %H:%M:%S} UTC.")
    for title, mails in (("Waiting after a failed attempt", status.retrying), ("Failed (`flask mail retry ID` puts one back)", status.failed)):
        if mails:
            click.echo(f"{title}:")
        for mail in mails:
            click.echo(
                f"  #{mail.id} to {mail.recipient}, {mail.subject!r}, written {mail.created_at:%Y-%m-%d %H:%M} UTC, "
                f"{mail.attempts} attempt(s)" + (f", next after {mail.send_after:%H:%M} UTC" if mail.state == "waiting" else "")
                + f": {mail.last_error}"
            )
    if counts["failed"]:
        sys.exit(1)


@mail_group.command("retry")
@click.argument("ids", nargs=-1, type=click.IntRange(1))
@click.option("--all-failed", is_flag=True, help="Every failed mail.")
def mail_retry(ids: tuple[int, ...], all_failed: bool) -> None:
    """Put failed mails back in the queue (by number, as `mail status` lists them), due now."""
    if not ids and not all_failed:
        _fail("Name the mails to try again (their numbers, from `flask mail status`), or give --all-failed.")
    count = outbox.retry_failed(None if all_failed else ids)
    db.session.commit()
    click.echo(f"{count} failed mail(s) put back in the queue.")


# --- notifications (issue 15) ----------------------------------------------------------------------


@click.group("notifications", help="Notifications: the daily email.")
def notifications_group() -> None:
    pass


@notifications_group.command("digest")
def notifications_digest() -> None:
    """Queue the daily email of everyone with notifications waiting for it (run once a day, e.g.
    from a systemd timer or cron); the mail worker delivers them. Safe to run twice."""
    _log_mail_to_stderr()
    with worker.links_context():
        done = digest.send_digests()
    click.echo(f"Daily emails: {done}.")


@click.group("webinars", help="Webinars: the reminder the day before.")
def webinars_group() -> None:
    pass


@webinars_group.command("remind")
def webinars_remind() -> None:
    """Queue the reminder of every registration for a session that starts within a day (run hourly)."""
    from .webinars.reminders import send_reminders

    with worker.links_context():
        run = send_reminders()
    click.echo(f"Webinar reminders: {run}.")


def init_app(app: Flask) -> None:
    app.cli.add_command(vision_group)
    app.cli.add_command(demo_group)
    app.cli.add_command(users_group)
    app.cli.add_command(assets_group)
    app.cli.add_command(mail_group)
    app.cli.add_command(notifications_group)
    app.cli.add_command(webinars_group)
