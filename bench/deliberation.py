"""Time the deliberation pages at the benchmark scale (issue 5).

    .venv/bin/python bench/deliberation.py                      # SQLite: a fresh file in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_deliberation'
    .venv/bin/python bench/deliberation.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_deliberation

1. Data (DESIGN.md §6, the large scale), reproducibly (seeded): bench/generate.py builds the vision
   of 150 elements with 20 published versions; then, in bulk (Core executemany with explicit ids,
   counts computed while generating), 20,000 people, 10,000 proposals on its elements (each with
   its revision 1; 70 % open), 300,000 votes, 100,000 comments and reflections (about a third of
   them replies) and 3,000 open reports. One "busy" proposal has 1,000 comments (700 comments and
   300 replies) and 5,000 votes; one "busy" element has 2,000 reflections. Tallies
   (`support_count`, `oppose_count`, `comment_count`, `reply_count`) are written as the app keeps
   them. On PostgreSQL the tables are then ANALYZEd, as autovacuum would after a bulk load. With
   `--reuse` an earlier run's data is measured as it is.
2. Server time per request, in-process through the Flask test client: `--warmup` requests (default
   20), then `--requests` (default 200) timed ones per scenario, signed in as a volunteer (the
   moderation list and the facilitators' queue as a facilitator); p50, p95, p99 wall-clock ms, CPU
   ms of this process, and the SQL statements one request runs. The queue (issue 6) is measured here
   because this is the data with 10,000 proposals; "cold" scenarios empty the app's caches before
   every request, so each one recomputes its word diffs (the compare pages are cached for good after
   their first request; their cold time is what the first visitor of a pair waits).
3. Prints a table and whether each page meets the budget (p95 <= 50 ms); writes JSON to bench/out/.

The proposals list's "most supported" / "most contested" sorts are `proposals.services.MOST_SUPPORTED`
and `MOST_CONTESTED`; if the list does not offer them (an older checkout), the benchmark adds them
to its whitelist for the run and says so.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import secrets
import sys
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import bindparam, func, insert, select, text  # noqa: E402

from bench import generate as gen  # noqa: E402
from bench.facilitation import Result, count_statements, measure  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.facilitation.kept_flags import keep_every_flag  # noqa: E402
from workbench.proposals.edit import changed_ranges  # noqa: E402
from workbench.models import (  # noqa: E402
    Comment,
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    ProposalRevision,
    Report,
    Role,
    User,
    Version,
    Vision,
    Vote,
    utcnow,
)

OUT = ROOT / "bench" / "out"
PAGE_BUDGET_MS = 50.0

USERS = 20_000
PROPOSALS = 10_000
VOTES = 300_000
COMMENTS = 100_000
REPORTS = 3_000
BUSY_COMMENTS = 1_000
BUSY_REPLIES = 300
BUSY_VOTES = 5_000
BUSY_REFLECTIONS = 2_000
REFLECTIONS = 19_000
REPLY_SHARE = 0.3
BATCH = 5_000


def _insert(table: Any, rows: list[dict[str, Any]]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(insert(table), rows[start : start + BATCH])


def _next_id(model: Any) -> int:
    return (db.session.scalar(select(func.max(model.id))) or 0) + 1


def _words(rng: random.Random, low: int, high: int) -> str:
    return gen.sentence(rng, low, high)


def generate_people(rng: random.Random, count: int = USERS) -> list[int]:
    """`count` volunteers (no password: they cannot sign in; the benchmark signs in by session)."""
    first = _next_id(User)
    now = utcnow()
    rows = [
        {
            "id": first + i,
            "email": f"bench-person-{first + i}@example.org",
            "display_name": f"{rng.choice(['Alex', 'Sam', 'Jo', 'Kim', 'Robin', 'Ali', 'Morgan'])} {rng.choice(['Reid', 'Shah', 'Campbell', 'Ng', 'Murray', 'Okafor'])} {i}",
            "password_hash": "",
            "role": Role.VOLUNTEER.value,
            "is_deactivated": False,
            "is_deleted": False,
            "session_token": secrets.token_urlsafe(24),
            "created_at": now - timedelta(days=90),
        }
        for i in range(count)
    ]
    _insert(User.__table__, rows)
    return [row["id"] for row in rows]


def generate_proposals(rng: random.Random, vision: Vision, people: list[int], count: int = PROPOSALS) -> list[dict[str, Any]]:
    """`count` proposals on the vision's elements, written against their current text; each with
    its revision 1. Returns the proposal rows (ids, element, author, status)."""
    entries = db.session.execute(
        select(DraftEntry.element_id, DraftEntry.text_id, ElementText.title, ElementText.body)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(False))
        .order_by(DraftEntry.element_id)
    ).all()
    first = _next_id(Proposal)
    now = utcnow()
    statuses = ["open"] * 7 + ["accepted", "rejected", "withdrawn"]
    rows = []
    for i in range(count):
        entry = rng.choice(entries)
        body = gen.edit_text(rng, entry.body, edits=rng.randint(1, 4))
        created = now - timedelta(minutes=rng.randint(60, 60 * 24 * 60))
        status = rng.choice(statuses)
        rows.append(
            {
                "id": first + i,
                "vision_id": vision.id,
                "element_id": entry.element_id,
                "kind": "edit",
                "author_id": rng.choice(people),
                "base_text_id": entry.text_id,
                "title": entry.title,
                "body": body,
                "changed_ranges": changed_ranges(entry, entry.title, body),
                "rationale": _words(rng, 10, 30),
                "status": status,
                "created_at": created,
                "updated_at": created,
                "revision_count": 1,
                "decision_reason": _words(rng, 6, 12) if status in ("accepted", "rejected") else "",
                "decided_at": created + timedelta(days=1) if status in ("accepted", "rejected") else None,
                "accepted_with_changes": False,
                "support_count": 0,
                "oppose_count": 0,
                "comment_count": 0,
                "hidden_reason": "",
            }
        )
    _insert(Proposal.__table__, rows)
    _insert(
        ProposalRevision.__table__,
        [
            {
                "proposal_id": row["id"], "number": 1, "base_text_id": row["base_text_id"], "title": row["title"],
                "body": row["body"], "rationale": row["rationale"], "created_at": row["created_at"],
            }
            for row in rows
        ],
    )
    keep_every_flag(db.session)  # written around the services: the queue's kept flags, in step
    return rows


def generate_votes(rng: random.Random, proposals: list[dict[str, Any]], people: list[int], busy: dict[str, Any], count: int = VOTES) -> dict[int, list[int]]:
    """`count` votes, one per person and proposal (never the author's own), BUSY_VOTES on `busy`;
    about 70 % support. Returns {proposal id: [support, oppose]}."""
    tallies: dict[int, list[int]] = {}
    rows: list[dict[str, Any]] = []
    now = utcnow()
    first = _next_id(Vote)

    def vote_on(proposal: dict[str, Any], n: int) -> None:
        voters = rng.sample(people, n + 1)
        voters = [v for v in voters if v != proposal["author_id"]][:n]
        tally = tallies.setdefault(proposal["id"], [0, 0])
        for voter in voters:
            value = 1 if rng.random() < 0.7 else -1
            tally[0 if value == 1 else 1] += 1
            rows.append(
                {"id": first + len(rows), "proposal_id": proposal["id"], "user_id": voter, "value": value, "created_at": now, "updated_at": now}
            )

    vote_on(busy, BUSY_VOTES)
    others = [p for p in proposals if p["id"] != busy["id"]]
    remaining = count - BUSY_VOTES
    # A long tail: most proposals get a few votes, some get many (never more than the busy one).
    cap = BUSY_VOTES - 1
    weights = [rng.paretovariate(1.5) for _ in others]
    scale = remaining / sum(weights)
    wanted = [min(cap, int(w * scale)) for w in weights]
    while sum(wanted) < remaining:  # what rounding and the cap left over, spread one at a time
        short = remaining - sum(wanted)
        for i in rng.sample(range(len(others)), k=min(len(others), short)):
            if wanted[i] < cap:
                wanted[i] += 1
    for proposal, n in zip(others, wanted, strict=True):
        if n:
            vote_on(proposal, n)
    _insert(Vote.__table__, rows)
    return tallies


def generate_comments(
    rng: random.Random, vision: Vision, proposals: list[dict[str, Any]], people: list[int], busy: dict[str, Any], busy_element_id: int,
    count: int = COMMENTS,
) -> tuple[dict[int, int], list[int]]:
    """`count` comments and reflections, about REPLY_SHARE of them replies (each under an earlier
    top-level comment of the same discussion, after it). Returns ({proposal id: comment count},
    the ids of some comments to report)."""
    element_ids = list(db.session.scalars(select(Element.id).where(Element.vision_id == vision.id).order_by(Element.id)))
    now = utcnow()
    first = _next_id(Comment)
    rows: list[dict[str, Any]] = []
    replies: dict[int, int] = {}
    counts: dict[int, int] = {}

    def discussion(proposal_id: int | None, element_id: int | None, total: int, reply_count: int | None = None) -> None:
        n_replies = int(total * REPLY_SHARE) if reply_count is None else reply_count
        tops = []
        for _ in range(total - n_replies):
            created = now - timedelta(minutes=rng.randint(120, 60 * 24 * 60))
            row = {
                "id": first + len(rows), "vision_id": vision.id, "proposal_id": proposal_id, "element_id": element_id,
                "parent_id": None, "author_id": rng.choice(people), "body": _words(rng, 8, 60), "created_at": created,
                "reply_count": 0, "hidden_reason": "",
            }
            rows.append(row)
            tops.append(row)
        for _ in range(n_replies):
            parent = rng.choice(tops[: max(1, len(tops) // 3)])  # replies cluster on some comments
            rows.append(
                {
                    "id": first + len(rows), "vision_id": vision.id, "proposal_id": proposal_id, "element_id": element_id,
                    "parent_id": parent["id"], "author_id": rng.choice(people), "body": _words(rng, 5, 40),
                    "created_at": parent["created_at"] + timedelta(minutes=rng.randint(1, 600)), "reply_count": 0, "hidden_reason": "",
                }
            )
            parent["reply_count"] += 1
        if proposal_id is not None:
            counts[proposal_id] = counts.get(proposal_id, 0) + total

    discussion(busy["id"], None, BUSY_COMMENTS, BUSY_REPLIES)
    discussion(None, busy_element_id, BUSY_REFLECTIONS)
    left_for_reflections = REFLECTIONS - BUSY_REFLECTIONS
    for element_id in element_ids:
        if element_id != busy_element_id:
            discussion(None, element_id, left_for_reflections // (len(element_ids) - 1))
    others = [p for p in proposals if p["id"] != busy["id"]]
    while len(rows) < count:
        discussion(rng.choice(others)["id"], None, min(count - len(rows), rng.randint(1, 25)))
    _insert(Comment.__table__, rows)
    return counts, [row["id"] for row in rng.sample(rows, 2_000)]


def generate_reports(rng: random.Random, comment_ids: list[int], proposals: list[dict[str, Any]], people: list[int], count: int = REPORTS) -> None:
    """`count` open reports, on comments and proposals, one to five per subject."""
    subjects = [("comment", i) for i in comment_ids] + [("proposal", p["id"]) for p in rng.sample(proposals, 1_000)]
    now = utcnow()
    rows: list[dict[str, Any]] = []
    while len(rows) < count:
        subject_type, subject_id = rng.choice(subjects)
        for reporter in rng.sample(people, rng.randint(1, 5)):
            rows.append(
                {
                    "subject_type": subject_type, "subject_id": subject_id, "reporter_id": reporter,
                    "reason": _words(rng, 4, 15), "created_at": now - timedelta(minutes=rng.randint(1, 10_000)), "outcome": "",
                }
            )
    _insert(Report.__table__, rows[:count])


def write_tallies(tallies: dict[int, list[int]], comment_counts: dict[int, int]) -> None:
    table = Proposal.__table__
    rows = [
        {"pid": pid, "s": tallies.get(pid, [0, 0])[0], "o": tallies.get(pid, [0, 0])[1], "c": comment_counts.get(pid, 0)}
        for pid in set(tallies) | set(comment_counts)
    ]
    statement = table.update().where(table.c.id == bindparam("pid")).values(
        support_count=bindparam("s"), oppose_count=bindparam("o"), comment_count=bindparam("c")
    )
    for start in range(0, len(rows), BATCH):
        db.session.execute(statement, rows[start : start + BATCH])


def advance_sequences() -> None:
    """PostgreSQL: rows were written with explicit ids; move each id sequence past them."""
    if db.session.get_bind().dialect.name != "postgresql":
        return
    for name in ("users", "proposals", "proposal_revisions", "votes", "comments", "reports"):
        db.session.execute(text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM {name}))"))


def generate_deliberation(rng: random.Random, vision: Vision, scale: int = 1, *, reports: bool = True) -> tuple[list[int], list[dict[str, Any]]]:
    """The deliberation data times `scale` in `vision`: people, proposals, votes, comments and
    reflections (and reports of comments with `reports`), the tallies written and the sequences
    moved past the ids written. Returns (the people's ids, the proposals' rows). No commit."""
    people = generate_people(rng, USERS * scale)
    proposals = generate_proposals(rng, vision, people, PROPOSALS * scale)
    busy = next(p for p in proposals if p["status"] == "open")
    busy_element_id = db.session.scalar(select(Element.id).where(Element.vision_id == vision.id, Element.kind == "objective").order_by(Element.id))
    tallies = generate_votes(rng, proposals, people, busy, VOTES * scale)
    comment_counts, reportable = generate_comments(rng, vision, proposals, people, busy, busy_element_id, COMMENTS * scale)
    if reports:
        generate_reports(rng, reportable, proposals, people)
    write_tallies(tallies, comment_counts)
    advance_sequences()
    return people, proposals


def generate(database_url: str, seed: int = 2025) -> dict[str, Any]:
    """The vision (bench/generate.py), then the deliberation data; commit. Returns what to measure."""
    started = time.perf_counter()
    base = gen.generate(database_url)
    print(f"Vision {base.slug!r}: {base.counts} in {base.seconds:.1f} s")
    app = gen.make_app(database_url)
    rng = random.Random(seed)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == base.slug))
        generate_deliberation(rng, vision)
        db.session.commit()
        if db.session.get_bind().dialect.name == "postgresql":
            # What autovacuum does after a bulk load: without statistics the planner guesses badly.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("ANALYZE"))
        counts = {
            name: db.session.scalar(select(func.count(model.id)))
            for name, model in (("users", User), ("proposals", Proposal), ("votes", Vote), ("comments", Comment), ("reports", Report))
        }
        db.session.remove()
    print(f"Deliberation data: {counts} in {time.perf_counter() - started:.1f} s in all")
    return counts


def targets(app: Any) -> dict[str, Any]:
    """The busy proposal, the most reflected element, a volunteer and a facilitator to sign in as."""
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        busy = db.session.scalar(select(Proposal.id).where(Proposal.vision_id == vision.id).order_by(Proposal.comment_count.desc()).limit(1))
        element_key = db.session.scalar(
            select(Element.key)
            .join(Comment, Comment.element_id == Element.id)
            .where(Element.vision_id == vision.id, Comment.proposal_id.is_(None))
            .group_by(Element.key)
            .order_by(func.count(Comment.id).desc())
            .limit(1)
        )
        author = db.session.scalar(select(Proposal.author_id).where(Proposal.id == busy))
        volunteer = db.session.scalar(select(User.session_token).where(User.role == Role.VOLUNTEER.value, User.id != author).order_by(User.id.desc()).limit(1))
        facilitator = gen.generate_facilitator()
        db.session.commit()
        latest = db.session.scalar(select(func.max(Version.number)).where(Version.vision_id == vision.id))
        found = {"slug": vision.slug, "latest": latest, "busy": busy, "element": element_key, "volunteer": volunteer, "facilitator": facilitator.session_token}
        db.session.remove()
    return found


def offer_tally_sorts() -> str:
    """Make sure the proposals list offers the tally sorts (the benchmark measures the page as it
    will be); returns a note when it had to add them."""
    from workbench.proposals import services as proposals
    from workbench.proposals.services import MOST_CONTESTED, MOST_SUPPORTED

    added = []
    for key, label, order in (("supported", "Most supported", MOST_SUPPORTED), ("contested", "Most contested", MOST_CONTESTED)):
        if key not in proposals.SORTS:
            proposals.SORTS[key] = proposals.Sort(label, order)
            added.append(key)
    return f"(sorts {', '.join(added)} added for this run: the proposals list does not offer them yet)" if added else ""


def signed_in(app: Any, token: str) -> Any:
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    return client


def time_votes(app: Any, client: Any, proposal_id: int, warmup: int, requests: int) -> Result:
    """POST /proposals/<id>/vote with htmx, alternating support and oppose (each a write)."""
    import statistics

    from bench.facilitation import percentile

    with client.session_transaction() as session:
        session["csrf_token"] = "bench-csrf"
    from itsdangerous import URLSafeTimedSerializer

    token = URLSafeTimedSerializer(app.secret_key, salt="wtf-csrf-token").dumps("bench-csrf")
    path = f"/proposals/{proposal_id}/vote"

    def post(i: int) -> None:
        response = client.post(path, data={"value": "support" if i % 2 else "oppose", "csrf_token": token}, headers={"HX-Request": "true"})
        if response.status_code != 200:
            raise SystemExit(f"vote: {path} answered {response.status_code}")
        response.close()

    for i in range(warmup):
        post(i)
    timings, cpu = [], []
    for i in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        post(i)
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    queries = count_statements(app, lambda: post(requests))
    return Result(
        "vote in place (POST, htmx), busy proposal", path, requests,
        round(statistics.median(timings), 2), round(percentile(timings, 0.95), 2), round(percentile(timings, 0.99), 2),
        round(statistics.median(cpu), 2), round(percentile(cpu, 0.95), 2), queries, PAGE_BUDGET_MS,
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--reuse", action="store_true", help="measure the data an earlier run left in the database")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)

    url, temporary = gen.database_or_temporary(args.database_url, "deliberation")
    counts = None if args.reuse else generate(url, args.seed)
    app = gen.make_app(url)
    found = targets(app)
    note = offer_tally_sorts()
    volunteer = signed_in(app, found["volunteer"])
    facilitator = signed_in(app, found["facilitator"])
    anonymous = app.test_client()
    slug, busy, key, latest = found["slug"], found["busy"], found["element"], found["latest"]
    common = {"warmup": args.warmup, "requests": args.requests}
    hx = {"HX-Request": "true"}

    class HtmxClient:
        """The volunteer's client, asking as htmx does."""

        def get(self, path: str) -> Any:
            return volunteer.get(path, headers=hx)

    results = [
        measure(app, anonymous, "trivial route", "/health", budget=None, **common),
        measure(app, volunteer, "proposal page, busy proposal (1,000 comments, 5,000 votes)", f"/proposals/{busy}", **common),
        measure(app, anonymous, "proposal page, busy proposal, anonymous", f"/proposals/{busy}", **common),
        measure(app, HtmxClient(), "more comments (htmx, page 20 of the busy proposal)", f"/proposals/{busy}/comments?page=20", **common),
        measure(app, volunteer, f"reflections page ({key}, 2,000 reflections)", f"/visions/{slug}/elements/{key}/reflections", **common),
        measure(app, facilitator, "moderation list (3,000 open reports)", "/moderation", **common),
        measure(app, volunteer, "proposals list, most supported", f"/visions/{slug}/proposals?sort=supported", **common),
        measure(app, volunteer, "proposals list, most contested", f"/visions/{slug}/proposals?sort=contested", **common),
        measure(app, volunteer, "proposals list, open, most supported", f"/visions/{slug}/proposals?status=open&sort=supported", **common),
        time_votes(app, volunteer, busy, args.warmup, args.requests),
        # Issue 6 at this scale: the facilitators' queue over ~7,000 open proposals, and comparisons
        # of versions from a cold cache (every request recomputes every diff and renders the page).
        measure(app, facilitator, "queue, default (waiting longest first)", f"/visions/{slug}/facilitate", **common),
        measure(app, facilitator, "queue, most support first", f"/visions/{slug}/facilitate?sort=support", **common),
        measure(app, facilitator, "queue, stale only", f"/visions/{slug}/facilitate?flag=stale", **common),
        measure(app, facilitator, "queue, conflicted only", f"/visions/{slug}/facilitate?flag=conflicted", **common),
        measure(app, facilitator, "queue, competing only", f"/visions/{slug}/facilitate?flag=competing", **common),
        measure(app, facilitator, f"queue, one element ({key})", f"/visions/{slug}/facilitate?element={key}", **common),
        # About a second a request (every open proposal's diff again): 30 requests say enough.
        measure(app, facilitator, "queue, competing, cold", f"/visions/{slug}/facilitate?flag=competing", cold=True, warmup=2, requests=min(30, args.requests)),
        measure(app, anonymous, f"compare 1...{latest}, cold", f"/visions/{slug}/compare/1...{latest}", cold=True, **common),
        measure(app, anonymous, f"compare {latest - 1}...{latest}, cold", f"/visions/{slug}/compare/{latest - 1}...{latest}", cold=True, **common),
    ]
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nDatabase: {dialect}; {args.requests} timed requests per scenario after {args.warmup} to warm up; server time in-process. {note}")
    print(f"{'scenario':62} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU p50':>8} {'CPU p95':>8} {'queries':>7}  budget")
    for r in results:
        verdict = "" if r.met is None else ("p95 <= 50 ms: MET" if r.met else "p95 <= 50 ms: MISSED")
        print(f"{r.scenario:62} {r.p50_ms:7.2f} {r.p95_ms:7.2f} {r.p99_ms:7.2f} {r.cpu_p50_ms:8.2f} {r.cpu_p95_ms:8.2f} {r.queries:7d}  {verdict}")

    report = {
        "database": dialect,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "requests": args.requests,
        "warmup": args.warmup,
        "data": counts,
        "note": note,
        "scenarios": [{**asdict(r), "met": r.met} for r in results],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"deliberation-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"Written to {path.relative_to(ROOT)}")
    if temporary is not None:
        with app.app_context():
            db.engine.dispose()
        temporary.cleanup()
    return report


if __name__ == "__main__":
    main()
