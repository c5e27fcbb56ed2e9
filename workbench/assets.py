"""Static files with content-hashed names, precompressed, served by WhiteNoise (DESIGN.md §6).

`flask --app wsgi assets build` copies every file under static/ into a build of its own,
`build/static/<digest of the sources>/files/`, twice: under its own name and under a name that
carries a hash of its content (`css/app.css` -> `css/app.3f2a9c1b0d12.css`); relative URLs inside
stylesheets are rewritten to the hashed names of the files they name. Every file that compresses
is stored beside itself as `.br` (brotli) and `.gz` (gzip), and `manifest.json` maps each name to
its hashed name. A build is named by the digest of the sources, so it never needs invalidating:
change a source file and the next build is a new folder.

At start-up the app looks for the build of the sources it has. With one, WhiteNoise serves it
(hashed names with a year's `immutable` cache, other names with a short one; the smallest encoding
the client accepts; 304s) and `asset('css/app.css')` in a template names the hashed file. Without
one (nothing built, or the sources changed since), the same names are served as they are from
static/, uncompressed (in development, looked up afresh on every request), and a warning says so.
A server keeps the build it started with: restart it after a build. Tests use a build only when
`STATIC_BUILD_FOLDER` is set.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import posixpath
import re
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

from flask import Flask, has_request_context, request
from whitenoise import WhiteNoise

from .config import ROOT
from .security import HEADERS as SECURITY_HEADERS
from .visions.permalinks import IMMUTABLE

DEFAULT_BUILD_FOLDER = ROOT / "build" / "static"
MANIFEST = "manifest.json"
HASH_LENGTH = 12
# Unhashed names may name other bytes after the next deploy: caches keep them only briefly.
SHORT_CACHE_SECONDS = 60
BUILDS_KEPT = 3  # older builds are removed by `assets build` (a running server may still use one)

log = logging.getLogger(__name__)


# --- the build --------------------------------------------------------------------------------------


def source_files(source: Path) -> list[str]:
    """Every file under `source`, as sorted relative URL paths (hidden files left out)."""
    found = []
    for directory, folders, files in os.walk(source):
        folders[:] = sorted(f for f in folders if not f.startswith("."))
        for name in files:
            if not name.startswith("."):
                found.append(Path(directory, name).relative_to(source).as_posix())
    return sorted(found)


def source_digest(source: Path) -> str:
    """What names a build: a digest of every source file's name and content.

    Kept per process by the files' sizes and modification times, so that making an app (once
    per test) reads the files only when one of them changed.
    """
    signature = tuple(
        (name, stat.st_size, stat.st_mtime_ns) for name in source_files(source) for stat in [(source / name).stat()]
    )
    return _digest(source, signature)


@lru_cache(maxsize=16)
def _digest(source: Path, signature: tuple[tuple[str, int, int], ...]) -> str:
    digest = hashlib.sha256()
    for name, _size, _mtime in signature:
        digest.update(name.encode() + b"\0" + hashlib.sha256((source / name).read_bytes()).digest())
    return digest.hexdigest()[:16]


def hashed_name(name: str, content: bytes) -> str:
    """`css/app.css` -> `css/app.<12 hex digits of the content's SHA-256>.css`."""
    directory, base = posixpath.split(name)
    stem, dot, extension = base.rpartition(".")
    if not stem:  # no extension (LICENSE), or a leading dot only
        stem, dot, extension = base, "", ""
    tag = hashlib.sha256(content).hexdigest()[:HASH_LENGTH]
    return posixpath.join(directory, f"{stem}.{tag}{dot}{extension}")


# url(...), @import "...", and the source map comment: the references a stylesheet makes.
CSS_REFERENCES = (
    re.compile(r"""(?P<before>url\(\s*(?P<quote>['"]?))(?P<url>[^'")\s]+)(?P<after>(?P=quote)\s*\))""", re.IGNORECASE),
    re.compile(r"""(?P<before>@import\s*(?P<quote>['"]))(?P<url>[^'"]+)(?P<after>(?P=quote))""", re.IGNORECASE),
    re.compile(r"""(?P<before>sourceMappingURL=)(?P<url>[^\s*]+)(?P<after>)"""),
)


def rewrite_stylesheet(name: str, text: str, hashed: Callable[[str], str | None]) -> str:
    """The stylesheet `name` with each relative reference to another static file pointing at that
    file's hashed name (`hashed(other_name)`). Absolute, external, `data:` and fragment-only URLs,
    and references to files that do not exist, are left as they are."""

    def replace(match: re.Match[str]) -> str:
        url = match.group("url")
        if url.startswith(("data:", "#", "/")) or "://" in url:
            return match.group(0)
        path, tail = re.fullmatch(r"([^?#]*)(.*)", url).groups()  # type: ignore[union-attr]
        target = posixpath.normpath(posixpath.join(posixpath.dirname(name), path))
        new_name = hashed(target)
        if new_name is None:
            return match.group(0)
        new_path = posixpath.join(posixpath.dirname(path), posixpath.basename(new_name))
        return f"{match.group('before')}{new_path}{tail}{match.group('after')}"

    for pattern in CSS_REFERENCES:
        text = pattern.sub(replace, text)
    return text


@dataclass(frozen=True)
class Build:
    """One build: `files` is served; `names` maps each source name to its hashed name."""

    files: Path
    names: dict[str, str]


def find_build(source: Path, folder: Path) -> Build | None:
    """The build of the sources as they are now, or None when there is none."""
    place = folder / source_digest(source)
    try:
        manifest = json.loads((place / MANIFEST).read_text())
    except (OSError, ValueError):
        return None
    return Build(files=place / "files", names=manifest["files"])


def build_assets(source: Path, folder: Path) -> tuple[Build, bool]:
    """Build the static files of `source` into `folder` (see the module's docstring), unless that
    build exists already. Returns the build and whether it was made now.

    The build is written into a temporary folder renamed into place at the end, so that a server
    never sees half a build, and two builds of the same sources at once leave one.
    """
    existing = find_build(source, folder)
    if existing is not None:
        return existing, False
    from whitenoise.compress import Compressor  # brotli and gzip: only for building, not serving

    digest = source_digest(source)
    folder.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{digest}-", dir=folder))
    work.chmod(0o755)  # mkdtemp's 0700 would hide the build from a server running as another user
    try:
        names = _write_files(source, source_files(source), work / "files")
        compressor = Compressor(quiet=True)
        done: dict[str, list[str]] = {}  # content digest -> its compressed files: compress once
        for name in sorted({*names, *names.values()}):
            path = work / "files" / name
            if not compressor.should_compress(path.name):
                continue
            key = hashlib.sha256(path.read_bytes()).hexdigest()
            if key in done:
                for variant in done[key]:
                    shutil.copyfile(variant, str(path) + variant[-3:])
            else:
                done[key] = compressor.compress(str(path))
        (work / MANIFEST).write_text(json.dumps({"source": digest, "files": names}, indent=1, sort_keys=True))
        try:
            work.rename(folder / digest)
        except OSError:  # built meanwhile by another process: theirs is the same
            shutil.rmtree(work, ignore_errors=True)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    _remove_old_builds(folder, keep=digest)
    return Build(files=folder / digest / "files", names=names), True


def _write_files(source: Path, names: list[str], target: Path) -> dict[str, str]:
    """Copy each file under its own name and its hashed name; return the map of names."""
    names_set = set(names)
    hashed: dict[str, str] = {}
    in_progress: set[str] = set()

    def hashed_for(name: str) -> str | None:
        if name not in names_set:
            return None
        if name not in hashed:
            if name in in_progress:  # stylesheets importing each other: leave the reference as it is
                return None
            in_progress.add(name)
            content = (source / name).read_bytes()
            if name.endswith(".css"):
                content = rewrite_stylesheet(name, content.decode("utf-8"), hashed_for).encode("utf-8")
            new_name = hashed_name(name, content)
            (target / new_name).parent.mkdir(parents=True, exist_ok=True)
            (target / new_name).write_bytes(content)
            shutil.copy2(source / name, target / name)
            hashed[name] = new_name
        return hashed[name]

    for name in names:
        hashed_for(name)
    return hashed


def _remove_old_builds(folder: Path, keep: str) -> None:
    builds = sorted(
        (p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST).exists()),
        key=lambda p: (p / MANIFEST).stat().st_mtime,
        reverse=True,
    )
    for old in [b for b in builds if b.name != keep][BUILDS_KEPT - 1 :]:
        shutil.rmtree(old, ignore_errors=True)


# --- serving ----------------------------------------------------------------------------------------


def source_folder(app: Flask) -> Path:
    return Path(app.static_folder or ROOT / "static")


def build_folder(app: Flask) -> Path:
    """Where builds are kept: the `STATIC_BUILD_FOLDER` setting, by default build/static."""
    return Path(app.config.get("STATIC_BUILD_FOLDER") or DEFAULT_BUILD_FOLDER)


class StaticFiles(WhiteNoise):
    """WhiteNoise, adding the security headers every response of the site carries (HSTS is learnt
    from the pages, and the proxy adds it) to each of its answers, 304s included."""

    def serve(self, static_file, environ, start_response):  # type: ignore[override]
        def start(status, headers, exc_info=None):
            return start_response(status, [*headers, *SECURITY_HEADERS.items()], exc_info)

        return WhiteNoise.serve(static_file, environ, start)


def init_app(app: Flask) -> None:
    """Serve static files through WhiteNoise and give templates `asset(name)`: the URL of a static
    file, hashed when there is a build of the current sources (see the module's docstring)."""
    source = source_folder(app)
    prefix = app.static_url_path or "/static"
    # Tests serve the sources as they are unless a test asks for a build (the suite never builds).
    folder = None if app.config.get("TESTING") and not app.config.get("STATIC_BUILD_FOLDER") else build_folder(app)
    build = find_build(source, folder) if folder is not None else None
    if build is not None:
        names, root = build.names, build.files
    else:
        names, root = {name: name for name in source_files(source)}, source
    hashed_urls = frozenset(f"{prefix}/{served}" for served in names.values()) if build is not None else frozenset()

    def add_headers(headers, path: str, url: str) -> None:
        if url in hashed_urls:
            headers["Cache-Control"] = IMMUTABLE

    development = app.config.get("DEV") or app.config.get("TESTING")
    app.wsgi_app = StaticFiles(  # type: ignore[method-assign]
        app.wsgi_app,
        root=str(root),
        prefix=prefix,
        max_age=0 if development else SHORT_CACHE_SECONDS,
        add_headers_function=add_headers,
        # Sources served unbuilt in development may be edited while the server runs: look again.
        autorefresh=bool(app.config.get("DEV")) and build is None,
    )
    urls = {name: f"{prefix}/{quote(served)}" for name, served in names.items()}
    unbuilt = build is None and folder is not None
    warned = False

    def asset(name: str) -> str:
        """The URL of the static file `name` (e.g. 'css/app.css'): its hashed name when built."""
        nonlocal warned
        try:
            url = urls[name]
        except KeyError:
            raise LookupError(f"There is no static file {name!r} in {source}") from None
        if unbuilt and not warned:
            warned = True
            log.warning(
                "Static files are not built for these sources: they are served uncompressed, without "
                "hashed names. Run `flask --app wsgi assets build` (python3 dev.py serve does)."
            )
        return request.script_root + url if has_request_context() else url

    app.add_template_global(asset, "asset")
