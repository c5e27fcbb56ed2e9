"""Deliberation: anyone reads votes, comments, reflections and their history; members vote, comment,
reflect and report while the window is open; only the author edits or retracts (the world's
comment is someone else's, so nobody here may); facilitators moderate."""

from . import EVERYONE, FACILITATORS, MEMBERS, NOBODY, Rule

RULES = [
    Rule("discussion.vote", "POST", "/proposals/{proposal}/vote", MEMBERS, data={"value": "support"}),
    Rule("discussion.comments", "GET", "/proposals/{proposal}/comments", EVERYONE),
    Rule("discussion.comments", "POST", "/proposals/{proposal}/comments", MEMBERS, data={"body": "A thought."}),
    Rule("discussion.reflections", "GET", "/visions/{slug}/elements/{key}/reflections", EVERYONE),
    Rule("discussion.reflections", "POST", "/visions/{slug}/elements/{key}/reflections", MEMBERS, data={"body": "A reflection."}),
    Rule("discussion.sentence_reflection", "GET", "/visions/{slug}/elements/{key}/sentences/p1-s1", EVERYONE),
    Rule(
        "discussion.sentence_reflection", "POST", "/visions/{slug}/elements/{key}/sentences/p1-s1", MEMBERS,
        data={"body": "A reflection on this sentence."},
    ),
    Rule("discussion.comment", "GET", "/comments/{comment}", EVERYONE, note="redirects to where the comment is shown"),
    Rule("discussion.replies", "GET", "/comments/{comment}/replies", EVERYONE),
    Rule("discussion.history", "GET", "/comments/{reflection}/history", EVERYONE),
    Rule("discussion.edit", "GET", "/comments/{comment}/edit", NOBODY, note="only the author"),
    Rule("discussion.edit", "POST", "/comments/{comment}/edit", NOBODY, data={"body": "Changed."}, note="only the author"),
    Rule("discussion.retract", "GET", "/comments/{comment}/retract", NOBODY, note="only the author"),
    Rule("discussion.retract", "POST", "/comments/{reflection}/retract", NOBODY, note="only the author"),
    Rule("discussion.new_report", "GET", "/reports/new?subject_type=comment&subject_id={comment}", MEMBERS),
    Rule(
        "discussion.file_report", "POST", "/reports?subject_type=proposal&subject_id={proposal}", MEMBERS,
        data={"reason": "It names a private person."},
    ),
    Rule("discussion.moderation_list", "GET", "/moderation", FACILITATORS),
    Rule("discussion.hide", "GET", "/moderation/proposal/{proposal}/hide", FACILITATORS),
    Rule("discussion.hide", "POST", "/moderation/comment/{comment}/hide", FACILITATORS, data={"reason": "Abusive."}),
    Rule("discussion.unhide", "POST", "/moderation/comment/{comment}/unhide", FACILITATORS, note="not hidden: a message, nothing changes"),
    Rule("discussion.dismiss", "POST", "/moderation/comment/{comment}/dismiss", FACILITATORS, note="no reports: a message, nothing changes"),
]
