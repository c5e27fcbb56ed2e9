"""Time the analysts' exports at the large benchmark scale, and the memory they take (issue 14).

    .venv/bin/python bench/exports.py                      # SQLite: a fresh file in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_exports'
    .venv/bin/python bench/exports.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_exports

1. Data: the deliberation benchmark's (bench/deliberation.py): the vision of 150 elements, 20,000
   people, 10,000 proposals, 300,000 votes and 100,000 comments and reflections. With `--reuse`
   an earlier run's data (of either benchmark) is measured as it is.
2. Each file is downloaded whole, in-process through the Flask test client (as a client reading
   the stream would; the bytes are counted and thrown away), `--rounds` times: wall and CPU
   seconds, rows, megabytes, and the memory it took:
   - RSS growth: the process's resident memory, sampled every 5 ms in a thread while the file
     is served, highest sample less the resident memory just before, for the first download of
     the file in the process ("RSS+ 1st") and the worst of the timed rounds after it ("RSS+");
     the budget: <= 50 MiB for the 100,000 comments;
   - Python peak: tracemalloc's peak of Python allocations during one more download (tracemalloc
     slows Python down, so that run is not timed).
   The site refuses an Excel file larger than `XLSX_CELL_LIMIT` cells (workbench/analysis/exports.py):
   the refusal of the comments is timed, then the limit is lifted to time the whole files (what
   `flask analysis export ... --format xlsx` costs).
3. Prints a table and writes JSON to bench/out/.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import threading
import time
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench import deliberation  # noqa: E402
from bench import generate as gen  # noqa: E402
from workbench.analysis import exports as analysis_exports  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Comment  # noqa: E402

OUT = ROOT / "bench" / "out"
MIB = 1024 * 1024
GROWTH_BUDGET_MIB = 50.0
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


@dataclass
class Result:
    scenario: str
    path: str
    rounds: int
    seconds_median: float
    cpu_seconds_median: float
    rows: int
    megabytes: float
    rss_growth_mib: float
    rss_growth_first_mib: float
    python_peak_mib: float
    budget_mib: float | None

    @property
    def within_budget(self) -> bool | None:
        return None if self.budget_mib is None else max(self.rss_growth_mib, self.rss_growth_first_mib) <= self.budget_mib


def rss_bytes() -> int:
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE_SIZE


class RssSampler:
    """The highest resident memory seen every `interval` seconds while it runs."""

    def __init__(self, interval: float = 0.005):
        self.interval, self.highest, self._stop = interval, 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.highest = max(self.highest, rss_bytes())
            time.sleep(self.interval)

    def __enter__(self) -> RssSampler:
        self.highest = rss_bytes()
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.highest = max(self.highest, rss_bytes())


def download(client: Any, path: str, expected: int = 200) -> tuple[int, int]:
    """Read the whole file as a client would: (bytes, line ends), keeping none of it. CSV records
    end in CRLF (a line break inside a text is a bare LF), JSON rows in LF."""
    response = client.get(path)
    if response.status_code != expected:
        raise SystemExit(f"{path} answered {response.status_code}, not {expected}")
    size = lines = 0
    ending = b"\r\n" if path.endswith(".csv") else b"\n"
    for chunk in response.response:
        size += len(chunk)
        lines += chunk.count(ending)  # the pieces end at the ends of rows
    response.close()
    return size, lines


def rows_of(path: str, lines: int) -> int | str:
    """Data rows: CSV records less the header, JSON lines less the head and the closing line;
    XLSX is not counted here."""
    if path.endswith(".csv"):
        return lines - 1
    if path.endswith(".json"):
        return lines - 2
    return 0


def run(client: Any, name: str, path: str, rounds: int, budget: float | None, expected: int = 200) -> Result:
    import statistics

    before = rss_bytes()
    with RssSampler() as sampler:
        download(client, path, expected)  # the first: templates, caches, the database's pages warm up
    first_growth = (sampler.highest - before) / MIB
    timings, cpu, growth = [], [], []
    size = lines = 0
    for _ in range(rounds):
        before = rss_bytes()
        started, started_cpu = time.perf_counter(), time.process_time()
        with RssSampler() as sampler:
            size, lines = download(client, path, expected)
        timings.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
        growth.append((sampler.highest - before) / MIB)
    tracemalloc.start()
    try:
        download(client, path, expected)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    result = Result(
        name, path, rounds, round(statistics.median(timings), 2), round(statistics.median(cpu), 2), rows_of(path, lines),
        round(size / 1e6, 1), round(max(growth), 1), round(first_growth, 1), round(peak / MIB, 1), budget,
    )
    print(
        f"{name:<52} {result.seconds_median:>7.2f} {result.cpu_seconds_median:>7.2f} {result.rows:>8} "
        f"{result.megabytes:>7.1f} {result.rss_growth_first_mib:>9.1f} {result.rss_growth_mib:>8.1f} {result.python_peak_mib:>8.1f}",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> list[Result]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--reuse", action="store_true", help="measure the data an earlier run left in the database")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--skip-xlsx", action="store_true", help="leave out the Excel files (seconds each)")
    args = parser.parse_args(argv)

    url, temporary = gen.database_or_temporary(args.database_url, "exports")
    if not args.reuse:
        deliberation.generate(url, args.seed)
    app = gen.make_app(url)
    found = deliberation.targets(app)
    with app.app_context():
        comments = db.session.scalar(select(func.count(Comment.id)))
        db.session.remove()
    anonymous = app.test_client()
    facilitator = deliberation.signed_in(app, found["facilitator"])
    data = f"/visions/{found['slug']}/data"
    scenarios = [
        (anonymous, f"comments, CSV ({comments:,} in the database)", f"{data}/comments.csv", GROWTH_BUDGET_MIB),
        (anonymous, "comments, JSON", f"{data}/comments.json", GROWTH_BUDGET_MIB),
        (facilitator, "comments, CSV, facilitators' (hidden included)", f"{data}/facilitators/comments.csv", GROWTH_BUDGET_MIB),
        (anonymous, "proposals, CSV", f"{data}/proposals.csv", GROWTH_BUDGET_MIB),
        (anonymous, "proposals, JSON", f"{data}/proposals.json", GROWTH_BUDGET_MIB),
        (anonymous, "votes per proposal, CSV", f"{data}/votes.csv", GROWTH_BUDGET_MIB),
        (anonymous, "participants, CSV", f"{data}/participants.csv", GROWTH_BUDGET_MIB),
        (anonymous, "data package", f"{data}/datapackage.json", None),
    ]
    if not args.skip_xlsx:
        # The site refuses an Excel file over XLSX_CELL_LIMIT cells (comments: the refusal is timed);
        # the limit is then lifted to time what building the whole file costs (the command line's case).
        scenarios += [
            (facilitator, "comments, XLSX, refused over the cell limit", f"{data}/facilitators/comments.xlsx", None),
            (facilitator, "comments, XLSX, facilitators' (limit lifted)", f"{data}/facilitators/comments.xlsx", GROWTH_BUDGET_MIB),
            (facilitator, "proposals, XLSX, facilitators' (limit lifted)", f"{data}/facilitators/proposals.xlsx", GROWTH_BUDGET_MIB),
        ]
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nExports on {dialect}, {args.rounds} rounds each (median seconds; memory: the worst round)\n")
    print(f"{'file':<52} {'wall s':>7} {'CPU s':>7} {'rows':>8} {'MB':>7} {'RSS+ 1st':>9} {'RSS+MiB':>8} {'py MiB':>8}")
    print("-" * 113)
    results = []
    for client, name, path, budget in scenarios:
        if "limit lifted" in name:
            analysis_exports.XLSX_CELL_LIMIT = 10**12
        results.append(run(client, name, path, args.rounds, budget, expected=400 if "refused" in name else 200))
    failing = [r.scenario for r in results if r.within_budget is False]
    print(f"\nMemory budget (growth <= {GROWTH_BUDGET_MIB:.0f} MiB): " + ("met by every file" if not failing else f"NOT met: {failing}"))
    OUT.mkdir(parents=True, exist_ok=True)
    target = OUT / f"exports-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    target.write_text(
        json.dumps(
            {
                "database": dialect,
                "python": platform.python_version(),
                "comments": comments,
                "results": [asdict(r) | {"within_budget": r.within_budget} for r in results],
            },
            indent=2,
        )
    )
    print(f"Written to {target.relative_to(ROOT)}")
    if temporary is not None:
        temporary.cleanup()
    return results


if __name__ == "__main__":
    main()
