"""The vendored front end is exactly what static/vendor/README.md and SHA256SUMS say it is."""

import hashlib
import re
from pathlib import Path

import pytest

# Pure: nothing here reads a database (conftest runs it once, in the SQLite run).
pytestmark = pytest.mark.database_free

VENDOR = Path(__file__).resolve().parent.parent / "static" / "vendor"
NOT_VENDORED = {"README.md", "SHA256SUMS"}
HTMX_VERSION = "2.0.11"


def listed_checksums() -> dict[str, str]:
    """Map each path in SHA256SUMS (relative to static/vendor/) to its expected hex digest."""
    checksums = {}
    for line in (VENDOR / "SHA256SUMS").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        digest, name = line.split(maxsplit=1)
        # sha256sum marks binary mode with a leading '*' on the name
        checksums[name.lstrip("*")] = digest.lower()
    return checksums


def test_sha256sums_is_not_empty():
    assert listed_checksums()


@pytest.mark.parametrize("name", sorted(listed_checksums()))
def test_vendored_file_matches_its_checksum(name):
    path = VENDOR / name
    assert path.is_file(), f"{name} is listed in SHA256SUMS but missing"
    assert hashlib.sha256(path.read_bytes()).hexdigest() == listed_checksums()[name]


def test_every_vendored_file_is_listed():
    on_disk = {
        path.relative_to(VENDOR).as_posix()
        for path in VENDOR.rglob("*")
        if path.is_file() and path.relative_to(VENDOR).as_posix() not in NOT_VENDORED
    }
    assert on_disk - set(listed_checksums()) == set()


def test_every_vendored_package_has_its_licence():
    assert (VENDOR / "design-system" / "LICENSE").is_file()
    assert (VENDOR / "htmx" / "LICENSE").is_file()


def test_htmx_is_the_pinned_2_0_version():
    source = (VENDOR / "htmx" / "htmx.min.js").read_text(encoding="utf-8")
    versions = re.findall(r"""version\s*:\s*["']([^"']+)["']""", source)
    assert versions == [HTMX_VERSION]
