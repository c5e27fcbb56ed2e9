"""Comments as HTML: plain text in paragraphs, with http(s) addresses made into links.

Nothing a person typed reaches the page unescaped: the text is cut into plain pieces and address
pieces, and every piece (the link's address included) goes through `markupsafe.escape`. Only
`http://` and `https://` addresses with a host become links (`javascript:`, `data:` and `//host`
never do), each with `rel="nofollow ugc noopener"`.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from markupsafe import Markup, escape

# An address runs until whitespace or a character that cannot appear unencoded in one.
_URL = re.compile(r"\bhttps?://[^\s<>\"'`\x00-\x1f\x7f]+", re.IGNORECASE)
# Punctuation that usually ends the sentence rather than the address.
_TRAILING = ".,;:!?'\"*_"
MAX_LINKED_URL = 2000
LINK_REL = "nofollow ugc noopener"


def _trim(url: str) -> str:
    """The address without the sentence's punctuation after it (a closing bracket only when unmatched)."""
    while url:
        last = url[-1]
        if last in _TRAILING:
            url = url[:-1]
        elif last in ")]}" and url.count(last) > url.count({")": "(", "]": "[", "}": "{"}[last]):
            url = url[:-1]
        else:
            break
    return url


def _linkable(url: str) -> bool:
    if len(url) > MAX_LINKED_URL:
        return False
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def linkify(text: str) -> Markup:
    """One piece of plain text as HTML: escaped, its http(s) addresses as links."""
    pieces: list[str] = []
    position = 0
    for match in _URL.finditer(text):
        url = _trim(match.group(0))
        if not url or not _linkable(url):
            continue
        start, end = match.start(), match.start() + len(url)
        pieces.append(escape(text[position:start]))
        pieces.append(Markup('<a href="{0}" rel="{1}">{0}</a>').format(url, LINK_REL))
        position = end
    pieces.append(escape(text[position:]))
    return Markup("").join(pieces)


def paragraphs_with_links(text: str | None) -> Markup:
    """Plain text as HTML paragraphs: a blank line starts a paragraph, a single newline is a line
    break; escaped, with http(s) addresses linked. Never mark the raw text safe yourself."""
    paragraphs = [p for p in re.split(r"\n\s*\n", text or "") if p.strip()]
    html = []
    for paragraph in paragraphs:
        lines = [linkify(line) for line in paragraph.strip("\n").split("\n")]
        html.append(Markup("<p>{}</p>").format(Markup("<br>\n").join(lines)))
    return Markup("\n").join(html)
