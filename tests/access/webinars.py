"""Webinars (issue 17, item 5): the list and each session's page are public; registering and
cancelling need an account; scheduling, changing and the attendees (names and addresses) are for
facilitators; a mail's cancel link needs no account, only a token this site signed.

The matrix's world has no webinar, so `{webinar}` ("1") names none: every route on one session is a
404 for everyone here (declared NOBODY). tests/test_webinars.py covers those routes for real, with a
session, for anonymous visitors, a volunteer, a facilitator and an admin
(`test_who_may_use_each_route_of_a_session`).
"""

from . import EVERYONE, FACILITATORS, NOBODY, Rule

NO_ROW = "no webinar exists in the matrix world, so this is a 404; see tests/test_webinars.py"

RULES = [
    Rule("webinars.index", "GET", "/visions/{slug}/webinars", EVERYONE),
    Rule("webinars.new", "GET", "/visions/{slug}/webinars/new", FACILITATORS),
    # Facilitators get the form back with messages (422: nothing typed); others are refused.
    Rule("webinars.new", "POST", "/visions/{slug}/webinars/new", FACILITATORS),
    Rule("webinars.show", "GET", "/webinars/1", NOBODY, note=NO_ROW),
    Rule("webinars.edit", "GET", "/webinars/1/edit", NOBODY, note=NO_ROW),
    Rule("webinars.edit", "POST", "/webinars/1/edit", NOBODY, note=NO_ROW),
    Rule("webinars.register", "POST", "/webinars/1/register", NOBODY, note=NO_ROW),
    Rule("webinars.cancel", "POST", "/webinars/1/cancel", NOBODY, note=NO_ROW),
    Rule("webinars.attendees", "GET", "/webinars/1/attendees", NOBODY, note=NO_ROW),
    Rule("webinars.attendees_csv", "GET", "/webinars/1/attendees.csv", NOBODY, note=NO_ROW),
    # A made-up token: "This link is not valid" (404) for everyone.
    Rule("webinars.cancel_by_link", "GET", "/webinars/cancel/{token}", NOBODY, note="a forged token is refused"),
    Rule("webinars.cancel_by_link", "POST", "/webinars/cancel/{token}", NOBODY, note="a forged token is refused"),
]
