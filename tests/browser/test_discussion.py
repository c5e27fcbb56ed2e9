"""Deliberation in a real browser (issue 5): voting in place (htmx) with the tally updated out of band,
commenting in place (htmx, with the error beside the field) and replying, reporting, hiding as a
facilitator, loading more comments with focus moved and announced; and no WCAG 2.2 AA violations on
the pages involved.

The proposal page shows the discussion through templates/proposals/_discussion.html, which
includes discussion/_proposal_discussion.html."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from workbench.discussion import services
from workbench.extensions import db
from workbench.models import Comment, Element, Proposal, Role, Vote, utcnow

from tests.factories import open_proposal

from .helpers import assert_no_axe_violations, assert_no_horizontal_scroll, focused_element


@pytest.fixture
def proposal(vision, author):
    return open_proposal(vision, author, body="Objective 1.1 body, shared openly.", rationale="Openness.")


def test_a_volunteer_votes_in_place_and_sees_the_tally_change(proposal, page, make_user, login_browser) -> None:
    login_browser(page, make_user(name="Vera Volunteer"))
    page.goto(f"/proposals/{proposal.id}")
    tally = page.locator(f"#tally-{proposal.id}")
    assert tally.inner_text() == "Votes: 0 support, 0 oppose"
    page.evaluate("() => { window.__noReload = true; }")

    support = page.get_by_role("button", name=f"Support proposal {proposal.id}")
    assert support.get_attribute("aria-pressed") == "false"
    support.click()
    page.wait_for_function(f"() => document.querySelector('#tally-{proposal.id}').innerText.includes('1 support, 0 oppose')")
    assert page.evaluate("() => window.__noReload") is True  # swapped in place, not a new page
    assert page.get_by_role("button", name=f"Support proposal {proposal.id}").get_attribute("aria-pressed") == "true"
    assert "You support this proposal." in page.inner_text(f"#vote-panel-{proposal.id}")
    assert page.inner_text(f"#vote-status-{proposal.id}") == "Your vote is recorded: you support this proposal."
    # Focus stays on the button that was pressed (same id in the new panel).
    assert (focused_element(page) or {}).get("id") == f"vote-{proposal.id}-support"

    page.get_by_role("button", name=f"Oppose proposal {proposal.id}").click()
    page.wait_for_function(f"() => document.querySelector('#tally-{proposal.id}').innerText.includes('0 support, 1 oppose')")
    assert "You oppose this proposal." in page.inner_text(f"#vote-panel-{proposal.id}")
    db.session.remove()
    assert [v.value for v in db.session.scalars(select(Vote))] == [-1]
    # Judge the page at rest: no hover, and the buttons' colour transitions (0.2 s) finished. htmx
    # gives the swapped-in buttons their new classes only when it settles (~20 ms after the swap),
    # so wait until Support shows its final, transparent background before looking for animations.
    page.mouse.move(0, 0)
    page.wait_for_function(
        f"""() => {{
            const support = document.getElementById('vote-{proposal.id}-support');
            return support.classList.contains('ds_button--secondary')
                && getComputedStyle(support).backgroundColor === 'rgba(0, 0, 0, 0)'
                && document.getAnimations().length === 0;
        }}"""
    )
    assert_no_axe_violations(page)

    # Pressing the pressed button again clears the vote.
    page.get_by_role("button", name=f"Oppose proposal {proposal.id}").click()
    page.wait_for_function(f"() => document.querySelector('#tally-{proposal.id}').innerText.includes('0 support, 0 oppose')")
    assert "You have not voted on this proposal." in page.inner_text(f"#vote-panel-{proposal.id}")


def test_voting_works_without_javascript(proposal, browser, live_server, app, make_user) -> None:
    from .helpers import session_cookie

    agent = "Mozilla/5.0 (no JavaScript) VisionWorkbenchTest"
    context = browser.new_context(base_url=live_server, java_script_enabled=False, user_agent=agent)
    try:
        name, value = session_cookie(app, make_user(), user_agent=agent)
        context.add_cookies([{"name": name, "value": value, "url": live_server}])
        page = context.new_page()
        page.goto(f"/proposals/{proposal.id}")
        page.get_by_role("button", name=f"Support proposal {proposal.id}").click()
        page.wait_for_url(re.compile(rf".*/proposals/{proposal.id}#votes-{proposal.id}$"))
        assert "Your vote is recorded: you support this proposal." in page.inner_text("main")
        assert "1 support, 0 oppose" in page.inner_text(f"#tally-{proposal.id}")
    finally:
        context.close()


def test_comment_reply_report_and_hide(proposal, page, new_page, make_user, login_browser) -> None:
    # A volunteer comments, in place (htmx): first with nothing written, then with a comment.
    login_browser(page, make_user(name="Cara Commenter"))
    page.goto(f"/proposals/{proposal.id}")
    page.evaluate("() => { window.__noReload = true; }")
    field = f"comment-body-{proposal.id}"
    page.get_by_role("button", name="Publish your comment").click()
    page.wait_for_selector(f"#{field}-error")
    assert "Enter your comment" in page.inner_text(f"#{field}-error")
    assert (focused_element(page) or {}).get("id") == field  # the field, described by its error
    assert page.get_attribute(f"#{field}", "aria-describedby") == f"{field}-hint {field}-error"
    assert_no_axe_violations(page)

    page.get_by_label("Your comment").fill("This needs a plan for rural areas.\n\nSee https://example.org/rural.")
    page.get_by_role("button", name="Publish your comment").click()
    page.wait_for_selector(".app-comment")
    assert page.evaluate("() => window.__noReload") is True  # the section was swapped, the page kept
    assert "Your comment is published." in page.inner_text("main")
    assert "1 comment, newest first." in page.inner_text("main")
    assert page.get_by_label("Your comment").input_value() == ""
    assert page.locator(f"#{field}-error").count() == 0
    comment = page.locator(".app-comment").first
    assert (focused_element(page) or {}).get("id") == comment.get_attribute("id")  # focus on the new comment
    assert "This needs a plan for rural areas." in comment.inner_text()
    link = comment.get_by_role("link", name="https://example.org/rural")
    assert link.get_attribute("rel") == "nofollow ugc noopener"
    assert_no_axe_violations(page)

    # Someone else replies, then reports the comment.
    other = new_page()
    login_browser(other, make_user(name="Rory Replier"))
    other.goto(f"/proposals/{proposal.id}")
    other.locator("summary", has_text="Reply").first.click()
    other.get_by_label("Your reply to Cara Commenter").fill("Agreed: and for the islands.")
    other.get_by_role("button", name="Publish your reply").click()
    other.wait_for_url(re.compile(rf".*/proposals/{proposal.id}#comment-\d+$"))
    assert "Your reply is published." in other.inner_text("main")
    assert "Agreed: and for the islands." in other.inner_text(".app-replies")
    assert_no_axe_violations(other)

    other.get_by_role("link", name="Report this comment by Cara Commenter").click()
    other.wait_for_url(re.compile(r".*/reports/new\?.*"))
    assert "This needs a plan for rural areas." in other.inner_text("main")
    assert_no_axe_violations(other)
    other.get_by_label("Why should the facilitators look at this?").fill("It names a person who asked not to be named.")
    other.get_by_role("button", name="Send the report").click()
    other.wait_for_url(re.compile(rf".*/proposals/{proposal.id}#comment-\d+$"))
    assert "Thank you for your report." in other.inner_text("main")

    # A facilitator hides it from the moderation list.
    facilitator = new_page()
    login_browser(facilitator, make_user(Role.FACILITATOR, name="Fergus Facilitator"))
    facilitator.goto("/moderation")
    assert "1 report from 1 person" in facilitator.inner_text("main")
    assert "It names a person who asked not to be named." in facilitator.inner_text("main")
    assert_no_axe_violations(facilitator)
    facilitator.get_by_role("link", name=re.compile("^Hide it")).click()
    facilitator.get_by_label("Reason, shown in public").fill("It named a private person.")
    assert_no_axe_violations(facilitator)
    facilitator.get_by_role("button", name="Hide this comment").click()
    facilitator.wait_for_url(re.compile(r".*/moderation$"))
    assert "The comment is hidden." in facilitator.inner_text("main")
    assert "No open reports" in facilitator.inner_text("main")

    # Everyone else sees the placeholder and the reply, not the words.
    other.goto(f"/proposals/{proposal.id}")
    text = other.inner_text("main")
    assert "This comment was hidden by the facilitators: It named a private person." in text
    assert "This needs a plan for rural areas." not in text
    assert "Agreed: and for the islands." in text
    assert_no_axe_violations(other)
    # Its author still sees it, with the reason.
    page.goto(f"/proposals/{proposal.id}")
    assert "Hidden by the facilitators: It named a private person." in page.inner_text("main")
    assert "This needs a plan for rural areas." in page.inner_text("main")
    db.session.remove()
    assert db.session.scalar(select(Comment.hidden_reason).where(Comment.parent_id.is_(None))) == "It named a private person."


def test_show_more_comments_moves_focus_and_announces_it(proposal, page, make_user, login_browser) -> None:
    people = [make_user() for _ in range(3)]
    for i in range(25):
        comment = services.post_comment(db.session.get(Proposal, proposal.id), people[i % 3], f"Comment number {i + 1}.")
        comment.created_at = utcnow() - timedelta(minutes=25 - i)
        db.session.commit()
    login_browser(page, make_user())
    page.goto(f"/proposals/{proposal.id}")
    assert page.locator(".app-comment:not(.app-comment--reply)").count() == 20
    more = page.get_by_role("link", name=re.compile("^Show 5 more comments"))
    more.focus()
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.querySelectorAll('.app-comment').length === 25")
    status = page.locator(f"#discussion-status-proposal-{proposal.id}")
    assert status.inner_text() == "5 more comments loaded."
    focused = focused_element(page)
    assert focused and focused["tag"] == "li" and "Comment number 5." in focused["text"]
    assert page.get_by_role("link", name=re.compile("^Show .* more comments")).count() == 0
    assert_no_axe_violations(page)
    assert_no_horizontal_scroll(page, 320)


def test_the_other_discussion_pages_have_no_violations(proposal, page, make_user, login_browser) -> None:
    writer = make_user(name="Wendy Writer")
    element = db.session.get(Element, proposal.element_id)
    comment = services.post_comment(db.session.get(Proposal, proposal.id), writer, "First wording.")
    db.session.commit()
    services.edit_comment(comment, writer, "Second wording, see https://example.org/x.", db.session.get(Proposal, proposal.id).vision)
    services.post_comment(db.session.get(Proposal, proposal.id), make_user(), "A reply.", comment.id)
    reflection = services.post_reflection(db.session.get(Proposal, proposal.id).vision, element, writer, "A reflection.")
    db.session.commit()
    login_browser(page, writer)
    slug = db.session.get(Proposal, proposal.id).vision.slug
    for path in (
        f"/proposals/{proposal.id}/comments",
        f"/visions/{slug}/elements/objective-1/reflections",
        f"/comments/{comment.id}/replies",
        f"/comments/{comment.id}/history",
        f"/comments/{comment.id}/edit",
        f"/comments/{comment.id}/retract",
    ):
        page.goto(path)
        assert page.locator("h1").count() == 1, path
        assert_no_axe_violations(page)
    page.goto(f"/comments/{reflection.id}/retract")
    page.get_by_role("button", name="Retract your reflection").click()
    page.wait_for_url(re.compile(r".*/reflections#comment-\d+$"))
    assert "This reflection was retracted by its author." in page.inner_text("main")
    assert_no_axe_violations(page)
