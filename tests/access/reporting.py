"""The consultation report of a version: public, like the version itself."""

from . import EVERYONE, Rule

RULES = [
    Rule("reporting.report_page", "GET", "/visions/{slug}/v/1/report", EVERYONE),
    Rule("reporting.report_word", "GET", "/visions/{slug}/v/1/report.docx", EVERYONE),
]
