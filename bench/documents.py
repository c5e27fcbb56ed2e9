"""Memory of the Word and PDF documents (workbench/documents/): a gunicorn worker's growth while it
makes them and while it serves them stored, and the peak of the LibreOffice subprocess.

    .venv/bin/python bench/documents.py [--requests 2000]

1. Data: the benchmark vision (bench/generate.py: 150 elements), published as versions 1 and 2.
2. Server: gunicorn `-k sync -w 1` as in production (bench/run.py starts it).
3. Reads the worker's memory (PSS, RSS, USS: bench/memory.py) after the permalink of version 2
   (the baseline), after the first `.docx` and `.pdf` of version 2 (made and stored; meanwhile the
   resident memory of every process under the worker is sampled every 20 ms, which catches
   LibreOffice's peak), after the comparison 1...2 as Word, then after `--requests` requests that
   serve the stored files (each answered in full from the database, no `If-None-Match`).
"""

from __future__ import annotations

import argparse
import http.client
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import generate as gen  # noqa: E402
from bench.memory import memory_mib  # noqa: E402
from bench.run import free_port, start_gunicorn, stop_gunicorn, wait_for_health, wait_for_workers  # noqa: E402


def get(port: int, path: str) -> tuple[int, int]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, len(response.read())
    finally:
        connection.close()


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, p in parents.items() if p == parent]
        found += children
        frontier += children
    return found


class PeakOfChildren(threading.Thread):
    """Samples the summed RSS of every process under `pid` (LibreOffice and its helpers)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid, self.peak, self.stopped = pid, 0.0, threading.Event()

    def run(self) -> None:
        while not self.stopped.is_set():
            total = sum((memory_mib(child) or {"rss": 0.0})["rss"] for child in descendants(self.pid))
            self.peak = max(self.peak, total)
            time.sleep(0.02)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="vw-bench-documents-") as folder:
        url = f"sqlite:///{folder}/bench.sqlite3"
        built = gen.generate(url, versions=2)
        slug = built.slug
        port = free_port()
        log = Path(folder) / "gunicorn.log"
        server = start_gunicorn(url, port, 1, log)
        report: dict[str, object] = {"elements": built.counts["elements"]}
        try:
            wait_for_health(port, server, log)
            worker = wait_for_workers(server.pid, 1)[0]
            assert get(port, f"/visions/{slug}/v/2/")[0] == 200
            report["baseline"] = memory_mib(worker)

            for fmt in ("docx", "pdf"):
                watcher = PeakOfChildren(worker)
                watcher.start()
                started = time.perf_counter()
                status, size = get(port, f"/visions/{slug}/v/2.{fmt}")
                report[f"first_{fmt}"] = {
                    "status": status,
                    "bytes": size,
                    "seconds": round(time.perf_counter() - started, 2),
                    "subprocess_peak_rss_mib": round(watcher.peak, 1),
                    "worker_after": memory_mib(worker),
                }
                watcher.stopped.set()
                watcher.join()

            started = time.perf_counter()
            status, size = get(port, f"/visions/{slug}/compare/1...2.docx")
            report["comparison_docx"] = {
                "status": status, "bytes": size, "seconds": round(time.perf_counter() - started, 3),
                "worker_after": memory_mib(worker),
            }

            statuses: dict[int, int] = {}
            started = time.perf_counter()
            for i in range(args.requests):
                status, _ = get(port, f"/visions/{slug}/v/2.{'pdf' if i % 2 else 'docx'}")
                statuses[status] = statuses.get(status, 0) + 1
            report["serving_stored"] = {
                "requests": args.requests,
                "statuses": statuses,
                "ms_per_request": round((time.perf_counter() - started) * 1000 / args.requests, 2),
                "worker_after": memory_mib(worker),
            }
        finally:
            stop_gunicorn(server)
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
