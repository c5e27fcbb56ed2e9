"""Proposals: anyone reads them; members propose while the window is open; only the author edits,
previews an edit or withdraws (the world's proposal is by someone else, so nobody here may)."""

from . import EVERYONE, MEMBERS, NOBODY, Rule

PROPOSAL_FORM = {"title": "", "body": "Objective 1.1 body. More.", "rationale": ""}

RULES = [
    Rule("proposals.propose", "GET", "/visions/{slug}/elements/{key}/propose", MEMBERS),
    # Missing rationale: members get the form back with a message (422), nothing is created.
    Rule("proposals.propose", "POST", "/visions/{slug}/elements/{key}/propose", MEMBERS, data=PROPOSAL_FORM),
    Rule("proposals.preview", "POST", "/visions/{slug}/elements/{key}/propose/preview", MEMBERS, data=PROPOSAL_FORM),
    Rule("proposals.show", "GET", "/proposals/{proposal}", EVERYONE),
    Rule("proposals.revision", "GET", "/proposals/{proposal}/revisions/1", EVERYONE),
    Rule("proposals.index", "GET", "/visions/{slug}/proposals", EVERYONE),
    Rule("proposals.edit", "GET", "/proposals/{proposal}/edit", NOBODY, note="only the author"),
    Rule("proposals.edit", "POST", "/proposals/{proposal}/edit", NOBODY, data=PROPOSAL_FORM, note="only the author"),
    Rule("proposals.edit_preview", "POST", "/proposals/{proposal}/edit/preview", NOBODY, data=PROPOSAL_FORM, note="only the author"),
    Rule("proposals.withdraw", "GET", "/proposals/{proposal}/withdraw", NOBODY, note="only the author: the confirmation"),
    Rule("proposals.withdraw", "POST", "/proposals/{proposal}/withdraw", NOBODY, note="only the author"),
]

# Proposals to remove an element (issue 16): members, while the window is open.
RULES += [
    Rule("proposals.propose_removal", "GET", "/visions/{slug}/elements/{key}/propose-removal", MEMBERS),
    Rule("proposals.propose_removal", "POST", "/visions/{slug}/elements/{key}/propose-removal", MEMBERS,
         data={"rationale": "It repeats another objective."}),
]

# Proposals to move an element (issue 16, step 3): members, while the window is open.
RULES += [
    Rule("proposals.propose_move", "GET", "/visions/{slug}/elements/{key}/propose-move", MEMBERS),
    Rule("proposals.propose_move", "POST", "/visions/{slug}/elements/{key}/propose-move", MEMBERS,
         data={"parent": "", "position": "1", "rationale": "It belongs elsewhere."}),
]

# Proposals to add an element (issue 16): members, while the window is open; under an ambition
# (a new objective or enabling condition) or under the vision statement (a new ambition).
RULES += [
    Rule("proposals.propose_addition", "GET", "/visions/{slug}/elements/ambition-1/propose-new", MEMBERS),
    Rule("proposals.propose_addition", "POST", "/visions/{slug}/elements/ambition-1/propose-new", MEMBERS,
         data={"kind": "objective", "position": "", "title": "A new objective", "body": "Its text.", "rationale": "It is missing."}),
]
