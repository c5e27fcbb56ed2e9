"""History between published versions: public, like the versions themselves."""

from . import EVERYONE, Rule

RULES = [
    Rule("history.choose", "GET", "/visions/{slug}/compare", EVERYONE),
    Rule("history.compare", "GET", "/visions/{slug}/compare/1...1", EVERYONE),
    Rule("history.feed", "GET", "/visions/{slug}/feed.atom", EVERYONE),
]
