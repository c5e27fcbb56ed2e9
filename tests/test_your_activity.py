"""Your activity (/account/activity): your proposals, comments and reflections, and votes."""

from __future__ import annotations

import re

import pytest

from workbench.discussion.services import post_reflection, retract_comment
from workbench.discussion.votes import cast_vote
from workbench.drafting.edits import edit_element_text
from workbench.models import Comment, Proposal, Role, db

from .factories import add_comment, element_of, entry_of, fresh, open_proposal

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")


def activity(client, query: str = "") -> str:
    response = client.get("/account/activity" + query)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    return response.get_data(as_text=True)


def section(page: str, heading_id: str) -> str:
    """The HTML of one section of the page."""
    start = page.index(f'<section aria-labelledby="{heading_id}">')
    return page[start : page.index("</section>", start)]


def test_visitors_are_sent_to_sign_in(client) -> None:
    response = client.get("/account/activity")
    assert response.status_code in (302, 303) and "/auth/login" in response.headers["Location"]


def test_someone_new_sees_an_empty_state_in_each_section(client, make_user, login_as, vision) -> None:
    login_as(make_user())
    page = activity(client)
    assert "<h1 class=\"ds_page-header__title\">Your activity</h1>" in page
    assert "You have not proposed any changes yet" in section(page, "your-proposals")
    assert "You have not written any comments or reflections yet" in section(page, "your-comments")
    assert "You have not voted on any proposals yet" in section(page, "your-votes")


def test_your_proposals_show_status_flags_and_link_to_each(client, make_user, login_as, make_vision) -> None:
    vision = make_vision()
    me = login_as(make_user(name="Mo Me"))
    facilitator = make_user(Role.FACILITATOR)
    mine = open_proposal(vision, me, "objective-1")
    withdrawn = open_proposal(vision, me, "objective-2")
    withdrawn.status = "withdrawn"
    open_proposal(vision, make_user(email="other@example.org"), "objective-1", "Someone else's words.")
    # The working text moves on: my open proposal is now stale.
    entry = entry_of(vision, "objective-1")
    edit_element_text(vision, "objective-1", title=entry.text.title, body="Rewritten by a facilitator.", reason="R",
                      lock_version=entry.lock_version, actor=facilitator)
    db.session.commit()

    page = section(activity(client), "your-proposals")
    assert "2 proposals." in page
    assert f'href="/proposals/{mine.id}"' in page and f'href="/proposals/{withdrawn.id}"' in page
    assert f"Proposal {mine.id}: a change to Objective 1.1 of " in page
    assert ">Open</strong>" in page and ">Withdrawn</strong>" in page
    assert "Stale: the element&#39;s text has changed since you wrote it" in page
    assert "Someone else" not in page and page.count('class="ds_search-result"') == 2


def test_your_comments_replies_and_reflections_link_to_where_they_are(client, make_user, login_as, make_vision) -> None:
    vision = make_vision()
    me = login_as(make_user())
    proposal = open_proposal(vision, make_user(email="author@example.org"), "objective-1")
    theirs = add_comment(proposal, fresh(Proposal, proposal.id).author, "Their comment.")
    comment = add_comment(proposal, me, "My comment on the proposal.", minutes_ago=3)
    reply = add_comment(proposal, me, "My reply.", parent=theirs, minutes_ago=2)
    reflection = post_reflection(vision, element_of(vision, "ambition-1"), me, "My reflection on the ambition.")
    retracted = add_comment(proposal, me, "Words I took back.", minutes_ago=5)
    retract_comment(fresh(Comment, retracted.id), me)
    db.session.commit()

    page = section(activity(client), "your-comments")
    assert "4 comments and reflections." in page
    for row in (comment, reply, reflection, retracted):
        assert f'href="/comments/{row.id}"' in page
    assert f"Comment on proposal {proposal.id}, a change to Objective 1.1 of" in page
    assert f"Reply on proposal {proposal.id}" in page
    assert "Reflection on Ambition 1 of" in page and "My reflection on the ambition." in page
    assert "Retracted." in page and "Words I took back." not in page
    assert "Their comment." not in page
    # Newest first: the reflection was written last.
    assert page.index("My reflection") < page.index("My reply.") < page.index("My comment on the proposal.")


def test_your_votes_show_support_or_oppose_and_leave_out_cleared_ones(client, make_user, login_as, make_vision) -> None:
    vision = make_vision()
    me = login_as(make_user())
    author = make_user(email="author@example.org")
    supported = open_proposal(vision, author, "objective-1")
    opposed = open_proposal(vision, author, "objective-2")
    cleared = open_proposal(vision, author, "condition-1")
    cast_vote(fresh(Proposal, supported.id), me, "support")
    cast_vote(fresh(Proposal, opposed.id), me, "oppose")
    cast_vote(fresh(Proposal, cleared.id), me, "support")
    cast_vote(fresh(Proposal, cleared.id), me, "clear")
    db.session.commit()

    page = section(activity(client), "your-votes")
    assert "2 votes." in page
    assert f'href="/proposals/{supported.id}"' in page and f'href="/proposals/{opposed.id}"' in page
    assert f'href="/proposals/{cleared.id}"' not in page
    assert "<strong>Support</strong>" in page and "<strong>Oppose</strong>" in page


def test_each_section_is_a_page_at_a_time_and_keeps_the_others_where_they_are(client, make_user, login_as, make_vision) -> None:
    vision = make_vision()
    me = login_as(make_user())
    author = make_user(email="author@example.org")
    proposal = open_proposal(vision, author, "objective-1")
    for n in range(12):
        add_comment(proposal, me, f"Comment number {n}.", minutes_ago=100 - n)
    first = section(activity(client), "your-comments")
    assert "12 comments and reflections, showing 1–10." in first
    assert "Comment number 11." in first and "Comment number 1." not in first
    assert 'href="/account/activity?comments_page=2#your-comments"' in first
    second = activity(client, "?comments_page=2&votes_page=3")
    assert "showing 11–12" in section(second, "your-comments") and "Comment number 0." in section(second, "your-comments")
    # Page links of one section keep the page the other is on.
    assert re.search(r'href="/account/activity\?votes_page=3#your-comments"', second)
    # Nonsense or too-far pages are the first or the last page, never an error.
    assert "showing 11–12" in section(activity(client, "?comments_page=99"), "your-comments")
    assert "showing 1–10" in section(activity(client, "?comments_page=abc"), "your-comments")


def test_the_page_runs_the_same_queries_however_much_you_have_done(client, make_user, login_as, make_vision, count_queries) -> None:
    vision = make_vision()
    me = login_as(make_user())
    author = make_user(email="author@example.org")

    def queries() -> int:
        activity(client)  # warm the per-process caches (the latest version's labels)
        with count_queries() as log:
            activity(client)
        return log.count

    def contribute(key: str) -> None:
        mine = open_proposal(vision, me, key)
        theirs = open_proposal(vision, author, key, f"{key} in other words.")
        cast_vote(fresh(Proposal, theirs.id), me, "support")
        add_comment(mine, me, "On my own.")
        add_comment(theirs, me, "On theirs.")
        post_reflection(vision, element_of(vision, key), me, "A reflection.")
        db.session.commit()

    contribute("objective-1")
    few = queries()
    for key in ("objective-2", "condition-1", "ambition-2"):
        contribute(key)
    assert queries() == few
    assert few <= 8


def test_the_account_page_links_to_your_activity(client, make_user, login_as) -> None:
    login_as(make_user())
    assert 'href="/account/activity"' in client.get("/account").get_data(as_text=True)
