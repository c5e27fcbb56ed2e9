"""Time publishing a version of 150 elements with provenance and signing (issue 18; budget: <= 1 s).

    .venv/bin/python bench/publish_provenance.py                  # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/publish_provenance.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_provenance

1. Data: bench/generate.py's vision of 150 elements (40 to 100 words each).
2. Three cases, each `--runs` times (default 10) after 2 to warm up, each rolled back so the data
   stays as it was: version 1 (every element attributed from its first text); version 2 after
   every element was reworded (each element's spans carried through one word diff); version 2
   after about 10 elements were reworded (the others copy their spans). The whole `publish_version`
   is timed (snapshot, hashes, Ed25519 signature, changelog, provenance, flushed) and, apart,
   `who_wrote.record_provenance` alone.
3. Prints p50/p95 wall-clock milliseconds and whether the budget is met.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402
from workbench.drafting.publishing import publish_version  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.history import who_wrote  # noqa: E402
from workbench.models import User, Vision  # noqa: E402

BUDGET_MS = 1000.0
SLUG = "bench-provenance"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args(argv)
    url, temporary = gen.database_or_temporary(args.database_url, "provenance")
    app = gen.make_app(url)
    gen.migrate(app)
    with app.app_context():
        actor = gen.generate_facilitator()
        vision = gen.generate_vision(random.Random(18), actor, slug=SLUG)
        db.session.commit()
        vision_id, actor_id = vision.id, actor.id

    provenance_ms: list[float] = []
    original = who_wrote.record_provenance

    def timed_record(*a, **k):
        started = time.perf_counter()
        try:
            return original(*a, **k)
        finally:
            provenance_ms.append((time.perf_counter() - started) * 1000)

    # publish_version calls it by the name it imported.
    import workbench.drafting.publishing as publishing

    publishing.record_provenance = timed_record

    def case(name: str, prepare) -> tuple[str, list[float], list[float]]:
        totals: list[float] = []
        provenance_ms.clear()
        with app.app_context():
            for run in range(2 + args.runs):
                vision = db.session.get(Vision, vision_id)
                actor = db.session.get(User, actor_id)
                prepare(vision, actor)
                started = time.perf_counter()
                publish_version(vision, actor=actor, notes="Bench.")
                elapsed = (time.perf_counter() - started) * 1000
                db.session.rollback()
                db.session.expire_all()
                if run >= 2:
                    totals.append(elapsed)
        return name, totals, provenance_ms[2:]

    results = [case("version 1: 150 elements, all new", lambda vision, actor: None)]
    with app.app_context():
        publish_version(db.session.get(Vision, vision_id), actor=db.session.get(User, actor_id), notes="First.")
        db.session.commit()
    results.append(case("version 2: all 150 elements reworded",
                        lambda vision, actor: gen.generate_edits(random.Random(2), vision, actor, changes=150)))
    results.append(case("version 2: about 10 elements reworded",
                        lambda vision, actor: gen.generate_edits(random.Random(3), vision, actor, changes=10)))

    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nDatabase: {dialect}; {args.runs} timed runs after 2 to warm up.")
    met = True
    for name, totals, provenance in results:
        p50, p95 = statistics.median(totals), statistics.quantiles(totals, n=20)[-1]
        met = met and p95 <= BUDGET_MS
        verdict = "MET" if p95 <= BUDGET_MS else "MISSED"
        print(f"{name:40} publish p50 {p50:7.1f} ms  p95 {p95:7.1f} ms  (of which provenance p50 "
              f"{statistics.median(provenance):6.1f} ms)  budget p95 <= {BUDGET_MS:.0f} ms: {verdict}")
    if temporary is not None:
        temporary.cleanup()
    return 0 if met else 1


if __name__ == "__main__":
    raise SystemExit(main())
