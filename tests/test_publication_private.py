"""Contributions of someone who chose "not at all" (issue 17, item 3): seen by facilitators and by
themselves only, counted in analysis, and for everyone else as if not there.

The world: Quinn chose "not published" after contributing (so the choice applies to past
contributions): an open proposal, a comment (that Olive replied to), a reply (to Olive's comment),
a reflection, a reflection on a sentence, aligned work approved in screening, a proposal accepted
and published in version 2, and one rejected. Each carries a word found nowhere else
("quokkaphrase-..."); neither these nor Quinn's name may appear to anyone else.
Olive's own comment on Quinn's proposal goes with the proposal, as comments on a hidden one do.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from workbench import worker
from workbench.accounts.about_you import save_about_you
from workbench.aligned import register
from workbench.aligned import services as aligned
from workbench.analysis.exports import export_rows, parse_export
from workbench.analysis.fields import FACILITATORS, PUBLIC
from workbench.discussion import sentences, services, threads
from workbench.drafting.publishing import publish_version
from workbench.facilitation import decisions
from workbench.models import Comment, DraftEntry, Notification, OutgoingMail, Proposal, Role, User, Vision, db
from workbench.proposals import services as proposals
from workbench.search import services as search
from workbench.search.query import read_search

from .factories import element_of, fresh, open_proposal
from .publication_walk import walk_public_pages, world_of

SLUG = "test-vision"
MARK = "quokkaphrase"
NAME = "Quinn Quiet"
PROPOSAL_WORDS = "quokkaphrase-proposal"
RATIONALE = "quokkaphrase-rationale"
COMMENT = "quokkaphrase-comment"
REPLY = "quokkaphrase-reply"
REFLECTION = "quokkaphrase-reflection"
SENTENCE = "quokkaphrase-sentence"
ALIGNED = "quokkaphrase-aligned"
ACCEPTED_RATIONALE = "quokkaphrase-accepted-rationale"
ON_PRIVATE_PROPOSAL = "wombatphrase, said by Olive on a proposal that is not published"
# A facilitator's reason for rejecting Quinn's proposal goes with it, as for a hidden one. (The note
# accepting a proposal into the vision stays in the changelog, with the vision's words and the
# credit "a participant".)
DECISION_NOTE = "Accepted into the vision as written."
REJECTION_REASON = "wombatreason for rejecting Quinn's proposal"
OLIVE_REPLY = "Olive answers the comment that is not published."
OLIVE_COMMENT = "Olive’s own comment."


@dataclass
class World:
    vision: Vision
    quinn: User
    olive: User
    facilitator: User
    olives_proposal: int
    private_proposal: int
    accepted_proposal: int
    rejected_proposal: int
    comment: int
    olive_comment: int
    reply: int
    reflection: int
    sentence_reflection: int
    on_private_proposal: int
    work: int


def _accept(proposal: Proposal, facilitator: User) -> None:
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == proposal.element_id))
    decisions.accept_proposal(
        proposal, facilitator, title=proposal.title, body=proposal.body, note=DECISION_NOTE,
        expected_text_id=entry.text_id, revision=proposal.revision_count,
    )
    db.session.commit()


def choose(person: User, publish_as: str) -> None:
    """The person's choice, as "About you" saves it (with the stored counts that follow it)."""
    save_about_you(fresh(User, person.id), "individual", "", publish_as)
    db.session.commit()


@pytest.fixture
def world(make_vision, make_user) -> World:
    vision = make_vision()
    olive = make_user(name="Olive Other")
    quinn = make_user(name=NAME)
    facilitator = make_user(Role.FACILITATOR, name="Fergus Facilitator")

    # Olive's first, so that the walk's starting pages are public ones.
    olives = open_proposal(vision, olive, "objective-2", "Objective 1.2 body, Olive's version.", rationale="Olive's reason.")
    olive_comment = services.post_comment(olives, olive, OLIVE_COMMENT)
    reflection = services.post_reflection(vision, element_of(vision, "objective-1"), quinn, REFLECTION)
    comment = services.post_comment(olives, quinn, COMMENT)
    services.post_comment(olives, olive, OLIVE_REPLY, comment.id)
    reply = services.post_comment(olives, quinn, REPLY, olive_comment.id)
    chosen = sentences.choose_sentence(element_of(vision, "objective-2"), None, "p1-s1")
    sentence_reflection = services.post_reflection(
        vision, element_of(vision, "objective-2"), quinn, SENTENCE, sentence=sentences.sentence_range(chosen)
    )
    db.session.commit()

    private = open_proposal(vision, quinn, "objective-1", f"Objective 1.1 body {PROPOSAL_WORDS}.", title=f"Title {PROPOSAL_WORDS}", rationale=RATIONALE)
    on_private = services.post_comment(private, olive, ON_PRIVATE_PROPOSAL)
    db.session.commit()

    accepted = open_proposal(vision, quinn, "ambition-1", "Ambition 1 body, in better words.", rationale=ACCEPTED_RATIONALE)
    _accept(fresh(Proposal, accepted.id), facilitator)
    publish_version(fresh(Vision, vision.id), actor=facilitator, notes="Version two.")
    db.session.commit()

    rejected = open_proposal(vision, quinn, "condition-1", "Condition 1.1 body quokkaphrase-rejected.", rationale="quokkaphrase-rejected-rationale")
    decisions.reject_proposal(fresh(Proposal, rejected.id), facilitator, REJECTION_REASON)
    db.session.commit()

    work = aligned.submit_aligned_work(
        vision, quinn, organisation=f"Org {ALIGNED}", title=f"Initiative {ALIGNED}", description=f"We do {ALIGNED}.",
        status="current", link="https://www.example.org/q", contact="quinn@example.org",
        element_ids=[str(element_of(vision, "objective-1").id)],
    )
    aligned.approve_aligned_work(work, facilitator, expected_submitted_at=None)
    db.session.commit()

    choose(quinn, "private")
    return World(
        fresh(Vision, vision.id), fresh(User, quinn.id), olive, facilitator, olives.id, private.id, accepted.id, rejected.id, comment.id,
        olive_comment.id, reply.id, reflection.id, sentence_reflection.id, on_private.id, work.id,
    )


def _walk(client, world: World, markers: tuple[str, ...]) -> list[str]:
    """Walk every public page, fragment, feed and export (tests/publication_walk.py) and fail on any
    of `markers`; the URLs walked."""
    walk_world = world_of(world.vision, proposal=str(world.olives_proposal), comment=str(world.olive_comment))
    urls = []
    for url, text in walk_public_pages(client, walk_world, per_route=4, limit=260):
        urls.append(url)
        leaked = [marker for marker in markers if marker in text]
        assert not leaked, f"{url} shows words of someone who chose not to be published: {leaked}"
    return urls


# --- the walk: every public page, fragment, feed and export ---------------------------------------


@pytest.mark.parametrize("role", ["anonymous", "volunteer", "olive"])
def test_no_page_fragment_feed_or_export_shows_their_words(world, client, login_as, make_user, role) -> None:
    """As a visitor, as another volunteer, and as Olive, whose proposal and comment Quinn answered
    (her own words on Quinn's proposal are hers to see on her activity page)."""
    worker.one_pass(limit=None)  # notifications told, after the choice
    if role == "volunteer":
        login_as(make_user(name="Vic Visitor"))
    elif role == "olive":
        login_as(world.olive)
    urls = _walk(client, world, (MARK, NAME, REJECTION_REASON) + (() if role == "olive" else (ON_PRIVATE_PROPOSAL,)))
    walked = {url.split("?")[0] for url in urls}
    # The walk reached the pages that list contributions, and their open data.
    for expected in (f"/proposals/{world.olives_proposal}", f"/visions/{SLUG}/proposals", f"/visions/{SLUG}/aligned-work.csv",
                     f"/visions/{SLUG}/aligned-work.json", f"/visions/{SLUG}/elements/objective-1",
                     f"/visions/{SLUG}/elements/objective-1/reflections", f"/visions/{SLUG}/search",
                     f"/visions/{SLUG}/feed.atom", f"/visions/{SLUG}/v/2/who-wrote"):
        assert expected in walked, expected
    assert any(url.startswith(f"/visions/{SLUG}/data/comments.") for url in walked)


def test_no_mail_to_anyone_else_holds_their_words(world, make_user) -> None:
    # Someone published comments on Olive's proposal too: she is told of that, and of nothing of Quinn's.
    services.post_comment(fresh(Proposal, world.olives_proposal), make_user(name="Pat Published"), "A published thought.")
    db.session.commit()
    worker.one_pass(limit=None)
    others = db.session.scalars(select(OutgoingMail.body).where(OutgoingMail.user_id != world.quinn.id)).all()
    assert others and not [body for body in others if MARK in body]


def test_followers_are_not_told_of_their_contributions(world) -> None:
    worker.one_pass(limit=None)
    olives = db.session.scalars(select(OutgoingMail.subject).where(OutgoingMail.user_id == world.olive.id)).all()
    assert olives == []
    assert db.session.scalar(select(func.count()).select_from(Notification).where(Notification.user_id == world.olive.id)) == 0


def test_no_htmx_fragment_shows_their_words(world, client) -> None:
    """The fragments htmx asks for (the walk reads the pages that include them)."""
    for path in (
        f"/proposals/{world.olives_proposal}/comments?page=1",
        f"/comments/{world.olive_comment}/replies",
        f"/visions/{SLUG}/elements/objective-1/reflections?page=1",
        f"/visions/{SLUG}/elements/objective-2/reflections?page=1",
    ):
        response = client.get(path, headers={"HX-Request": "true"})
        assert response.status_code == 200, path
        assert MARK not in response.get_data(as_text=True), path


GONE = [
    "/proposals/{private_proposal}",
    "/proposals/{private_proposal}/revisions/1",
    "/proposals/{private_proposal}/comments",
    "/proposals/{accepted_proposal}",
    "/proposals/{rejected_proposal}",
    "/comments/{comment}",
    "/comments/{comment}/history",
    "/comments/{comment}/replies",
    "/comments/{reply}",
    "/comments/{reflection}",
    "/comments/{sentence_reflection}",
    "/comments/{on_private_proposal}",
    "/aligned-work/{work}",
    "/reports/new?subject_type=proposal&subject_id={private_proposal}",
    "/reports/new?subject_type=comment&subject_id={comment}",
]


@pytest.mark.parametrize("role", ["anonymous", "volunteer"])
def test_their_own_pages_are_not_found_for_others(world, client, login_as, make_user, role) -> None:
    if role == "volunteer":
        login_as(make_user())
    values = {k: v for k, v in vars(world).items() if isinstance(v, int)}
    for path in GONE:
        assert client.get(path.format(**values)).status_code == 404, path


def test_others_cannot_take_part_in_what_they_cannot_see(world, client, login_as, make_user) -> None:
    login_as(make_user())
    assert client.post(f"/proposals/{world.private_proposal}/vote", data={"value": "support"}).status_code == 404
    assert client.post(f"/proposals/{world.private_proposal}/comments", data={"body": "Hi."}).status_code == 404
    replying = client.post(f"/proposals/{world.olives_proposal}/comments", data={"body": "Hi.", "parent_id": str(world.comment)})
    assert replying.status_code == 422
    assert db.session.scalar(select(Comment.id).where(Comment.body == "Hi.")) is None


# --- in place of their words ----------------------------------------------------------------------


def test_replies_to_their_comment_stay_under_a_placeholder_and_counts_match(world, client) -> None:
    page = client.get(f"/proposals/{world.olives_proposal}").get_data(as_text=True)
    assert "This comment is not published." in page
    assert OLIVE_REPLY in page and OLIVE_COMMENT in page
    assert MARK not in page and "Quinn" not in page
    # Olive's comment and her reply: Quinn's comment and reply are not counted where they are not listed.
    assert "2 comments, newest first." in page
    db.session.expire_all()
    assert db.session.get(Proposal, world.olives_proposal).comment_count == 2
    assert db.session.get(Comment, world.olive_comment).reply_count == 0
    assert db.session.get(Comment, world.comment).reply_count == 1
    listing = client.get(f"/visions/{SLUG}/proposals").get_data(as_text=True)
    assert ">1 proposal</h2>" in listing
    reflections = client.get(f"/visions/{SLUG}/elements/objective-1/reflections").get_data(as_text=True)
    assert "No reflections yet" in reflections
    element = client.get(f"/visions/{SLUG}/elements/objective-1").get_data(as_text=True)
    assert "Nobody has shared a reflection on" in element


def test_the_vision_keeps_their_accepted_words(world, client) -> None:
    """The vision's text is the vision's: an accepted proposal's words stay in version 2."""
    page = client.get(f"/visions/{SLUG}/v/2/").get_data(as_text=True)
    assert "Ambition 1 body, in better words." in page


def test_votes_are_counted_whoever_cast_them(world, client, login_as) -> None:
    login_as(world.quinn)
    assert client.post(f"/proposals/{world.olives_proposal}/vote", data={"value": "support"}).status_code == 302
    page = client.get(f"/proposals/{world.olives_proposal}").get_data(as_text=True)
    assert "1 support, 0 oppose" in page


# --- who still sees them --------------------------------------------------------------------------


def test_the_author_sees_their_own_marked_not_published(world, client, login_as) -> None:
    login_as(world.quinn)
    own = client.get(f"/proposals/{world.private_proposal}")
    assert own.status_code == 200 and PROPOSAL_WORDS in own.get_data(as_text=True)
    page = client.get(f"/proposals/{world.olives_proposal}").get_data(as_text=True)
    assert COMMENT in page and REPLY in page
    assert "only you and the facilitators can see it" in page
    assert client.get(f"/aligned-work/{world.work}").status_code == 200
    assert REFLECTION in client.get(f"/visions/{SLUG}/elements/objective-1/reflections").get_data(as_text=True)
    activity = client.get("/account/activity").get_data(as_text=True)
    assert COMMENT in activity and REFLECTION in activity and f"Proposal {world.private_proposal}:" in activity


def test_facilitators_see_them_in_pages_the_queue_and_their_exports(world, client, login_as) -> None:
    login_as(world.facilitator)
    page = client.get(f"/proposals/{world.olives_proposal}").get_data(as_text=True)
    assert COMMENT in page and REPLY in page and "Its author chose not to be published" in page
    assert PROPOSAL_WORDS in client.get(f"/proposals/{world.private_proposal}").get_data(as_text=True)
    assert PROPOSAL_WORDS in client.get(f"/visions/{SLUG}/facilitate").get_data(as_text=True)
    assert ALIGNED in client.get(f"/aligned-work/{world.work}").get_data(as_text=True)
    comments = client.get(f"/visions/{SLUG}/data/facilitators/comments.csv").get_data(as_text=True)
    assert all(words in comments for words in (COMMENT, REPLY, REFLECTION, SENTENCE, ON_PRIVATE_PROPOSAL))
    proposals_file = client.get(f"/visions/{SLUG}/data/facilitators/proposals.csv").get_data(as_text=True)
    assert RATIONALE in proposals_file and ACCEPTED_RATIONALE in proposals_file


# --- the services, one surface at a time ----------------------------------------------------------


def _rows(name: str, scope: str, vision: Vision) -> list[tuple]:
    export = parse_export(name, "csv", scope, {})
    user = None if scope == PUBLIC else fresh(User, db.session.scalar(select(User.id).where(User.role == "facilitator")))
    return list(export_rows(vision, export, user, secret_key="k", url_of={"proposal": str, "comment": str}))


def test_public_lists_leave_them_out_and_come_back_when_the_choice_changes(world) -> None:
    vision = world.vision
    listed = proposals.list_proposals(vision, proposals.ProposalFilters()).rows
    assert [p.id for p in listed] == [world.olives_proposal]
    open_on, total = proposals.open_proposals_on(element_of(vision, "objective-1"))
    assert (open_on, total) == ([], 0)
    assert [i.id for i in register.approved_initiatives(vision)] == []
    assert register.initiative_counts(vision) == {}
    viewer = threads.Viewer()
    assert threads.recent_reflections(viewer, element_of(vision, "objective-1").id).total == 0
    thread = threads.thread_page(viewer, proposal_id=world.olives_proposal)
    assert thread.total == 2  # Olive's comment, and the placeholder of Quinn's that Olive answered
    assert [r.id for r in thread.replies.get(world.olive_comment, [])] == []

    choose(world.quinn, "name")
    assert {p.id for p in proposals.list_proposals(vision, proposals.ProposalFilters()).rows} == {world.olives_proposal, world.private_proposal, world.accepted_proposal, world.rejected_proposal}
    assert [i.id for i in register.approved_initiatives(vision)] == [world.work]
    assert threads.recent_reflections(viewer, element_of(vision, "objective-1").id).total == 1
    assert db.session.get(Proposal, world.olives_proposal).comment_count == 4
    assert db.session.get(Comment, world.olive_comment).reply_count == 1


def test_search_finds_them_for_facilitators_only(world, make_user) -> None:
    vision = world.vision

    def found(user) -> set[str]:
        result = search.search_vision(vision, read_search(MARK), search.SearchFilters(typed=MARK), None, 1, user)
        return {row.kind for row in result.rows}

    from flask_login import AnonymousUserMixin

    assert found(AnonymousUserMixin()) == set()
    assert found(make_user()) == set()
    assert found(world.facilitator) == {"proposal", "comment", "reflection", "aligned_work"}
    marked = search.search_vision(vision, read_search(MARK), search.SearchFilters(typed=MARK), None, 1, world.facilitator)
    assert {row.visibility for row in marked.rows} == {"not_published"}
    # Olive's comment on Quinn's proposal goes with it, as with a hidden proposal.
    olive_words = search.search_vision(vision, read_search("olive"), search.SearchFilters(typed="olive"), None, 1, AnonymousUserMixin())
    assert all(row.proposal_id != world.private_proposal for row in olive_words.rows)


def test_open_data_leaves_them_out_and_facilitators_files_keep_them(world) -> None:
    vision = world.vision
    public_comments = _rows("comments", PUBLIC, vision)
    public_ids = {row[0] for row in public_comments}
    assert public_ids.isdisjoint({world.comment, world.reply, world.reflection, world.sentence_reflection, world.on_private_proposal})
    assert {row[0] for row in _rows("proposals", PUBLIC, vision)} == {world.olives_proposal}
    facilitators_ids = {row[0] for row in _rows("comments", FACILITATORS, vision)}
    assert {world.comment, world.reply, world.reflection, world.sentence_reflection, world.on_private_proposal} <= facilitators_ids
    assert {row[0] for row in _rows("proposals", FACILITATORS, vision)} >= {world.private_proposal, world.accepted_proposal}


def test_their_pages_say_who_can_see_them(world, client, login_as) -> None:
    facilitator = world.facilitator.id
    login_as(world.quinn)
    own = client.get(f"/proposals/{world.private_proposal}").get_data(as_text=True)
    assert "You chose not to have your contributions published, so only you and the facilitators can see this proposal." in own
    work = client.get(f"/aligned-work/{world.work}").get_data(as_text=True)
    assert "so it is not in the public register: only you and the facilitators can see it." in work
    login_as(fresh(User, facilitator))
    seen = client.get(f"/proposals/{world.private_proposal}").get_data(as_text=True)
    assert "Its author chose not to be published, so only they and the facilitators can see this proposal." in seen
