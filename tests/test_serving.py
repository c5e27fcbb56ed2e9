"""gunicorn as production runs it: gunicorn.conf.py preloads the app in the master and forks the
workers, which must each start with their own database connections and answer from the database."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.models import db

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(port: int, path: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", path, headers={"Connection": "close"})
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def _children(pid: int) -> set[int]:
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except OSError:
                continue
            if parent == pid:
                found.add(int(entry.name))
    return found


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads worker processes from /proc")
def test_preloaded_workers_serve_pages_from_the_database(app, database_url, make_vision, tmp_path) -> None:
    make_vision(slug="served-by-gunicorn")
    db.session.remove()
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_SECRET_KEY": "serving-test-secret",
        "WORKBENCH_PUBLIC_URL": f"http://127.0.0.1:{port}",
    }
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app",
    ]  # fmt: skip
    with open(log, "wb") as output:
        master = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.time() + 30
        while len(_children(master.pid)) < 2 or not _answers(port):
            assert master.poll() is None and time.time() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        for _ in range(6):  # each on a new connection, so both workers answer some
            status, body = _get(port, "/visions/served-by-gunicorn/")
            assert status == 200
            assert "Objective 1.2 body." in body  # read from the database by a forked worker
        assert len(_children(master.pid)) == 2  # no worker died on its first database request
        # The master loaded the app before forking (gunicorn alone holds ~26 MiB, with the app ~70):
        # the workers share those pages instead of each importing the app again.
        assert _resident_mib(master.pid) > 45
        assert "Traceback" not in log.read_text()
    finally:
        os.killpg(master.pid, signal.SIGTERM)
        master.wait(timeout=30)


def _resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no VmRSS for process {pid}")


def _answers(port: int) -> bool:
    try:
        return _get(port, "/health")[0] == 200
    except OSError:
        return False
