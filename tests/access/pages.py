"""Pages that explain the service: everyone."""

from . import EVERYONE, Rule

RULES = [
    Rule("pages.about", "GET", "/about", EVERYONE),
    Rule("pages.privacy", "GET", "/privacy", EVERYONE),
]
