"""Public reading: anyone, signed in or not."""

from . import EVERYONE, Rule

RULES = [
    Rule("visions.index", "GET", "/", EVERYONE),
    Rule("visions.favicon", "GET", "/favicon.ico", EVERYONE),
    Rule("static", "GET", "/static/css/app.css", EVERYONE),
    Rule("visions.show", "GET", "/visions/{slug}/", EVERYONE),
    Rule("visions.version", "GET", "/visions/{slug}/v/1/", EVERYONE),
    Rule("visions.version_element", "GET", "/visions/{slug}/v/1/{key}", EVERYONE),
    Rule("visions.version_json", "GET", "/visions/{slug}/v/1.json", EVERYONE),
    Rule("visions.versions", "GET", "/visions/{slug}/versions", EVERYONE),
    Rule("visions.element", "GET", "/visions/{slug}/elements/{key}", EVERYONE),
    Rule("visions.signing_key", "GET", "/.well-known/vision-workbench-signing-key", EVERYONE),
    Rule("visions.about_verifying", "GET", "/about/verifying", EVERYONE),
]
RULES.append(Rule("pages.health", "GET", "/health", EVERYONE))
RULES.append(Rule("participation.show", "GET", "/visions/{slug}/participation", EVERYONE))
