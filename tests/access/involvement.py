"""Getting involved (issue 17, items 1 and 4): the "Get involved" page is public; offering to help,
changing and withdrawing the offer need an account; the list of volunteers (names, email addresses,
skills), its CSV and invitations to a working group are for facilitators only.

The matrix's world has no volunteer: withdrawing is a 409 for members (nothing to withdraw, which
is an allowed answer), and an invitation sent empty comes back to facilitators with its messages
(422). tests/test_volunteers.py covers each route with real offers.
"""

from . import EVERYONE, FACILITATORS, MEMBERS, Rule

RULES = [
    Rule("involvement.get_involved", "GET", "/visions/{slug}/get-involved", EVERYONE),
    Rule("involvement.volunteer", "GET", "/visions/{slug}/volunteer", MEMBERS),
    # Members get the form back with messages (422: nothing chosen); anonymous visitors are sent to sign in.
    Rule("involvement.volunteer", "POST", "/visions/{slug}/volunteer", MEMBERS),
    Rule("involvement.withdraw", "POST", "/visions/{slug}/volunteer/withdraw", MEMBERS, note="409: nothing to withdraw"),
    Rule("involvement.volunteers", "GET", "/visions/{slug}/facilitate/volunteers", FACILITATORS),
    Rule("involvement.volunteers_csv", "GET", "/visions/{slug}/facilitate/volunteers.csv", FACILITATORS),
    Rule("involvement.invite", "POST", "/visions/{slug}/facilitate/volunteers/invite", FACILITATORS),
]
