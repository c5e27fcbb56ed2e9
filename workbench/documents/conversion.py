"""Converting documents with LibreOffice (Debian's `libreoffice-writer-nogui`), in a subprocess.

Never inside a web worker's own process: a conversion takes ~1.5 s and ~210 MiB, far past a
worker's 80 MiB. Each run gets its own temporary profile (`-env:UserInstallation`), so parallel
runs never share one, and a time limit; at most one runs at a time on a machine (a `flock` beside
the instance folder), so that a burst of first requests cannot start a dozen LibreOffices at once.
Where LibreOffice is not installed, `ConverterMissing` says so (the PDF link answers 503).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from flask import current_app

try:
    import fcntl
except ImportError:  # not on Windows: conversions then simply run side by side
    fcntl = None  # type: ignore[assignment]

CONVERSION_SECONDS = 20  # below gunicorn's 30 s worker timeout
WAIT_FOR_TURN_SECONDS = 8  # with the conversion, within gunicorn's 30 s


class ConverterMissing(RuntimeError):
    """LibreOffice (`soffice`) is not installed on this server."""


class ConversionFailed(RuntimeError):
    """LibreOffice ran but gave no file (or ran out of time); the message says what it said."""


def soffice_path() -> str | None:
    """The LibreOffice program this server would use (setting `SOFFICE`, else `soffice` on the
    PATH), or None when there is none."""
    configured = current_app.config.get("SOFFICE") or "soffice"
    return shutil.which(configured)


def converter_available() -> bool:
    return soffice_path() is not None


class _Turn:
    """An exclusive lock on `<instance>/libreoffice.lock`: one conversion at a time per machine."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.descriptor: int | None = None

    def __enter__(self) -> "_Turn":
        if fcntl is None:
            return self
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.descriptor = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o600)
        deadline = time.monotonic() + WAIT_FOR_TURN_SECONDS
        while True:
            try:
                fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if time.monotonic() > deadline:
                    os.close(self.descriptor)
                    raise ConversionFailed("another document was being converted for too long") from None
                time.sleep(0.05)

    def __exit__(self, *exc: object) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)  # closing releases the lock


def convert(source: bytes, source_suffix: str, target: str) -> bytes:
    """`source` (a file ending in `source_suffix`, e.g. ".docx") converted to `target` ("pdf",
    "odt", "txt:Text (encoded):UTF8"...) by LibreOffice headless; raises ConverterMissing or
    ConversionFailed."""
    program = soffice_path()
    if program is None:
        raise ConverterMissing("LibreOffice is not installed on this server")
    with tempfile.TemporaryDirectory(prefix="workbench-convert-") as folder:
        work = Path(folder)
        source_path = work / f"document{source_suffix}"
        source_path.write_bytes(source)
        command = [
            program,
            f"-env:UserInstallation={(work / 'profile').as_uri()}",
            "--headless",
            "--norestore",
            "--nolockcheck",
            "--convert-to",
            target,
            "--outdir",
            str(work / "out"),
            str(source_path),
        ]
        environment = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": folder, "LANG": "C.UTF-8"}
        with _Turn(Path(current_app.instance_path) / "libreoffice.lock"):
            try:
                finished = subprocess.run(
                    command, capture_output=True, timeout=CONVERSION_SECONDS, env=environment, check=False
                )
            except subprocess.TimeoutExpired:
                raise ConversionFailed(f"LibreOffice took longer than {CONVERSION_SECONDS} s") from None
        extension = target.split(":", 1)[0]
        produced = work / "out" / f"document.{extension}"
        if finished.returncode != 0 or not produced.exists():
            said = (finished.stderr or finished.stdout).decode("utf-8", "replace").strip()[-500:]
            raise ConversionFailed(f"LibreOffice gave no {extension} file (exit {finished.returncode}): {said}")
        return produced.read_bytes()
