"""Benchmark the public permalinks under gunicorn: throughput and latency against a trivial route.

    .venv/bin/python bench/run.py [--database-url URL] [--requests N] [--concurrency C] [--duration S]

1. Generates the benchmark vision (bench/generate.py: 150 elements, 20 published versions) into a
   fresh SQLite file (default) or the given database (PostgreSQL: use an empty database).
2. Starts gunicorn (`-k sync -w 2`, 127.0.0.1 on a free port) with WORKBENCH_DATABASE_URL and
   WORKBENCH_SECRET_KEY in its environment, and waits for /health.
3. Checks each scenario answers as it should (status, strong ETag, immutable Cache-Control), then,
   for each round, warms it up and loads it with C connections: with `wrk` when it is installed, for
   a bounded duration (--duration, default 3 s; wrk cannot stop after a request count), else with a
   Python load generator sending exactly N requests (--requests; C processes, http.client). Every
   request carries a browser's Accept-Encoding. 5 interleaved rounds; medians are reported.
4. Prints requests/s, p50 and p95 latency, and the CPU milliseconds per request of the server and
   of the load generator, for each scenario; the ratios to the trivial route; and whether the goal
   "permalink >= 0.8x trivial" is met. Writes the same as JSON to bench/out/. gunicorn is always
   stopped at the end. See bench/README.md for how to read the figures.

Scenarios: the trivial route `/health`; the version permalink `/visions/<slug>/v/10/`; its 304
revalidation (`If-None-Match` with its ETag); the latest version `/visions/<slug>/` (a dynamic page).
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402

OUT = ROOT / "bench" / "out"
GOAL = 0.8  # DESIGN.md §6: immutable permalink pages >= 0.8x the throughput of a trivial route
PERMALINK_VERSION = 10


@dataclass
class Scenario:
    name: str
    path: str
    expect_status: int
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class Measurement:
    requests: int
    seconds: float
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    wrong_status: int
    errors: int
    cpu_ms_per_request: float | None
    client_cpu_ms_per_request: float | None = None


# --- gunicorn -------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_gunicorn(
    database_url: str,
    port: int,
    workers: int,
    log_path: Path,
    wsgi: str = "wsgi:app",
    pythonpath: str | None = None,
    *,
    secret_key: str | None = None,
    settings: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """gunicorn serving the app; `settings` are extra WORKBENCH_* environment variables."""
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_SECRET_KEY": secret_key or secrets.token_hex(32),
        "WORKBENCH_PUBLIC_URL": f"http://127.0.0.1:{port}",
        # Several workers must share their rate-limit counts (gunicorn.conf.py refuses memory://).
        "WORKBENCH_RATELIMIT_STORAGE_URI": os.environ.get("WORKBENCH_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14"),
        "PYTHONDONTWRITEBYTECODE": "1",
        **(settings or {}),
    }
    command = [
        sys.executable, "-m", "gunicorn",
        "-k", "sync", "-w", str(workers),
        "-b", f"127.0.0.1:{port}",
        "--chdir", str(ROOT),
        "--config", str(ROOT / "gunicorn.conf.py"),  # as production: the app preloaded, workers forked
        "--log-level", "warning",
        *(["--pythonpath", pythonpath] if pythonpath else []),
        wsgi,
    ]  # fmt: skip
    log = open(log_path, "wb")  # noqa: SIM115 - closed by the child's exit; kept for the report
    return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)


def stop_gunicorn(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)  # gunicorn: graceful shutdown of the master and its workers
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only gunicorn and its workers
        process.wait(timeout=5)


def wait_for_health(port: int, process: subprocess.Popen[bytes], log_path: Path, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"gunicorn exited with status {process.returncode}:\n{log_path.read_text()[-3000:]}")
        try:
            status, _, _ = fetch(port, "/health")
            if status == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"gunicorn did not answer /health within {timeout:.0f} s:\n{log_path.read_text()[-3000:]}")


def wait_for_workers(master: int, count: int, timeout: float = 30) -> list[int]:
    """The workers' process ids once all `count` of them run (the first may answer before the rest
    are forked)."""
    deadline = time.time() + timeout
    while True:
        pids = sorted(worker_pids(master))
        if len(pids) >= count or time.time() > deadline:
            return pids
        time.sleep(0.05)


def worker_pids(master: int) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pids: list[int]) -> float | None:
    """User + system CPU time of these processes (Linux /proc), or None where /proc is not there."""
    total = 0
    try:
        for pid in pids:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
    except OSError:
        return None
    return total / os.sysconf("SC_CLK_TCK")


# --- HTTP -----------------------------------------------------------------------------------------


def fetch(port: int, path: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers=headers or {})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


# Sent with every request, as browsers do (a server may answer with a compressed body).
BROWSER_HEADERS = {"Accept-Encoding": "gzip, deflate, br"}


def preflight(port: int, slug: str, common: dict[str, str]) -> tuple[list[Scenario], dict[str, Any]]:
    """Check the pages answer as promised; return the scenarios (the 304 one carries the real ETag)."""
    permalink = f"/visions/{slug}/v/{PERMALINK_VERSION}/"
    status, headers, body = fetch(port, permalink, common)
    problems = []
    etag = headers.get("etag", "")
    if status != 200:
        problems.append(f"{permalink} answered {status}")
    if not etag or etag.startswith("W/"):
        problems.append(f"{permalink} has no strong ETag ({etag!r})")
    if "immutable" not in headers.get("cache-control", ""):
        problems.append(f"{permalink} Cache-Control is {headers.get('cache-control')!r}")
    status_304, _, body_304 = fetch(port, permalink, {**common, "If-None-Match": etag})
    if status_304 != 304 or body_304:
        problems.append(f"If-None-Match {etag} answered {status_304} with {len(body_304)} bytes")
    latest_status, latest_headers, latest_body = fetch(port, f"/visions/{slug}/", common)
    if latest_status != 200:
        problems.append(f"/visions/{slug}/ answered {latest_status}")
    if problems:
        raise SystemExit("The app does not answer as the benchmark expects:\n- " + "\n- ".join(problems))
    facts = {
        "permalink_bytes": len(body),
        "permalink_encoding": headers.get("content-encoding", "identity"),
        "latest_bytes": len(latest_body),
        "latest_encoding": latest_headers.get("content-encoding", "identity"),
        "etag": etag,
        "request_headers": common,
    }
    scenarios = [
        Scenario("trivial route /health", "/health", 200, dict(common)),
        Scenario(f"version permalink /v/{PERMALINK_VERSION}/", permalink, 200, dict(common)),
        Scenario(f"304 revalidation of /v/{PERMALINK_VERSION}/", permalink, 304, {**common, "If-None-Match": etag}),
        Scenario("latest version /visions/<slug>/", f"/visions/{slug}/", 200, dict(common)),
    ]
    return scenarios, facts


# --- load generators ------------------------------------------------------------------------------

# wrk's done() for every script here (each counts unexpected answers in a per-thread `wrong` and
# keeps its threads in `threads`): the figures of the run as one JSON line.
WRK_DONE = r"""
function done(summary, latency, requests)
  local wrong_total = 0
  for _, thread in ipairs(threads) do wrong_total = wrong_total + thread:get("wrong") end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"wrong_status": %d, "errors": %d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), wrong_total, e.connect + e.read + e.write + e.timeout))
end
"""

WRK_SCRIPT = r"""
-- Counts answers with an unexpected status; done() prints the figures as one JSON line.
local expected = tonumber(os.getenv("BENCH_EXPECT_STATUS"))
local threads = {}
count = 0
wrong = 0

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  local headers = os.getenv("BENCH_HEADERS") or ""
  for line in headers:gmatch("[^\n]+") do
    local name, value = line:match("^([^:]+):%s*(.*)$")
    wrk.headers[name] = value
  end
end

function response(status, headers, body)
  count = count + 1
  if status ~= expected then wrong = wrong + 1 end
end
""" + WRK_DONE


def run_wrk(port: int, scenario: Scenario, seconds: float, concurrency: int, threads: int, script: Path) -> Measurement:
    threads = max(1, min(threads, concurrency))
    env = {
        **os.environ,
        "BENCH_EXPECT_STATUS": str(scenario.expect_status),
        "BENCH_HEADERS": "\n".join(f"{k}: {v}" for k, v in scenario.headers.items()),
    }
    command = [
        "wrk", "-t", str(threads), "-c", str(concurrency), "-d", f"{seconds:g}s", "--timeout", "10s",
        "-s", str(script), f"http://127.0.0.1:{port}{scenario.path}",
    ]  # fmt: skip
    output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
    line = next((l for l in output.splitlines() if l.startswith("BENCH_JSON ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no figures:\n{output}")
    figures = json.loads(line.removeprefix("BENCH_JSON "))
    seconds = figures["duration_us"] / 1e6
    return Measurement(
        requests=figures["requests"],
        seconds=seconds,
        rps=figures["requests"] / seconds,
        p50_ms=figures["p50_us"] / 1000,
        p95_ms=figures["p95_us"] / 1000,
        p99_ms=figures["p99_us"] / 1000,
        wrong_status=figures["wrong_status"],
        errors=figures["errors"],
        cpu_ms_per_request=None,
    )


def wrk_version() -> str:
    result = subprocess.run(["wrk", "-v"], capture_output=True, text=True)
    return (result.stdout + result.stderr).splitlines()[0] if (result.stdout + result.stderr) else "wrk"


def _python_client(args: tuple[int, str, dict[str, str], int, int, Any]) -> tuple[list[float], int, int]:
    port, path, headers, count, expected, start = args
    start.wait()
    latencies: list[float] = []
    wrong = errors = 0
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    for _ in range(count):
        began = time.perf_counter()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            if response.status != expected:
                wrong += 1
            if response.will_close:
                connection.close()  # gunicorn's sync workers close each connection; reopen next time
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
        latencies.append(time.perf_counter() - began)
    connection.close()
    return latencies, wrong, errors


def run_python(port: int, scenario: Scenario, requests: int, concurrency: int) -> Measurement:
    shares = [requests // concurrency + (1 if i < requests % concurrency else 0) for i in range(concurrency)]
    with multiprocessing.Manager() as manager:
        start = manager.Barrier(concurrency + 1)
        with multiprocessing.Pool(concurrency) as pool:
            pending = pool.map_async(
                _python_client,
                [(port, scenario.path, scenario.headers, n, scenario.expect_status, start) for n in shares],
            )
            start.wait()
            began = time.perf_counter()
            results = pending.get(timeout=600)
            seconds = time.perf_counter() - began
    latencies = sorted(l for result in results for l in result[0])
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    return Measurement(
        requests=len(latencies),
        seconds=seconds,
        rps=len(latencies) / seconds,
        p50_ms=q[49] * 1000,
        p95_ms=q[94] * 1000,
        p99_ms=q[98] * 1000,
        wrong_status=sum(r[1] for r in results),
        errors=sum(r[2] for r in results),
        cpu_ms_per_request=None,
    )


# --- the run --------------------------------------------------------------------------------------


def children_cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # finished children: the load generator
    return usage.ru_utime + usage.ru_stime


def measure(args: argparse.Namespace, port: int, scenario: Scenario, pids: list[int], script: Path, *, warmup: bool = False) -> Measurement:
    before = cpu_seconds(pids)
    client_before = children_cpu_seconds()
    if args.loader == "wrk":
        seconds = max(1.0, args.duration / 5) if warmup else args.duration
        result = run_wrk(port, scenario, seconds, args.concurrency, args.threads, script)
    else:
        result = run_python(port, scenario, args.warmup if warmup else args.requests, args.concurrency)
    after = cpu_seconds(pids)
    if before is not None and after is not None and result.requests:
        result.cpu_ms_per_request = (after - before) * 1000 / result.requests
    if result.requests:
        result.client_cpu_ms_per_request = (children_cpu_seconds() - client_before) * 1000 / result.requests
    return result


def median_of(rounds: list[Measurement]) -> dict[str, Any]:
    def med(name: str) -> float | None:
        values = [getattr(r, name) for r in rounds if getattr(r, name) is not None]
        return statistics.median(values) if values else None

    return {
        "requests": sum(r.requests for r in rounds),
        "rps": med("rps"),
        "p50_ms": med("p50_ms"),
        "p95_ms": med("p95_ms"),
        "p99_ms": med("p99_ms"),
        "cpu_ms_per_request": med("cpu_ms_per_request"),
        "client_cpu_ms_per_request": med("client_cpu_ms_per_request"),
        "wrong_status": sum(r.wrong_status for r in rounds),
        "errors": sum(r.errors for r in rounds),
    }


def write_report(name: str, dialect: str, report: dict[str, Any]) -> Path:
    """Write a benchmark's figures, with the machine they were measured on, to bench/out/ as JSON."""
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"{name}-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    machine = {"python": platform.python_version(), "machine": platform.machine(), "cpus": os.cpu_count(), "load_average": os.getloadavg()}
    path.write_text(json.dumps({"database": dialect, **machine, **report}, indent=2))
    print(f"Written to {path.relative_to(ROOT)}")
    return path


def describe_database(url: str) -> str:
    return "postgresql" if url.startswith("postgresql") else "sqlite" if url.startswith("sqlite") else url.split(":", 1)[0]


def cpu_bound_ratio(result: dict[str, Any], base: dict[str, Any]) -> float | None:
    """Throughput relative to the trivial route were the CPUs the only limit: its (server + load
    generator) CPU per request over this scenario's. Steady when the machine is busy with other work."""
    parts = ("cpu_ms_per_request", "client_cpu_ms_per_request")
    if any(result[p] is None or base[p] is None for p in parts):
        return None
    return sum(base[p] for p in parts) / sum(result[p] for p in parts)


def print_table(results: dict[str, dict[str, Any]], trivial: str) -> None:
    base = results[trivial]
    print(f"{'':<36} {'':>8} {'':>7} {'':>7} {'CPU ms per request':^17} {'x trivial':^16}")
    header = f"{'scenario':<36} {'req/s':>8} {'p50 ms':>7} {'p95 ms':>7} {'server':>8} {'load':>8} {'req/s':>7} {'CPU':>8}"
    print(header)
    print("-" * len(header))

    def number(value: float | None, form: str) -> str:
        return "n/a" if value is None else format(value, form)

    for name, r in results.items():
        print(
            f"{name:<36} {r['rps']:>8.0f} {r['p50_ms']:>7.2f} {r['p95_ms']:>7.2f} "
            f"{number(r['cpu_ms_per_request'], '.3f'):>8} {number(r['client_cpu_ms_per_request'], '.3f'):>8} "
            f"{r['rps'] / base['rps']:>6.2f}x {number(cpu_bound_ratio(r, base), '.2f'):>7}x"
        )
        if r["wrong_status"] or r["errors"]:
            print(f"  !! {r['wrong_status']} unexpected statuses, {r['errors']} socket errors")
    print(
        "\nCPU ms per request: gunicorn workers (server) and the load generator (load). "
        "x trivial CPU: the req/s ratio to expect when the CPUs are the only limit."
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Benchmark the permalinks against a trivial route under gunicorn.")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--requests", type=int, default=3000, help="Python loader: requests per scenario and round (default 3000)")
    parser.add_argument("--warmup", type=int, default=300, help="Python loader: warm-up requests per scenario and round")
    parser.add_argument("--duration", type=float, default=3, help="wrk: seconds per scenario and round (default 3; warm-up a fifth of it, at least 1)")
    parser.add_argument("--concurrency", type=int, default=4, help="open connections (default 4)")
    parser.add_argument("--rounds", type=int, default=5, help="rounds over all scenarios; medians are reported (default 5)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers (default 2)")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads (default 1)")
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--wsgi", default="wsgi:app", help="the app gunicorn serves (to measure a patched app)")
    parser.add_argument("--pythonpath", help="a directory gunicorn adds to the import path (for --wsgi)")
    parser.add_argument("--identity-encoding", action="store_true", help="do not send a browser's Accept-Encoding")
    parser.add_argument("--reuse", action="store_true", help="use the benchmark vision already in --database-url")
    parser.add_argument("--keep", action="store_true", help="keep the temporary SQLite database")
    args = parser.parse_args(argv)
    if args.loader == "auto":
        args.loader = "wrk" if shutil.which("wrk") else "python"

    OUT.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix="workbench-bench-"))
    database_url = args.database_url or f"sqlite:///{workdir / 'bench.sqlite3'}"
    backend = describe_database(database_url)

    if args.reuse:
        print(f"Reusing the benchmark vision in the {backend} database.")
    else:
        generated = gen.generate(database_url)
        print(
            f"Generated {generated.counts['elements']} elements and {generated.versions} versions "
            f"({generated.counts['edits']} edits) on {backend} in {generated.seconds:.1f} s."
        )

    port = free_port()
    log_path = workdir / "gunicorn.log"
    script = workdir / "bench.lua"
    script.write_text(WRK_SCRIPT)
    process = start_gunicorn(database_url, port, args.workers, log_path, args.wsgi, args.pythonpath)
    results: dict[str, dict[str, Any]] = {}
    rounds: dict[str, list[Measurement]] = {}
    try:
        wait_for_health(port, process, log_path)
        pids = wait_for_workers(process.pid, args.workers)
        scenarios, facts = preflight(port, gen.SLUG, {} if args.identity_encoding else BROWSER_HEADERS)
        per_round = (
            f"{args.duration:g} s (after {max(1.0, args.duration / 5):g} s of warm-up)"
            if args.loader == "wrk"
            else f"{args.requests} requests (after {args.warmup} warm-up requests)"
        )
        print(
            f"gunicorn -k sync -w {args.workers} on 127.0.0.1:{port}; load: {args.loader}, {args.concurrency} "
            f"connections, {args.rounds} round(s) of {per_round} per scenario; {os.cpu_count()} CPUs shared "
            "by the server and the load generator."
        )
        print(
            f"Permalink page: {facts['permalink_bytes']:,} bytes ({facts['permalink_encoding']}); latest page: "
            f"{facts['latest_bytes']:,} bytes ({facts['latest_encoding']}). Request headers: {facts['request_headers'] or 'none'}.\n"
        )
        for n in range(args.rounds):
            for scenario in scenarios:
                measure(args, port, scenario, pids, script, warmup=True)
                rounds.setdefault(scenario.name, []).append(measure(args, port, scenario, pids, script))
        for scenario in scenarios:
            results[scenario.name] = median_of(rounds[scenario.name])
    finally:
        stop_gunicorn(process)
        if not args.database_url and not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)

    trivial, permalink, revalidation, latest = (s.name for s in scenarios)
    print_table(results, trivial)
    ratio = results[permalink]["rps"] / results[trivial]["rps"]
    per_round = [p.rps / t.rps for p, t in zip(rounds[permalink], rounds[trivial], strict=True)]
    cpu_ratio = cpu_bound_ratio(results[permalink], results[trivial])
    met = ratio >= GOAL
    print(
        f"\nGoal: version permalink >= {GOAL}x the trivial route's requests/s: {'MET' if met else 'NOT MET'} "
        f"({ratio:.2f}x; each round: {', '.join(f'{r:.2f}x' for r in per_round)}; "
        f"CPU-bound estimate {'n/a' if cpu_ratio is None else f'{cpu_ratio:.2f}x'})."
    )
    print(f"304 revalidation: {results[revalidation]['rps'] / results[trivial]['rps']:.2f}x; latest page: "
          f"{results[latest]['rps'] / results[trivial]['rps']:.2f}x (dynamic; p95 {results[latest]['p95_ms']:.1f} ms).")
    bad = any(r["wrong_status"] or r["errors"] for r in results.values())
    if bad:
        print("Some requests failed or answered an unexpected status: the figures are not trustworthy.")

    stamp = time.strftime("%Y%m%d-%H%M%S")
    report = {
        "when": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        "database": backend,
        "command": " ".join([".venv/bin/python", "bench/run.py", *(argv if argv is not None else sys.argv[1:])]),
        "settings": {k: v for k, v in vars(args).items() if k != "database_url"},
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_at_end": os.getloadavg()},
        "loader_version": wrk_version() if args.loader == "wrk" else "python http.client",
        "pages": facts,
        "goal": {"permalink_vs_trivial": GOAL, "ratio": round(ratio, 3), "ratio_each_round": [round(r, 3) for r in per_round],
                 "cpu_bound_ratio": None if cpu_ratio is None else round(cpu_ratio, 3), "met": met},
        "scenarios": {
            s.name: {"path": s.path, "expect_status": s.expect_status, **results[s.name],
                     "rounds": [asdict(m) for m in rounds[s.name]]}
            for s in scenarios
        },
    }  # fmt: skip
    path = OUT / f"permalinks-{backend}-{stamp}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"Results written to {path.relative_to(ROOT)}")
    return 0 if met and not bad else 1


if __name__ == "__main__":
    sys.exit(main())
