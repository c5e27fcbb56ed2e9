"""The words of a notification: one sentence (two with a reason) and the link to what it is about,
the same in the app, in an immediate mail and in the daily digest.

A notification is worded when it is read, from what it is about as it is now, so that content
hidden since is never shown: `Things` loads what a page of notifications is about in a few
queries, and `visible_to` says whether the person may still see it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from ..models import AlignedWork, AuditEvent, Comment, Element, Notification, Proposal, User, Vision, db
from ..publication import A_FORMER_PARTICIPANT, A_PARTICIPANT, NOT_PUBLISHED, name_shown
from ..visions.services import element_labels

ABOUT_TYPES: dict[type, str] = {
    Proposal: "proposal", Comment: "comment", Element: "element", Vision: "vision", AlignedWork: "aligned_work"
}
MODELS = {name: model for model, name in ABOUT_TYPES.items()}


@dataclass(frozen=True)
class Words:
    """What a notification says, and where it leads (an endpoint and its values)."""

    text: str
    endpoint: str
    values: dict[str, Any] = field(default_factory=dict)
    subject: str = ""  # a mail's subject


@dataclass
class Things:
    """What some notifications are about, their events and actors, loaded together."""

    about: dict[tuple[str, int], Any] = field(default_factory=dict)
    events: dict[int, AuditEvent] = field(default_factory=dict)
    names: dict[int, str] = field(default_factory=dict)
    visions: dict[int, Vision] = field(default_factory=dict)
    elements: dict[int, Element] = field(default_factory=dict)
    labels: dict[tuple[int, str], str] = field(default_factory=dict)
    # Comments and reflections that events are about and that were hidden since.
    hidden_comments: set[int] = field(default_factory=set)
    # Authors of what notifications are about who chose not to be published: seen by themselves only.
    unpublished_authors: set[int] = field(default_factory=set)

    @classmethod
    def of(cls, notifications: Iterable[Notification]) -> Things:
        """Load everything `notifications` need to be worded: at most about ten queries, however many."""
        notifications = list(notifications)
        things = cls()
        ids: dict[str, set[int]] = defaultdict(set)
        for n in notifications:
            ids[n.about_type].add(n.about_id)
        for about_type, about_ids in ids.items():
            model = MODELS.get(about_type)
            if model is not None:
                for row in db.session.scalars(select(model).where(model.id.in_(about_ids))):
                    things.about[(about_type, row.id)] = row
        event_ids = {n.last_event_id for n in notifications}
        if event_ids:
            things.events = {e.id: e for e in db.session.scalars(select(AuditEvent).where(AuditEvent.id.in_(event_ids)))}
        things._complete()
        return things

    @classmethod
    def single(cls, about: Any, event: AuditEvent) -> Things:
        """For one notification whose thing and event are in hand (the worker's case)."""
        things = cls(about={(ABOUT_TYPES[type(about)], about.id): about}, events={event.id: event})
        things._complete()
        return things

    def _complete(self) -> None:
        """Load the actors' names, the comments' proposals and elements, the visions and element
        labels, and which of the events' comments were hidden since."""
        told_comments = {e.subject_id for e in self.events.values() if e.subject_type == "comment" and e.subject_id}
        if told_comments:
            self.hidden_comments = set(
                db.session.scalars(select(Comment.id).where(Comment.id.in_(told_comments), Comment.hidden_at.is_not(None)))
            )
        comments = [c for (t, _), c in self.about.items() if t == "comment"]
        for model, key, wanted in (
            (Proposal, "proposal", {c.proposal_id for c in comments if c.proposal_id}),
            (Element, "element", {c.element_id for c in comments if c.element_id}),
        ):
            missing = {i for i in wanted if (key, i) not in self.about}
            if missing:
                for row in db.session.scalars(select(model).where(model.id.in_(missing))):
                    self.about[(key, row.id)] = row
        actor_ids = {e.actor_id for e in self.events.values() if e.actor_id}
        author_ids = {a for a in (getattr(thing, "author_id", None) for thing in self.about.values()) if a}
        if actor_ids | author_ids:
            # Names as the public sees them (publication.name_shown), read now: a choice made since applies.
            for row in db.session.execute(
                select(User.id, User.display_name, User.is_deleted, User.publish_as).where(User.id.in_(actor_ids | author_ids))
            ):
                if row.id in actor_ids:
                    self.names[row.id] = name_shown(row.display_name, is_deleted=row.is_deleted, publish_as=row.publish_as)
                if row.publish_as == NOT_PUBLISHED:
                    self.unpublished_authors.add(row.id)
        vision_ids = {getattr(thing, "vision_id", None) for thing in self.about.values()}
        vision_ids |= {thing.id for (t, _), thing in self.about.items() if t == "vision"}
        vision_ids.discard(None)
        if vision_ids:
            self.visions = {v.id: v for v in db.session.scalars(select(Vision).where(Vision.id.in_(vision_ids)))}
        element_ids = {thing.element_id for (t, _), thing in self.about.items() if t == "proposal"}
        element_ids |= {thing.id for (t, _), thing in self.about.items() if t == "element"}
        element_ids |= {c.element_id for c in comments if c.element_id}
        missing = element_ids - {i for (t, i) in self.about if t == "element"}
        if missing:
            for row in db.session.scalars(select(Element).where(Element.id.in_(missing))):
                self.about[("element", row.id)] = row
        keys_by_vision: dict[int, set[str]] = defaultdict(set)
        for (t, i), thing in self.about.items():
            if t == "element":
                keys_by_vision[thing.vision_id].add(thing.key)
        for vision_id, keys in keys_by_vision.items():
            vision = self.visions.get(vision_id)
            if vision is not None:
                for key, label in element_labels(vision, keys).items():
                    self.labels[(vision_id, key)] = label

    def get(self, about_type: str, about_id: int | None) -> Any:
        return self.about.get((about_type, about_id)) if about_id is not None else None

    def element_label(self, element_id: int | None) -> str:
        element = self.get("element", element_id)
        if element is None:
            return "a part of the vision"
        return self.labels.get((element.vision_id, element.key), element.key.replace("-", " ").capitalize())

    def actor(self, event: AuditEvent | None) -> str:
        if event is None or event.actor_id is None:
            return "Someone"
        name = self.names.get(event.actor_id, A_FORMER_PARTICIPANT)
        return name[0].upper() + name[1:] if name in (A_PARTICIPANT, A_FORMER_PARTICIPANT) else name


def visible_to(user_id: int, about: Any, things: Things) -> bool:
    """Whether the person may still be told about `about`: nothing hidden, and nothing by someone
    who chose not to be published, is shown to anyone but its author (a hidden proposal's comments
    are hidden with it)."""
    if about is None:
        return False
    if isinstance(about, Comment):
        proposal = things.get("proposal", about.proposal_id)
        if proposal is not None and proposal.hidden_at is not None and proposal.author_id != user_id:
            return False
    author_id = getattr(about, "author_id", None)
    if author_id in things.unpublished_authors and author_id != user_id:
        return False  # written by someone not published: facilitators see it on their pages
    hidden = getattr(about, "hidden_at", None) is not None
    return not hidden or author_id == user_id


def _quoted(title: str) -> str:
    return f"“{title.strip()}”" if title and title.strip() else "(untitled)"


def _proposal_name(proposal: Proposal, things: Things) -> str:
    return f"proposal {_quoted(proposal.title)} on {things.element_label(proposal.element_id)}"


def _reason(event: AuditEvent) -> str:
    reason = str((event.details or {}).get("reason") or "").strip()
    return f" The reason given: {reason}" if reason else ""


def _decided(event: AuditEvent) -> str:
    details = event.details or {}
    if event.action == "proposal.accepted":
        return "was accepted with changes" if details.get("with_changes") else "was accepted"
    if event.action == "proposal.rejected":
        return "was closed because its element was removed" if details.get("element_removed") else "was rejected"
    if event.action == "proposal.reopened":
        return "was reopened"
    return "was updated"


def _comment_link(comment: Comment, things: Things) -> tuple[str, dict[str, Any]]:
    anchor = f"comment-{comment.id}"
    if comment.proposal_id is not None:
        return "proposals.show", {"proposal_id": comment.proposal_id, "_anchor": anchor}
    element = things.get("element", comment.element_id)
    vision = things.visions.get(comment.vision_id)
    if element is None or vision is None:
        return "notifications.index", {}
    return "visions.element", {"slug": vision.slug, "key": element.key, "_anchor": anchor}


def _element_link(element: Element, things: Things) -> tuple[str, dict[str, Any]]:
    vision = things.visions.get(element.vision_id)
    if vision is None:
        return "notifications.index", {}
    return "visions.element", {"slug": vision.slug, "key": element.key}


def _several(count: int, one: str, many: str) -> str:
    return one if count == 1 else f"{count:,} {many}"


def words_for(notification: Notification, things: Things) -> Words | None:
    """The notification in words, or None when what it is about can no longer be shown."""
    about = things.get(notification.about_type, notification.about_id)
    event = things.events.get(notification.last_event_id)
    if about is None or event is None:
        return None
    count = notification.event_count
    kind = notification.kind
    # The comment that made the latest event was hidden since: never shown, nor its author named.
    hidden_since = kind != "moderation" and event.subject_type == "comment" and event.subject_id in things.hidden_comments
    if hidden_since and count == 1:
        return None
    actor = "Someone" if hidden_since else things.actor(event)
    if isinstance(about, Proposal):
        name = _proposal_name(about, things)
        link = ("proposals.show", {"proposal_id": about.id})
        if kind == "decision":
            text = f"Your {name} {_decided(event)}.{_reason(event) if event.action == 'proposal.rejected' else ''}"
            return Words(text, *link, subject=f"Your proposal {_decided(event)}")
        if kind == "stale":
            text = (
                f"Your {name} needs updating: the text it changes has changed since you wrote it. "
                "Open it to bring it up to date (one click when the changes do not overlap)."
            )
            return Words(text, *link, subject="Your proposal needs updating")
        if kind == "comment_on_mine":
            text = f"{_several(count, f'{actor} commented', 'new comments')} on your {name}."
            return Words(text, link[0], _anchor_comments(link), subject="New comments on your proposal")
        if kind == "followed_proposal":
            latest = (
                f"the {name} {_decided(event)}.{_reason(event) if event.action == 'proposal.rejected' else ''}"
                if event.action.startswith("proposal.")
                else f"{actor} commented on the {name}."
            )
            text = latest[0].upper() + latest[1:] if count == 1 else f"{count:,} updates on the {name}. The latest: {latest}"
            return Words(text, *link, subject="News of a proposal you follow")
        if kind == "moderation":
            return Words(_moderated("Your", name, event), *link, subject="A facilitator moderated your proposal")
    if isinstance(about, Comment):
        where = (
            _proposal_name(things.get("proposal", about.proposal_id), things)
            if about.proposal_id is not None and things.get("proposal", about.proposal_id) is not None
            else things.element_label(about.element_id)
        )
        what = "reflection" if about.proposal_id is None else "comment"
        endpoint, values = _comment_link(about, things)
        if kind == "reply":
            text = f"{_several(count, f'{actor} replied', 'new replies')} to your {what} on {where}."
            return Words(text, endpoint, values, subject=f"A reply to your {what}")
        if kind == "moderation":
            return Words(_moderated("Your", f"{what} on {where}", event), endpoint, values, subject=f"A facilitator moderated your {what}")
    if isinstance(about, Element):
        label = things.element_label(about.id)
        endpoint, values = _element_link(about, things)
        if kind == "followed_element":
            if count == 1:
                did = "proposed a change to" if event.action == "proposal.opened" else "wrote a reflection on"
                text = f"{actor} {did} {label}."
            else:
                text = f"{count:,} new proposals and reflections on {label}."
            return Words(text, endpoint, values, subject=f"News of {label}")
    if isinstance(about, Vision):
        if kind == "followed_vision":
            number = (event.details or {}).get("number")
            text = (
                f"Version {number} of {_quoted(about.title)} was published."
                if count == 1
                else f"{count:,} new versions of {_quoted(about.title)} were published; the latest is version {number}."
            )
            return Words(text, "visions.version", {"slug": about.slug, "number": number}, subject=f"Version {number} of {about.title}")
    if isinstance(about, AlignedWork) and kind == "screening":
        if event.action == "aligned_work.approved":
            text = f"Your aligned work {_quoted(about.title)} was added to the register."
        else:
            text = f"Your aligned work {_quoted(about.title)} was not added to the register.{_reason(event)}"
        return Words(text, "aligned.show", {"work_id": about.id}, subject="The screening of your aligned work")
    return None


def _anchor_comments(link: tuple[str, dict[str, Any]]) -> dict[str, Any]:
    return {**link[1], "_anchor": f"comments-{link[1]['proposal_id']}"}


def _moderated(whose: str, name: str, event: AuditEvent) -> str:
    if event.action.endswith(".unhidden"):
        return f"{whose} {name} is shown again: a facilitator reversed its hiding."
    return f"{whose} {name} was hidden by a facilitator.{_reason(event)} You can still see it; others cannot."
