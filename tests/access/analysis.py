"""Data for analysts (issue 14): the public files, their data package and pages are for everyone;
the files with hidden items, and their data package, for facilitators (and admins) only.
tests/test_exports_analysts.py checks what each holds."""

from . import EVERYONE, FACILITATORS, Rule

RULES = [
    Rule("analysis.download", "GET", "/visions/{slug}/data/", EVERYONE),
    Rule("analysis.about", "GET", "/visions/{slug}/data/about", EVERYONE),
    Rule("analysis.package", "GET", "/visions/{slug}/data/datapackage.json", EVERYONE),
    *(
        Rule("analysis.table", "GET", f"/visions/{{slug}}/data/{name}", EVERYONE)
        for name in ("proposals.csv", "comments.json", "votes.csv", "participants.json")
    ),
    Rule("analysis.facilitators_package", "GET", "/visions/{slug}/data/facilitators/datapackage.json", FACILITATORS),
    *(
        Rule("analysis.facilitators_table", "GET", f"/visions/{{slug}}/data/facilitators/{name}", FACILITATORS)
        for name in ("proposals.xlsx", "comments.csv", "votes.json", "participants.csv")
    ),
]
