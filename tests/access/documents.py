"""Documents of published versions and comparisons: public, like the versions themselves."""

from . import EVERYONE, Rule

RULES = [
    Rule("documents.version_word", "GET", "/visions/{slug}/v/1.docx", EVERYONE),
    Rule(
        "documents.version_pdf", "GET", "/visions/{slug}/v/1.pdf", EVERYONE,
        note="503 (allowed, but no PDF) on a server without LibreOffice",
    ),
    Rule("documents.comparison_word", "GET", "/visions/{slug}/compare/1...1.docx", EVERYONE),
]
