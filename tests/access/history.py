"""History between published versions: public, like the versions themselves."""

from . import EVERYONE, MEMBERS, Rule

RULES = [
    Rule("history.choose", "GET", "/visions/{slug}/compare", EVERYONE),
    Rule("history.compare", "GET", "/visions/{slug}/compare/1...1", EVERYONE),
    Rule("history.compare_json", "GET", "/visions/{slug}/compare/1...1.json", EVERYONE),
    Rule("history.feed", "GET", "/visions/{slug}/feed.atom", EVERYONE),
    Rule("history.who_wrote_page", "GET", "/visions/{slug}/v/1/who-wrote", EVERYONE),
    Rule("history.who_wrote_json", "GET", "/visions/{slug}/v/1/who-wrote.json", EVERYONE),
    Rule("history.your_words", "GET", "/account/your-words", MEMBERS, note="a person's own words"),
]
