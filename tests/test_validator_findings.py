"""What the validators found (issue 19, item 9): ids unique on a page, links that land on the page
they name, the feed discoverable from every page of a vision, a heading for every comment."""

from __future__ import annotations

import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from workbench.models import Role


def duplicate_ids(page: str) -> list[str]:
    return [name for name, n in Counter(re.findall(r'\sid="([^"]+)"', page)).items() if n > 1]


@pytest.mark.parametrize("path", ["/visions/test-vision/window", "/admin/accounts/{other}", "/moderation", "/account"])
def test_pages_with_several_forms_have_unique_ids(client, vision, make_user, login_as, path):
    login_as(make_user(Role.ADMIN))
    other = make_user(Role.VOLUNTEER)
    response = client.get(path.format(other=other.id))
    assert response.status_code == 200
    assert duplicate_ids(response.get_data(as_text=True)) == []


def test_the_publish_page_links_each_change_to_where_the_draft_shows_it(client, vision, make_user, login_as):
    login_as(make_user(Role.FACILITATOR))
    client.post(
        "/visions/test-vision/draft/elements/condition-1/edit",
        data={"title": "Condition 1.1", "body": "Condition 1.1 new body.", "reason": "Clearer.", "lock_version": "1"},
    )
    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    links = re.findall(r'href="([^"]*#element-[^"]+)"', page)
    assert links, page
    assert all(link.startswith("/visions/test-vision/draft#element-") for link in links)
    draft = client.get("/visions/test-vision/draft").get_data(as_text=True)
    for link in links:
        assert f'id="{link.split("#")[1]}"' in draft


@pytest.mark.parametrize("path", ["/visions/test-vision/", "/visions/test-vision/v/1/", "/visions/test-vision/versions", "/visions/test-vision/elements/objective-1"])
def test_every_page_of_a_published_vision_names_its_feed(client, vision, path):
    page = client.get(path).get_data(as_text=True)
    assert page.count('type="application/atom+xml"') == 1
    assert 'href="/visions/test-vision/feed.atom"' in page



class _Outline(HTMLParser):
    """A page's headings in order (level, text), and each <article>'s headings' texts."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.articles: list[list[str]] = []
        self._open: list[list[str]] = []  # the articles not closed yet
        self._heading: list[str] | None = None  # the words of the heading being read

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "article":
            self.articles.append([])
            self._open.append(self.articles[-1])
        elif re.fullmatch(r"h[1-6]", tag):
            self._heading = []
            self.headings.append((int(tag[1]), ""))

    def handle_data(self, data: str) -> None:
        if self._heading is not None:
            self._heading.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "article" and self._open:
            self._open.pop()
        elif re.fullmatch(r"h[1-6]", tag) and self._heading is not None:
            words = " ".join("".join(self._heading).split())
            self.headings[-1] = (self.headings[-1][0], words)
            for article in self._open:
                article.append(words)
            self._heading = None


def outline(page: str) -> _Outline:
    found = _Outline()
    found.feed(page)
    return found


# Signed in as Ana: Ben asked a question on Ana's proposal, Ana and Ben replied; Ana commented
# again. On Objective 1.1, Ben reflected and Ana replied.
COMMENTS = ["Comment by Ana Author (you)", "Comment by Ben Builder", "Reply by Ana Author (you)", "Reply by Ben Builder"]


@pytest.mark.parametrize(
    ("path", "bylines"),
    [
        ("/proposals/{proposal}", COMMENTS),
        ("/proposals/{proposal}/comments", COMMENTS),
        ("/comments/{comment}/replies", COMMENTS[1:]),
        ("/visions/test-vision/elements/objective-1", ["Reflection by Ben Builder"]),
        ("/visions/test-vision/elements/objective-1/reflections", ["Reflection by Ben Builder", "Reply by Ana Author (you)"]),
    ],
)
def test_every_comment_has_a_heading_and_no_heading_level_is_skipped(client, vision, make_user, login_as, path, bylines):
    from workbench.discussion.services import post_reflection
    from workbench.extensions import db

    from tests.factories import add_comment, element_of, open_proposal

    ana, ben = make_user(name="Ana Author"), make_user(name="Ben Builder")
    proposal = open_proposal(vision, ana)
    question = add_comment(proposal, ben, "A question.", minutes_ago=3)
    add_comment(proposal, ana, "An answer.", parent=question, minutes_ago=2)
    add_comment(proposal, ben, "Thanks.", parent=question, minutes_ago=1)
    add_comment(proposal, ana, "Another thought.")
    reflection = post_reflection(vision, element_of(vision), ben, "It misses the people who use the data.")
    post_reflection(vision, element_of(vision), ana, "It does not.", parent_id=reflection.id)
    db.session.commit()
    login_as(ana)
    response = client.get(path.format(proposal=proposal.id, comment=question.id))
    assert response.status_code == 200
    page = response.get_data(as_text=True)

    found = outline(page)
    # Each comment's <article> has a heading, its byline: who wrote it, when.
    assert len(found.articles) == page.count('class="app-comment__article"') == len(bylines)
    assert all(found.articles), [article for article in found.articles if not article]
    assert sorted(re.sub(r",.*", "", article[0]) for article in found.articles) == sorted(bylines)
    # And the page's heading levels never skip one: h1, then at most one level deeper at a time.
    levels = [level for level, _ in found.headings]
    assert levels[0] == 1
    assert [(a, b) for a, b in zip(levels, levels[1:]) if b > a + 1] == [], found.headings
