"""The consultation report of a published version, "We asked, you said, we did" (issue 14 item 5):
the numbers shown are the database's, hidden content is one total and never shown, rejected
proposals show their reasons, and the Word document holds the same headings and numbers."""

from __future__ import annotations

import io
import re
import time
from datetime import timedelta

import docx
import pytest
from sqlalchemy import func, select

from workbench.coding import services as coding
from workbench.coding.models import Tag
from workbench.discussion.services import hide_content, post_reflection
from workbench.discussion.votes import cast_vote
from workbench.drafting.publishing import publish_version
from workbench.facilitation import decisions
from workbench.models import Comment, Proposal, Role, User, Version, Vision, Webinar, db, utcnow

from .factories import add_comment, element_of, entry_of, fresh, open_proposal

SLUG = "test-vision"

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")


def publish(vision: Vision, facilitator: User) -> Version:
    version = publish_version(fresh(Vision, vision.id), actor=fresh(User, facilitator.id), notes="Next.")
    db.session.commit()
    return version


@pytest.fixture
def consulted(vision, make_user):
    """Version 1, then a consultation: two visible proposals (one accepted, one rejected with a
    reason), one hidden proposal, comments (one hidden), a reflection and votes; then version 2."""
    ann, ben, cat = (make_user(name=n) for n in ("Ann Example", "Ben Example", "Cat Example"))
    fay = make_user(Role.FACILITATOR, name="Fay Facilitator")
    accepted = open_proposal(vision, ann, "objective-1", title="Clearer objective")
    rejected = open_proposal(vision, ben, "objective-2", title="Bolder objective")
    hidden = open_proposal(vision, cat, "ambition-1", title="Secret hidden proposal")
    for voter in (ben, cat):
        cast_vote(fresh(Proposal, accepted.id), fresh(User, voter.id), "support")
    cast_vote(fresh(Proposal, rejected.id), fresh(User, ann.id), "support")
    db.session.commit()
    add_comment(accepted, cat, "Yes please.")
    unwanted = add_comment(accepted, ben, "Spam hidden comment.")
    post_reflection(fresh(Vision, vision.id), element_of(vision, "objective-1"), fresh(User, cat.id), "A thought.")
    db.session.commit()
    hide_content("comment", fresh(Comment, unwanted.id), fresh(User, fay.id), "Spam.")
    hide_content("proposal", fresh(Proposal, hidden.id), fresh(User, fay.id), "Off topic.")
    db.session.commit()
    entry = entry_of(vision, "objective-1")
    proposal = fresh(Proposal, accepted.id)
    decisions.accept_proposal(
        proposal, fresh(User, fay.id), title=proposal.title, body=proposal.body, note="",
        expected_text_id=entry.text_id, revision=proposal.revision_count,
    )
    decisions.reject_proposal(fresh(Proposal, rejected.id), fresh(User, fay.id), "It goes beyond our remit.")
    db.session.commit()
    # Held between the two versions (one before version 1 is not "held" for version 2's report).
    first = db.session.scalar(select(Version.published_at).where(Version.number == 1))
    for title, starts in (("Launch webinar", first + timedelta(milliseconds=1)), ("Earlier webinar", first - timedelta(hours=1))):
        db.session.add(
            Webinar(vision_id=vision.id, title=title, starts_at=starts, ends_at=starts + timedelta(milliseconds=5),
                    capacity=10, joining_link="https://example.org/join")
        )
    db.session.commit()
    time.sleep(0.01)
    publish(vision, fay)
    return {"accepted": accepted, "rejected": rejected, "hidden": hidden}


def text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace(" :", ":")


def test_the_numbers_on_the_page_are_the_databases(client, consulted):
    response = client.get(f"/visions/{SLUG}/v/2/report")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    text = text_of(page)
    visible_proposals = db.session.scalar(select(func.count()).where(Proposal.hidden_at.is_(None)))
    visible_comments = db.session.scalar(
        select(func.count()).select_from(Comment).where(Comment.hidden_at.is_(None), Comment.proposal_id.is_not(None))
    )
    assert (visible_proposals, visible_comments) == (2, 1)
    # Ann, Ben and Cat each proposed, voted or commented (Cat's proposal is hidden, but she commented).
    assert "2 proposals, 1 comment and 1 reflection from 3 participants." in text
    assert "2 hidden by moderators." in text
    assert "Objective 1.1 1 1 1" in text and "Objective 1.2 1 0 0" in text
    assert "Clearer objective (proposal" in text and "Ann Example 2 0 Accepted " in text
    assert "Bolder objective (proposal" in text and "Ben Example 1 0 Rejected" in text
    assert '<a href="/visions/test-vision/v/1/">version 1</a>' in page
    assert "Launch webinar" in text and "Earlier webinar" not in text
    assert "<caption>" in page


def test_hidden_content_is_not_shown(client, consulted):
    for url in (f"/visions/{SLUG}/v/2/report", f"/visions/{SLUG}/v/2/report.docx"):
        body = client.get(url).get_data()
        assert b"Secret hidden proposal" not in body and b"Spam hidden comment" not in body


def test_rejected_proposals_show_their_reason_and_author(client, consulted):
    text = text_of(client.get(f"/visions/{SLUG}/v/2/report").get_data(as_text=True))
    rejected = consulted["rejected"].id
    assert f"Objective 1.2: proposal {rejected} by Ben Example. It goes beyond our remit." in text
    assert f"Objective 1.1: proposal {consulted['accepted'].id} by Ann Example." in text
    assert "Accepted with changes None." in text
    assert "Contributors credited Ann Example." in text


def test_version_1_is_the_first_draft(client, vision):
    response = client.get(f"/visions/{SLUG}/v/1/report")
    assert response.status_code == 200
    text = text_of(response.get_data(as_text=True))
    assert "Version 1 is the first draft" in text
    assert "0 proposals, 0 comments and 0 reflections from 0 participants." in text


def test_a_version_that_does_not_exist_is_not_found(client, vision):
    assert client.get(f"/visions/{SLUG}/v/9/report").status_code == 404
    assert client.get(f"/visions/{SLUG}/v/9/report.docx").status_code == 404
    assert client.get("/visions/nothing-here/v/1/report").status_code == 404


def test_the_word_document_holds_the_same_headings_and_numbers(client, consulted):
    response = client.get(f"/visions/{SLUG}/v/2/report.docx")
    assert response.status_code == 200
    assert response.mimetype.endswith("wordprocessingml.document")
    document = docx.Document(io.BytesIO(response.get_data()))
    headings = [p.text for p in document.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:3] == ["We asked", "Webinars held", "You said"]
    for heading in ("Contributions per element", "The most supported proposals", "We did", "Accepted",
                    "Accepted with changes", "Rejected, with reasons", "Changes to the structure", "Contributors credited"):
        assert heading in headings
    page = text_of(client.get(f"/visions/{SLUG}/v/2/report").get_data(as_text=True))
    for heading in headings:
        assert heading in page
    text = "\n".join(p.text for p in document.paragraphs)
    assert "2 proposals, 1 comment and 1 reflection from 3 participants." in text
    assert "2 hidden by moderators." in text
    assert "Objective 1.1: 1 proposals, 1 comments, 1 reflections" in text
    assert "It goes beyond our remit." in text


def test_cached_with_an_etag_and_changed_by_moderation(client, consulted, make_user):
    first = client.get(f"/visions/{SLUG}/v/2/report")
    assert first.headers["Cache-Control"] == "public, max-age=300"
    etag = first.headers["ETag"].strip('"')
    assert client.get(f"/visions/{SLUG}/v/2/report", headers={"If-None-Match": etag}).status_code == 304
    fay = db.session.scalar(select(User).where(User.display_name == "Fay Facilitator"))
    hide_content("proposal", fresh(Proposal, consulted["rejected"].id), fay, "Off topic after all.")
    db.session.commit()
    again = client.get(f"/visions/{SLUG}/v/2/report", headers={"If-None-Match": etag})
    assert again.status_code == 200
    text = text_of(again.get_data(as_text=True))
    assert "3 hidden by moderators." in text
    assert "It goes beyond our remit." not in text and "The reason is hidden by moderators." in text


def test_the_report_runs_a_bounded_number_of_queries(client, consulted, count_queries):
    with count_queries() as log:
        assert client.get(f"/visions/{SLUG}/v/2/report").status_code == 200
    # consultation_report's eleven (the published themes' counts are one, however many themes).
    assert log.count <= 11, log.statements


def test_the_permalink_links_to_the_report(client, consulted):
    page = client.get(f"/visions/{SLUG}/v/2/").get_data(as_text=True)
    assert f'href="/visions/{SLUG}/v/2/report"' in page


def test_the_versions_list_links_to_each_report(client, consulted):
    page = client.get(f"/visions/{SLUG}/versions").get_data(as_text=True)
    for number in (1, 2):
        assert f'href="/visions/{SLUG}/v/{number}/report">Consultation report' in page


# --- published themes -------------------------------------------------------------------------------


def docx_text(body: bytes) -> str:
    return "\n".join(p.text for p in docx.Document(io.BytesIO(body)).paragraphs)


@pytest.fixture
def themed(vision, consulted, make_user):
    """Tags on version 2's contributions: "Skills" (published) on the two visible proposals, the
    visible comment and, by merging the published "Abilities" into it, the reflection; also on what
    must not count: the hidden proposal, the hidden comment, a retracted comment, a comment on the
    hidden proposal, a reflection by someone not published, and a proposal after version 2.
    "Transport" (published) on one proposal, "Unused" (published) on nothing, "Secret codename"
    (never published) on two proposals."""
    fay, ben = (db.session.scalar(select(User).where(User.display_name == n)) for n in ("Fay Facilitator", "Ben Example"))
    first, second = db.session.scalars(select(Version.published_at).order_by(Version.number)).all()
    during = first + (second - first) / 2
    dan = make_user(name="Dan Private")
    dan.publish_as = "private"
    accepted, rejected, hidden = (consulted[k].id for k in ("accepted", "rejected", "hidden"))
    on_element = db.session.scalar(select(Comment.element_id).where(Comment.body == "A thought."))
    extra = {
        "retracted": Comment(vision_id=vision.id, proposal_id=accepted, author_id=ben.id, body="Taken back.",
                             created_at=during, retracted_at=during),
        "on hidden": Comment(vision_id=vision.id, proposal_id=hidden, author_id=ben.id, body="On a hidden one.", created_at=during),
        "private": Comment(vision_id=vision.id, element_id=on_element, author_id=dan.id, body="Not published.", created_at=during),
    }
    db.session.add_all(extra.values())
    db.session.commit()
    later = open_proposal(vision, make_user(name="Lee Later"), "objective-2", title="After version 2")
    comment_ids = dict(db.session.execute(select(Comment.body, Comment.id)).all())
    tags = {name: coding.create_tag(vision, name, fay) for name in ("Skills", "Abilities", "Transport", "Unused", "Secret codename")}
    ids = {name: str(tag.id) for name, tag in tags.items()}
    for proposal_id, names in ((accepted, ["Skills", "Transport", "Secret codename"]), (rejected, ["Skills", "Secret codename"]),
                               (hidden, ["Skills"]), (later.id, ["Skills"])):
        coding.set_tags(vision, "proposal", fresh(Proposal, proposal_id), [ids[n] for n in names], fay)
    for body, names in (("Yes please.", ["Skills"]), ("A thought.", ["Abilities"]), ("Spam hidden comment.", ["Skills"]),
                        ("Taken back.", ["Skills"]), ("On a hidden one.", ["Skills"]), ("Not published.", ["Skills"])):
        coding.set_tags(vision, "comment", fresh(Comment, comment_ids[body]), [ids[n] for n in names], fay)
    for name in ("Skills", "Abilities", "Transport", "Unused"):
        coding.publish_theme(tags[name], fay)
    coding.merge_tag(tags["Abilities"], tags["Skills"], fay)
    db.session.commit()
    return {"fay": fay, "tags": {name: tag.id for name, tag in tags.items()}}


def test_the_report_counts_the_published_themes_of_its_period_only_what_the_public_sees(client, themed):
    response = client.get(f"/visions/{SLUG}/v/2/report")
    page = response.get_data(as_text=True)
    text = text_of(page)
    assert "Themes are the facilitators’ codes of what people said; they chose to publish these." in text
    table = page[page.index('<table class="ds_table" id="themes">'):]
    rows = re.findall(r'<tr><th scope="row">([^<]+)</th><td class="app-report__number">(\d+)</td></tr>', table[: table.index("</table>")])
    # Two proposals, the comment and the merged tag's reflection; most used first, unused last.
    assert rows == [("Skills", "4"), ("Transport", "1"), ("Unused", "0")]
    word = client.get(f"/visions/{SLUG}/v/2/report.docx").get_data()
    assert "Skills: 4 contributions" in docx_text(word) and "Transport: 1 contribution" in docx_text(word)
    for body in (response.get_data(), word):
        assert b"Secret codename" not in body and b"Abilities" not in body  # private, merged
        assert b"Fay Facilitator" not in body  # never who tagged
    # Version 1's period had none of these contributions.
    text = text_of(client.get(f"/visions/{SLUG}/v/1/report").get_data(as_text=True))
    assert "Skills 0" in text and "Transport 0" in text


def test_the_report_says_nothing_of_themes_when_none_is_published(client, themed):
    for name in ("Skills", "Transport", "Unused"):
        coding.stop_publishing_theme(fresh(Tag, themed["tags"][name]), themed["fay"])
    db.session.commit()
    page = client.get(f"/visions/{SLUG}/v/2/report").get_data()
    word = client.get(f"/visions/{SLUG}/v/2/report.docx").get_data()
    assert b"Themes" not in page and "Themes" not in docx_text(word)
    for name in (b"Skills", b"Transport", b"Secret codename"):
        assert name not in page and name not in word


def test_publishing_or_unpublishing_a_theme_changes_the_cached_report(client, themed):
    url = f"/visions/{SLUG}/v/2/report"
    etag, word_etag = (client.get(u).headers["ETag"].strip('"') for u in (url, url + ".docx"))
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304
    coding.stop_publishing_theme(fresh(Tag, themed["tags"]["Transport"]), themed["fay"])
    db.session.commit()
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and b"Transport" not in after.get_data()
    assert client.get(url + ".docx", headers={"If-None-Match": word_etag}).status_code == 200
    coding.publish_theme(fresh(Tag, themed["tags"]["Secret codename"]), themed["fay"])
    db.session.commit()
    again = client.get(url, headers={"If-None-Match": after.headers["ETag"].strip('"')})
    assert again.status_code == 200
    assert re.search(r"Secret codename</th><td class=\"app-report__number\">2<", again.get_data(as_text=True))
