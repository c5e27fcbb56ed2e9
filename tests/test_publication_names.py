"""Without my name (issue 17, item 3): the public never sees the name of someone who chose to be
published as "a participant", on any page, fragment, feed or export (tests/publication_walk.py walks
them all), for what they wrote before the choice too; the pages name "a participant" instead."""

from __future__ import annotations

from datetime import timedelta

import pytest

from workbench import worker
from workbench.accounts.about_you import save_about_you
from workbench.aligned.services import approve_aligned_work, submit_aligned_work
from workbench.discussion.services import edit_comment, post_reflection
from workbench.discussion.votes import cast_vote
from workbench.models import AlignedWork, Comment, Proposal, Role, User, Vision, Webinar, db, utcnow
from workbench.webinars.registrations import lock_webinar, register_for_webinar

from .factories import add_comment, element_of, fresh, open_proposal
from .publication_walk import walk_public_pages, world_of
from .test_who_wrote import accept, publish

ZEBULON = "Zebulon Quillfeather"
UNIQUE = "Quillfeather"


def choose(person: User, publish_as: str) -> None:
    save_about_you(fresh(User, person.id), "individual", "", publish_as)
    db.session.commit()  # no cache is cleared: whatever is cached must be keyed on the names it shows


@pytest.fixture
def people(make_user) -> dict[str, User]:
    return {
        "zebulon": make_user(name=ZEBULON, email="zebulon@example.org"),
        "olive": make_user(name="Olive Other", email="olive@example.org"),
        "fay": make_user(Role.FACILITATOR, name="Fay Facilitator"),
    }


@pytest.fixture
def zebulon_world(vision, people) -> dict[str, str]:
    """Zebulon wrote everything there is to write, with his name: an accepted proposal credited in
    version 2 (its changelog, who wrote each word, the report, the documents), an open proposal,
    comments, a reply, an edited reflection, a vote, aligned work approved, a webinar registration;
    Olive was told of his comment. Then he chose "without my name"."""
    zebulon, olive, fay = people["zebulon"], people["olive"], people["fay"]
    accepted = open_proposal(vision, zebulon, "objective-1", rationale="Zebulon's reason.")
    cast_vote(fresh(Proposal, accepted.id), fresh(User, olive.id), "support")
    db.session.commit()
    accept(accepted, fay)
    publish(vision, fay, notes="Version 2.")
    proposal = open_proposal(vision, zebulon, "objective-2", rationale="Another reason.")
    theirs = open_proposal(vision, olive, "objective-3")
    cast_vote(fresh(Proposal, theirs.id), fresh(User, zebulon.id), "support")
    db.session.commit()
    comment = add_comment(proposal, zebulon, "Zebulon comments on his own proposal.")
    olives = add_comment(theirs, olive, "Olive asks.")
    add_comment(theirs, zebulon, "Zebulon comments on Olive's proposal.")
    add_comment(theirs, zebulon, "Zebulon answers Olive.", parent=olives)
    reflection = post_reflection(fresh(Vision, vision.id), element_of(vision, "objective-1"), fresh(User, zebulon.id), "A reflection.")
    db.session.commit()
    edit_comment(fresh(Comment, reflection.id), fresh(User, zebulon.id), "A reflection, reworded.", fresh(Vision, vision.id))
    db.session.commit()
    work = submit_aligned_work(
        fresh(Vision, vision.id), fresh(User, zebulon.id), organisation="Quill Trust", title="Quill data",
        description="We publish quills.", status="current", link="https://www.example.org/quills",
        contact="zebulon@example.org", element_ids=[element_of(vision, "objective-1").id],
    )
    db.session.commit()
    approve_aligned_work(fresh(AlignedWork, work.id), fresh(User, fay.id), expected_submitted_at=None)
    db.session.commit()
    starts = (utcnow() + timedelta(days=10)).replace(hour=10, minute=0, second=0, microsecond=0)
    webinar = Webinar(
        vision_id=vision.id, title="Quills and data", description="An hour.", starts_at=starts,
        ends_at=starts + timedelta(hours=1), capacity=5, joining_link="https://meet.example.org/room",
        recording_link="", places_given=0, created_by_id=fay.id,
    )
    db.session.add(webinar)
    db.session.commit()
    with worker.links_context():
        register_for_webinar(lock_webinar(webinar.id), fresh(User, zebulon.id))
        db.session.commit()
    worker.one_pass(limit=None)  # Olive is told of his comments, and mails go
    choose(zebulon, "anonymous")
    return world_of(
        fresh(Vision, vision.id), proposal=str(proposal.id), comment=str(comment.id), reflection=str(reflection.id),
        work=str(work.id), user=str(zebulon.id), accepted=str(accepted.id), webinar=str(webinar.id),
    )


@pytest.mark.parametrize("who", ["anonymous visitor", "another volunteer"])
def test_no_public_page_fragment_feed_or_export_shows_the_name_of_someone_without_their_name(
    who, client, zebulon_world, people, login_as
) -> None:
    if who == "another volunteer":
        login_as(people["olive"])
    found, walked, participant = [], set(), set()
    for url, text in walk_public_pages(client, zebulon_world):
        walked.add(url)
        if UNIQUE in text:
            found.append(url)
        if "a participant" in text.lower():
            participant.add(url)
    assert not found, f"{ZEBULON}'s name is shown on {found}"
    # The walk reached what he wrote, and there he is "a participant".
    slug, world = zebulon_world["slug"], zebulon_world
    reached = {
        f"/proposals/{world['proposal']}", f"/proposals/{world['accepted']}", f"/visions/{slug}/versions",
        f"/visions/{slug}/feed.atom", f"/visions/{slug}/v/2/who-wrote", f"/visions/{slug}/v/2/who-wrote.json",
        f"/visions/{slug}/v/2/report", f"/visions/{slug}/v/2/report.docx", f"/visions/{slug}/compare/1...2.docx",
        f"/aligned-work/{world['work']}", f"/webinars/{world['webinar']}", f"/visions/{slug}/elements/objective-1",
    }
    assert reached <= walked, f"not walked: {sorted(reached - walked)}"
    shows_participant = {
        f"/proposals/{world['proposal']}", f"/visions/{slug}/versions", f"/visions/{slug}/v/2/who-wrote",
        f"/visions/{slug}/v/2/report", f"/visions/{slug}/compare/1...2.docx",
    }
    assert shows_participant <= participant, f"not naming “a participant”: {sorted(shows_participant - participant)}"
    if who == "another volunteer":
        assert "/notifications" in participant  # "A participant commented on your proposal …"


def test_a_change_of_choice_applies_to_what_was_written_before_wherever_it_is_credited(client, vision, people) -> None:
    zebulon, fay = people["zebulon"], people["fay"]
    accept(open_proposal(vision, zebulon, "objective-1"), fay)
    publish(vision, fay, notes="Version 2.")
    pages = ("/visions/test-vision/versions", "/visions/test-vision/v/2/who-wrote", "/visions/test-vision/v/2/report")
    for path in pages:
        assert ZEBULON in client.get(path).get_data(as_text=True), path
    choose(zebulon, "anonymous")
    for path in pages:
        page = client.get(path).get_data(as_text=True)
        assert ZEBULON not in page and "a participant" in page, path
    choose(zebulon, "name")
    assert ZEBULON in client.get("/visions/test-vision/versions").get_data(as_text=True)


def test_facilitators_still_see_who_registered_for_a_webinar(client, zebulon_world, people, login_as) -> None:
    login_as(people["fay"])
    attendees = client.get(f"/webinars/{zebulon_world['webinar']}/attendees").get_data(as_text=True)
    assert ZEBULON in attendees


def test_looking_for_their_name_finds_none_of_their_proposals(client, zebulon_world) -> None:
    mine = f'href="/proposals/{zebulon_world["proposal"]}"'
    for path in ("/visions/test-vision/proposals?by=Zebulon", "/visions/test-vision/search?q=Zebulon"):
        assert mine not in client.get(path).get_data(as_text=True), path


def test_the_working_draft_names_the_author_of_an_accepted_proposal_by_their_choice(client, vision, people) -> None:
    accept(open_proposal(vision, people["zebulon"], "objective-1"), people["fay"])
    assert ZEBULON in client.get("/visions/test-vision/draft").get_data(as_text=True)
    choose(people["zebulon"], "anonymous")
    page = client.get("/visions/test-vision/draft").get_data(as_text=True)
    assert ZEBULON not in page
    assert "a participant" in page
