"""Votes per second under gunicorn: concurrent voters on SQLite (DESIGN.md §6: >= 800 writes/s from
16 concurrent clients, with no "database is locked" error).

    .venv/bin/python bench/votes.py                                  # fresh SQLite data (~10 s to build)
    .venv/bin/python bench/votes.py --database-url sqlite:////path/bench.sqlite3 --reuse
    .venv/bin/python bench/votes.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_delib --reuse
    .venv/bin/python bench/votes.py --database-url sqlite:////path/bench.sqlite3 --reuse --profile 3000

1. Data: the deliberation benchmark's (bench/deliberation.py: 20,000 people, 10,000 proposals,
   300,000 votes), unless `--reuse`.
2. Server: gunicorn `-k sync -w W` (default 2) on 127.0.0.1, as bench/run.py starts it. The vote
   rate limit stays on, raised to 1,000,000/minute: the limiter's own cost is part of a vote's, but
   one account here votes far faster than a person can.
3. Load: C clients (default 16; wrk with one connection a thread when it is installed, else C
   Python processes), each signed in as a different volunteer (a session cookie signed with the
   server's key, as the sign-in page sets it: Flask-Login's browser mark `_id` included, so the
   server reads it unchanged and sends no new cookie), each sending as htmx does `POST /proposals/<id>/vote` with its CSRF token: support,
   oppose or clear in turn, on proposals picked at random among the open ones (never its own), so
   every request changes a vote (a write) and recounts the tallies. `--duration` seconds (default
   10) after `--warmup` seconds (default 2), `--rounds` times (default 3).
4. Checks: every answer must be 200 (anything else is counted and shown with its body's first
   line), the server log must hold no "database is locked" (nor any traceback), and afterwards
   every voted proposal's tallies must equal its counted votes, one row per person and proposal.
5. Prints writes/s per round (with the load average) and their median, latency p50/p95/p99, the
   server's CPU ms per write and wrk's own, and what the cores allow at that cost: cores x 1,000 /
   (server + load generator CPU ms per write), the steady figure on a machine shared with other work.

`--profile N` instead sends N votes through the app inside this process (no HTTP server, the same
settings, rate limits counted in Redis as the server's are) and prints the CPU ms per vote of each
part of the request and the SQL statements per vote: where the server's CPU per write goes.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select  # noqa: E402

from bench import deliberation  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench.run import WRK_DONE, children_cpu_seconds, cpu_seconds, free_port, start_gunicorn, stop_gunicorn, wait_for_health, wait_for_workers, write_report  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Proposal, ProposalStatus, Role, User, Vision, Vote  # noqa: E402

GOAL_WRITES_PER_SECOND = 800
VALUES = ("support", "oppose", "clear")


def voters_and_proposals(url: str, clients: int, secret_key: str, seed: int) -> tuple[list[dict[str, Any]], list[int]]:
    """A signed session cookie and CSRF token for `clients` volunteers, and open proposals none of them wrote."""
    from itsdangerous import URLSafeTimedSerializer

    app = gen.make_app(url)
    app.secret_key = secret_key
    app.config["SECRET_KEY"] = secret_key
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        people = db.session.execute(
            select(User.id, User.session_token).where(User.role == Role.VOLUNTEER.value, User.is_deactivated.is_(False)).order_by(User.id.desc()).limit(clients)
        ).all()
        ids = [p.id for p in people]
        proposals = list(
            db.session.scalars(
                select(Proposal.id).where(
                    Proposal.vision_id == vision.id,
                    Proposal.status == ProposalStatus.OPEN.value,
                    Proposal.hidden_at.is_(None),
                    Proposal.author_id.not_in(ids),
                )
            )
        )
        db.session.remove()
    serializer = app.session_interface.get_signing_serializer(app)
    cookie_name = app.config["SESSION_COOKIE_NAME"]
    voters = []
    for person in people:
        raw = secrets.token_hex(20)
        cookie = serializer.dumps({**signed_in_session(app, person.session_token), "csrf_token": raw})
        csrf = URLSafeTimedSerializer(secret_key, salt="wtf-csrf-token").dumps(raw)
        voters.append({"cookie": f"{cookie_name}={cookie}", "csrf": csrf})
    random.Random(seed).shuffle(proposals)
    return voters, proposals


def signed_in_session(app: Any, session_token: str) -> dict[str, Any]:
    """The session the sign-in page leaves for a person, as Flask-Login writes it: with `_id`, the
    mark of the browser (client address and User-Agent; the load generators send none), so the
    server reads it unchanged and sets no new cookie, as it does for a real signed-in browser."""
    from flask import session
    from flask_login import login_user

    class Person:  # what login_user needs of a user
        is_active = True

        def get_id(self) -> str:
            return session_token

    with app.test_request_context("/", base_url="http://127.0.0.1", environ_base={"REMOTE_ADDR": "127.0.0.1"}):
        login_user(Person())
        return dict(session)


def _client(job: tuple[int, dict[str, Any], list[int], float, float, int, Any]) -> dict[str, Any]:
    """One voter: votes as fast as the server answers until `stop_at`; timings after `measure_from`."""
    port, voter, proposals, measure_from, stop_at, seed, barrier = job
    rng = random.Random(seed)
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {
        "Cookie": voter["cookie"],
        "HX-Request": "true",
        "Content-Type": "application/x-www-form-urlencoded",
    }
    latencies: list[float] = []
    wrong: dict[str, int] = {}
    errors = 0
    turn = 0
    barrier.wait()
    while True:
        now = time.time()
        if now >= stop_at:
            break
        proposal = rng.choice(proposals)
        body = urlencode({"value": VALUES[turn % 3], "csrf_token": voter["csrf"]})
        turn += 1
        started = time.perf_counter()
        try:
            connection.request("POST", f"/proposals/{proposal}/vote", body=body, headers=headers)
            response = connection.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException):
            errors += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            continue
        elapsed = (time.perf_counter() - started) * 1000
        if now >= measure_from:
            if response.status == 200:
                latencies.append(elapsed)
            else:
                first = content.decode("utf-8", "replace").strip().splitlines()[:1]
                key = f"{response.status} {first[0][:120] if first else ''}"
                wrong[key] = wrong.get(key, 0) + 1
    connection.close()
    return {"latencies": latencies, "wrong": wrong, "errors": errors}


WRK_SCRIPT = r"""
-- One voter per connection (wrk -t C -c C: one connection a thread), votes on random proposals.
local counter = 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

local function lines(path)
  local found = {}
  for line in io.lines(path) do table.insert(found, line) end
  return found
end

function init(args)
  local voters = lines(os.getenv("BENCH_VOTERS"))
  local cookie, csrf = voters[id]:match("([^\t]+)\t([^\t]+)")
  proposals = lines(os.getenv("BENCH_PROPOSALS"))
  headers = {["Cookie"] = cookie, ["HX-Request"] = "true", ["Content-Type"] = "application/x-www-form-urlencoded"}
  token = csrf
  values = {"support", "oppose", "clear"}
  turn = 0
  wrong = 0
  math.randomseed(id * 7919 + os.time())
end

function request()
  turn = turn + 1
  local proposal = proposals[math.random(#proposals)]
  local body = "value=" .. values[turn % 3 + 1] .. "&csrf_token=" .. token
  return wrk.format("POST", "/proposals/" .. proposal .. "/vote", headers, body)
end

function response(status, headers, body)
  if status ~= 200 then wrong = wrong + 1 end
end
""" + WRK_DONE


def run_round_wrk(port: int, voters: list[dict[str, Any]], proposals: list[int], warmup: float, duration: float, pids: list[int], workdir: Path) -> dict[str, Any]:
    """The same load with wrk (C, a fraction of the Python clients' CPU): one connection per voter."""
    script = workdir / "votes.lua"
    script.write_text(WRK_SCRIPT)
    voters_file, proposals_file = workdir / "voters.tsv", workdir / "proposals.txt"
    voters_file.write_text("".join(f"{v['cookie']}\t{v['csrf']}\n" for v in voters))
    proposals_file.write_text("".join(f"{p}\n" for p in proposals))
    env = {**os.environ, "BENCH_VOTERS": str(voters_file), "BENCH_PROPOSALS": str(proposals_file)}
    clients = len(voters)

    def wrk(seconds: float) -> dict[str, Any]:
        command = ["wrk", "-t", str(clients), "-c", str(clients), "-d", f"{seconds:g}s", "--timeout", "10s", "-s", str(script), f"http://127.0.0.1:{port}/"]
        output = subprocess.run(command, env=env, capture_output=True, text=True, check=True).stdout
        line = next((l for l in output.splitlines() if l.startswith("BENCH_JSON ")), None)
        if line is None:
            raise SystemExit(f"wrk printed no figures:\n{output}")
        return json.loads(line.removeprefix("BENCH_JSON "))

    if warmup > 0:
        wrk(max(1.0, warmup))
    cpu_before, loader_before = cpu_seconds(pids), children_cpu_seconds()
    figures = wrk(duration)
    cpu_after, loader_after = cpu_seconds(pids), children_cpu_seconds()
    return _round_figures(
        writes=figures["requests"] - figures["wrong_status"],
        seconds=figures["duration_us"] / 1e6,
        percentiles_ms=[round(figures[f"{p}_us"] / 1000, 2) for p in ("p50", "p95", "p99")],
        cpu_span=(cpu_before, cpu_after),
        loader_cpu_seconds=loader_after - loader_before,
        wrong={"non-200 (wrk counts them, not their text)": figures["wrong_status"]} if figures["wrong_status"] else {},
        errors=figures["errors"],
    )


def _round_figures(
    *,
    writes: int,
    seconds: float,
    percentiles_ms: list[float],
    cpu_span: tuple[float | None, float | None],
    wrong: dict[str, int],
    errors: int,
    loader_cpu_seconds: float | None = None,
) -> dict[str, Any]:
    """One round's figures as reported, from either load generator (only wrk's own CPU is measured:
    the Python clients also run before and after the measured span)."""
    before, after = cpu_span
    cpu_ms = round((after - before) * 1000 / writes, 2) if before is not None and after is not None and writes else None
    p50, p95, p99 = percentiles_ms
    return {
        "writes": writes,
        "writes_per_second": round(writes / seconds, 1),
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "server_cpu_ms_per_write": cpu_ms,
        "loader_cpu_ms_per_write": round(loader_cpu_seconds * 1000 / writes, 2) if loader_cpu_seconds is not None and writes else None,
        "load_average": round(os.getloadavg()[0], 2),
        "wrong_status": wrong,
        "connection_errors": errors,
    }


def run_round(port: int, voters: list[dict[str, Any]], proposals: list[int], warmup: float, duration: float, pids: list[int], seed: int) -> dict[str, Any]:
    clients = len(voters)
    with multiprocessing.Manager() as manager:
        barrier = manager.Barrier(clients + 1)
        start = time.time() + 1.0  # every process started and connected by then
        measure_from, stop_at = start + warmup, start + warmup + duration
        jobs = [(port, voter, proposals, measure_from, stop_at, seed + i, barrier) for i, voter in enumerate(voters)]
        with multiprocessing.Pool(clients) as pool:
            pending = pool.map_async(_client, jobs)
            barrier.wait()
            time.sleep(max(0.0, measure_from - time.time()))
            cpu_before = cpu_seconds(pids)
            time.sleep(max(0.0, stop_at - time.time()))
            cpu_after = cpu_seconds(pids)
            results = pending.get(timeout=duration + warmup + 60)
    latencies = sorted(ms for r in results for ms in r["latencies"])
    wrong: dict[str, int] = {}
    for r in results:
        for key, n in r["wrong"].items():
            wrong[key] = wrong.get(key, 0) + n
    writes = len(latencies)

    def pct(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2) if latencies else 0.0

    return _round_figures(
        writes=writes,
        seconds=duration,
        percentiles_ms=[pct(0.5), pct(0.95), pct(0.99)],
        cpu_span=(cpu_before, cpu_after),
        wrong=wrong,
        errors=sum(r["errors"] for r in results),
    )


def check_tallies(url: str) -> list[str]:
    """Every proposal's tallies equal its votes; one vote row per person and proposal."""
    app = gen.make_app(url)
    problems = []
    with app.app_context():
        counted = (
            select(Vote.proposal_id, func.count().filter(Vote.value == 1).label("s"), func.count().filter(Vote.value == -1).label("o"))
            .group_by(Vote.proposal_id)
            .subquery()
        )
        drifted = db.session.execute(
            select(Proposal.id, Proposal.support_count, Proposal.oppose_count, counted.c.s, counted.c.o)
            .join(counted, counted.c.proposal_id == Proposal.id)
            .where((Proposal.support_count != counted.c.s) | (Proposal.oppose_count != counted.c.o))
            .limit(5)
        ).all()
        problems += [f"proposal {r[0]}: tallies {r[1]}/{r[2]} but votes {r[3]}/{r[4]}" for r in drifted]
        twice = db.session.execute(
            select(Vote.proposal_id, Vote.user_id, func.count()).group_by(Vote.proposal_id, Vote.user_id).having(func.count() > 1).limit(5)
        ).all()
        problems += [f"proposal {r[0]}: {r[2]} vote rows for person {r[1]}" for r in twice]
        db.session.remove()
        db.engine.dispose()
    return problems


def cpu_bound(rounds: list[dict[str, Any]]) -> dict[str, Any] | None:
    """What the machine's cores allow were they busy with nothing but this server and its load
    generator: cores x 1,000 ms over the (server + load generator) CPU ms a write takes. Steadier than
    writes/s on a machine that other work shares."""
    server = [r["server_cpu_ms_per_write"] for r in rounds if r["server_cpu_ms_per_write"] is not None]
    loader = [r["loader_cpu_ms_per_write"] for r in rounds if r["loader_cpu_ms_per_write"] is not None]
    if not server or not loader:
        return None
    cores = os.cpu_count() or 1
    server_ms, loader_ms = statistics.median(server), statistics.median(loader)
    return {"cores": cores, "server_ms": server_ms, "loader_ms": loader_ms, "writes_per_second": cores * 1000 / (server_ms + loader_ms)}


# --- where a vote's CPU goes (--profile) ----------------------------------------------------------


class Parts:
    """CPU time of wrapped functions, each without the wrapped functions it calls (a stack)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._stack: list[float] = []

    def wrap(self, name: str, function: Any) -> Any:
        def timed(*args: Any, **kwargs: Any) -> Any:
            self._stack.append(0.0)
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                spent = time.process_time() - started
                inner = self._stack.pop()
                self.seconds[name] = self.seconds.get(name, 0.0) + spent - inner
                if self._stack:
                    self._stack[-1] += spent

        return timed

    def patch(self, owner: Any, attribute: str, name: str) -> None:
        if hasattr(owner, attribute):
            setattr(owner, attribute, self.wrap(name, getattr(owner, attribute)))


def profile(url: str, secret_key: str, voters: list[dict[str, Any]], proposals: list[int], count: int) -> None:
    """`--profile N`: N votes through the app in this process, as gunicorn hands them to it (no HTTP,
    no second worker), with the CPU each part of the request takes and the SQL statements per vote.
    The parts are entry points of the app and its libraries, wrapped here; "the rest" is Flask and
    Werkzeug themselves (contexts, request and response objects)."""
    import flask_login
    from sqlalchemy import event
    from sqlalchemy.orm import Session
    from werkzeug.test import EnvironBuilder

    from workbench import create_app, ready_to_serve
    from workbench.discussion import threads, votes
    from workbench.discussion import views as discussion_views
    from workbench.extensions import limiter, login_manager

    storage = os.environ.get("WORKBENCH_RATELIMIT_STORAGE_URI", "redis://127.0.0.1:6379/14")
    app = create_app({
        "DATABASE_URL": url, "SECRET_KEY": secret_key, "PUBLIC_URL": "http://127.0.0.1", "MIGRATIONS": False,
        "RATELIMIT_STORAGE_URI": storage, "RATELIMIT_VOTE": "1000000/minute",
    })  # fmt: skip
    ready_to_serve()
    rng = random.Random(time.time_ns())  # not the seed: a second run would repeat the first's votes, writing nothing

    def environ(i: int) -> dict[str, Any]:
        voter = voters[i % len(voters)]
        body = urlencode({"value": VALUES[(i // len(voters)) % 3], "csrf_token": voter["csrf"]})
        return EnvironBuilder(
            method="POST", path=f"/proposals/{rng.choice(proposals)}/vote", base_url="http://127.0.0.1",
            headers={"Cookie": voter["cookie"], "HX-Request": "true"}, data=body,
            content_type="application/x-www-form-urlencoded", environ_base={"REMOTE_ADDR": "127.0.0.1"},
        ).get_environ()  # fmt: skip

    answers: dict[str, int] = {}

    def vote(env: dict[str, Any]) -> None:
        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            answers[status] = answers.get(status, 0) + 1
            if any(name.lower() == "set-cookie" for name, _ in headers):
                answers["with Set-Cookie"] = answers.get("with Set-Cookie", 0) + 1

        body = app(env, start_response)
        b"".join(body)
        getattr(body, "close", lambda: None)()

    for env in [environ(i) for i in range(200)]:  # warm up: templates, compiled statements, pool
        vote(env)
    answers.clear()

    parts = Parts()
    app.session_interface.open_session = parts.wrap("session cookie: read", app.session_interface.open_session)  # type: ignore[method-assign]
    app.session_interface.save_session = parts.wrap("session cookie: save", app.session_interface.save_session)  # type: ignore[method-assign]
    for hooks, kind in ((app.before_request_funcs, "before"), (app.after_request_funcs, "after")):
        for key, functions in hooks.items():
            hooks[key] = [parts.wrap(f"{kind} request: {getattr(f, '__qualname__', None) or f.func.__qualname__}", f) for f in functions]
    parts.patch(limiter, "_check_request_limit", "Flask-Limiter: the vote's limit")
    parts.patch(limiter.limiter, "hit", "Flask-Limiter: counting (storage round trip)")
    login_manager._user_callback = parts.wrap("the person: user_loader (with BEGIN IMMEDIATE)", login_manager._user_callback)
    parts.patch(votes, "proposal_for_vote", "the proposal: proposal_for_vote")
    parts.patch(votes, "cast_vote", "the vote: cast_vote (vote and recount)")
    parts.patch(threads, "vote_panel", "the panel: vote_panel")
    parts.patch(discussion_views, "render_template", "the answer: render_template")
    parts.patch(Session, "commit", "COMMIT")
    parts.patch(app, "dispatch_request", "the vote view and its decorators (own code)")
    flask_login.utils._get_user = parts.wrap("Flask-Login: current_user", flask_login.utils._get_user)

    statements: dict[str, int] = {}
    with app.app_context():
        engine = db.engine

    def counted(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = " ".join(statement.split()[:4])
        statements[words] = statements.get(words, 0) + 1

    event.listen(engine, "before_cursor_execute", counted)
    environs = [environ(200 + i) for i in range(count)]
    started = time.process_time()
    for env in environs:
        vote(env)
    total = time.process_time() - started
    event.remove(engine, "before_cursor_execute", counted)

    per_vote = total * 1000 / count
    print(f"\nIn-process profile: {count} votes, rate limits counted in {storage}: {per_vote:.3f} ms CPU per vote; answers {answers}")
    print(f"{'CPU ms':>8} {'share':>6}  part (without the parts it calls)")
    rest = total - sum(parts.seconds.values())
    for name, seconds in sorted([*parts.seconds.items(), ("the rest: Flask and Werkzeug (contexts, request, response)", rest)], key=lambda kv: -kv[1]):
        print(f"{seconds * 1000 / count:8.3f} {seconds / total:6.1%}  {name}")
    print(f"SQL statements per vote: {sum(statements.values()) / count:.2f}")
    for words, n in sorted(statements.items(), key=lambda kv: -kv[1]):
        print(f"{n / count:8.2f}  {words} ...")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--reuse", action="store_true", help="vote on the data an earlier deliberation run left")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--duration", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2025)
    parser.add_argument("--loader", choices=("auto", "wrk", "python"), default="auto", help="auto: wrk when installed")
    parser.add_argument("--profile", type=int, metavar="N", help="instead: N votes in this process, CPU per part of a request")
    args = parser.parse_args(argv)
    loader = args.loader if args.loader != "auto" else ("wrk" if shutil.which("wrk") else "python")

    url, temporary = gen.database_or_temporary(args.database_url, "votes")
    if not args.reuse:
        deliberation.generate(url, args.seed)
    secret_key = secrets.token_hex(32)
    voters, proposals = voters_and_proposals(url, args.clients, secret_key, args.seed)
    if len(voters) < args.clients or not proposals:
        raise SystemExit("Not enough volunteers or open proposals in that database.")
    if args.profile:
        profile(url, secret_key, voters, proposals, args.profile)
        if temporary is not None:
            temporary.cleanup()
        return 0

    port = free_port()
    workdir = tempfile.TemporaryDirectory(prefix="vw-votes-")
    log_path = Path(workdir.name) / "gunicorn.log"
    process = start_gunicorn(
        url, port, args.workers, log_path, secret_key=secret_key,
        settings={"WORKBENCH_RATELIMIT_VOTE": "1000000/minute"},
    )  # fmt: skip
    rounds = []
    try:
        wait_for_health(port, process, log_path)
        pids = wait_for_workers(process.pid, args.workers)
        for n in range(args.rounds):
            if loader == "wrk":
                result = run_round_wrk(port, voters, proposals, args.warmup, args.duration, pids, Path(workdir.name))
            else:
                result = run_round(port, voters, proposals, args.warmup, args.duration, pids, args.seed + 1000 * n)
            rounds.append(result)
            print(
                f"round {n + 1}: {result['writes_per_second']:8.1f} writes/s  p50 {result['p50_ms']:6.2f} ms  "
                f"p95 {result['p95_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                f"server CPU {result['server_cpu_ms_per_write']} ms/write  load generator CPU {result['loader_cpu_ms_per_write']} ms/write  "
                f"load average {result['load_average']}  wrong {sum(result['wrong_status'].values())}  "
                f"connection errors {result['connection_errors']}",
                flush=True,
            )
    finally:
        stop_gunicorn(process)
    log = log_path.read_text(errors="replace")
    locked = log.count("database is locked")
    tracebacks = log.count("Traceback")
    problems = check_tallies(url)

    median = statistics.median(r["writes_per_second"] for r in rounds)
    wrong_total = sum(sum(r["wrong_status"].values()) for r in rounds)
    dialect = url.split(":", 1)[0].split("+", 1)[0]
    met = median >= GOAL_WRITES_PER_SECOND and not locked and not wrong_total and not problems
    print(f"\nDatabase: {dialect}; gunicorn -k sync -w {args.workers}; {args.clients} concurrent voters ({loader}); {args.rounds} rounds of {args.duration:g} s")
    print(f"Median {median:.1f} writes/s (goal >= {GOAL_WRITES_PER_SECOND}); 'database is locked' in the log: {locked}; tracebacks: {tracebacks}; non-200 answers: {wrong_total}")
    for r in rounds:
        for key, n in r["wrong_status"].items():
            print(f"  !! {n} x {key}")
    print("Tallies and vote rows: " + ("consistent" if not problems else "; ".join(problems)))
    bound = cpu_bound(rounds)
    if bound:
        print(
            f"CPU per write (medians): server {bound['server_ms']} ms + load generator {bound['loader_ms']} ms: "
            f"{bound['cores']} cores allow at most {bound['writes_per_second']:.0f} writes/s were the CPUs the only limit"
        )
    print(f"Goal: {'MET' if met else 'MISSED'}")

    write_report("votes", dialect, {
        "workers": args.workers, "clients": args.clients, "loader": loader, "duration": args.duration, "rounds": rounds,
        "median_writes_per_second": median, "database_locked": locked, "tracebacks": tracebacks, "tally_problems": problems, "met": met,
        "cpu_bound": bound,
    })  # fmt: skip
    workdir.cleanup()
    if temporary is not None:
        temporary.cleanup()
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
