"""The participation page and the vision page's contents list at the large scale (issue 14, item 4).

    .venv/bin/python bench/participation.py                                 # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/participation.py --keep                          # keep the file (its path is printed)
    nice -n 10 .venv/bin/python bench/participation.py --scale 3            # three times the data (Decide Madrid-sized)
    .venv/bin/python bench/participation.py --database-url sqlite:////tmp/x/bench.sqlite3 --reuse
    psql -h 127.0.0.1 -U postgres -c 'create database vw_participation_bench'
    .venv/bin/python bench/participation.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_participation_bench

1. Data: the deliberation benchmark's (bench/deliberation.py) times `--scale`, as
   bench/queue_scale.py builds it: a vision of 150 elements and, at 1, 20,000 people, 10,000
   proposals, 300,000 votes, 100,000 comments and reflections; at 3, 60,000 people, 30,000
   proposals, 900,000 votes and 300,000 comments and reflections (what grows with the number of
   people shows there). Then the planner's statistics (`ANALYZE`; `VACUUM ANALYZE` on
   PostgreSQL), as bench/queue_scale.py does. With `--reuse`, an earlier run's data is measured as
   it is.
2. Server time per request, in-process through the Flask test client (bench/facilitation.py
   `measure`), anonymous: the participation page and the vision page, warm (the counts cached in
   the process: what every request but one a minute pays, see workbench/participation/counts.py),
   and cold (the app's caches emptied before every request: what the first request after a change
   pays). Budget: p95 <= 50 ms for the warm pages (DESIGN.md §6); the cold figures say what the
   cache saves. Each count query is also timed alone, and `--explain` prints its plan.
3. Prints a table and the load average (the machine may be shared); writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import sys
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import event, func, select  # noqa: E402

from bench import deliberation as delib  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench.facilitation import Result, measure  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Comment, Proposal, User, Vision, Vote  # noqa: E402

OUT = ROOT / "bench" / "out"


def generate(url: str, scale: int, seed: int) -> dict[str, Any]:
    """The vision (bench/generate.py), then the deliberation data times `scale`; commit. At 1 the
    same data as bench/deliberation.py's `generate` (same seed, same draws). Returns the row counts."""
    started = time.perf_counter()
    base = gen.generate(url)
    app = gen.make_app(url)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == base.slug))
        delib.generate_deliberation(random.Random(seed), vision, scale)
        db.session.commit()
        counts = {
            name: db.session.scalar(select(func.count(model.id)))
            for name, model in (("users", User), ("proposals", Proposal), ("votes", Vote), ("comments", Comment))
        }
        db.session.remove()
    print(f"Data at {scale}x: {counts} in {time.perf_counter() - started:.1f} s", flush=True)
    return counts


def prepare(url: str, reuse: bool, seed: int, scale: int) -> dict[str, Any] | None:
    counts = None if reuse else generate(url, scale, seed)
    app = gen.make_app(url)
    if reuse:
        gen.migrate(app)  # migrations added since the data was made
    with app.app_context():
        if db.session.scalar(select(Vision.id).where(Vision.slug == gen.SLUG)) is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        gen.gather_statistics()
        db.session.remove()
    return counts


def time_count_queries(app: Any, explain: bool) -> list[dict[str, Any]]:
    """Work the counts out once (the participation page's, the vision page's, then the proposals
    waiting for the facilitators), timing each statement (and printing its plan with `explain`)."""
    from workbench.models import Proposal, waiting
    from workbench.participation.counts import (
        count_participation,
        count_per_element,
        open_proposals,
        read_participation,
        read_per_element,
    )

    def count_waiting(vision: Vision) -> int:
        """What `open_proposals` reads, counted from the proposals (as the queue did: migration 0030)."""
        return db.session.scalar(select(func.count()).select_from(Proposal).where(Proposal.vision_id == vision.id, waiting()))

    timings: list[dict[str, Any]] = []
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        started: dict[int, float] = {}
        doing = [""]

        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            started[id(context)] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            timings.append({"ms": round((time.perf_counter() - started.pop(id(context))) * 1000, 2), "what": doing[0], "sql": statement, "parameters": parameters})

        event.listen(db.engine, "before_cursor_execute", before)
        event.listen(db.engine, "after_cursor_execute", after)
        try:
            # The page reads the kept counts; working them out from the contributions is the comparison.
            for doing[0], count in (
                ("kept", read_participation), ("from the contributions", count_participation),
                ("kept, per element", read_per_element), ("per element, from them", count_per_element),
                ("kept, open proposals", lambda vision: open_proposals(vision.id)), ("open, from proposals", count_waiting),
            ):
                count(vision)
        finally:
            event.remove(db.engine, "before_cursor_execute", before)
            event.remove(db.engine, "after_cursor_execute", after)
        if explain:
            prefix = "EXPLAIN QUERY PLAN " if db.engine.dialect.name == "sqlite" else "EXPLAIN "
            for timing in timings:
                raw = db.session.connection().connection.driver_connection
                cursor = raw.cursor()
                cursor.execute(prefix + timing["sql"], timing["parameters"])
                timing["plan"] = [" ".join(str(part) for part in row) for row in cursor.fetchall()]
                cursor.close()
        db.session.remove()
    return timings


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--cold-requests", type=int, default=10)
    parser.add_argument("--reuse", action="store_true", help="measure the data an earlier run left in the database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file (its path is printed)")
    parser.add_argument("--explain", action="store_true", help="print each count query's plan")
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--scale", type=int, default=1, help="the deliberation data times this (3: 60,000 people)")
    args = parser.parse_args(argv)

    url, temporary = gen.database_or_temporary(args.database_url, "participation")
    if temporary is not None and args.keep:
        temporary._finalizer.detach()  # noqa: SLF001 (keep the directory: --reuse it later)
        print(f"Keeping the data in {url}")
    counts = prepare(url, args.reuse, args.seed, args.scale)
    app = gen.make_app(url)
    anonymous = app.test_client()
    page = f"/visions/{gen.SLUG}/participation"
    vision_page = f"/visions/{gen.SLUG}/"
    load_before = os.getloadavg()
    warm = {"warmup": args.warmup, "requests": args.requests}
    cold = {"warmup": 1, "requests": args.cold_requests, "cold": True, "budget": None}
    results: list[tuple[Result, str]] = []
    for name, path, options in (
        ("participation page, warm", page, warm),
        ("vision page with its contents list, warm", vision_page, warm),
        ("participation page, cold (counts worked out again)", page, cold),
        ("vision page, cold (counts worked out again)", vision_page, cold),
    ):
        results.append((measure(app, anonymous, name, path, **options), path))
        r = results[-1][0]
        print(f"  {name:55} p50 {r.p50_ms:8.2f} ms, p95 {r.p95_ms:8.2f} ms, {r.queries} statements", flush=True)
    queries = time_count_queries(app, args.explain)
    load_after = os.getloadavg()

    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nDatabase: {dialect}, data at {args.scale}x; {args.requests} timed requests per warm scenario after {args.warmup} to warm up, "
          f"{args.cold_requests} cold; server time in-process.")
    print(f"Load average (1, 5, 15 min): before {load_before[0]:.2f} {load_before[1]:.2f} {load_before[2]:.2f}, "
          f"after {load_after[0]:.2f} {load_after[1]:.2f} {load_after[2]:.2f} on {os.cpu_count()} CPUs.")
    print(f"{'scenario':55} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'CPU p95':>8} {'queries':>7}  budget")
    for r, _ in results:
        verdict = "" if r.met is None else ("p95 <= 50 ms: MET" if r.met else "p95 <= 50 ms: MISSED")
        print(f"{r.scenario[:55]:55} {r.p50_ms:8.2f} {r.p95_ms:8.2f} {r.p99_ms:8.2f} {r.cpu_p95_ms:8.2f} {r.queries:7d}  {verdict}")
    print("\nThe count queries, each once (cold):")
    for timing in queries:
        print(f"  {timing['ms']:8.2f} ms  {timing['what'][:22]:22}  {' '.join(timing['sql'].split())[:130]}")
        for line in timing.get("plan", []):
            print(f"              {line}")
    report = {
        "database": dialect,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "load_average_before": load_before,
        "load_average_after": load_after,
        "scale": args.scale,
        "data": counts,
        "scenarios": [{**asdict(r), "path": path, "met": r.met} for r, path in results],
        "count_queries": [{key: value for key, value in timing.items() if key != "parameters"} for timing in queries],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"participation-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"Written to {path.relative_to(ROOT)}")
    if temporary is not None and not args.keep:
        with app.app_context():
            db.engine.dispose()
        temporary.cleanup()
    return report


if __name__ == "__main__":
    main()
