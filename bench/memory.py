"""Memory per gunicorn worker over 50,000 requests (DESIGN.md §6: <= 80 MiB per worker, flat).

    .venv/bin/python bench/memory.py                                 # fresh SQLite data (~10 s to build)
    .venv/bin/python bench/memory.py --database-url sqlite:////path/bench.sqlite3 --reuse

1. Data: the deliberation benchmark's (bench/deliberation.py: 150 elements, 20 versions, 10,000
   proposals, 100,000 comments...), unless `--reuse`.
2. Server: gunicorn `-k sync -w W` (default 2), as bench/run.py starts it.
3. Load: wrk (4 connections) asks, at random, for the pages that fill the in-process caches: every
   version permalink, 1,000 element permalinks, comparisons of random pairs of versions (190 pairs), random proposal pages
   (10,000), element pages with their timelines, the proposals list in every sort and many pages,
   the versions page, the Atom feed and the latest version. In segments of `--segment` seconds
   (default 5) until `--requests` (default 50,000) have been answered; after each segment the
   resident memory (VmRSS) of every worker is read from /proc.
4. Prints each worker's memory after each segment: PSS (its fair share: pages shared with the
   other workers and the master, such as Python's and OpenSSL's libraries, divided among them),
   RSS and USS; the budget is judged on the largest PSS, and memory must stay flat (the last half
   of the run grows by less than 5 %). Needs wrk and Linux /proc.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench import deliberation  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench.run import WRK_DONE, free_port, start_gunicorn, stop_gunicorn, wait_for_health, wait_for_workers, worker_pids, write_report  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Element, Proposal, Version, Vision  # noqa: E402

BUDGET_MIB = 80.0
FLAT_GROWTH = 0.05

WRK_SCRIPT = r"""
-- Random GETs from a list of paths; counts answers other than 200.
local threads = {}
wrong = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  paths = {}
  for line in io.lines(os.getenv("BENCH_PATHS")) do table.insert(paths, line) end
  math.randomseed(os.time() + #threads)
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  if status ~= 200 then wrong = wrong + 1 end
end
""" + WRK_DONE


def page_paths(url: str, seed: int) -> list[str]:
    """Every page kind that fills a cache, with as many distinct URLs as the data allows."""
    app = gen.make_app(url)
    rng = random.Random(seed)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        latest = db.session.scalar(select(func.max(Version.number)).where(Version.vision_id == vision.id))
        proposals = list(db.session.scalars(select(Proposal.id).where(Proposal.vision_id == vision.id, Proposal.hidden_at.is_(None))))
        keys = list(db.session.scalars(select(Element.key).where(Element.vision_id == vision.id)))
        db.session.remove()
        db.engine.dispose()
    base = f"/visions/{vision.slug}"
    paths = [f"{base}/", f"{base}/versions", f"{base}/feed.atom"]
    paths += [f"{base}/v/{n}/" for n in range(1, latest + 1)]
    paths += [f"{base}/v/{n}/{key}" for n in range(1, latest + 1) for key in rng.sample(keys, min(50, len(keys)))]
    paths += [f"{base}/compare/{a}...{b}" for a in range(1, latest) for b in range(a + 1, latest + 1)]
    paths += [f"/proposals/{p}" for p in rng.sample(proposals, min(2000, len(proposals)))]
    paths += [f"{base}/elements/{key}" for key in keys]
    paths += [f"{base}/proposals?sort={sort}&page={page}" for sort in ("newest", "oldest", "supported", "contested", "discussed") for page in range(1, 41)]
    return paths


def memory_mib(pid: int) -> dict[str, float] | None:
    """Resident memory of a process, in MiB: `rss` (every page it maps, shared libraries included),
    `pss` (shared pages divided among the processes sharing them: the fair share of each worker)
    and `uss` (pages only this process has). From /proc/<pid>/smaps_rollup."""
    fields = {"Rss": 0, "Pss": 0, "Private_Clean": 0, "Private_Dirty": 0}
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            name, _, rest = line.partition(":")
            if name in fields:
                fields[name] = int(rest.split()[0])
    except OSError:
        return None
    return {
        "rss": round(fields["Rss"] / 1024, 1),
        "pss": round(fields["Pss"] / 1024, 1),
        "uss": round((fields["Private_Clean"] + fields["Private_Dirty"]) / 1024, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--reuse", action="store_true", help="use the data an earlier deliberation run left")
    parser.add_argument("--requests", type=int, default=50_000)
    parser.add_argument("--segment", type=float, default=5.0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args(argv)
    if not shutil.which("wrk"):
        raise SystemExit("bench/memory.py needs wrk (apt-get install -y wrk).")

    url, temporary = gen.database_or_temporary(args.database_url, "memory")
    if not args.reuse:
        deliberation.generate(url, args.seed)
    workdir = tempfile.TemporaryDirectory(prefix="vw-memory-")
    paths_file = Path(workdir.name) / "paths.txt"
    paths = page_paths(url, args.seed)
    paths_file.write_text("".join(p + "\n" for p in paths))
    script = Path(workdir.name) / "pages.lua"
    script.write_text(WRK_SCRIPT)
    log_path = Path(workdir.name) / "gunicorn.log"

    port = free_port()
    process = start_gunicorn(url, port, args.workers, log_path)
    samples: list[dict[str, Any]] = []
    answered = wrong = errors = 0
    try:
        wait_for_health(port, process, log_path)
        pids = wait_for_workers(process.pid, args.workers)
        samples.append({"requests": 0, "workers": [memory_mib(p) for p in pids]})
        env = {**os.environ, "BENCH_PATHS": str(paths_file)}
        while answered < args.requests:
            command = ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.segment:g}s", "--timeout", "30s", "-s", str(script), f"http://127.0.0.1:{port}/"]
            output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
            line = next((l for l in output.splitlines() if l.startswith("BENCH_JSON ")), None)
            if line is None:
                raise SystemExit(f"wrk printed no figures:\n{output}")
            figures = json.loads(line.removeprefix("BENCH_JSON "))
            answered += figures["requests"]
            wrong += figures["wrong_status"]
            errors += figures["errors"]
            if sorted(worker_pids(process.pid)) != pids:
                raise SystemExit("a worker was replaced during the run (crashed or timed out): see the gunicorn log")
            sample = {"requests": answered, "workers": [memory_mib(p) for p in pids]}
            samples.append(sample)
            print(
                f"{answered:7,d} requests: "
                + "  ".join(f"worker {i + 1}: PSS {m['pss']:6.1f} (RSS {m['rss']:6.1f}, USS {m['uss']:6.1f}) MiB" for i, m in enumerate(sample["workers"])),
                flush=True,
            )
    finally:
        stop_gunicorn(process)

    peak = max(m["pss"] for s in samples[1:] for m in s["workers"])
    peak_rss = max(m["rss"] for s in samples[1:] for m in s["workers"])
    half = next(s for s in samples if s["requests"] >= answered / 2)
    growth = max((last["pss"] - mid["pss"]) / mid["pss"] for last, mid in zip(samples[-1]["workers"], half["workers"]))
    flat = growth < FLAT_GROWTH
    met = peak <= BUDGET_MIB and flat and not wrong and not errors
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nDatabase: {dialect}; gunicorn -k sync -w {args.workers}; {len(paths):,} distinct pages; {answered:,} requests")
    print(f"Largest worker: PSS {peak:.1f} MiB (budget {BUDGET_MIB:.0f}; RSS {peak_rss:.1f} MiB, shared libraries counted whole); growth over the second half: {growth * 100:.1f} % (flat below {FLAT_GROWTH * 100:.0f} %)")
    print(f"Answers other than 200: {wrong}; connection errors: {errors}")
    print(f"Goal: {'MET' if met else 'MISSED'}")
    write_report("memory", dialect, {
        "workers": args.workers, "pages": len(paths), "requests": answered, "samples": samples, "peak_pss_mib": peak,
        "peak_rss_mib": peak_rss, "growth": growth, "wrong_status": wrong, "errors": errors, "met": met,
    })  # fmt: skip
    workdir.cleanup()
    if temporary is not None:
        temporary.cleanup()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
