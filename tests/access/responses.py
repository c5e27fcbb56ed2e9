"""Responding in one guided journey (issue 17, item 2): every page needs an account; anonymous
visitors are sent to sign in and come back.

The matrix's world has no response: "Check your answers" sends members to the start page (303),
sending an empty first step saves a draft (303 to the next step), and submitting without a draft is
a 409 (nothing to send: an allowed answer). A reference number that does not exist is a 404 to
everyone; tests/test_response_journey.py shows people their own responses, and nobody else's.
"""

from . import MEMBERS, NOBODY, Rule

RULES = [
    Rule("responses.start", "GET", "/visions/{slug}/respond", MEMBERS),
    Rule("responses.step", "GET", "/visions/{slug}/respond/vision", MEMBERS),
    Rule("responses.step", "POST", "/visions/{slug}/respond/vision", MEMBERS, data={"body": ""}),
    Rule("responses.check", "GET", "/visions/{slug}/respond/check", MEMBERS, note="303 to the start: no draft"),
    Rule("responses.submit", "POST", "/visions/{slug}/respond/submit", MEMBERS, note="409: no draft to send"),
    Rule("responses.confirmation", "GET", "/visions/{slug}/responses/VW-2222-2222", NOBODY, note="404: no such response"),
]
