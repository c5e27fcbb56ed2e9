#!/usr/bin/env python3
"""Set up and run Vision Workbench on a machine that has nothing but Python 3.11+.

    python3 dev.py serve   # virtualenv, dependencies, database, demo data; serves http://127.0.0.1:5000
    python3 dev.py test    # virtualenv, dependencies; runs every test (extra arguments go to pytest)

Only the standard library is used here: this script is what installs everything else.
"""

from __future__ import annotations

import hashlib
import os
import secrets
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / "python"
INSTANCE = ROOT / "instance"


def run(*args: str | os.PathLike[str], env: dict[str, str] | None = None) -> None:
    result = subprocess.run([str(a) for a in args], cwd=ROOT, env=env)
    if result.returncode != 0:
        sys.exit(result.returncode)


def ensure_environment() -> None:
    """Create .venv and install the project with its test extras, again only when pyproject changes."""
    if sys.version_info < (3, 11):
        sys.exit(f"Vision Workbench needs Python 3.11 or newer; this is {sys.version.split()[0]}.")
    if not PYTHON.exists():
        print("Creating the virtual environment in .venv ...", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()[:16]
    stamp = VENV / f".installed-{digest}"
    if not stamp.exists():
        print("Installing dependencies ...", flush=True)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
        run(PYTHON, "-m", "pip", "install", "--quiet", "-e", ".[dev]")
        for old in VENV.glob(".installed-*"):
            old.unlink()
        stamp.touch()


def ensure_instance() -> None:
    INSTANCE.mkdir(exist_ok=True)
    key = INSTANCE / "secret_key"
    if not key.exists():
        key.write_text(secrets.token_hex(32) + "\n")
        key.chmod(0o600)


def flask(*args: str) -> None:
    # The development server: no public address needed (WORKBENCH_PUBLIC_URL is for production).
    run(BIN / "flask", "--app", "wsgi", *args, env={"WORKBENCH_DEV": "1", **os.environ})


def serve(args: list[str]) -> None:
    ensure_environment()
    ensure_instance()
    flask("db", "upgrade")
    flask("demo", "load")
    flask("assets", "build")  # static files with hashed names, compressed (again only when they change)
    port = os.environ.get("PORT", "5000")
    # The mail worker beside the server: it delivers queued mail (into instance/outbox/ unless
    # WORKBENCH_SMTP_HOST is set) and stops with it.
    mail_worker = subprocess.Popen(
        [str(BIN / "flask"), "--app", "wsgi", "mail", "worker", "--poll", "1"], cwd=ROOT, env={"WORKBENCH_DEV": "1", **os.environ}
    )
    print(f"\nVision Workbench is at http://127.0.0.1:{port}/  (Ctrl+C stops it)\n", flush=True)
    try:
        flask("run", "--host", "127.0.0.1", "--port", port, *args)
    except KeyboardInterrupt:  # Ctrl+C reached the server and the worker too
        pass
    finally:
        mail_worker.terminate()  # SIGTERM: it finishes the mail in hand, then exits
        try:
            mail_worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            mail_worker.kill()


def test(args: list[str]) -> None:
    ensure_environment()
    run(PYTHON, "-m", "pytest", *args)


COMMANDS = {"serve": serve, "test": test}

if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in COMMANDS:
        sys.exit(__doc__)
    COMMANDS[sys.argv[1]](sys.argv[2:])
