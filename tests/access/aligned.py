"""Aligned work (issue 7): the register and its open data are public; submitting needs an account;
screening is for facilitators.

The matrix's world has no aligned work, so `{work}` ("1") names no initiative: every route on one
initiative is a 404 for everyone here (declared NOBODY). tests/test_aligned_access.py covers those
routes for real, with a waiting and a published initiative, for anonymous visitors, another
volunteer, the submitter, a facilitator and an admin.
"""

from . import EVERYONE, FACILITATORS, MEMBERS, NOBODY, Rule

NO_ROW = "no initiative exists in the matrix world, so this is a 404; see tests/test_aligned_access.py"

RULES = [
    Rule("aligned.register", "GET", "/visions/{slug}/aligned-work", EVERYONE),
    Rule("aligned.register_csv", "GET", "/visions/{slug}/aligned-work.csv", EVERYONE),
    Rule("aligned.register_json", "GET", "/visions/{slug}/aligned-work.json", EVERYONE),
    Rule("aligned.about_the_data", "GET", "/visions/{slug}/aligned-work/about-the-data", EVERYONE),
    Rule("aligned.submit", "GET", "/visions/{slug}/aligned-work/new", MEMBERS),
    # Members get the form back with messages (422: no elements chosen); anonymous visitors go to sign in.
    Rule(
        "aligned.submit",
        "POST",
        "/visions/{slug}/aligned-work/new",
        MEMBERS,
        data={"organisation": "An organisation", "title": "A title", "description": "What it does.", "status": "current"},
    ),
    Rule("aligned.screening", "GET", "/visions/{slug}/aligned-work/screening", FACILITATORS),
    Rule("aligned.yours", "GET", "/aligned-work/yours", MEMBERS),
    Rule("aligned.show", "GET", "/aligned-work/{work}", NOBODY, note=NO_ROW),
    Rule("aligned.edit", "GET", "/aligned-work/{work}/edit", NOBODY, note=NO_ROW),
    Rule("aligned.edit", "POST", "/aligned-work/{work}/edit", NOBODY, note=NO_ROW),
    Rule("aligned.approve", "POST", "/aligned-work/{work}/approve", NOBODY, note=NO_ROW),
    Rule("aligned.reject", "POST", "/aligned-work/{work}/reject", NOBODY, data={"reason": "Not aligned."}, note=NO_ROW),
]
