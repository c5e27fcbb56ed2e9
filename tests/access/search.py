"""Search (issue 14, item 3): anyone may search a vision; what each person finds differs (hidden
content only for facilitators), which tests/test_search.py checks with real content."""

from . import EVERYONE, Rule

RULES = [
    Rule("search.search", "GET", "/visions/{slug}/search", EVERYONE),
    Rule("search.search", "GET", "/visions/{slug}/search?q=objective&kind=proposal&element={key}", EVERYONE),
]
