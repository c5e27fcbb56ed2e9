"""Facilitation: the way in (the visions, a vision's overview), the queue and decisions are for
facilitators; the one-click rebase for the author.

The world's proposal is open and written by another user, so:
- accept without the form's hidden fields is refused as out of date (409: allowed, nothing written);
- reopen of an open proposal is a 409 for facilitators (allowed, wrong state), 403 for others;
- rebase is the author's alone: nobody in the matrix is its author.
"""

from . import FACILITATORS, NOBODY, Rule

RULES = [
    Rule("facilitation.start", "GET", "/facilitate", FACILITATORS, note="one vision: a redirect to its overview"),
    Rule("facilitation.vision_overview", "GET", "/visions/{slug}/facilitate/overview", FACILITATORS),
    Rule("facilitation.queue", "GET", "/visions/{slug}/facilitate", FACILITATORS),
    Rule("facilitation.accept", "GET", "/proposals/{proposal}/accept", FACILITATORS),
    Rule(
        "facilitation.accept",
        "POST",
        "/proposals/{proposal}/accept",
        FACILITATORS,
        data={"title": "Objective 1.1", "body": "Accepted text.", "note": "Fine."},
        note="without expected_text_id the page counts as out of date: 409 for facilitators",
    ),
    Rule("facilitation.reject", "GET", "/proposals/{proposal}/reject", FACILITATORS),
    Rule("facilitation.reject", "POST", "/proposals/{proposal}/reject", FACILITATORS, data={"reason": "Out of scope."}),
    Rule("facilitation.reopen", "POST", "/proposals/{proposal}/reopen", FACILITATORS, note="409 for an open proposal"),
    Rule("facilitation.rebase", "POST", "/proposals/{proposal}/rebase", NOBODY, note="the author only"),
    Rule("facilitation.accept_together", "GET", "/visions/{slug}/elements/{key}/accept-together", FACILITATORS),
    Rule(
        "facilitation.accept_together",
        "POST",
        "/visions/{slug}/elements/{key}/accept-together",
        FACILITATORS,
        note="nothing chosen: 422 for facilitators (choose at least two)",
    ),
]

# The queue at volume (issue 13, item 2): assigning one proposal, and acting on several selected
# ones, are for facilitators (the world's proposal is open and someone else's: both succeed).
RULES += [
    Rule("facilitation.assign", "POST", "/proposals/{proposal}/assign", FACILITATORS, data={"assignee": "me"}),
    Rule(
        "facilitation.assign_selected",
        "POST",
        "/visions/{slug}/facilitate/assign",
        FACILITATORS,
        data={"assign_to": "me"},
        note="nothing selected: a 422 for facilitators",
    ),
    Rule(
        "facilitation.reject_selected",
        "POST",
        "/visions/{slug}/facilitate/reject",
        FACILITATORS,
        data={"reason": "Out of scope."},
        note="nothing selected: a 422 for facilitators",
    ),
]
