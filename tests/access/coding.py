"""Coding responses (issue 14, item 2): the codebook, the tags of a proposal, comment or reflection,
and tagging several proposals from the queue are for facilitators only (tags are never public, but
for the themes a facilitator publishes, whose counts the public reports show).

The matrix's world has no tag, so the routes of one tag (rename, merge, publish, unpublish) are a
404 even for facilitators (declared NOBODY); tests/test_coding.py covers them with tags, for each
role.
"""

from . import FACILITATORS, NOBODY, Rule

NO_TAG = "no tag exists in the matrix world, so this is a 404 for facilitators; see tests/test_coding.py"

RULES = [
    Rule("coding.show", "GET", "/visions/{slug}/facilitate/codebook", FACILITATORS),
    # Facilitators get the page back with "Enter a name for the tag" (422).
    Rule("coding.create", "POST", "/visions/{slug}/facilitate/codebook", FACILITATORS),
    Rule("coding.rename", "POST", "/visions/{slug}/facilitate/codebook/1/rename", NOBODY, data={"name": "x"}, note=NO_TAG),
    Rule("coding.merge", "POST", "/visions/{slug}/facilitate/codebook/1/merge", NOBODY, data={"into": "2"}, note=NO_TAG),
    Rule("coding.publish_theme", "POST", "/visions/{slug}/facilitate/codebook/1/publish", NOBODY, note=NO_TAG),
    Rule("coding.stop_publishing_theme", "POST", "/visions/{slug}/facilitate/codebook/1/unpublish", NOBODY, note=NO_TAG),
    # No box ticked: the proposal's tags stay none, and back to its page.
    Rule("coding.proposal_tags", "POST", "/proposals/{proposal}/tags", FACILITATORS),
    Rule("coding.comment_tags", "GET", "/comments/{comment}/tags", FACILITATORS),
    Rule("coding.comment_tags", "POST", "/comments/{reflection}/tags", FACILITATORS),
    # Nothing selected: "Nothing was tagged", back to the queue.
    Rule("coding.tag_selected_proposals", "POST", "/visions/{slug}/facilitate/tag", FACILITATORS),
    Rule("coding.responses", "GET", "/visions/{slug}/facilitate/responses", FACILITATORS),
    Rule("coding.tag_selected_responses", "POST", "/visions/{slug}/facilitate/responses/tag", FACILITATORS),
]
