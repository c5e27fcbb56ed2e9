"""The kinds of notification, in the words a person chooses their mail by (on /account), and how
each is mailed when they have not chosen (`EmailChoice` rows hold the choices made)."""

from __future__ import annotations

from dataclasses import dataclass

IMMEDIATELY, DAILY, NEVER = "immediately", "daily", "never"
HOW_WORDS = {IMMEDIATELY: "Email me straight away", DAILY: "In a daily email", NEVER: "Do not email me"}


@dataclass(frozen=True)
class Kind:
    name: str
    label: str  # what the choice on /account is about
    hint: str
    default: str  # IMMEDIATELY, DAILY or NEVER


_ALL = (
    Kind("decision", "Decisions on my proposals", "Accepted, accepted with changes, rejected with the reason, or reopened.", IMMEDIATELY),
    Kind("stale", "My proposals that need updating", "Another change reached the text a proposal of yours changes.", IMMEDIATELY),
    Kind("comment_on_mine", "Comments on my proposals", "Someone commented on a proposal you wrote.", IMMEDIATELY),
    Kind("reply", "Replies to my comments and reflections", "Someone replied to something you wrote.", IMMEDIATELY),
    Kind("screening", "The screening of my aligned work", "Your aligned work was added to the register, or not.", IMMEDIATELY),
    Kind("moderation", "Moderation of what I wrote", "A facilitator hid something you wrote, or showed it again.", IMMEDIATELY),
    Kind("followed_vision", "New versions of visions I follow", "A new version of a vision was published.", DAILY),
    Kind("followed_element", "New proposals and reflections on parts I follow", "On a statement, ambition, objective or condition you follow.", DAILY),
    Kind("followed_proposal", "Comments and decisions on proposals I follow", "On a proposal you follow but did not write.", DAILY),
)
KINDS: dict[str, Kind] = {kind.name: kind for kind in _ALL}
