"""Walk every page, fragment, feed and export a client may GET, for the publication tests (issue 17,
item 3): "without my name" (tests/test_publication_names.py) and "not published".

`walk_public_pages(client, world)` yields `(url, text)` for every page the client can read:
- it starts from one example URL per GET route of the app's URL map (the roles x routes matrix in
  tests/access/ declares one for every route, with placeholders filled from `world`; see
  `world_of`), whatever the matrix says about who may read it: a page the client may not read
  answers 401/403/404 or a redirect to sign in, and is passed over;
- then follows every same-site link (`href`, `hx-get`, `src`, form `action`s, redirects) it finds, so that pages
  the matrix cannot name (version 2, a webinar, the next page of a list, a proposal by someone
  else) are walked too; at most `per_route` URLs per route and `limit` in all.

The text is what a reader (or a program) gets: HTML, JSON, CSV and Atom with entities unescaped;
a Word file's XML parts with their attributes (a tracked change names its author in one); a PDF's
extracted text. A 500 anywhere fails the walk.
"""

from __future__ import annotations

import html
import io
import re
import zipfile
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Mapping
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from workbench.extensions import db
from workbench.models import AlignedWork, Comment, Proposal, User, Vision

from .access import collect_rules

# Never walked: files that are not about anyone, and routes whose GET is a signed link's action.
SKIPPED_ENDPOINTS = {"static", "visions.favicon", "pages.health"}
SKIPPED_PREFIXES = ("/static/",)
LINK = re.compile(r"""(?:href|hx-get|src|action)\s*=\s*["']([^"'#]*)""")
TEXT_TYPES = ("text/", "application/json", "application/atom+xml", "application/xml", "application/ld+json")


def world_of(vision: Vision, **overrides: str) -> dict[str, str]:
    """Placeholders of the access rules' URLs, taken from the vision's rows: its slug, the element
    "objective-1", its first proposal, comment on a proposal, reflection, aligned work, and the
    first user. `overrides` win."""
    first_proposal = db.session.scalar(select(func.min(Proposal.id)).where(Proposal.vision_id == vision.id))
    first_comment = db.session.scalar(
        select(func.min(Comment.id)).where(Comment.vision_id == vision.id, Comment.proposal_id.is_not(None))
    )
    first_reflection = db.session.scalar(
        select(func.min(Comment.id)).where(Comment.vision_id == vision.id, Comment.element_id.is_not(None))
    )
    first_work = db.session.scalar(select(func.min(AlignedWork.id)).where(AlignedWork.vision_id == vision.id))
    first_user = db.session.scalar(select(func.min(User.id)))
    world = {
        "slug": vision.slug,
        "key": "objective-1",
        "proposal": str(first_proposal or 1),
        "comment": str(first_comment or 1),
        "reflection": str(first_reflection or 1),
        "work": str(first_work or 1),
        "user": str(first_user or 1),
        "token": "not-a-real-token",
    }
    world.update(overrides)
    return world


def starting_urls(world: Mapping[str, str]) -> list[str]:
    """One example URL (or more) for every GET route of the URL map, from the access rules."""
    examples: dict[str, list[str]] = {}
    for rule in collect_rules():
        if rule.method == "GET" and rule.endpoint not in SKIPPED_ENDPOINTS:
            examples.setdefault(rule.endpoint, []).append(rule.url.format(**world))
    endpoints = {
        url_rule.endpoint for url_rule in current_app.url_map.iter_rules() if "GET" in url_rule.methods
    } - SKIPPED_ENDPOINTS
    # A route without an example (a rule not yet written: tests/test_access_matrix.py fails for it)
    # is still walked when a page links to it.
    return [url for endpoint in sorted(endpoints) for url in examples.get(endpoint, [])]


def endpoint_of(url: str) -> str | None:
    """The endpoint a same-site URL reaches, or None."""
    parts = urlsplit(url)
    try:
        endpoint, _ = current_app.url_map.bind("localhost").match(parts.path, method="GET")
    except RequestRedirect as redirect:
        return endpoint_of(urlsplit(redirect.new_url).path)
    except HTTPException:
        return None
    return endpoint


def response_text(response) -> str:  # noqa: ANN001 (a test client's response)
    """What a reader gets from the response, as one string (see the module's docstring)."""
    data = response.get_data()
    mimetype = response.mimetype or ""
    if data[:2] == b"PK":  # a Word file (or any zip of XML parts)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            parts = [archive.read(name).decode("utf-8", "replace") for name in archive.namelist() if name.endswith(".xml")]
        return html.unescape("\n".join(parts))
    if mimetype == "application/pdf":
        import pypdf

        return "\n".join(page.extract_text() or "" for page in pypdf.PdfReader(io.BytesIO(data)).pages)
    if mimetype.startswith(TEXT_TYPES) or mimetype.endswith(("+json", "+xml")):
        return html.unescape(data.decode("utf-8", "replace"))
    return ""


def links_in(text: str, base: str) -> Iterable[str]:
    """Same-site paths linked from a page."""
    for raw in LINK.findall(text):
        link = html.unescape(raw).strip()
        if link.startswith("http://localhost/"):
            link = link[len("http://localhost"):]
        if not link:
            continue
        if link.startswith("?"):
            link = urlsplit(base).path + link
        if link.startswith("/") and not link.startswith("//") and not link.startswith(SKIPPED_PREFIXES):
            yield link


def walk_public_pages(
    client,  # noqa: ANN001 (a test client, signed in or not)
    world: Mapping[str, str],
    *,
    per_route: int = 12,
    limit: int = 600,
    extra_urls: Iterable[str] = (),
) -> Iterator[tuple[str, str]]:
    """Yield (url, text) for every page the client can read (status 200), starting from each GET
    route's example URL and following same-site links. See the module's docstring."""
    queue = deque([*starting_urls(world), *extra_urls])
    seen: set[str] = set()
    per_endpoint: Counter[str] = Counter()
    walked = 0
    while queue and walked < limit:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        endpoint = endpoint_of(url)
        if endpoint is None or endpoint in SKIPPED_ENDPOINTS or per_endpoint[endpoint] >= per_route:
            continue
        per_endpoint[endpoint] += 1
        walked += 1
        response = client.get(url)
        try:
            assert response.status_code < 500 or response.status_code == 503, f"GET {url}: {response.status_code}"
            if response.status_code in (301, 302, 303, 307, 308):
                location = response.headers["Location"].removeprefix("http://localhost").split("#")[0]
                if not location.startswith("/auth/login"):  # a page the client may not read
                    queue.append(location)
                continue
            if response.status_code != 200:
                continue
            text = response_text(response)
        finally:
            response.close()
        yield url, text
        if response.mimetype == "text/html":
            queue.extend(link for link in links_in(text, url) if link not in seen)
