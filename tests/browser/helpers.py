"""Checks for real-browser tests: axe-core (WCAG 2.2 AA), reflow at 320 px, the skip link, signing in.

Plain functions taking a Playwright `Page`, importable as `from tests.browser.helpers import ...`.
The fixtures in `tests/browser/conftest.py` (`page`, `live_server`, `login_browser`, ...) use them.
"""

from __future__ import annotations

from typing import Any

from flask import Flask

CHROMIUM_PATH = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
DESKTOP = {"width": 1280, "height": 800}
NARROW = {"width": 320, "height": 640}

# WCAG 2.0, 2.1 and 2.2 at levels A and AA (axe-core tags).
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]


# --- accessibility --------------------------------------------------------------------------------


def axe_violations(page: Any, *, context: str | dict | None = None) -> list[dict[str, Any]]:
    """Run axe-core on the page as it is now; return its violations (empty when there are none)."""
    from axe_playwright_python.sync_playwright import Axe

    options = {"runOnly": {"type": "tag", "values": WCAG_TAGS}, "resultTypes": ["violations"]}
    return Axe().run(page, context=context, options=options).response["violations"]


def describe_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']} [{violation.get('helpUrl', '')}]")
        for node in violation["nodes"]:
            target = " ".join(str(t) for t in node.get("target", []))
            lines.append(f"    at {target}: {node.get('failureSummary', '').strip()}".replace("\n", " "))
    return "\n".join(lines)


def assert_no_axe_violations(page: Any, *, context: str | dict | None = None) -> None:
    """Fail, listing each violation's id, help text and target nodes, if axe finds any WCAG 2.2 AA problem."""
    violations = axe_violations(page, context=context)
    assert not violations, f"axe-core found {len(violations)} WCAG 2.2 AA violation(s) on {page.url}:\n" + describe_violations(violations)


# --- reflow ---------------------------------------------------------------------------------------

_OVERFLOW = """() => {
  const root = document.documentElement;
  const width = root.clientWidth;
  const scrollWidth = root.scrollWidth;
  const causes = [];
  if (scrollWidth > width) {
    // Find what makes the page wide: hide, one at a time, each element sticking out on the right; keep
    // hidden the smallest one (fewest descendants) whose absence narrows the page; repeat until the
    // page fits. So the cause is named (a long word, a hash), not the containers it stretches.
    const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') +
      (el.classList.length ? '.' + Array.from(el.classList).join('.') : '');
    const hidden = [];
    for (let round = 0; round < 5 && root.scrollWidth > width; round++) {
      const before = root.scrollWidth;
      let best = null, bestWidth = before, bestSize = Infinity;
      for (const el of document.body.querySelectorAll('*')) {
        const box = el.getBoundingClientRect();
        if (box.width === 0 || box.right <= width + 1) continue;
        const display = el.style.display;
        el.style.display = 'none';
        const now = root.scrollWidth;
        el.style.display = display;
        const size = el.querySelectorAll('*').length;
        if (now < before && (size < bestSize || (size === bestSize && now < bestWidth))) {
          best = el; bestWidth = now; bestSize = size;
        }
      }
      if (!best) break;
      causes.push(name(best) + ' "' + (best.textContent || '').trim().slice(0, 60) + '" (without it the page is ' + bestWidth + ' px wide)');
      hidden.push([best, best.style.display]);
      best.style.display = 'none';
    }
    for (const [el, display] of hidden) el.style.display = display;
  }
  return {scrollWidth: scrollWidth, clientWidth: width, wide: causes};
}"""


def horizontal_overflow(page: Any) -> dict[str, Any]:
    """{scrollWidth, clientWidth, wide: the elements that make the page scroll sideways, if it does}."""
    return page.evaluate(_OVERFLOW)


def assert_no_horizontal_scroll(page: Any, width: int = 320, height: int = 640) -> None:
    """Resize the page to `width` CSS px and fail if it scrolls sideways (WCAG 1.4.10 Reflow).

    Leaves the viewport at that size.
    """
    page.set_viewport_size({"width": width, "height": height})
    page.evaluate("() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))")
    found = horizontal_overflow(page)
    assert found["scrollWidth"] <= found["clientWidth"], (
        f"{page.url} scrolls sideways at {width} px: scrollWidth {found['scrollWidth']} > "
        f"clientWidth {found['clientWidth']}. Caused by: " + "; ".join(found["wide"])
    )


# --- keyboard -------------------------------------------------------------------------------------

_FOCUSED = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const box = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), id: el.id, href: el.getAttribute('href'),
          text: (el.textContent || '').trim(), visible: box.width > 0 && box.height > 0};
}"""


def focused_element(page: Any) -> dict[str, Any] | None:
    """The focused element as {tag, id, href, text, visible}, or None when nothing (the body) has focus."""
    return page.evaluate(_FOCUSED)


def first_tab_reaches_skip_link(page: Any) -> bool:
    """Press Tab once (call it right after `page.goto`) and say whether a visible skip link got focus.

    A skip link: a link to an in-page target (`#...`) whose text starts with "Skip".
    """
    page.keyboard.press("Tab")
    focused = focused_element(page)
    return bool(
        focused
        and focused["tag"] == "a"
        and (focused["href"] or "").startswith("#")
        and focused["text"].lower().startswith("skip")
        and focused["visible"]
    )


def skip_link_moves_focus_to_main(page: Any) -> bool:
    """With the skip link focused, press Enter and say whether focus moved to the `<main>` element."""
    page.keyboard.press("Enter")
    return bool(page.evaluate("() => document.activeElement === document.querySelector('main')"))


# --- signing in -----------------------------------------------------------------------------------


def session_cookie(app: Flask, user: Any, *, user_agent: str, remote_addr: str = "127.0.0.1") -> tuple[str, str]:
    """(name, value) of a Flask session cookie that signs `user` in, fresh, for that browser.

    Built like Flask-Login's `login_user` would: `_user_id` (the user's session token), `_fresh`, and
    `_id`, the session-protection identifier of the browser's address and user agent.
    """
    from flask_login.utils import _create_identifier

    with app.test_request_context(environ_base={"REMOTE_ADDR": remote_addr}, headers={"User-Agent": user_agent}):
        data = {"_user_id": user.get_id(), "_fresh": True, "_id": _create_identifier()}
        value = app.session_interface.get_signing_serializer(app).dumps(data)  # type: ignore[attr-defined]
    return app.config["SESSION_COOKIE_NAME"], value


def add_login_cookie(page: Any, app: Flask, user: Any, base_url: str) -> None:
    """Sign `user` in on the page's browser context without the sign-in page (sets the session cookie)."""
    name, value = session_cookie(app, user, user_agent=page.evaluate("() => navigator.userAgent"))
    page.context.add_cookies(
        [{"name": name, "value": value, "url": base_url, "httpOnly": True, "sameSite": "Lax"}]
    )
