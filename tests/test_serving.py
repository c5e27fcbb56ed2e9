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
# Several workers must share their rate-limit counts: a Redis server (CI has one on this address).
REDIS_URL = os.environ.get("WORKBENCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _redis_answers() -> bool:
    try:
        with socket.create_connection(("127.0.0.1", 6379), timeout=1) as connection:
            connection.sendall(b"PING\r\n")
            return connection.recv(16).startswith(b"+PONG")
    except OSError:
        return False


needs_redis = pytest.mark.skipif(
    not _redis_answers() and os.environ.get("CI") != "true", reason="no Redis server at 127.0.0.1:6379"
)


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


@needs_redis
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
        "WORKBENCH_RATELIMIT_STORAGE_URI": REDIS_URL,
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


def _gunicorn(port: int, log: Path, settings: dict[str, str]) -> subprocess.Popen[bytes]:
    env = {**os.environ, "WORKBENCH_SECRET_KEY": "serving-test-secret", "WORKBENCH_PUBLIC_URL": f"http://127.0.0.1:{port}", **settings}
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app",
    ]  # fmt: skip
    with open(log, "wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def test_two_workers_with_limits_kept_in_memory_refuse_to_start(database_url, tmp_path) -> None:
    log = tmp_path / "gunicorn.log"
    master = _gunicorn(_free_port(), log, {"WORKBENCH_DATABASE_URL": database_url, "WORKBENCH_RATELIMIT_STORAGE_URI": "memory://"})
    try:
        assert master.wait(timeout=60) != 0
    finally:
        if master.poll() is None:
            os.killpg(master.pid, signal.SIGTERM)
    assert "Rate limits are kept in each worker's memory" in log.read_text()


def _sign_in_attempt(port: int) -> int:
    """One failed sign-in on a new connection (so that both workers answer some): the sign-in page
    for a session cookie and CSRF token, then the form with a wrong password."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request("GET", "/auth/login", headers={"Connection": "close"})
        response = connection.getresponse()
        page = response.read().decode()
        cookie = response.getheader("Set-Cookie", "").split(";")[0]
    finally:
        connection.close()
    token = page.split('name="csrf_token"', 1)[1].split('value="', 1)[1].split('"', 1)[0]
    body = f"csrf_token={token}&email=someone%40example.org&password=wrong+password+here"
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        connection.request(
            "POST", "/auth/login", body=body,
            headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie, "Connection": "close",
                     "Referer": f"http://127.0.0.1:{port}/auth/login"},
        )  # fmt: skip
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


@needs_redis
def test_a_limit_holds_across_two_workers_sharing_redis(app, database_url, tmp_path) -> None:
    db.session.remove()
    port = _free_port()
    log = tmp_path / "gunicorn.log"
    settings = {
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_RATELIMIT_STORAGE_URI": REDIS_URL,
        "WORKBENCH_RATELIMIT_KEY_PREFIX": f"test-{port}-{time.time_ns()}",
        "WORKBENCH_RATELIMIT_SIGN_IN": "4/minute",
    }
    master = _gunicorn(port, log, settings)
    try:
        deadline = time.time() + 30
        while len(_children(master.pid)) < 2 or not _answers(port):
            assert master.poll() is None and time.time() < deadline, log.read_text()[-3000:]
            time.sleep(0.1)
        answers = [_sign_in_attempt(port) for _ in range(6)]
        # Four wrong passwords are answered, whichever worker took them; the fifth is refused.
        assert answers == [400, 400, 400, 400, 429, 429], log.read_text()[-2000:]
    finally:
        os.killpg(master.pid, signal.SIGTERM)
        master.wait(timeout=30)
