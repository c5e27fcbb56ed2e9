"""The run the in-process page benchmarks share (bench/queue_scale.py, search.py, coding.py): their
options, the database (a temporary SQLite file unless one is named), the scenarios measured one after
another (`facilitation.measure`: server time through the Flask test client), the table of results,
and the same as JSON in bench/out/. A benchmark brings its data and its scenarios.
"""

from __future__ import annotations

import argparse
import json
import platform
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bench import generate as gen
from bench.facilitation import Result, measure
from workbench.extensions import db

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "bench" / "out"


@dataclass(frozen=True)
class Scenario:
    """One page to time: who asks (a test client), what it is called and its path; `options` go to
    `facilitation.measure` (`cold=True`: caches emptied before each request; `budget`)."""

    client: Any
    name: str
    path: str
    options: dict[str, Any] = field(default_factory=dict)


def options(description: str, *, requests: int = 100, warmup: int = 10, scale: bool = True) -> argparse.ArgumentParser:
    """A parser with the options every page benchmark takes; a benchmark adds its own."""
    parser = argparse.ArgumentParser(description=description)
    if scale:
        parser.add_argument("--scale", type=int, default=1, help="times the large scale")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--requests", type=int, default=requests)
    parser.add_argument("--warmup", type=int, default=warmup)
    parser.add_argument("--reuse", action="store_true", help="measure the data an earlier run left in the database")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite file (its path is printed)")
    parser.add_argument("--only", help="measure only the scenarios whose name contains this")
    parser.add_argument("--seed", type=int, default=2025)
    return parser


def app_for(url: str, args: argparse.Namespace) -> Any:
    """The app on the benchmark's database; with `--reuse`, its schema brought to the latest
    migration first (data an earlier run left may predate a migration the code reads) and the
    planner's statistics gathered again (`generate.gather_statistics`)."""
    app = gen.make_app(url)
    if args.reuse:
        gen.migrate(app)
        with app.app_context():
            gen.gather_statistics()
    return app


def database(args: argparse.Namespace, name: str) -> tuple[str, Any]:
    """The database URL and the temporary directory holding it (None for a named database); with
    `--keep` the directory outlives the run and its URL is printed, for `--reuse`."""
    url, temporary = gen.database_or_temporary(args.database_url, name)
    if temporary is not None and args.keep:
        temporary._finalizer.detach()  # noqa: SLF001 (keep the directory: --reuse it later)
        print(f"Keeping the data in {url}")
    return url, temporary


def run(app: Any, scenarios: list[Scenario], args: argparse.Namespace, width: int = 60) -> list[tuple[Result, Scenario]]:
    """Each scenario (those whose name holds `--only`) measured in turn, a line printed as each ends."""
    chosen = [s for s in scenarios if not args.only or args.only in s.name]
    results = []
    for scenario in chosen:
        options = {"warmup": args.warmup, "requests": args.requests, **scenario.options}
        r = measure(app, scenario.client, scenario.name, scenario.path, **options)
        results.append((r, scenario))
        print(f"  {scenario.name:{width}} p95 {r.p95_ms:7.2f} ms, CPU p95 {r.cpu_p95_ms:7.2f} ms, {r.queries} statements  ({scenario.path})", flush=True)
    return results


def dialect_of(url: str) -> str:
    return url.split(":", 1)[0].split("+", 1)[0]


def print_table(results: list[tuple[Result, Scenario]], url: str, args: argparse.Namespace, width: int = 62) -> None:
    scale = f"; scale {args.scale}x" if hasattr(args, "scale") else ""
    print(f"\nDatabase: {dialect_of(url)}{scale}; {args.requests} timed requests per scenario after {args.warmup} to warm up; "
          "server time in-process (CPU: this process's, not the database server's).")
    print(f"{'scenario':{width}} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU p50':>8} {'CPU p95':>8} {'queries':>7}  budget")
    for r, _ in results:
        verdict = "" if r.met is None else ("p95 <= 50 ms: MET" if r.met else "p95 <= 50 ms: MISSED")
        print(f"{r.scenario[:width]:{width}} {r.p50_ms:7.2f} {r.p95_ms:7.2f} {r.p99_ms:7.2f} {r.cpu_p50_ms:8.2f} {r.cpu_p95_ms:8.2f} {r.queries:7d}  {verdict}")


def write_report(kind: str, url: str, args: argparse.Namespace, data: Any, results: list[tuple[Result, Scenario]]) -> dict[str, Any]:
    """The results as JSON in bench/out/`kind`-<database>-<scale>x-<time>.json; returned."""
    scale = getattr(args, "scale", None)
    report = {
        "database": dialect_of(url), "scale": scale, "python": platform.python_version(), "machine": platform.machine(),
        "requests": args.requests, "warmup": args.warmup, "data": data,
        "scenarios": [{**asdict(r), "path": s.path, "met": r.met} for r, s in results],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    scaled = f"-{scale}x" if scale is not None else ""
    path = OUT / f"{kind}-{dialect_of(url)}{scaled}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"Written to {path.relative_to(ROOT)}")
    return report


def close(app: Any, temporary: Any, args: argparse.Namespace) -> None:
    """The temporary database removed, unless `--keep`."""
    if temporary is not None and not args.keep:
        with app.app_context():
            db.engine.dispose()
        temporary.cleanup()
