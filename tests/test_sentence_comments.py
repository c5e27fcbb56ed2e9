"""Stable references to sentences on permalinks, and reflections on one sentence that follow it as
the element's text moves on (issue 18, items 2 and 3). Every form here is a plain HTML form: these
tests are the journey without JavaScript."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from workbench.caching import clear_caches
from workbench.drafting.edits import edit_element_text
from workbench.drafting.publishing import publish_version
from workbench.extensions import db
from workbench.models import Comment, Role, User, Vision

from .factories import KEY, entry_of, fresh

ELEMENT = "/visions/test-vision/elements/objective-1"
REFLECTIONS = ELEMENT + "/reflections"
V2 = (
    "Data helps people, and it helps the planet. Open data is good. We publish it weekly. "
    "Costs are shared. Everyone can reuse it."
)


@pytest.fixture
def facilitator(make_user) -> User:
    return make_user(Role.FACILITATOR, name="Fran Facilitator")


@pytest.fixture
def volunteer(make_user) -> User:
    return make_user(Role.VOLUNTEER, name="Vic Volunteer")


def set_text(vision: Vision, who: User, body: str) -> None:
    entry = entry_of(vision, KEY)
    edit_element_text(
        fresh(Vision, vision.id), KEY, title=entry.text.title, body=body, reason="Clearer.",
        lock_version=entry.lock_version, actor=fresh(User, who.id),
    )
    db.session.commit()


def publish(vision: Vision, who: User) -> None:
    publish_version(fresh(Vision, vision.id), actor=fresh(User, who.id), notes="Next version.")
    db.session.commit()


def words(html: str) -> str:
    """The page's text as a reader hears it: tags gone, spaces collapsed (none before punctuation)."""
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
    return re.sub(r" ([.,;:])(?=\s|$)", r"\1", text)


def sentence_links(page: str) -> dict[str, str]:
    """The element page's "Comment" links, by sentence ("p1-s2" -> its address)."""
    found = re.findall(r'href="(/visions/test-vision/elements/objective-1/sentences/(p\d+-s\d+)\?text=\d+)"', page)
    return {ref: url.replace("&amp;", "&") for url, ref in found}


def reflect(client, url: str, body: str):
    return client.post(url, data={"body": body})


def sentence_comments() -> list[Comment]:
    return list(db.session.scalars(select(Comment).where(Comment.sentence_text_id.is_not(None)).order_by(Comment.id)))


# --- item 2: numbered sentences and citations on the permalinks ----------------------------------


def test_every_paragraph_and_sentence_of_a_permalink_has_a_number_an_anchor_and_a_citation(client, vision) -> None:
    page = client.get("/visions/test-vision/v/1/").get_data(as_text=True)
    # ambition-1 has two paragraphs ("Ambition 1 body.\n\nIts second paragraph.")
    assert 'id="ambition-1-p1"' in page and 'id="ambition-1-p2"' in page
    assert '<span class="app-sentence" id="ambition-1-p2-s1">Its second paragraph.' in page
    # each sentence's number leads to its citation on the element's permalink
    assert 'href="/visions/test-vision/v/1/objective-1#objective-1-p1-s1"' in page
    assert "Cite Objective 1.1, 1.1 (paragraph 1, sentence 1)" in words(page)
    element_page = client.get("/visions/test-vision/v/1/objective-1").get_data(as_text=True)
    assert 'id="objective-1-p1-s1"' in element_page and 'href="#objective-1-p1-s1"' in element_page
    assert (
        "Cite this sentence: Vision test-vision, version 1, Objective 1.1, paragraph 1, sentence 1. "
        "http://localhost/visions/test-vision/v/1/objective-1#objective-1-p1-s1"
    ) in words(element_page)


def test_a_permalink_with_sentences_is_the_same_bytes_run_after_run(client, app, vision, facilitator) -> None:
    set_text(vision, facilitator, V2 + "\n\nA second paragraph, e.g. this one. It has 2.5 sentences.")
    publish(vision, facilitator)
    pages = []
    for _ in range(2):
        with app.app_context():
            clear_caches()
        pages.append(client.get("/visions/test-vision/v/2/", headers={"Accept-Encoding": "identity"}).get_data())
        pages.append(client.get("/visions/test-vision/v/2/objective-1", headers={"Accept-Encoding": "identity"}).get_data())
    assert pages[0] == pages[2] and pages[1] == pages[3]
    text = pages[0].decode()
    assert 'id="objective-1-p2-s1">A second paragraph, e.g. this one.' in text
    assert 'id="objective-1-p2-s2">It has 2.5 sentences.' in text


def test_text_in_sentences_comes_out_escaped(client, vision, facilitator, volunteer, login_as) -> None:
    set_text(vision, facilitator, 'Say <script>alert(1)</script> now. Then " onmouseover="x" data-hx-get="/x" ends.')
    publish(vision, facilitator)
    login_as(volunteer)
    for url in ("/visions/test-vision/v/2/", "/visions/test-vision/v/2/objective-1", ELEMENT, ELEMENT + "/sentences/p1-s1"):
        page = client.get(url).get_data(as_text=True)
        assert "<script>alert" not in page
        assert '" onmouseover="x"' not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page


# --- item 3: reflecting on a sentence ---------------------------------------------------------------


def test_each_sentence_of_the_living_text_has_a_control_that_leads_to_a_form_quoting_it(client, vision, facilitator, volunteer, login_as) -> None:
    set_text(vision, facilitator, V2)
    login_as(volunteer)
    page = client.get(ELEMENT).get_data(as_text=True)
    links = sentence_links(page)
    assert list(links) == ["p1-s1", "p1-s2", "p1-s3", "p1-s4", "p1-s5"]
    assert "Comment on this sentence (paragraph 1, sentence 2)" in words(page)
    form = client.get(links["p1-s2"]).get_data(as_text=True)
    assert "Paragraph 1, sentence 2 of Objective 1.1:" in words(form)
    assert '<blockquote class="app-sentence-quote" id="chosen-sentence"><p>Open data is good.</p></blockquote>' in form
    assert '<label class="ds_label" for="body">Your reflection on this sentence</label>' in form


def test_a_reflection_on_a_sentence_records_the_text_and_the_words_and_shows_the_quote(client, vision, facilitator, volunteer, login_as) -> None:
    set_text(vision, facilitator, V2)
    login_as(volunteer)
    links = sentence_links(client.get(ELEMENT).get_data(as_text=True))
    response = reflect(client, links["p1-s2"], "Good is vague: say what it enables.")
    assert response.status_code == 302
    (comment,) = sentence_comments()
    assert comment.sentence_text_id == entry_of(vision, KEY).text_id
    assert V2[comment.sentence_start : comment.sentence_end] == "Open data is good."
    assert comment.element_id is not None and comment.proposal_id is None
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "On paragraph 1, sentence 2: Open data is good. Unchanged: now paragraph 1, sentence 2." in words(page)
    assert 'href="/visions/test-vision/elements/objective-1#objective-1-p1-s2"' in page
    # the element page's newest reflections say it too
    assert "Unchanged: now paragraph 1, sentence 2." in words(client.get(ELEMENT).get_data(as_text=True))


def test_reflections_follow_their_sentences_across_three_versions(client, vision, facilitator, volunteer, login_as) -> None:
    set_text(vision, facilitator, V2)
    publish(vision, facilitator)  # version 2
    login_as(volunteer)
    links = sentence_links(client.get(ELEMENT).get_data(as_text=True))
    for ref, body in [
        ("p1-s1", "About the split one."),
        ("p1-s2", "About the removed one."),
        ("p1-s3", "About the changed one."),
        ("p1-s4", "About the one removed from the draft."),
        ("p1-s5", "About the unchanged one."),
    ]:
        assert reflect(client, links[ref], body).status_code == 302
    v3 = "Data helps people. It helps the planet. We publish it monthly. Costs are shared. Everyone can reuse it."
    set_text(vision, facilitator, v3)
    publish(vision, facilitator)  # version 3
    set_text(vision, facilitator, v3.replace("Costs are shared. ", ""))  # waits in the working draft
    page = words(client.get(REFLECTIONS).get_data(as_text=True))
    about = {body: page.split(body)[0].rsplit("Reflection by", 1)[1] for body in (
        "About the split one.", "About the removed one.", "About the changed one.",
        "About the one removed from the draft.", "About the unchanged one.",
    )}
    split = about["About the split one."]
    assert "On paragraph 1, sentence 1 of the text as it was then: Data helps people, and it helps the planet." in split
    assert "Changed This sentence has changed since the reflection was written. It is now paragraph 1, sentences 1 and 2" in split
    assert "Removed The sentence was removed in version 3." in about["About the removed one."]
    changed = about["About the changed one."]
    assert "We publish it weekly. Changed This sentence has changed since" in changed
    assert "It is now paragraph 1, sentence 3" in changed
    assert "Removed The sentence was removed from the working draft." in about["About the one removed from the draft."]
    assert "Everyone can reuse it. Unchanged: now paragraph 1, sentence 4." in about["About the unchanged one."]
    html = client.get(REFLECTIONS).get_data(as_text=True)
    # the changes themselves, as a word diff: "weekly" removed, "monthly" added
    assert re.search(r"<del[^>]*>.*weekly.*</del>", html) and re.search(r"<ins[^>]*>.*monthly.*</ins>", html)
    # never lost: all five are still there, on their words
    assert len(sentence_comments()) == 5


def test_a_reflection_from_a_page_read_before_the_text_changed_stays_on_the_words_read(client, vision, facilitator, volunteer, login_as) -> None:
    set_text(vision, facilitator, V2)
    login_as(volunteer)
    links = sentence_links(client.get(ELEMENT).get_data(as_text=True))
    set_text(vision, facilitator, V2.replace("We publish it weekly.", "We publish it daily."))
    form = words(client.get(links["p1-s3"]).get_data(as_text=True))
    assert "Paragraph 1, sentence 3 of Objective 1.1, as it read when you opened the page: We publish it weekly." in form
    assert "This sentence has changed since." in form
    assert reflect(client, links["p1-s3"], "Weekly is right.").status_code == 302
    (comment,) = sentence_comments()
    assert V2[comment.sentence_start : comment.sentence_end] == "We publish it weekly."
    assert "This sentence has changed since the reflection was written" in words(client.get(REFLECTIONS).get_data(as_text=True))


@pytest.mark.parametrize(
    "path",
    [
        "/sentences/p0-s1", "/sentences/p1-s9", "/sentences/p9-s1", "/sentences/s1", "/sentences/p1-s1x",
        "/sentences/p１-s1", "/sentences/p1-s1?text=abc", "/sentences/p1-s1?text=-1", "/sentences/p1-s1?text=99999999999999999999",
        "/sentences/p1-s1?text=999999",
    ],
)
def test_a_sentence_that_does_not_exist_is_a_404(client, vision, path) -> None:
    assert client.get(ELEMENT + path).status_code == 404


def test_another_elements_text_is_not_this_elements_sentence(client, vision, volunteer, login_as) -> None:
    other = entry_of(vision, "objective-2").text_id
    login_as(volunteer)
    assert client.get(f"{ELEMENT}/sentences/p1-s1?text={other}").status_code == 404
    assert reflect(client, f"{ELEMENT}/sentences/p1-s1?text={other}", "Here?").status_code == 404
    assert sentence_comments() == []


def test_bad_reflections_get_a_message_beside_the_field_and_nothing_is_written(client, vision, volunteer, login_as) -> None:
    login_as(volunteer)
    response = reflect(client, ELEMENT + "/sentences/p1-s1", "   ")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "There is a problem" in page and "Enter your reflection" in page
    assert "Objective 1.1 body." in page  # the sentence is still quoted
    assert sentence_comments() == []


def test_visitors_read_the_form_page_and_are_sent_to_sign_in_to_post(client, vision) -> None:
    page = words(client.get(ELEMENT + "/sentences/p1-s1").get_data(as_text=True))
    assert "Sign in to reflect on this sentence" in page
    response = reflect(client, ELEMENT + "/sentences/p1-s1", "Anonymous thought.")
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    assert sentence_comments() == []


def test_when_the_window_is_closed_there_are_no_controls_and_no_posting(client, make_vision, volunteer, login_as) -> None:
    make_vision(open_window=False)
    login_as(volunteer)
    assert sentence_links(client.get(ELEMENT).get_data(as_text=True)) == {}
    page = words(client.get(ELEMENT + "/sentences/p1-s1").get_data(as_text=True))
    assert "Publish your reflection" not in page
    assert reflect(client, ELEMENT + "/sentences/p1-s1", "Too late.").status_code == 403
    assert sentence_comments() == []


def test_a_reply_to_a_sentence_reflection_is_an_ordinary_reply(client, vision, volunteer, make_user, login_as) -> None:
    login_as(volunteer)
    reflect(client, ELEMENT + "/sentences/p1-s1", "On the sentence.")
    (parent,) = sentence_comments()
    login_as(make_user(Role.VOLUNTEER, name="Rhea Replier"))
    assert client.post(REFLECTIONS, data={"body": "A reply.", "parent_id": str(parent.id)}).status_code == 302
    reply = db.session.scalar(select(Comment).where(Comment.parent_id == parent.id))
    assert reply.sentence_text_id is None
    replies = words(client.get(f"/comments/{parent.id}/replies").get_data(as_text=True))
    assert "On paragraph 1, sentence 1: Objective 1.1 body." in replies


def test_the_reflections_pages_run_the_same_queries_for_one_sentence_reflection_or_many(client, app, vision, facilitator, volunteer, login_as, count_queries) -> None:
    set_text(vision, facilitator, V2)
    login_as(volunteer)
    links = sentence_links(client.get(ELEMENT).get_data(as_text=True))
    reflect(client, links["p1-s1"], "First.")

    def counted() -> tuple[int, int]:
        counts = []
        for url in (ELEMENT, REFLECTIONS):
            with app.app_context():
                clear_caches()  # as after a restart: every sentence followed afresh
            with count_queries() as log:
                assert client.get(url).status_code == 200
            counts.append(log.count)
        return counts[0], counts[1]

    one = counted()
    for ref in ("p1-s2", "p1-s3", "p1-s4", "p1-s5"):
        reflect(client, links[ref], f"On {ref}.")
    set_text(vision, facilitator, V2.replace("weekly", "monthly"))
    assert counted() == one


def test_a_reflection_on_a_sentence_of_an_element_removed_says_the_sentence_went_with_it(client, vision, facilitator, volunteer, login_as) -> None:
    from workbench.drafting.edits import remove_element_from_draft

    login_as(volunteer)
    assert reflect(client, ELEMENT + "/sentences/p1-s1", "On the only sentence.").status_code == 302
    remove_element_from_draft(fresh(Vision, vision.id), KEY, reason="Folded into another.", actor=fresh(User, facilitator.id))
    db.session.commit()
    page = words(client.get(REFLECTIONS).get_data(as_text=True))
    assert "The sentence went with the whole element: it was removed from the working draft." in page
    publish(vision, facilitator)
    page = words(client.get(REFLECTIONS).get_data(as_text=True))
    assert "The sentence went with the whole element: it was removed in version 2." in page
    # the element page takes no new reflections on its sentences
    assert reflect(client, ELEMENT + "/sentences/p1-s1", "Still here?").status_code == 409
    assert len(sentence_comments()) == 1
