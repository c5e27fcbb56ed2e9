"""Time the drafting and history pages and publishing at the benchmark scale (issue 6).

    .venv/bin/python bench/facilitation.py                      # SQLite: a fresh file in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_facilitation'
    .venv/bin/python bench/facilitation.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_facilitation

1. Data: bench/generate.py builds a vision of 150 elements with 20 published versions (about 10
   elements reworded in each); then a facilitator rewords 10 more elements in the working draft
   through the drafting service (so the draft page has changes to diff and list). With `--reuse`
   an existing benchmark vision is measured as it is.
2. Server time per request, in-process through the Flask test client (no network, no load
   generator sharing the CPUs): `--warmup` requests (default 20), then `--requests` (default 200)
   timed ones per scenario; p50, p95 and p99 wall-clock milliseconds, the CPU milliseconds this
   process spent (steadier when other work shares the machine; the database server's own CPU is
   not in it), and the SQL statements one request runs.
   "Cold" means every in-process cache (rendered pages, parsed snapshots, diffs) is emptied before
   each request, as after a restart; "cached" is the steady state.
3. Publishing: a facilitator rewords one element, then `publish_version` of all 150 elements is
   timed (`--publishes` times, default 5); each run is rolled back, so the data stays as it was.
4. Prints a table and whether each budget is met (DESIGN.md §6: dynamic pages p95 <= 50 ms;
   issue 6: publishing 150 elements < 1 s); writes the same as JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, select  # noqa: E402

from bench import generate as gen  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import DraftChange, DraftEntry, Element, ElementText, User, Vision  # noqa: E402

OUT = ROOT / "bench" / "out"
PAGE_BUDGET_MS = 50.0
PUBLISH_BUDGET_S = 1.0
DRAFT_EDITS = 10


@dataclass
class Result:
    scenario: str
    path: str
    requests: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    cpu_p50_ms: float
    cpu_p95_ms: float
    queries: int
    budget_ms: float | None

    @property
    def met(self) -> bool | None:
        return None if self.budget_ms is None else self.p95_ms <= self.budget_ms


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def prepare(database_url: str, reuse: bool) -> tuple[Any, str, int]:
    """The app, the vision's slug and the facilitator's id; data generated unless reused."""
    if not reuse:
        generated = gen.generate(database_url)
        print(f"Generated {generated.slug!r}: {generated.counts} in {generated.seconds:.1f} s")
    app = gen.make_app(database_url)
    from workbench.drafting.edits import edit_element_text

    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        facilitator = gen.generate_facilitator()
        db.session.commit()
        waiting = db.session.scalar(
            select(DraftChange.id).where(DraftChange.vision_id == vision.id, DraftChange.version_id.is_(None)).limit(1)
        )
        if waiting is None:
            rows = db.session.execute(
                select(Element.key, DraftEntry.lock_version, ElementText.title, ElementText.body)
                .join(DraftEntry, DraftEntry.element_id == Element.id)
                .join(ElementText, ElementText.id == DraftEntry.text_id)
                .where(Element.vision_id == vision.id, DraftEntry.is_removed.is_(False), Element.kind == "objective")
                .order_by(Element.id)
                .limit(DRAFT_EDITS)
            ).all()
            for key, lock, title, body in rows:
                edit_element_text(
                    vision, key, title=title, body=body.replace(" data ", " information ", 1) + " Reworded in the draft.",
                    reason="Benchmark edit", lock_version=lock, actor=facilitator,
                )
            db.session.commit()
        result = (app, vision.slug, facilitator.id)
        db.session.remove()
    return result


def count_statements(app: Any, call: Callable[[], Any]) -> int:
    statements: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
            statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", before)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", before)
    return len(statements)


def measure(
    app: Any, client: Any, name: str, path: str, *, warmup: int, requests: int, cold: bool = False, budget: float | None = PAGE_BUDGET_MS
) -> Result:
    from workbench.caching import clear_caches

    def forget() -> None:
        if cold:
            with app.app_context():
                clear_caches()

    def get() -> None:
        response = client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{name}: {path} answered {response.status_code}")
        response.close()

    for _ in range(warmup):
        forget()
        get()
    timings = []
    cpu = []
    for _ in range(requests):
        forget()
        started, started_cpu = time.perf_counter(), time.process_time()
        get()
        timings.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    forget()
    queries = count_statements(app, get)
    return Result(
        name, path, requests,
        round(statistics.median(timings), 2), round(percentile(timings, 0.95), 2), round(percentile(timings, 0.99), 2),
        round(statistics.median(cpu), 2), round(percentile(cpu, 0.95), 2), queries, budget,
    )


def time_publishing(app: Any, slug: str, facilitator_id: int, runs: int) -> list[float]:
    """Seconds for publish_version over the whole vision, after a one-element edit; rolled back."""
    from workbench.drafting.edits import edit_element_text
    from workbench.caching import clear_caches
    from workbench.drafting.publishing import publish_version

    seconds = []
    for _ in range(runs):
        # A write request, as the publish route is (SQLite: BEGIN IMMEDIATE).
        with app.test_request_context(f"/visions/{slug}/publish", method="POST"):
            clear_caches()
            vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
            actor = db.session.get(User, facilitator_id)
            key, lock, title = db.session.execute(
                select(Element.key, DraftEntry.lock_version, ElementText.title)
                .join(DraftEntry, DraftEntry.element_id == Element.id)
                .join(ElementText, ElementText.id == DraftEntry.text_id)
                .where(Element.vision_id == vision.id, Element.kind == "condition", DraftEntry.is_removed.is_(False))
                .limit(1)
            ).one()
            edit_element_text(vision, key, title=title, body="Timed publish.", reason="Timing", lock_version=lock, actor=actor)
            started = time.perf_counter()
            version = publish_version(vision, actor=actor, notes="Timed publish (rolled back).")
            seconds.append(time.perf_counter() - started)
            assert version.number == vision.latest_version_number
            db.session.rollback()
            db.session.remove()
    return seconds


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--publishes", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="measure the benchmark vision already in the database")
    args = parser.parse_args(argv)

    url, temporary = gen.database_or_temporary(args.database_url, "facilitation")
    app, slug, facilitator_id = prepare(url, args.reuse)
    with app.app_context():
        latest = db.session.scalar(select(Vision.latest_version_number).where(Vision.slug == slug))
        token = db.session.get(User, facilitator_id).session_token
        db.session.remove()

    anonymous = app.test_client()
    facilitator = app.test_client()
    with facilitator.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True

    base = f"/visions/{slug}"
    common = {"warmup": args.warmup, "requests": args.requests}
    results = [
        measure(app, anonymous, "trivial route", "/health", budget=None, **common),
        measure(app, facilitator, "draft page, facilitator (with edit controls)", f"{base}/draft", **common),
        measure(app, anonymous, "draft page, anonymous", f"{base}/draft", **common),
        measure(app, anonymous, "draft page, side by side", f"{base}/draft?view=side-by-side", **common),
        measure(app, anonymous, "versions page (changelogs, credits)", f"{base}/versions", **common),
        measure(app, anonymous, f"compare 1...{latest}, cold", f"{base}/compare/1...{latest}", cold=True, **common),
        measure(app, anonymous, f"compare 1...{latest}, cached", f"{base}/compare/1...{latest}", **common),
        measure(app, anonymous, f"compare {latest - 1}...{latest}, cold", f"{base}/compare/{latest - 1}...{latest}", cold=True, **common),
        measure(app, anonymous, f"compare {latest - 1}...{latest}, side by side, cold", f"{base}/compare/{latest - 1}...{latest}?view=side-by-side", cold=True, **common),
        measure(app, anonymous, "Atom feed", f"{base}/feed.atom", **common),
        measure(app, facilitator, "publish page (GET, summary)", f"/visions/{slug}/publish", **common),
    ]
    publishes = time_publishing(app, slug, facilitator_id, args.publishes)
    dialect = url.split(":", 1)[0].split("+", 1)[0]

    print(f"\nDatabase: {dialect}; {args.requests} timed requests per scenario after {args.warmup} to warm up; server time in-process.")
    print(f"{'scenario':52} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU p50':>8} {'CPU p95':>8} {'queries':>7}  budget")
    for r in results:
        verdict = "" if r.met is None else ("p95 <= 50 ms: MET" if r.met else "p95 <= 50 ms: MISSED")
        print(
            f"{r.scenario:52} {r.p50_ms:7.2f} {r.p95_ms:7.2f} {r.p99_ms:7.2f} {r.cpu_p50_ms:8.2f} {r.cpu_p95_ms:8.2f} "
            f"{r.queries:7d}  {verdict}"
        )
    worst = max(publishes)
    print(
        f"{'publish_version, 150 elements (rolled back)':55} median {statistics.median(publishes) * 1000:.1f} ms, "
        f"worst {worst * 1000:.1f} ms of {len(publishes)}  {'< 1 s: MET' if worst < PUBLISH_BUDGET_S else '< 1 s: MISSED'}"
    )

    report = {
        "database": dialect,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "requests": args.requests,
        "warmup": args.warmup,
        "scenarios": [{**asdict(r), "met": r.met} for r in results],
        "publish_seconds": publishes,
        "publish_met": worst < PUBLISH_BUDGET_S,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"facilitation-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\nWritten to {path.relative_to(ROOT)}")
    with app.app_context():
        db.engine.dispose()
    if temporary is not None:
        temporary.cleanup()
    return report


if __name__ == "__main__":
    main()
