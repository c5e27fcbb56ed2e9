"""Notifications and follows (issue 15): members only, each person their own notifications. The
world holds no notification of the person signed in, so marking one read is refused to everyone
(someone else's, or none: a 404, so that nobody learns whether another person's exists)."""

from . import MEMBERS, NOBODY, Rule

RULES = [
    Rule("notifications.index", "GET", "/notifications", MEMBERS),
    Rule("notifications.mark_read", "POST", "/notifications/1/read", NOBODY,
         note="not the person's own: 404 for members, sign in for visitors"),
    Rule("notifications.mark_all_read", "POST", "/notifications/read-all", MEMBERS),
    Rule("notifications.follow", "POST", "/follow", MEMBERS, data={"thing": "vision", "id": "1"}),
    Rule("notifications.unfollow", "POST", "/unfollow", MEMBERS, data={"thing": "element", "id": "1"}),
]
