"""Comments on proposals and reflections on elements (issue 5): plain text with paragraphs and safe
links, one level of replies, edits with history, retraction, long threads in pages of 20 with
"show more", and the consultation window closing it all.

Replies: a reply to a reply joins the thread of the top-level comment it is in (one level).
Counts: Proposal.comment_count = comments and replies neither hidden nor retracted;
Comment.reply_count = replies not hidden (a retracted reply is still listed, as retracted).
"""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from flask import render_template_string
from sqlalchemy import func, select

from workbench.discussion import services, threads
from workbench.discussion.text import linkify, paragraphs_with_links
from workbench.models import (
    AuditEvent,
    Comment,
    CommentRevision,
    Proposal,
    Role,
    db,
    utcnow,
)
from workbench.exceptions import ValidationError

from .factories import add_comment, element_of, fresh, open_proposal

SLUG = "test-vision"
HX = {"HX-Request": "true"}
REFLECTIONS = f"/visions/{SLUG}/elements/objective-1/reflections"


@pytest.fixture
def proposal(vision, author):
    return open_proposal(vision, author, body="Objective 1.1 body. Changed.", rationale="Why not.")


def page_of(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


def close_window(vision) -> None:
    vision.opens_at, vision.closes_at = utcnow() - timedelta(days=10), utcnow() - timedelta(days=1)
    db.session.commit()


# --- posting --------------------------------------------------------------------------------------


def test_a_volunteer_comments_and_sees_it_on_the_proposal_page(client, proposal, make_user, login_as) -> None:
    login_as(make_user(name="Vera Volunteer"))
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "I agree.\n\nBut say who shares."})
    comment = db.session.scalar(select(Comment))
    comment_id = comment.id
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{comment_id}"
    assert comment.body == "I agree.\n\nBut say who shares."
    assert fresh(Proposal, proposal.id).comment_count == 1
    page = page_of(client, f"/proposals/{proposal.id}")
    assert "Your comment is published." in page
    assert "<p>I agree.</p>\n<p>But say who shares.</p>" in page
    assert "Vera Volunteer" in page
    assert "1 comment, newest first." in page
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "comment.posted"))
    assert event.subject_id == comment_id


def test_a_reply_goes_under_its_comment_and_a_reply_to_a_reply_joins_that_thread(client, proposal, make_user, login_as) -> None:
    first = add_comment(proposal, make_user(name="Fiona First"), "The first.")
    login_as(make_user(name="Rory Reply"))
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "A reply.", "parent_id": str(first.id)})
    reply = db.session.scalar(select(Comment).where(Comment.parent_id.is_not(None)))
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{reply.id}"
    assert "Your reply is published." in page_of(client, f"/proposals/{proposal.id}")

    client.post(f"/proposals/{proposal.id}/comments", data={"body": "A reply to the reply.", "parent_id": str(reply.id)})
    second = db.session.scalar(select(Comment).where(Comment.body == "A reply to the reply."))
    assert second.parent_id == first.id  # one level: it joins the top-level comment's thread
    assert fresh(Comment, first.id).reply_count == 2
    assert fresh(Proposal, proposal.id).comment_count == 3
    page = page_of(client, f"/proposals/{proposal.id}")
    replies = page[page.index(f'id="replies-{first.id}"'):]
    assert replies.index("A reply.") < replies.index("A reply to the reply.")  # oldest first


def test_a_reply_to_a_comment_elsewhere_is_refused(client, vision, proposal, author, make_user, login_as) -> None:
    other = open_proposal(vision, author, "objective-2", "Objective 1.2 body. Changed.", rationale="Why not.")
    elsewhere = add_comment(other, make_user(), "On another proposal.")
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "Hi.", "parent_id": str(elsewhere.id)})
    assert response.status_code == 422
    assert "not part of this discussion" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Comment.id))) == 1


@pytest.mark.parametrize(
    "body, message",
    [
        ("", "Enter your comment"),
        ("   \n\n  ", "Enter your comment"),
        ("x" * 5001, "Your comment must be 5,000 characters or fewer (it has 5,001)"),
        ("Looks fine\u202egnp.exe", "Remove the hidden formatting characters"),
        ("zero\u200bwidth", "Remove the hidden formatting characters"),
    ],
)
def test_bad_comments_get_a_message_beside_the_field_and_nothing_is_written(client, proposal, make_user, login_as, body, message) -> None:
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": body})
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert "There is a problem" in html
    assert f'<p class="ds_question__error-message" id="body-error"><span class="visually-hidden">Error:</span> {message}' in html
    assert db.session.scalar(select(func.count(Comment.id))) == 0
    assert fresh(Proposal, proposal.id).comment_count == 0


def test_a_comment_posted_with_htmx_comes_back_in_the_comments_section_in_place(client, proposal, make_user, login_as) -> None:
    add_comment(proposal, make_user(name="Olga Older"), "An older comment.", minutes_ago=5)
    login_as(make_user(name="Vera Volunteer"))
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "Say who shares."}, headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers["Vary"]
    section = response.get_data(as_text=True)
    comment = db.session.scalar(select(Comment).where(Comment.body == "Say who shares."))
    # The section alone (no page around it), the form empty again, a confirmation, two comments with
    # the new one first, and focus moved to it.
    assert section.lstrip().startswith(f'<section class="app-discussion" id="comments-{proposal.id}"')
    assert "<html" not in section
    assert "Your comment is published." in section
    assert "2 comments, newest first." in section
    assert f'name="body" rows="5" aria-describedby="comment-body-{proposal.id}-hint"></textarea>' in section
    assert section.index("Say who shares.") < section.index("An older comment.")
    assert f'id="comment-{comment.id}" tabindex="-1" autofocus' in section
    assert fresh(Proposal, proposal.id).comment_count == 2


@pytest.mark.parametrize(
    "body, message",
    [("", "Enter your comment"), ("x" * 5001, "Your comment must be 5,000 characters or fewer (it has 5,001)")],
)
def test_a_bad_comment_posted_with_htmx_comes_back_with_its_text_and_message(client, proposal, make_user, login_as, body, message) -> None:
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": body}, headers=HX)
    assert response.status_code == 200  # htmx swaps only successful answers: the section has the error
    section = response.get_data(as_text=True)
    assert "<html" not in section
    field = f"comment-body-{proposal.id}"
    assert f'<p class="ds_question__error-message" id="{field}-error"><span class="visually-hidden">Error:</span> {message}</p>' in section
    assert f'aria-describedby="{field}-hint {field}-error" aria-invalid="true" autofocus>{body}</textarea>' in section
    assert "Your comment is published." not in section
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_a_reply_posted_with_htmx_still_leads_to_its_place_on_the_page(client, proposal, make_user, login_as) -> None:
    # Only the proposal page's own comment form is sent in place; a reply form is a plain form.
    first = add_comment(proposal, make_user(), "The first.")
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "A reply.", "parent_id": str(first.id)}, headers=HX)
    assert response.status_code == 302


def test_a_comment_of_exactly_5000_characters_is_fine_and_nul_bytes_are_dropped(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    assert client.post(f"/proposals/{proposal.id}/comments", data={"body": "y" * 5000}).status_code == 302
    assert client.post(f"/proposals/{proposal.id}/comments", data={"body": "a\x00b"}).status_code == 302
    assert sorted(db.session.scalars(select(Comment.body))) == ["ab", "y" * 5000]


def test_a_comment_form_without_csrf_is_refused(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    assert client.post(f"/proposals/{proposal.id}/comments", data={"body": "Hi."}, csrf=False).status_code == 400
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_anonymous_visitors_read_but_are_sent_to_sign_in_to_comment(client, proposal) -> None:
    page = page_of(client, f"/proposals/{proposal.id}")
    assert "Sign in to comment on this proposal" in page
    assert 'name="body"' not in page
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "Hi."})
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/login?next=")
    assert db.session.scalar(select(func.count(Comment.id))) == 0


def test_when_the_window_closes_comments_stay_readable_but_no_form_is_shown(client, vision, proposal, make_user, login_as) -> None:
    add_comment(proposal, make_user(), "Said before the close.")
    close_window(vision)
    login_as(make_user())
    for url in (f"/proposals/{proposal.id}", f"/proposals/{proposal.id}/comments", REFLECTIONS):
        page = page_of(client, url)
        assert "The consultation closed on" in page, url
        assert 'name="body"' not in page, url
        assert "Publish your" not in page, url
    assert "Said before the close." in page_of(client, f"/proposals/{proposal.id}")
    response = client.post(f"/proposals/{proposal.id}/comments", data={"body": "Too late."})
    assert response.status_code == 403
    assert "The consultation closed on" in response.get_data(as_text=True)
    response = client.post(REFLECTIONS, data={"body": "Too late."})
    assert response.status_code == 403
    assert db.session.scalar(select(func.count(Comment.id))) == 1


def test_decided_proposals_can_still_be_discussed_while_the_window_is_open(client, proposal, make_user, login_as) -> None:
    row = fresh(Proposal, proposal.id)
    row.status = "rejected"
    db.session.commit()
    login_as(make_user())
    assert client.post(f"/proposals/{proposal.id}/comments", data={"body": "Pity."}).status_code == 302


# --- what comes out: plain text, safe links, nothing active ----------------------------------------


@pytest.mark.parametrize(
    "typed, absent, present",
    [
        ("<script>alert(1)</script>", "<script>alert", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ('<img src=x onerror="alert(1)">', "<img", "&lt;img src=x onerror=&#34;alert(1)&#34;&gt;"),
        ("<svg onload=alert(1)>", "<svg onload", "&lt;svg onload=alert(1)&gt;"),
        ('" onmouseover="alert(1)', '" onmouseover="', "&#34; onmouseover=&#34;alert(1)"),
        ('<div data-hx-post="/auth/logout" data-hx-trigger="load">x</div>', "<div data-hx-post", "&lt;div data-hx-post=&#34;/auth/logout&#34;"),
        ('<a hx-get="/x" hx-on:click="alert(1)">y</a>', "<a hx-get", "&lt;a hx-get=&#34;/x&#34;"),
        ("javascript:alert(1)", 'href="javascript', "javascript:alert(1)"),
        ("JaVaScRiPt:alert(1)", 'href="JaVaScRiPt', "JaVaScRiPt:alert(1)"),
        ("data:text/html,<b>x</b>", 'href="data:', "data:text/html,&lt;b&gt;x&lt;/b&gt;"),
        ("//evil.example/x", 'href="//evil', "//evil.example/x"),
        ("</li></ol><script>x</script>", "</ol><script>", "&lt;/li&gt;&lt;/ol&gt;&lt;script&gt;"),
    ],
)
def test_markup_and_htmx_attributes_in_comments_come_out_inert(client, proposal, make_user, login_as, typed, absent, present) -> None:
    login_as(make_user())
    client.post(f"/proposals/{proposal.id}/comments", data={"body": typed})
    for url in (f"/proposals/{proposal.id}", f"/proposals/{proposal.id}/comments"):
        html = page_of(client, url)
        body = html[html.index('class="app-comment__body"'):]
        body = body[: body.index("</div>")]
        assert absent not in body, url
        assert present in body, url
    assert 'data-hx-post="/auth/logout"' not in page_of(client, f"/proposals/{proposal.id}")


def test_http_addresses_become_safe_links(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    client.post(f"/proposals/{proposal.id}/comments", data={"body": "See https://example.org/a?b=1&c=2. And (http://example.com/x_(y))."})
    html = page_of(client, f"/proposals/{proposal.id}")
    assert '<a href="https://example.org/a?b=1&amp;c=2" rel="nofollow ugc noopener">https://example.org/a?b=1&amp;c=2</a>.' in html
    assert '(<a href="http://example.com/x_(y)" rel="nofollow ugc noopener">http://example.com/x_(y)</a>).' in html


@pytest.mark.parametrize(
    "text, html",
    [
        ("plain & simple", "plain &amp; simple"),
        ("go to https://a.example/b, then", 'go to <a href="https://a.example/b" rel="nofollow ugc noopener">https://a.example/b</a>, then'),
        ('"https://a.example/"', '&#34;<a href="https://a.example/" rel="nofollow ugc noopener">https://a.example/</a>&#34;'),
        ("https://a.example/x\"onmouseover=alert(1)", '<a href="https://a.example/x" rel="nofollow ugc noopener">https://a.example/x</a>&#34;onmouseover=alert(1)'),
        ("https://a.example/<script>", '<a href="https://a.example/" rel="nofollow ugc noopener">https://a.example/</a>&lt;script&gt;'),
        ("http://", "http://"),
        ("https://:80/x", "https://:80/x"),
        ("ftp://a.example/", "ftp://a.example/"),
        ("xhttps://a.example/", "xhttps://a.example/"),
        ("javascript:https://a.example", 'javascript:<a href="https://a.example" rel="nofollow ugc noopener">https://a.example</a>'),
    ],
)
def test_linkify_escapes_everything_and_links_only_http_addresses(text, html) -> None:
    assert str(linkify(text)) == html


def test_paragraphs_and_line_breaks(app) -> None:
    assert str(paragraphs_with_links("One\nline two\n\n\n<b>Two</b>")) == "<p>One<br>\nline two</p>\n<p>&lt;b&gt;Two&lt;/b&gt;</p>"
    assert str(paragraphs_with_links("")) == ""
    assert render_template_string("{{ text|paragraphs_with_links }}", text="<i>x</i>") == "<p>&lt;i&gt;x&lt;/i&gt;</p>"


# --- editing and retracting -----------------------------------------------------------------------


def test_the_author_edits_and_everyone_sees_edited_with_the_history(client, proposal, make_user, login_as) -> None:
    writer = make_user(name="Wendy Writer")
    comment = add_comment(proposal, writer, "First wording.")
    login_as(writer)
    form = page_of(client, f"/comments/{comment.id}/edit")
    assert "First wording." in form and "Edit your comment" in form
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "Second wording."})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}#comment-{comment.id}"
    row = fresh(Comment, comment.id)
    assert row.body == "Second wording." and row.edited_at is not None
    assert [r.body for r in db.session.scalars(select(CommentRevision))] == ["First wording."]

    login_as(make_user())
    page = page_of(client, f"/proposals/{proposal.id}")
    assert "Second wording." in page and "First wording." not in page
    assert f'<a href="/comments/{comment.id}/history">edited <time' in page
    history = page_of(client, f"/comments/{comment.id}/history")
    assert history.index("Second wording.") < history.index("First wording.")
    assert "Edited 1 time." in history


def test_an_unchanged_edit_is_refused_with_a_message(client, proposal, make_user, login_as) -> None:
    writer = make_user()
    comment = add_comment(proposal, writer, "Same.")
    login_as(writer)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "Same."})
    assert response.status_code == 422
    assert "You have not changed anything" in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(CommentRevision.id))) == 0


@pytest.mark.parametrize("role", [Role.VOLUNTEER, Role.FACILITATOR, Role.ADMIN])
def test_nobody_else_can_edit_or_retract_a_comment(client, proposal, make_user, login_as, role) -> None:
    comment = add_comment(proposal, make_user(), "Mine.")
    login_as(make_user(role))
    for method, path, data in (
        ("GET", f"/comments/{comment.id}/edit", None),
        ("POST", f"/comments/{comment.id}/edit", {"body": "Yours now."}),
        ("GET", f"/comments/{comment.id}/retract", None),
        ("POST", f"/comments/{comment.id}/retract", {}),
    ):
        response = client.get(path) if method == "GET" else client.post(path, data=data)
        assert response.status_code == 403, (method, path)
        assert "Only the person who wrote a comment" in response.get_data(as_text=True)
    row = fresh(Comment, comment.id)
    assert (row.body, row.retracted_at, row.edited_at) == ("Mine.", None, None)
    page = page_of(client, f"/proposals/{proposal.id}")
    assert f"/comments/{comment.id}/edit" not in page and f"/comments/{comment.id}/retract" not in page


def test_editing_is_closed_with_the_window_but_retracting_is_not(client, vision, proposal, make_user, login_as) -> None:
    writer = make_user()
    comment = add_comment(proposal, writer, "Before.")
    close_window(vision)
    login_as(writer)
    response = client.post(f"/comments/{comment.id}/edit", data={"body": "After."})
    assert response.status_code == 403
    assert "The consultation closed on" in response.get_data(as_text=True)
    assert fresh(Comment, comment.id).body == "Before."
    assert client.post(f"/comments/{comment.id}/retract").status_code == 302
    assert fresh(Comment, comment.id).retracted_at is not None


def test_a_retracted_comment_shows_as_retracted_keeps_its_replies_and_its_words_in_the_database(client, proposal, make_user, login_as) -> None:
    writer = make_user(name="Wendy Writer")
    comment = add_comment(proposal, writer, "Regrettable words.", minutes_ago=5)
    add_comment(proposal, make_user(name="Rory"), "A reply that stays.", parent=comment)
    assert fresh(Proposal, proposal.id).comment_count == 2
    login_as(writer)
    confirm = page_of(client, f"/comments/{comment.id}/retract")
    assert "Retract your comment?" in confirm
    response = client.post(f"/comments/{comment.id}/retract")
    assert response.status_code == 302
    row = fresh(Comment, comment.id)
    assert row.retracted_at is not None and row.body == "Regrettable words."
    assert fresh(Proposal, proposal.id).comment_count == 1
    assert db.session.scalar(select(AuditEvent.action).where(AuditEvent.subject_id == comment.id, AuditEvent.action == "comment.retracted"))

    login_as(make_user())
    page = page_of(client, f"/proposals/{proposal.id}")
    assert "This comment was retracted by its author." in page
    assert "Regrettable words." not in page
    assert "A reply that stays." in page
    assert client.get(f"/comments/{comment.id}/history").status_code == 404  # its words are not public
    login_as(writer)
    assert "Regrettable words." in page_of(client, f"/comments/{comment.id}/history")
    assert client.post(f"/comments/{comment.id}/retract").status_code == 409
    assert client.post(f"/comments/{comment.id}/edit", data={"body": "New."}).status_code == 403


# --- long threads ---------------------------------------------------------------------------------


def many_comments(proposal, make_user, n: int) -> list[Comment]:
    people = [make_user() for _ in range(3)]
    found = []
    for i in range(n):
        found.append(
            Comment(
                vision_id=proposal.vision_id, proposal_id=proposal.id, author_id=people[i % 3].id,
                body=f"Comment number {i + 1}.", created_at=utcnow() - timedelta(minutes=n - i),
            )
        )
    db.session.add_all(found)
    db.session.commit()
    services.recount_comments(proposal.id)
    db.session.commit()
    return found


def test_long_threads_come_in_pages_of_20_with_show_more(client, proposal, make_user) -> None:
    many_comments(proposal, make_user, 45)
    page = page_of(client, f"/proposals/{proposal.id}")
    assert page.count('class="app-comment"') == 20
    assert "Comment number 45." in page and "Comment number 26." in page and "Comment number 25." not in page
    more = f"/proposals/{proposal.id}/comments?page=2"
    assert (
        f'<a class="app-more__link" href="{more}" data-hx-get="{more}" data-hx-target="closest li" data-hx-swap="outerHTML">'
        "Show 20 more comments<span class=\"visually-hidden\"> (25 comments not shown yet)</span></a>"
    ) in page

    # Without JavaScript the link is a page of its own.
    second = page_of(client, more)
    assert "45 comments, showing 21–40, newest first" in second
    assert "Comment number 25." in second and "Comment number 6." in second and "Comment number 26." not in second
    assert 'aria-label="Pages of comments"' in second
    assert "Show 5 more comments" in second

    # With htmx it answers the items to put in place of the link, the first taking focus, and says so.
    response = client.get(more, headers=HX)
    assert "HX-Request" in response.headers["Vary"]
    fragment = response.get_data(as_text=True)
    assert "<html" not in fragment and "<ol" not in fragment.split('id="replies-')[0]
    items = re.findall(r'<li class="app-comment" id="comment-\d+"( tabindex="-1" autofocus)?>', fragment)
    assert len(items) == 20 and items[0] and not any(items[1:])
    assert "Show 5 more comments" in fragment
    assert f'<div id="discussion-status-proposal-{proposal.id}" data-hx-swap-oob="innerHTML">20 more comments loaded.</div>' in fragment
    last = client.get(f"/proposals/{proposal.id}/comments?page=3", headers=HX).get_data(as_text=True)
    assert "5 more comments loaded." in last and "app-more" not in last

    assert client.get(f"/proposals/{proposal.id}/comments?page=4").status_code == 404
    assert "Comment number 45." in page_of(client, f"/proposals/{proposal.id}/comments?page=abc")


def test_replies_show_three_then_all_of_them(client, proposal, make_user) -> None:
    top = add_comment(proposal, make_user(), "The question.")
    people = [make_user() for _ in range(2)]
    for i in range(25):
        db.session.add(
            Comment(
                vision_id=proposal.vision_id, proposal_id=proposal.id, parent_id=top.id, author_id=people[i % 2].id,
                body=f"Reply number {i + 1}.", created_at=utcnow() + timedelta(seconds=i),
            )
        )
    db.session.commit()
    services.recount_replies(top)
    db.session.commit()
    page = page_of(client, f"/proposals/{proposal.id}")
    assert "Reply number 3." in page and "Reply number 4." not in page
    url = f"/comments/{top.id}/replies"
    assert f'href="{url}" data-hx-get="{url}" data-hx-target="#replies-{top.id}" data-hx-swap="outerHTML">Show all 25 replies</a>' in page

    fragment = client.get(url, headers=HX).get_data(as_text=True)
    assert fragment.lstrip().startswith(f'<ol class="ds_no-bullets ds_inset-text app-replies" id="replies-{top.id}"')
    assert fragment.count("app-comment--reply") == 20
    assert re.search(r'id="comment-\d+" tabindex="-1" autofocus>\s*<article[^>]*>\s*<h4[^>]*>\s*<span class="visually-hidden">Reply by </span><strong[^>]*>[^<]*</strong>,\s*<a[^>]*><time[^>]*>[^<]*</time></a>\s*</h4>\s*<div class="app-comment__body"><p>Reply number 4\.', fragment)
    assert "17 more replies loaded." in fragment
    assert f"{url}?page=2" in fragment and "Show 5 more replies" in fragment
    second = client.get(f"{url}?page=2", headers=HX).get_data(as_text=True)
    assert second.count("app-comment--reply") == 5 and "5 more replies loaded." in second

    full = page_of(client, url)
    assert "25 replies, showing 1–20, oldest first" in full and "The question." in full


# --- finding a comment ----------------------------------------------------------------------------


def test_a_comments_address_leads_to_the_page_that_shows_it(client, proposal, make_user) -> None:
    comments = many_comments(proposal, make_user, 25)
    oldest, newest = comments[0], comments[-1]
    assert client.get(f"/comments/{newest.id}").headers["Location"] == f"/proposals/{proposal.id}#comment-{newest.id}"
    assert client.get(f"/comments/{oldest.id}").headers["Location"] == f"/proposals/{proposal.id}/comments?page=2#comment-{oldest.id}"
    assert client.get("/comments/999999").status_code == 404


# --- reflections ----------------------------------------------------------------------------------


def test_reflections_on_an_element(client, vision, make_user, login_as) -> None:
    page = page_of(client, REFLECTIONS)
    assert "<h1" in page and "Reflections on Objective 1.1" in page
    assert "No reflections yet" in page
    login_as(make_user(name="Ruth Reflector"))
    response = client.post(REFLECTIONS, data={"body": "This matters for rural areas."})
    reflection = db.session.scalar(select(Comment))
    assert response.status_code == 302
    assert response.headers["Location"] == f"{REFLECTIONS}#comment-{reflection.id}"
    assert (reflection.element_id, reflection.proposal_id) == (element_of(vision).id, None)
    page = page_of(client, REFLECTIONS)
    assert "Your reflection is published." in page
    assert "This matters for rural areas." in page and "1 reflection, newest first" in page
    response = client.post(REFLECTIONS, data={"body": "Agreed.", "parent_id": str(reflection.id)})
    assert response.status_code == 302
    assert fresh(Comment, reflection.id).reply_count == 1
    assert "Agreed." in page_of(client, REFLECTIONS)
    response = client.post(REFLECTIONS, data={"body": ""})
    assert response.status_code == 422 and "Enter your reflection" in response.get_data(as_text=True)
    assert client.get(f"/visions/{SLUG}/elements/objective-999/reflections").status_code == 404
    assert client.get("/visions/nope/elements/objective-1/reflections").status_code == 404


def test_a_reflection_cannot_reply_across_elements(client, vision, make_user, login_as) -> None:
    login_as(make_user())
    client.post(REFLECTIONS, data={"body": "On 1.1"})
    first = db.session.scalar(select(Comment))
    response = client.post(f"/visions/{SLUG}/elements/objective-2/reflections", data={"body": "x", "parent_id": str(first.id)})
    assert response.status_code == 422
    assert db.session.scalar(select(func.count(Comment.id))) == 1


def test_the_element_page_partial_shows_the_newest_reflections_and_the_form(app, client, vision, make_user, login_as) -> None:
    element = element_of(vision)
    people = [make_user() for _ in range(5)]
    for i, person in enumerate(people):
        services.post_reflection(vision, element, person, f"Reflection {i + 1}.")
        db.session.commit()
    with app.test_request_context(f"/visions/{SLUG}/elements/objective-1"):
        html = render_template_string('{% include "discussion/_element_reflections.html" %}', vision=vision, element=element, label="Objective 1.1")
    assert "5 reflections on Objective 1.1; the newest 3 are shown." in html
    assert html.count('class="app-comment"') == 3
    assert f'href="{REFLECTIONS}">Read all 5 reflections on Objective 1.1</a>' in html
    assert "Sign in to share a reflection on Objective 1.1" in html


# --- services directly ----------------------------------------------------------------------------


def test_the_services_check_their_rules_themselves(app, vision, proposal, make_user) -> None:
    writer, other = make_user(), make_user()
    comment = services.post_comment(proposal, writer, "Hello.")
    db.session.commit()
    with pytest.raises(services.NotAllowed):
        services.edit_comment(comment, other, "Hijack.", vision)
    with pytest.raises(services.NotAllowed):
        services.retract_comment(comment, other)
    with pytest.raises(ValidationError):
        services.post_comment(proposal, writer, "")
    db.session.rollback()
    close_window(vision)
    with pytest.raises(services.NotAllowed):
        services.post_comment(fresh(Proposal, proposal.id), writer, "Late.")
    with pytest.raises(services.NotAllowed):
        services.post_reflection(vision, element_of(vision), writer, "Late.")


# --- queries do not grow with the discussion ------------------------------------------------------


def count_for(client, count_queries, url: str, headers=None) -> int:
    client.get(url, headers=headers)  # warm caches
    with count_queries() as log:
        response = client.get(url, headers=headers)
    assert response.status_code == 200, url
    return log.count


def test_pages_and_fragments_run_the_same_queries_however_long_the_discussion(client, vision, proposal, make_user, login_as, count_queries) -> None:
    reader = make_user()
    element = element_of(vision)

    def grow(n: int) -> Comment:
        people = [make_user() for _ in range(3)]
        top = None
        for i in range(n):
            top = services.post_comment(fresh(Proposal, proposal.id), people[i % 3], f"Comment {i}.")
            services.post_comment(fresh(Proposal, proposal.id), people[(i + 1) % 3], f"Reply {i}.", top.id)
            services.post_reflection(vision, element, people[i % 3], f"Reflection {i}.")
            db.session.commit()
        return top

    top = grow(22)  # past one page of 20
    login_as(reader)
    urls = [
        (f"/proposals/{proposal.id}", None),
        (f"/proposals/{proposal.id}/comments", None),
        (f"/proposals/{proposal.id}/comments?page=2", HX),
        (REFLECTIONS, None),
        (f"/visions/{SLUG}/elements/objective-1", None),
        (f"/comments/{top.id}/replies", None),
        (f"/comments/{top.id}/replies", HX),
    ]
    small = [count_for(client, count_queries, url, headers) for url, headers in urls]
    grow(40)
    for i in range(30):
        services.post_comment(fresh(Proposal, proposal.id), make_user(), f"More reply {i}.", top.id)
    db.session.commit()
    large = [count_for(client, count_queries, url, headers) for url, headers in urls]
    print("queries (small -> large):", list(zip([u for u, _ in urls], small, large)))
    assert large == small


def test_a_comment_posted_in_place_runs_the_same_queries_however_long_the_discussion(client, proposal, make_user, login_as, count_queries) -> None:
    login_as(make_user())

    def post(body: str) -> int:
        with count_queries() as log:
            response = client.post(f"/proposals/{proposal.id}/comments", data={"body": body}, headers=HX)
        assert response.status_code == 200
        return log.count

    post("Warm the caches.")
    small = post("On a short discussion.")
    people = [make_user() for _ in range(3)]
    for i in range(45):
        top = add_comment(proposal, people[i % 3], f"Comment {i}.")
        add_comment(proposal, people[(i + 1) % 3], f"Reply {i}.", parent=top)
    assert post("On a long discussion.") == small
