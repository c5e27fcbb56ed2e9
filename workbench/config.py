"""Configuration: defaults, then WORKBENCH_* environment variables, then explicit overrides."""

from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

ROOT = Path(__file__).resolve().parent.parent

DEFAULTS: dict[str, Any] = {
    "SECRET_KEY": None,  # required outside development and tests
    "DATABASE_URL": None,  # default: SQLite file under instance/
    "SESSION_COOKIE_HTTPONLY": True,
    "SESSION_COOKIE_SAMESITE": "Lax",
    "SESSION_COOKIE_SECURE": False,
    "REMEMBER_COOKIE_HTTPONLY": True,
    "REMEMBER_COOKIE_SAMESITE": "Lax",
    "REMEMBER_COOKIE_SECURE": False,
    "MAX_CONTENT_LENGTH": 1024 * 1024,  # 1 MiB: a 50,000-word proposal is refused by the form first
    "MAX_FORM_PARTS": 200,
    "WTF_CSRF_TIME_LIMIT": None,  # tokens live as long as the session
    "RATELIMIT_STORAGE_URI": "memory://",
    "RATELIMIT_ENABLED": True,
    "RATELIMIT_HEADERS_ENABLED": False,
    # Redis down: each process counts the limits alone (one warning logged; Redis tried again after
    # 1, 2, 4 … s) rather than refuse every limited POST with a 500.
    "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
    "RATELIMIT_SWALLOW_ERRORS": True,
    "PERMALINK_CACHE_SIZE": 256,  # rendered immutable pages kept per process...
    "PERMALINK_CACHE_BYTES": 8 * 1024 * 1024,  # ...and at most this many bytes of them (DESIGN §6: 80 MiB a worker)
    "MIGRATIONS": True,  # Flask-Migrate for `flask db ...`; wsgi.py leaves it out of serving processes
    "MAIL_OUTBOX": None,  # development: write mail here (default instance/outbox)
    "SMTP_HOST": None,
    "SMTP_PORT": 587,
    "SMTP_USERNAME": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": True,
    "MAIL_FROM": "Vision Workbench <no-reply@localhost>",
    "MAIL_MAX_ATTEMPTS": 24,  # the mail worker gives a mail up (failed, logged) after this many attempts: some 18 hours
    "MAIL_SEND_AT_ONCE": False,  # tests: a worker pass runs as a request that queued mail ends (outbox.queue)
    "PUBLIC_URL": None,  # e.g. https://vision.example.org: every absolute link; requests for other hosts get 400
    "TIME_ZONE": "Europe/London",  # times are shown and entered in this IANA zone, stored in UTC
    "PROXY_FIX": 0,  # number of trusted proxies in front of the app (X-Forwarded-For/Proto)
    "DEV": False,
}

_BOOL = {"1": True, "true": True, "yes": True, "on": True, "0": False, "false": False, "no": False, "off": False}


def _coerce(default: Any, raw: str) -> Any:
    if isinstance(default, bool):
        try:
            return _BOOL[raw.strip().lower()]
        except KeyError:
            raise ValueError(f"expected true or false, got {raw!r}") from None
    if isinstance(default, int):
        return int(raw)
    if raw.startswith(("[", "{")):
        return json.loads(raw)
    return raw


def from_environment(environ: os._Environ[str] | dict[str, str] = os.environ) -> dict[str, Any]:
    """Read WORKBENCH_<NAME> for every known setting (and any other WORKBENCH_ variable as text)."""
    found: dict[str, Any] = {}
    for name, raw in environ.items():
        if not name.startswith("WORKBENCH_"):
            continue
        key = name.removeprefix("WORKBENCH_")
        try:
            found[key] = _coerce(DEFAULTS.get(key), raw)
        except ValueError as exc:
            raise RuntimeError(f"{name}: {exc}") from None
    return found


def build_config(instance_path: Path, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    config = {**DEFAULTS, **from_environment(), **(overrides or {})}
    if not config["DATABASE_URL"]:
        config["DATABASE_URL"] = f"sqlite:///{instance_path / 'workbench.sqlite3'}"
    config["SQLALCHEMY_DATABASE_URI"] = config["DATABASE_URL"]
    key_file = instance_path / "secret_key"
    if not config["SECRET_KEY"] and key_file.is_file():
        config["SECRET_KEY"] = key_file.read_text().strip()
    if not config["SECRET_KEY"]:
        if not (config["DEV"] or config.get("TESTING")):
            raise RuntimeError(
                "WORKBENCH_SECRET_KEY is not set. Set it to a long random string "
                "(python -c 'import secrets; print(secrets.token_hex(32))'), put one in "
                f"{key_file}, or set WORKBENCH_DEV=1 for local development."
            )
        config["SECRET_KEY"] = "dev-only-not-secret"
    try:
        ZoneInfo(str(config["TIME_ZONE"]))
    except (ZoneInfoNotFoundError, ValueError):
        raise RuntimeError(
            f"WORKBENCH_TIME_ZONE: {config['TIME_ZONE']!r} is not a time zone name; use one such as Europe/London"
        ) from None
    config.update(public_address(config))
    if not config["MAIL_OUTBOX"]:
        config["MAIL_OUTBOX"] = str(instance_path / "outbox")
    return config


def public_address(config: dict[str, Any]) -> dict[str, Any]:
    """The settings that follow from the site's public address (WORKBENCH_PUBLIC_URL).

    Every absolute link (mails, the version JSON, feeds, open data) must name the site itself, never
    whatever host a request claimed: with the address set, requests for any other host get 400
    (Flask's TRUSTED_HOSTS). Serving without it is refused outside development and tests.
    """
    raw = str(config.get("PUBLIC_URL") or "").strip()
    if not raw:
        if config["DEV"] or config.get("TESTING"):
            return {}
        raise RuntimeError(
            "WORKBENCH_PUBLIC_URL is not set. Set it to the address people use, such as "
            "https://vision.example.org: links in emails and open data are built from it, and "
            "requests for other hosts are refused. (WORKBENCH_DEV=1 for local development.)"
        )
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path.strip("/") or parts.query:
        raise RuntimeError(f"WORKBENCH_PUBLIC_URL: {raw!r} is not a site address such as https://vision.example.org")
    hosts = [parts.hostname]
    if config["DEV"]:
        hosts += ["localhost", "127.0.0.1"]
    return {
        "PUBLIC_URL": f"{parts.scheme}://{parts.netloc}",
        "PREFERRED_URL_SCHEME": parts.scheme,
        "TRUSTED_HOSTS": config.get("TRUSTED_HOSTS") or hosts,
    }
