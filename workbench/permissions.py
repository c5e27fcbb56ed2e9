"""Who may do what: one predicate per action, checked in the view and again in the service.

Templates use these only to hide buttons. `user` may be Flask-Login's anonymous user.
"""

from __future__ import annotations

from typing import Any

from .models import AlignedWork, Comment, Element, Notification, Proposal, ProposalStatus, Registration, User, Vision, Webinar, db, utcnow


def is_member(user: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and user.is_active


def is_facilitator(user: Any) -> bool:
    return is_member(user) and user.is_facilitator


def is_admin(user: Any) -> bool:
    return is_member(user) and user.is_admin


def seen_by_everyone(contribution: Comment | Proposal) -> bool:
    """Neither hidden by the moderators nor by someone who chose not to be published: the public
    sees it (in SQL: `hidden_at IS NULL` and models.published_by). A contribution without an author
    row counts as published, as in `can_see_contributions_of`."""
    return contribution.hidden_at is None and (contribution.author is None or contribution.author.is_published)


def can_see_contribution(user: Any, contribution: Comment | Proposal) -> bool:
    """Who may read a proposal's, comment's or reflection's words: everyone when the public sees it
    (`seen_by_everyone`); a hidden (moderated) one, or one by someone who chose not to be published,
    only its author and facilitators. `contribution` may be any object with `hidden_at`,
    `author_id` and `author` (a vote reads columns, not a Proposal)."""
    return seen_by_everyone(contribution) or is_author_or_facilitator(user, contribution)


def is_author_or_facilitator(user: Any, contribution: Comment | Proposal) -> bool:
    """Who still reads a contribution's words when the public does not (hidden, retracted, or by
    someone who chose not to be published): its author, and the facilitators who moderate."""
    return is_facilitator(user) or (is_member(user) and contribution.author_id == user.id)


def can_see_contributions_of(user: Any, author: User | None) -> bool:
    """Someone who chose not to be published at all (publication.NOT_PUBLISHED): their proposals,
    comments, reflections and aligned work are seen by facilitators and by themselves only (in SQL:
    models.published_by)."""
    if author is None or author.is_published:
        return True
    return is_facilitator(user) or (is_member(user) and user.id == author.id)


# --- taking part (inside the consultation window) -------------------------------------------------


def can_propose(user: Any, vision: Vision) -> bool:
    return is_member(user) and vision.is_open()


def can_withdraw_proposal(user: Any, proposal: Proposal) -> bool:
    """The author, while the proposal is open (withdrawing is allowed after the window closes)."""
    return (
        is_member(user)
        and proposal.author_id == user.id
        and proposal.status == ProposalStatus.OPEN.value
    )


def can_edit_proposal(user: Any, proposal: Proposal) -> bool:
    """The author, while the proposal is open and the consultation window too: a new wording is
    a new proposal in all but name."""
    return can_withdraw_proposal(user, proposal) and proposal.vision.is_open()


def can_vote(user: Any, proposal: Proposal) -> bool:
    """Members other than the author, on open proposals, while the window is open."""
    return (
        is_member(user)
        and proposal.author_id != user.id
        and proposal.status == ProposalStatus.OPEN.value
        and proposal.hidden_at is None
        and proposal.vision.is_open()
    )


def can_comment(user: Any, vision: Vision) -> bool:
    return is_member(user) and vision.is_open()


def can_edit_comment(user: Any, comment: Comment) -> bool:
    return is_member(user) and comment.author_id == user.id and comment.retracted_at is None


def can_report(user: Any) -> bool:
    return is_member(user)


# --- facilitation ---------------------------------------------------------------------------------


def can_moderate(user: Any) -> bool:
    return is_facilitator(user)


def can_decide_proposal(user: Any, proposal: Proposal) -> bool:
    """Accept or reject: facilitators, never on their own proposal, while it is open."""
    return (
        is_facilitator(user)
        and proposal.author_id != user.id
        and proposal.status == ProposalStatus.OPEN.value
    )


def can_reopen_proposal(user: Any, proposal: Proposal) -> bool:
    return (
        is_facilitator(user)
        and proposal.status == ProposalStatus.REJECTED.value
        and proposal.vision.is_open()
    )


def can_edit_draft(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


def can_publish(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


def can_manage_window(user: Any, vision: Vision) -> bool:
    return is_facilitator(user)


# --- aligned work ---------------------------------------------------------------------------------


def can_submit_aligned_work(user: Any) -> bool:
    return is_member(user)


def can_edit_aligned_work(user: Any, work: AlignedWork) -> bool:
    return is_member(user) and work.submitter_id == user.id


def can_screen_aligned_work(user: Any) -> bool:
    return is_facilitator(user)


def can_see_aligned_work(user: Any, work: AlignedWork) -> bool:
    """Approved work is public (unless its submitter chose not to be published); before that, its
    submitter and facilitators see it."""
    if can_screen_aligned_work(user) or (is_member(user) and work.submitter_id == user.id):
        return True
    return work.state == "approved" and can_see_contributions_of(user, db.session.get(User, work.submitter_id))


# --- administration -------------------------------------------------------------------------------


def can_manage_accounts(user: Any) -> bool:
    return is_admin(user)


def can_see_account(user: Any, account: User) -> bool:
    return is_member(user) and (user.id == account.id or user.is_admin)


def can_decide_aligned_work(user: Any, work: AlignedWork) -> bool:
    """Approve or reject a submission: facilitators, never on an initiative they submitted."""
    return can_screen_aligned_work(user) and work.submitter_id != user.id


# --- accounts (issue 3) ---------------------------------------------------------------------------


def can_change_role(user: Any, account: User) -> bool:
    """Administrators, on any account that has not been deleted (the last-admin rule is a service rule)."""
    return is_admin(user) and not account.is_deleted


def can_deactivate_account(user: Any, account: User) -> bool:
    """Administrators, on another account that has not been deleted (yours: delete it instead)."""
    return is_admin(user) and account.id != user.id and not account.is_deleted


# --- facilitation: the queue and bringing proposals up to date (issue 6) ------------------------


def can_see_queue(user: Any, vision: Vision) -> bool:
    """The facilitators' queue of open proposals."""
    return is_facilitator(user)


def can_assign(user: Any, vision: Vision) -> bool:
    """Assign open proposals of the queue (to oneself or another facilitator), or act on several
    at once: facilitators (which proposals can be assigned or rejected is a service rule)."""
    return is_facilitator(user)


def can_rebase_proposal(user: Any, proposal: Proposal) -> bool:
    """Carry an open proposal over to the element's current text: its author, like any revision."""
    return can_edit_proposal(user, proposal)


# --- deliberation: comments, reflections, reports and moderation (issue 5) ----------------------


def can_comment_on_proposal(user: Any, proposal: Proposal) -> bool:
    """Members, while the window is open, on a proposal that is not hidden (any status)."""
    return can_comment(user, proposal.vision) and proposal.hidden_at is None


def can_reflect(user: Any, vision: Vision) -> bool:
    """Reflections on an element: members, while the consultation window is open."""
    return can_comment(user, vision)


def can_revise_comment(user: Any, comment: Comment, vision: Vision) -> bool:
    """Edit the wording: the author, while the window is open, unless retracted or hidden."""
    return can_edit_comment(user, comment) and comment.hidden_at is None and vision.is_open()


def can_retract_comment(user: Any, comment: Comment) -> bool:
    """Take back one's own words: the author, at any time, once."""
    return is_member(user) and comment.author_id == user.id and comment.retracted_at is None


def can_report_content(user: Any, author_id: int) -> bool:
    """Ask the facilitators to look at someone else's comment, reflection or proposal."""
    return can_report(user) and author_id != user.id


# --- following and notifications ------------------------------------------------------------------


def can_follow(user: Any, thing: Vision | Element | Proposal) -> bool:
    """Members follow any vision or element, and any proposal they may see (a hidden one: only its
    author)."""
    if not is_member(user):
        return False
    if isinstance(thing, Proposal) and not seen_by_everyone(thing):
        return thing.author_id == user.id
    return True


def can_read_notification(user: Any, notification: Notification) -> bool:
    """A notification is its person's alone: nobody else may read or mark it."""
    return is_member(user) and notification.user_id == user.id


def can_download_hidden_data(user: Any) -> bool:
    """The facilitators' data files, hidden items included, are for those who moderate, as hidden
    content on the site is."""
    return can_moderate(user)


# --- webinars ---------------------------------------------------------------------------------------


def can_manage_webinars(user: Any, vision: Vision | None = None) -> bool:
    """Schedule and change sessions, see who registered: facilitators (and admins)."""
    return is_facilitator(user)


def can_see_attendees(user: Any, webinar: Webinar) -> bool:
    """Names and email addresses of the people registered and waiting: facilitators only."""
    return is_facilitator(user)


def can_register(user: Any, webinar: Webinar) -> bool:
    """Anyone signed in, until the session ends."""
    return is_member(user) and utcnow() < webinar.ends_at


def can_cancel(user: Any, registration: Registration) -> bool:
    """The person registered or waiting, for themselves (the service then checks that there is
    still something to cancel, and that the session has not ended)."""
    return is_member(user) and registration.user_id == user.id


def may_see_joining_link(user: Any, registration: Registration | None) -> bool:
    """The joining link is for the people registered (not those waiting), and for facilitators."""
    if is_facilitator(user):
        return True
    return registration is not None and registration.state == "registered" and registration.user_id == getattr(user, "id", None)


# --- volunteers for the next stage (issue 17, item 4) ----------------------------------------------


def can_volunteer(user: Any, vision: Vision) -> bool:
    """Offer to help refine a vision, change or withdraw the offer: anyone signed in, at any time
    (the next stage comes after the consultation, so the window does not bind it)."""
    return is_member(user)


def can_see_volunteers(user: Any, vision: Vision) -> bool:
    """The list of volunteers (names, email addresses, skills), its CSV, and inviting them to a
    working group: facilitators only, never public."""
    return is_facilitator(user)


# --- coding responses (issue 14, item 2) ------------------------------------------------------------


def can_code_responses(user: Any, vision: Vision) -> bool:
    """Keep a vision's codebook (create, rename, merge tags), tag proposals, comments and
    reflections, and see the tags: facilitators only (tags are their working notes, never public)."""
    return is_facilitator(user)
