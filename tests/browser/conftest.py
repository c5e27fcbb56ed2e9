"""Real-browser fixtures: Debian's Chromium driven by Playwright (sync API), the app served from a thread.

- Every test in tests/browser is marked `browser`.
- `browser` (session): one Chromium for the session. Skipped with a reason when Chromium or
  Playwright is missing, except when `CI` is set: then the test fails (CI never skips these).
- `live_server`: the `app` fixture (its own migrated database) served on 127.0.0.1 from a thread;
  yields the base URL. Test code keeps using `make_user`, `make_vision`, `db.session`; each request
  the server handles has its own app context and session (commit what the browser must see; call
  `db.session.remove()` before re-querying what the browser wrote). A request that raised (a 500)
  fails the test at teardown unless it is marked `allow_server_errors`.
- `page`: a fresh context and page per test (1280x800, `base_url` = live_server, so
  `page.goto("/visions/x/")` works). Console errors, uncaught page errors and CSP violations fail the
  test at teardown unless it is marked `allow_console_errors` (optionally with regular expressions:
  only messages matching one of them are allowed).
- `new_page(viewport=None)`: another page in another fresh context (a second person), checked the same way.
- `login_browser(page, user)`: sign a user in by setting the session cookie (no sign-in page).
- `axe(page)`: `assert_no_axe_violations` (also importable from tests.browser.helpers).
- `browser_problems.messages`: what the browser reported so far (to assert an expected error).
- A failing test leaves full-page screenshots in /tmp/browser-failures (or $BROWSER_FAILURE_DIR).
"""

from __future__ import annotations

import os
import re
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, got_request_exception
from werkzeug.serving import WSGIRequestHandler, make_server

from .helpers import CHROMIUM_ARGS, CHROMIUM_PATH, DESKTOP, add_login_cookie, assert_no_axe_violations

HERE = Path(__file__).resolve().parent


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "allow_console_errors(*patterns): the browser console may show errors (all of them, or only "
        "those matching one of the regular expressions), e.g. a test that expects a 404 page",
    )
    config.addinivalue_line(
        "markers", "allow_server_errors: the live server may answer a request with an unhandled exception (500)"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if HERE in Path(item.path).resolve().parents:
            item.add_marker(pytest.mark.browser)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]):
    report = yield
    setattr(item, f"_browser_report_{report.when}", report)  # lets `page` save a screenshot on failure
    return report


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI must run the browser tests: install it (apt-get install -y chromium).", pytrace=False)
    pytest.skip(reason)


# --- the browser ----------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not os.path.exists(CHROMIUM_PATH):
        _unavailable(f"Chromium is not installed at {CHROMIUM_PATH} (Debian package 'chromium')")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed (pip install -e '.[dev]')")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


# --- the server -----------------------------------------------------------------------------------


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, *args: Any, **kwargs: Any) -> None:  # no access log in the test output
        pass


@pytest.fixture
def live_server(app: Flask, request: pytest.FixtureRequest) -> Iterator[str]:
    """Serve `app` on 127.0.0.1 (a free port) from a daemon thread; yield its base URL without a trailing slash."""
    errors: list[str] = []

    def record(sender: Flask, exception: BaseException, **extra: Any) -> None:
        from flask import request as current

        errors.append(f"{current.method} {current.full_path}: {exception!r}")

    got_request_exception.connect(record, app)
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    thread = threading.Thread(target=server.serve_forever, name="live-server", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
        got_request_exception.disconnect(record, app)
    if errors and not request.node.get_closest_marker("allow_server_errors"):
        pytest.fail("The server raised while answering:\n" + "\n".join(errors), pytrace=False)


@pytest.fixture
def base_url(live_server: str) -> str:
    return live_server


# --- pages ----------------------------------------------------------------------------------------


class BrowserProblems:
    """Console errors, uncaught page errors and CSP violations seen by the pages of one test."""

    def __init__(self) -> None:
        self.messages: list[str] = []

    def watch(self, context: Any, page: Any) -> None:
        context.expose_binding(
            "__workbenchCspViolation",
            lambda source, detail: self.messages.append(f"CSP violation: {detail}"),
        )
        context.add_init_script(
            "document.addEventListener('securitypolicyviolation', function (e) {"
            " window.__workbenchCspViolation(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline')"
            " + ' in ' + e.sourceFile + ':' + e.lineNumber); });"
        )
        page.on("console", lambda message: self._console(message))
        page.on("pageerror", lambda error: self.messages.append(f"uncaught error: {error}"))

    def _console(self, message: Any) -> None:
        if message.type == "error":
            where = message.location.get("url", "") if message.location else ""
            self.messages.append(f"console error: {message.text} ({where})")

    def unexpected(self, marker: pytest.Mark | None) -> list[str]:
        if marker is None:
            return self.messages
        if not marker.args:
            return []
        return [m for m in self.messages if not any(re.search(p, m) for p in marker.args)]


@pytest.fixture
def browser_problems() -> BrowserProblems:
    """What went wrong in the browser so far (`.messages`), e.g. to assert an expected error appeared."""
    return BrowserProblems()


@pytest.fixture
def new_page(
    browser: Any, live_server: str, browser_problems: BrowserProblems, request: pytest.FixtureRequest
) -> Iterator[Callable[..., Any]]:
    """`new_page(viewport=None)`: a page in a fresh browser context (cookies of its own), watched for errors."""
    contexts: list[Any] = []

    def make(viewport: dict[str, int] | None = None) -> Any:
        context = browser.new_context(base_url=live_server, viewport=viewport or DESKTOP)
        contexts.append(context)
        context.set_default_timeout(10_000)
        page = context.new_page()
        browser_problems.watch(context, page)
        return page

    yield make

    report = getattr(request.node, "_browser_report_call", None)
    if report is not None and report.failed:
        directory = Path(os.environ.get("BROWSER_FAILURE_DIR", "/tmp/browser-failures"))
        directory.mkdir(parents=True, exist_ok=True)
        for n, context in enumerate(contexts):
            for m, page in enumerate(context.pages):
                name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)[-150:]
                try:
                    page.screenshot(path=str(directory / f"{name}-{n}-{m}.png"), full_page=True)
                except Exception:  # noqa: BLE001 - a screenshot is a courtesy, never a second failure
                    pass
    for context in contexts:
        context.close()
    unexpected = browser_problems.unexpected(request.node.get_closest_marker("allow_console_errors"))
    if unexpected:
        pytest.fail("The browser reported problems:\n" + "\n".join(unexpected), pytrace=False)


@pytest.fixture
def page(new_page: Callable[..., Any]) -> Any:
    """A Playwright Page (1280x800) in a fresh context; relative URLs go to the live server."""
    return new_page()


@pytest.fixture
def login_browser(app: Flask, live_server: str) -> Callable[[Any, Any], Any]:
    """`login_browser(page, user)`: sign `user` in on that page's context; returns the user."""

    def login(page: Any, user: Any) -> Any:
        add_login_cookie(page, app, user, live_server)
        return user

    return login


@pytest.fixture
def axe() -> Callable[..., None]:
    """`axe(page)`: fail listing each WCAG 2.2 AA violation axe-core finds on the page as it is now."""
    return assert_no_axe_violations
