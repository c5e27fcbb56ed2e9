"""Time telling 20,000 followers of a new version (issue 15, DESIGN.md §6).

    .venv/bin/python bench/notify_followers.py                     # SQLite: a fresh file in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_notify'
    .venv/bin/python bench/notify_followers.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_notify

1. Data: a generated vision of 150 elements, published once; `--followers` accounts (default
   20,000), every one following the vision; one in `--immediate-every` (default 10) chose to be
   mailed new versions at once, the others keep the default (the daily digest).
2. The publish request's cost, with and without the followers: `--publishes` times (default 7),
   a one-element edit then `publish_version` and the commit, in a write request's context as the
   publish route runs them; p50 and max ms, first with nobody following (the follows are written
   afterwards), then with everyone. The budget: followers add at most 50 ms to the request.
3. The worker, telling the first version to everyone (20,000 notifications and the immediate mails
   written), then the later ones (merged into the unread notifications), then delivering the mails to
   an SMTP server in this process (aiosmtpd): seconds, notifications per second and mails per second.

Prints the figures and writes JSON to bench/out/. Exit status 0 when the publish budget is met.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import socket
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select  # noqa: E402

from bench import generate as gen  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import (  # noqa: E402
    AuditEvent,
    EventToTell,
    DraftEntry,
    Element,
    ElementText,
    EmailChoice,
    Follow,
    Notification,
    OutgoingMail,
    Role,
    User,
    Vision,
    utcnow,
)

OUT = ROOT / "bench" / "out"
BUDGET_MS = 50.0
BATCH = 5_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def add_followers(vision_id: int, count: int, immediate_every: int) -> None:
    """`count` accounts following the vision; one in `immediate_every` mailed new versions at once."""
    first = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    now = utcnow()
    for start in range(0, count, BATCH):
        ids = range(first + start, first + min(start + BATCH, count))
        db.session.execute(
            insert(User),
            [
                {"id": i, "email": f"follower{i}@example.org", "display_name": f"Follower {i}", "password_hash": "",
                 "role": Role.VOLUNTEER.value, "session_token": f"bench-follower-{i}", "created_at": now,
                 "is_deactivated": False, "is_deleted": False}
                for i in ids
            ],
        )
        db.session.execute(
            insert(Follow), [{"user_id": i, "thing_type": "vision", "thing_id": vision_id, "created_at": now} for i in ids]
        )
        chosen = [{"user_id": i, "kind": "followed_vision", "how": "immediately"} for i in ids if i % immediate_every == 0]
        if chosen:
            db.session.execute(insert(EmailChoice), chosen)
    db.session.commit()


def next_action() -> str | None:
    """The action of the event the worker tells next, if any."""
    return db.session.scalar(
        select(AuditEvent.action)
        .join(EventToTell, EventToTell.audit_event_id == AuditEvent.id)
        .order_by(EventToTell.due_at, EventToTell.audit_event_id)
        .limit(1)
    )


def publish_once(app: Any, slug: str, actor_id: int, note: str) -> float:
    """Milliseconds for an edit's publication as the publish route runs it: publish and commit."""
    from workbench.drafting.edits import edit_element_text
    from workbench.drafting.publishing import publish_version

    with app.test_request_context(f"/visions/{slug}/publish", method="POST"):
        vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
        actor = db.session.get(User, actor_id)
        key, lock, title, body = db.session.execute(
            select(Element.key, DraftEntry.lock_version, ElementText.title, ElementText.body)
            .join(DraftEntry, DraftEntry.element_id == Element.id)
            .join(ElementText, ElementText.id == DraftEntry.text_id)
            .where(Element.vision_id == vision.id, Element.kind == "condition", DraftEntry.is_removed.is_(False))
            .limit(1)
        ).one()
        edit_element_text(vision, key, title=title, body=f"{body} {note}", reason="Timing", lock_version=lock, actor=actor)
        db.session.commit()
        vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
        started = time.perf_counter()
        publish_version(vision, actor=actor, notes=note)
        db.session.commit()
        elapsed = (time.perf_counter() - started) * 1000
        db.session.remove()
    return elapsed


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--followers", type=int, default=20_000)
    parser.add_argument("--immediate-every", type=int, default=10)
    parser.add_argument("--publishes", type=int, default=7)
    args = parser.parse_args(argv)

    from aiosmtpd.controller import Controller

    class Sink:
        received = 0

        async def handle_DATA(self, server, session, envelope):  # noqa: ANN001
            Sink.received += 1
            return "250 OK"

    url, temporary = gen.database_or_temporary(args.database_url, "notify")
    port = free_port()
    app = gen.make_app(url)
    app.config.update(SMTP_HOST="127.0.0.1", SMTP_PORT=port, SMTP_STARTTLS=False, PUBLIC_URL="https://vision.example.org")
    gen.migrate(app)
    from workbench import worker
    from workbench.drafting.publishing import publish_version

    with app.app_context():
        actor = gen.generate_facilitator()
        vision = gen.generate_vision(random.Random(15), actor)
        db.session.commit()
        publish_version(vision, actor=actor, notes="Version 1")
        db.session.commit()
        slug, vision_id, actor_id = vision.slug, vision.id, actor.id
        with app.test_request_context():
            worker.one_pass(limit=None)  # the events so far (nobody follows yet)

    alone = [publish_once(app, slug, actor_id, f"Alone {n}.") for n in range(args.publishes)]
    with app.app_context():
        with app.test_request_context():
            worker.one_pass(limit=None)  # told to nobody: nobody follows yet
        started = time.perf_counter()
        add_followers(vision_id, args.followers, args.immediate_every)
        print(f"{args.followers:,} followers written in {time.perf_counter() - started:.1f} s")
    followed = [publish_once(app, slug, actor_id, f"Followed {n}.") for n in range(args.publishes)]

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    try:
        with app.app_context():
            from workbench import outbox
            from workbench.notifications import telling

            timings = []  # seconds to tell each new version, in order
            with worker.links_context():
                while (action := next_action()) is not None:
                    started = time.perf_counter()
                    assert telling.tell_due(limit=1) == 1
                    if action == "version.published":
                        timings.append(time.perf_counter() - started)
            notifications = db.session.scalar(select(func.count()).select_from(Notification))
            merged = db.session.scalar(select(func.max(Notification.event_count)))
            mails = db.session.scalar(select(func.count()).select_from(OutgoingMail).where(OutgoingMail.state == "waiting"))
            started = time.perf_counter()
            done = outbox.send_due(limit=None)
            sending = time.perf_counter() - started
    finally:
        controller.stop()

    extra = statistics.median(followed) - statistics.median(alone)
    result = {
        "database": url.split(":")[0],
        "machine": platform.platform(),
        "followers": args.followers,
        "publish_ms_nobody_following": {"p50": round(statistics.median(alone), 1), "max": round(max(alone), 1)},
        "publish_ms_everyone_following": {"p50": round(statistics.median(followed), 1), "max": round(max(followed), 1)},
        "publish_extra_ms_p50": round(extra, 1),
        "budget_ms": BUDGET_MS,
        "tell_first_version_s": round(timings[0], 2),
        "tell_later_versions_merged_s_p50": round(statistics.median(timings[1:]), 2) if len(timings) > 1 else None,
        "notifications": notifications,
        "largest_merge": merged,
        "notifications_per_s_first": round(args.followers / timings[0]),
        "mails_waiting": mails,
        "mails_sent": done.sent,
        "smtp_received": Sink.received,
        "mails_per_s": round(done.sent / sending, 1) if sending else None,
    }
    print(json.dumps(result, indent=2))
    OUT.mkdir(exist_ok=True)
    (OUT / f"notify_followers-{result['database']}.json").write_text(json.dumps(result, indent=2))
    if temporary is not None:
        temporary.cleanup()
    met = extra <= BUDGET_MS
    print(f"Publish budget (followers add <= {BUDGET_MS:.0f} ms): {'MET' if met else 'MISSED'} ({extra:+.1f} ms at p50)")
    return result if met else sys.exit(1)


if __name__ == "__main__":
    main()
