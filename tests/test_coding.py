"""Coding responses (issue 14, item 2): a codebook of tags per vision that facilitators create,
rename and merge (a merged tag is kept as a state, never deleted); tags on proposals (on their
page), comments and reflections (a page linked beside each), several proposals at once from the
queue; the queue filtered by tag; counts per tag and ambition; tags in the facilitators' files only.
Tags are private: no public page or file shows them."""

from __future__ import annotations

import csv
import io
import re

import pytest
from sqlalchemy import select

from workbench.coding import services
from workbench.coding.models import CommentTag, ProposalTag, Tag
from workbench.discussion.services import hide_content, post_reflection
from workbench.exceptions import NotAllowed, NotFound, ValidationError
from workbench.models import Comment, Proposal, Role, db

from .factories import add_comment, element_of, events, fresh, open_proposal


def text_of(page: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", page).split())


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR, name="Fran Facilitator")


@pytest.fixture
def world(vision, make_user, facilitator):
    """Two proposals (objective-1 under ambition 1, objective-3 under ambition 2), a comment on the
    first, a reflection on ambition-2, and two tags."""
    author, other = make_user(name="Alice Author"), make_user(name="Olga Other")
    first = open_proposal(vision, author, "objective-1")
    second = open_proposal(vision, other, "objective-3")
    comment = add_comment(first, other, "Homes matter most.")
    reflection = post_reflection(vision, element_of(vision, "ambition-2"), author, "Think of rural areas.")
    db.session.commit()
    housing = services.create_tag(vision, "Housing", facilitator)
    rural = services.create_tag(vision, "Rural", facilitator)
    db.session.commit()
    return {"vision": vision, "author": author, "first": first.id, "second": second.id, "comment": comment.id,
            "reflection": reflection.id, "housing": housing.id, "rural": rural.id}


def tags_of(kind: str, item_id: int) -> list[str]:
    db.session.remove()
    link = ProposalTag if kind == "proposal" else CommentTag
    column = link.proposal_id if kind == "proposal" else link.comment_id
    return sorted(db.session.scalars(select(Tag.name).join(link, link.tag_id == Tag.id).where(column == item_id)))


def codebook_url(vision) -> str:
    return f"/visions/{vision.slug}/facilitate/codebook"


# --- the codebook -----------------------------------------------------------------------------------


def test_a_facilitator_creates_a_tag_and_sees_it_in_the_codebook_which_says_tags_are_private(client, vision, facilitator, login_as):
    login_as(facilitator)
    response = client.post(codebook_url(vision), data={"name": "  Open   data "})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "The tag “Open data” is in the codebook." in page
    assert "Only facilitators see tags." in page
    [tag] = db.session.scalars(select(Tag)).all()
    assert (tag.name, tag.name_key, tag.state, tag.vision_id) == ("Open data", "open data", "active", vision.id)
    assert [e.subject_id for e in events("tag.created")] == [tag.id]


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Enter a name for the tag"),
        ("   ", "Enter a name for the tag"),
        ("x" * 61, "Tag names can be at most 60 characters long (this one has 61)"),
        ("HOUSING", "There is already a tag called “Housing”"),
        ("Hou\u200bsing", "Remove the hidden formatting characters"),
    ],
)
def test_a_bad_tag_name_is_refused_beside_the_field_and_nothing_is_written(client, world, facilitator, login_as, name, message):
    login_as(facilitator)
    response = client.post(codebook_url(world["vision"]), data={"name": name})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page and 'id="new-name-error"' in page and "There is a problem" in page
    assert len(db.session.scalars(select(Tag)).all()) == 2


def test_renaming_keeps_the_taggings_refuses_a_name_taken_in_another_case_and_allows_a_change_of_case(client, world, facilitator, login_as):
    vision = world["vision"]
    services.set_tags(vision, "proposal", fresh(Proposal, world["first"]), [str(world["housing"])], facilitator)
    db.session.commit()
    login_as(facilitator)
    url = f"{codebook_url(vision)}/{world['housing']}/rename"
    response = client.post(url, data={"name": "rural"})
    assert response.status_code == 422
    assert "There is already a tag called “Rural”" in response.get_data(as_text=True)
    assert client.post(url, data={"name": "HOUSING"}).status_code == 303
    assert client.post(url, data={"name": "Homes and housing"}).status_code == 303
    assert tags_of("proposal", world["first"]) == ["Homes and housing"]
    assert [e.details["old_name"] for e in events("tag.renamed")] == ["Housing", "HOUSING"]


def test_merging_moves_the_taggings_once_and_keeps_the_tag_as_merged(client, world, facilitator, login_as):
    vision = world["vision"]
    housing, rural = str(world["housing"]), str(world["rural"])
    services.set_tags(vision, "proposal", fresh(Proposal, world["first"]), [housing, rural], facilitator)
    services.set_tags(vision, "proposal", fresh(Proposal, world["second"]), [housing], facilitator)
    services.set_tags(vision, "comment", fresh(Comment, world["comment"]), [housing], facilitator)
    db.session.commit()
    login_as(facilitator)
    response = client.post(f"{codebook_url(vision)}/{housing}/merge", data={"into": rural})
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "“Housing” is merged into “Rural”: 2 items moved over." in page
    assert "“Housing”: merged into “Rural”" in page
    assert tags_of("proposal", world["first"]) == ["Rural"]  # once, not twice
    assert tags_of("proposal", world["second"]) == ["Rural"]
    assert tags_of("comment", world["comment"]) == ["Rural"]
    merged = fresh(Tag, world["housing"])
    assert (merged.state, merged.merged_into_id, merged.name) == ("merged", world["rural"], "Housing")
    assert [e.details["into"] for e in events("tag.merged")] == [world["rural"]]
    # The name is free again; the merged tag can be neither renamed nor merged again, nor used.
    assert client.post(codebook_url(vision), data={"name": "housing"}).status_code == 303
    assert client.post(f"{codebook_url(vision)}/{housing}/rename", data={"name": "Old"}).status_code == 422
    assert client.post(f"{codebook_url(vision)}/{housing}/merge", data={"into": rural}).status_code == 422
    response = client.post(f"/proposals/{world['second']}/tags", data={"tags": [housing]})
    assert "Choose a tag of this vision’s codebook" in text_of(client.get(response.headers["Location"]).get_data(as_text=True))


@pytest.mark.parametrize(
    "into, message",
    [
        ("self", "a tag cannot be merged into itself"),
        ("999999", "Choose a tag of this vision’s codebook"),
        ("abc", "Choose a tag of this vision’s codebook"),
        ("", "Choose a tag of this vision’s codebook"),
        ("other-vision", "Choose a tag of this vision’s codebook"),
    ],
)
def test_a_bad_merge_is_refused_in_words_and_changes_nothing(client, world, facilitator, login_as, make_vision, into, message):
    vision = world["vision"]
    if into == "self":
        into = str(world["housing"])
    elif into == "other-vision":
        other = make_vision(slug="other-vision")
        into = str(services.create_tag(other, "Elsewhere", facilitator).id)
        db.session.commit()
    login_as(facilitator)
    response = client.post(f"{codebook_url(vision)}/{world['housing']}/merge", data={"into": into})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert fresh(Tag, world["housing"]).state == "active"


def test_a_tag_of_another_vision_or_one_that_does_not_exist_is_a_404_on_its_routes(client, world, facilitator, login_as, make_vision):
    other = make_vision(slug="other-vision")
    elsewhere = services.create_tag(other, "Elsewhere", facilitator)
    db.session.commit()
    login_as(facilitator)
    base = codebook_url(world["vision"])
    assert client.post(f"{base}/{elsewhere.id}/rename", data={"name": "Mine now"}).status_code == 404
    assert client.post(f"{base}/999999/merge", data={"into": str(world["rural"])}).status_code == 404
    assert fresh(Tag, elsewhere.id).name == "Elsewhere"


def test_the_codebook_counts_items_per_tag_and_ambition_and_hidden_ones_apart(client, world, facilitator, login_as, make_user, count_queries):
    vision = world["vision"]
    housing = str(world["housing"])
    for kind, item in (("proposal", fresh(Proposal, world["first"])), ("proposal", fresh(Proposal, world["second"])),
                       ("comment", fresh(Comment, world["comment"])), ("comment", fresh(Comment, world["reflection"]))):
        services.set_tags(vision, kind, item, [housing], facilitator)
    hidden = add_comment(fresh(Proposal, world["first"]), make_user(), "Rude words.")
    services.set_tags(vision, "comment", fresh(Comment, hidden.id), [housing], facilitator)
    hide_content("comment", fresh(Comment, hidden.id), facilitator, "Rude")
    db.session.commit()
    login_as(facilitator)
    with count_queries() as log:
        page = client.get(codebook_url(vision)).get_data(as_text=True)
    rows = {m.group(1): text_of(m.group(2)).split() for m in re.finditer(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.S)}
    # Ambition 1, Ambition 2, Elsewhere, Total, Proposals, Comments, Reflections, Hidden
    assert rows["Housing"] == ["2", "2", "0", "4", "2", "1", "1", "1"]
    assert rows["Rural"] == ["0"] * 8
    assert rows["All tags"] == ["2", "2", "0", "4", "2", "1", "1", "1"]
    assert log.count <= 12
    # The counts are kept between requests until something happens: a new tagging shows at once.
    client.post(f"/proposals/{world['second']}/tags", data={"tags": [housing, str(world["rural"])]})
    page = client.get(codebook_url(vision)).get_data(as_text=True)
    rows = {m.group(1): text_of(m.group(2)).split() for m in re.finditer(r'<tr>\s*<th scope="row">([^<]+)</th>(.*?)</tr>', page, re.S)}
    assert rows["Rural"] == ["0", "1", "0", "1", "1", "0", "0", "0"]


def test_volunteers_and_visitors_cannot_see_or_change_the_codebook(client, world, make_user, login_as):
    vision = world["vision"]
    assert client.get(codebook_url(vision)).status_code == 302
    login_as(make_user(name="Vera Volunteer"))
    assert client.get(codebook_url(vision)).status_code == 403
    assert client.post(codebook_url(vision), data={"name": "Mine"}).status_code == 403
    assert client.post(f"{codebook_url(vision)}/{world['housing']}/rename", data={"name": "Mine"}).status_code == 403
    assert client.post(f"/proposals/{world['first']}/tags", data={"tags": [str(world["housing"])]}).status_code == 403
    assert client.get(f"/comments/{world['comment']}/tags").status_code == 403
    assert tags_of("proposal", world["first"]) == []
    with pytest.raises(NotAllowed):
        services.create_tag(vision, "Mine", fresh(type(world["author"]), world["author"].id))


# --- tagging ----------------------------------------------------------------------------------------


def test_a_facilitator_tags_a_proposal_on_its_page_and_untags_it(client, world, facilitator, login_as):
    login_as(facilitator)
    url = f"/proposals/{world['first']}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="tags-heading"' in page and f'name="tags" value="{world["housing"]}"' in page
    response = client.post(f"{url}/tags", data={"tags": [str(world["housing"]), str(world["rural"])]})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{url}#tags")
    page = client.get(url).get_data(as_text=True)
    assert f"Proposal {world['first']} now carries “Housing”, “Rural”." in text_of(page)
    assert "This proposal carries: Housing, Rural." in text_of(page)
    assert re.search(rf'value="{world["housing"]}" checked', page)
    assert tags_of("proposal", world["first"]) == ["Housing", "Rural"]
    client.post(f"{url}/tags", data={"tags": [str(world["rural"])]})
    assert tags_of("proposal", world["first"]) == ["Rural"]
    [added, removed] = events("tags.changed")
    assert (added.details["added"], removed.details["removed"]) == (["Housing", "Rural"], ["Housing"])


def test_tags_never_show_to_volunteers_or_visitors_nor_on_the_public_proposals_list(client, world, facilitator, make_user, login_as):
    vision = world["vision"]
    services.set_tags(vision, "proposal", fresh(Proposal, world["first"]), [str(world["housing"])], facilitator)
    db.session.commit()
    for who in (None, make_user(name="Vera Volunteer")):
        if who is not None:
            login_as(who)
        for url in (f"/proposals/{world['first']}", f"/visions/{vision.slug}/proposals", f"/visions/{vision.slug}/proposals?tag={world['housing']}"):
            page = client.get(url).get_data(as_text=True)
            assert "Housing" not in page and "/tags" not in page, url


def test_a_facilitator_tags_a_comment_and_a_reflection_from_the_link_beside_each(client, world, facilitator, login_as):
    login_as(facilitator)
    page = client.get(f"/proposals/{world['first']}").get_data(as_text=True)
    assert f'href="/comments/{world["comment"]}/tags"' in page
    form = client.get(f"/comments/{world['comment']}/tags").get_data(as_text=True)
    assert "Homes matter most." in form and "Tags from the codebook" in form
    response = client.post(f"/comments/{world['comment']}/tags", data={"tags": [str(world["housing"])]})
    assert response.status_code == 303 and f"#comment-{world['comment']}" in response.headers["Location"]
    assert tags_of("comment", world["comment"]) == ["Housing"]
    page = client.get(f"/visions/{world['vision'].slug}/elements/ambition-2").get_data(as_text=True)
    assert f'href="/comments/{world["reflection"]}/tags"' in page
    response = client.post(f"/comments/{world['reflection']}/tags", data={"tags": [str(world["rural"])]})
    assert response.status_code == 303
    assert tags_of("comment", world["reflection"]) == ["Rural"]


def test_the_tags_link_beside_comments_is_for_facilitators_only(client, world, make_user, login_as):
    login_as(make_user(name="Vera Volunteer"))
    page = client.get(f"/proposals/{world['first']}").get_data(as_text=True)
    assert "Homes matter most." in page and "/tags" not in page


@pytest.mark.parametrize("tags", [["999999"], ["abc"], ["other-vision"]])
def test_a_tag_that_is_not_in_the_codebook_is_refused_and_nothing_changes(client, world, facilitator, login_as, make_vision, tags):
    if tags == ["other-vision"]:
        other = make_vision(slug="other-vision")
        tags = [str(services.create_tag(other, "Elsewhere", facilitator).id)]
        db.session.commit()
    login_as(facilitator)
    response = client.post(f"/proposals/{world['first']}/tags", data={"tags": [str(world["housing"]), *tags]})
    assert response.status_code == 303
    assert "Choose a tag of this vision’s codebook. The tags are unchanged." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    response = client.post(f"/comments/{world['comment']}/tags", data={"tags": tags})
    assert response.status_code == 422 and "Choose a tag of this vision’s codebook" in response.get_data(as_text=True)
    assert tags_of("proposal", world["first"]) == [] and tags_of("comment", world["comment"]) == []


def test_tagging_something_of_another_vision_or_that_does_not_exist_is_refused(app, client, world, facilitator, login_as, make_vision, author):
    other = make_vision(slug="other-vision")
    elsewhere = open_proposal(other, author)
    with pytest.raises(NotFound):
        services.set_tags(world["vision"], "proposal", fresh(Proposal, elsewhere.id), [str(world["housing"])], facilitator)
    with pytest.raises(ValidationError, match="Proposal .* is not in"):
        services.tag_selected(world["vision"], "proposal", [str(elsewhere.id)], world["housing"], facilitator)
    db.session.rollback()
    login_as(facilitator)
    # The other vision's proposal, with this vision's tag: not in that codebook.
    client.post(f"/proposals/{elsewhere.id}/tags", data={"tags": [str(world["housing"])]})
    assert tags_of("proposal", elsewhere.id) == []
    assert client.post("/proposals/999999/tags", data={"tags": [str(world["housing"])]}).status_code == 404
    assert client.get("/comments/999999/tags").status_code == 404


# --- the queue ----------------------------------------------------------------------------------------


def test_the_queue_filters_by_tag_and_tags_the_selected_proposals(client, world, facilitator, login_as):
    vision = world["vision"]
    login_as(facilitator)
    queue = f"/visions/{vision.slug}/facilitate"
    page = client.get(queue).get_data(as_text=True)
    assert '<select class="ds_select" id="filter-tag" name="tag"' in page or 'id="filter-tag"' in page
    assert "Tag the selected proposals" in page
    response = client.post(f"{queue}/tag", data={"selected": [str(world["first"]), str(world["second"])], "tag": str(world["rural"]), "from": "sort=newest"})
    assert response.status_code == 303 and "sort=newest" in response.headers["Location"]
    assert "2 of the 2 selected proposals now carry “Rural”." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    client.post(f"{queue}/tag", data={"selected": [str(world["first"])], "tag": str(world["housing"])})
    assert tags_of("proposal", world["first"]) == ["Housing", "Rural"]

    def rows(args: str) -> set[int]:
        return {int(n) for n in re.findall(r'id="proposal-(\d+)"', client.get(f"{queue}?{args}").get_data(as_text=True))}

    assert rows(f"tag={world['housing']}") == {world["first"]}
    assert rows(f"tag={world['rural']}") == {world["first"], world["second"]}
    assert rows("tag=nonsense") == {world["first"], world["second"]}  # unknown: ignored, as the other filters


def test_tagging_the_selected_refuses_nothing_selected_or_no_tag_and_writes_nothing(client, world, facilitator, login_as):
    login_as(facilitator)
    queue = f"/visions/{world['vision'].slug}/facilitate"
    response = client.post(f"{queue}/tag", data={"tag": str(world["rural"])})
    assert "Nothing was tagged: Select at least one item to tag." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    response = client.post(f"{queue}/tag", data={"selected": [str(world["first"])], "tag": "0"})
    assert "Nothing was tagged: Choose a tag of this vision’s codebook." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert tags_of("proposal", world["first"]) == []


# --- the exports --------------------------------------------------------------------------------------


def test_tags_are_in_the_facilitators_files_only(client, world, facilitator, login_as):
    vision = world["vision"]
    services.set_tags(vision, "proposal", fresh(Proposal, world["first"]), [str(world["housing"]), str(world["rural"])], facilitator)
    services.set_tags(vision, "comment", fresh(Comment, world["reflection"]), [str(world["rural"])], facilitator)
    db.session.commit()
    base = f"/visions/{vision.slug}/data"
    for name in ("proposals.csv", "comments.csv", "datapackage.json"):
        data = client.get(f"{base}/{name}").get_data(as_text=True)
        assert "Housing" not in data and "Rural" not in data and "tags" not in data, name
    login_as(facilitator)
    proposals = {int(r["id"]): r["tags"] for r in csv.DictReader(io.StringIO(client.get(f"{base}/facilitators/proposals.csv").get_data(as_text=True)))}
    assert proposals == {world["first"]: "Housing; Rural", world["second"]: ""}
    comments = {int(r["id"]): r["tags"] for r in csv.DictReader(io.StringIO(client.get(f"{base}/facilitators/comments.csv").get_data(as_text=True)))}
    assert comments == {world["comment"]: "", world["reflection"]: "Rural"}
    package = client.get(f"{base}/facilitators/datapackage.json").get_json()
    fields = {r["name"]: [f["name"] for f in r["schema"]["fields"]] for r in package["resources"] if r["path"].endswith(".csv")}
    assert fields["proposals"][-1] == "tags" and fields["comments"][-1] == "tags"


# --- the responses list ---------------------------------------------------------------------------------


def test_the_responses_list_filters_by_kind_element_tag_and_untagged_and_tags_several(client, world, facilitator, login_as, count_queries):
    vision = world["vision"]
    login_as(facilitator)
    url = f"/visions/{vision.slug}/facilitate/responses"

    def shown(args: str = "") -> set[int]:
        response = client.get(f"{url}?{args}")
        assert response.status_code == 200
        return {int(n) for n in re.findall(r'id="response-(\d+)"', response.get_data(as_text=True))}

    assert shown() == {world["comment"], world["reflection"]}
    assert shown("kind=reflection") == {world["reflection"]}
    assert shown("kind=comment") == {world["comment"]}
    assert shown("element=objective-1") == {world["comment"]}  # on a proposal to change it
    assert shown("element=ambition-2") == {world["reflection"]}
    assert shown("kind=nonsense&element=nowhere&tag=x") == {world["comment"], world["reflection"]}
    response = client.post(f"{url}/tag", data={"selected": [str(world["comment"]), str(world["reflection"])], "tag": str(world["housing"]), "from": "kind=comment"})
    assert response.status_code == 303 and response.headers["Location"].endswith("responses?kind=comment")
    assert "2 of the 2 selected responses now carry “Housing”." in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    client.post(f"/comments/{world['reflection']}/tags", data={"tags": [str(world["rural"])]})
    assert shown(f"tag={world['housing']}") == {world["comment"]}
    assert shown(f"tag={world['rural']}") == {world["reflection"]}
    assert shown("untagged=1") == set()
    page = text_of(client.get(url).get_data(as_text=True))
    assert "Tags: Housing" in page and "Tags: Rural" in page
    for n in range(5):
        add_comment(fresh(Proposal, world["first"]), world["author"], f"More {n}.")
    with count_queries() as log:
        client.get(f"{url}?tag={world['housing']}")
    few = log.count
    with count_queries() as log:
        client.get(url)
    assert log.count == few <= 12


def test_the_responses_list_pages_by_keyset(client, world, facilitator, login_as, monkeypatch):
    from workbench.coding import responses

    monkeypatch.setattr(responses, "PER_PAGE", 1)
    login_as(facilitator)
    url = f"/visions/{world['vision'].slug}/facilitate/responses"
    first = client.get(url).get_data(as_text=True)
    assert f'id="response-{world["reflection"]}"' in first and f"after={world['reflection']}" in first
    second = client.get(f"{url}?after={world['reflection']}").get_data(as_text=True)
    assert f'id="response-{world["comment"]}"' in second


def test_tagging_responses_refuses_comments_of_another_vision(client, world, facilitator, login_as, make_vision, author):
    other = make_vision(slug="other-vision")
    elsewhere = add_comment(open_proposal(other, author), author, "Elsewhere.")
    login_as(facilitator)
    response = client.post(f"/visions/{world['vision'].slug}/facilitate/responses/tag", data={"selected": [str(elsewhere.id)], "tag": str(world["housing"])})
    assert f"Nothing was tagged: Comment {elsewhere.id} is not in" in text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert tags_of("comment", elsewhere.id) == []


def test_the_kept_counts_stay_right_through_tagging_untagging_merging_hiding_and_showing(world, facilitator, make_user):
    from workbench.coding.codebook import codebook_counts, counted_codebook
    from workbench.discussion.services import unhide_content
    from workbench.visions.services import working_tree

    vision = world["vision"]
    housing, rural = str(world["housing"]), str(world["rural"])
    first, second = fresh(Proposal, world["first"]), fresh(Proposal, world["second"])
    other_comment = add_comment(second, make_user(), "Another view.")
    items = [("proposal", first), ("proposal", second), ("comment", fresh(Comment, world["comment"])),
             ("comment", fresh(Comment, world["reflection"])), ("comment", other_comment)]

    def table() -> list[tuple]:
        tree = working_tree(vision)
        kept, counted = codebook_counts(vision, tree), counted_codebook(vision, tree)
        rows = [(r.name, sorted(r.by_column.items()), r.proposals, r.comments, r.reflections, r.hidden) for r in kept.rows]
        assert rows == [(r.name, sorted(r.by_column.items()), r.proposals, r.comments, r.reflections, r.hidden) for r in counted.rows]
        return rows

    for kind, item in items:
        services.set_tags(vision, kind, item, [housing, rural], facilitator)
    db.session.commit()
    assert {name: (p, c, r, h) for name, _, p, c, r, h in table()} == {"Housing": (2, 2, 1, 0), "Rural": (2, 2, 1, 0)}
    services.set_tags(vision, "comment", fresh(Comment, world["reflection"]), [housing], facilitator)  # untag one
    hide_content("comment", fresh(Comment, world["comment"]), facilitator, "Rude")
    db.session.commit()
    assert {name: (p, c, r, h) for name, _, p, c, r, h in table()} == {"Housing": (2, 1, 1, 1), "Rural": (2, 1, 0, 1)}
    # Hiding a proposal hides its comments' tags too; its comment already hidden stays counted once.
    hide_content("proposal", fresh(Proposal, world["first"]), facilitator, "Off topic")
    db.session.commit()
    assert {name: (p, c, r, h) for name, _, p, c, r, h in table()} == {"Housing": (1, 1, 1, 2), "Rural": (1, 1, 0, 2)}
    unhide_content("comment", fresh(Comment, world["comment"]), facilitator)  # still on a hidden proposal
    db.session.commit()
    assert {name: (p, c, r, h) for name, _, p, c, r, h in table()} == {"Housing": (1, 1, 1, 2), "Rural": (1, 1, 0, 2)}
    unhide_content("proposal", fresh(Proposal, world["first"]), facilitator)
    db.session.commit()
    assert {name: (p, c, r, h) for name, _, p, c, r, h in table()} == {"Housing": (2, 2, 1, 0), "Rural": (2, 2, 0, 0)}
    # Merging moves the counts; an item carrying both is counted once.
    services.merge_tag(fresh(Tag, world["rural"]), fresh(Tag, world["housing"]), facilitator)
    db.session.commit()
    assert [(name, p, c, r, h) for name, _, p, c, r, h in table()] == [("Housing", 2, 2, 1, 0)]
    assert dict(table()[0][1]) == {"ambition-1": 2, "ambition-2": 3}


# --- published themes (issue 14, item 5) -------------------------------------------------------------


def test_a_facilitator_publishes_a_tag_as_a_theme_and_stops_publishing_it(client, world, facilitator, login_as):
    vision = world["vision"]
    login_as(facilitator)
    url = f"{codebook_url(vision)}/{world['housing']}"
    response = client.post(f"{url}/publish")
    assert response.status_code == 303 and response.headers["Location"].endswith(f"#tag-{world['housing']}")
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "“Housing” is now a published theme: its counts appear in the reports." in page
    assert "Housing (published theme)" in page and "Rural (published theme)" not in page
    assert "Published as a theme: its counts appear in the reports. Stop publishing “Housing”" in page
    assert "Private: only facilitators see it. Publish as a theme “Rural”" in page
    assert fresh(Tag, world["housing"]).published and not fresh(Tag, world["rural"]).published
    # Twice is harmless and says so.
    again = client.post(f"{url}/publish")
    assert "“Housing” was already a published theme." in text_of(client.get(again.headers["Location"]).get_data(as_text=True))
    response = client.post(f"{url}/unpublish")
    assert response.status_code == 303
    page = text_of(client.get(response.headers["Location"]).get_data(as_text=True))
    assert "“Housing” is no longer a published theme: the reports no longer show it." in page
    assert fresh(Tag, world["housing"]).published_at is None
    assert [e.action for e in events("tag.published") + events("tag.unpublished")] == ["tag.published", "tag.unpublished"]


def test_only_facilitators_publish_themes(client, world, make_user, login_as, author):
    vision = world["vision"]
    url = f"{codebook_url(vision)}/{world['housing']}"
    assert client.post(f"{url}/publish").status_code == 302  # to sign in
    login_as(make_user(name="Vera Volunteer"))
    assert client.post(f"{url}/publish").status_code == 403
    assert client.post(f"{url}/unpublish").status_code == 403
    assert not fresh(Tag, world["housing"]).published
    with pytest.raises(NotAllowed):
        services.publish_theme(fresh(Tag, world["housing"]), fresh(type(author), author.id))


def test_publishing_an_unknown_another_visions_or_a_merged_tag_is_refused(client, world, facilitator, login_as, make_vision):
    vision = world["vision"]
    other = make_vision(slug="other-vision")
    elsewhere = services.create_tag(other, "Elsewhere", facilitator)
    db.session.commit()
    login_as(facilitator)
    base = codebook_url(vision)
    assert client.post(f"{base}/999999/publish").status_code == 404
    assert client.post(f"{base}/{elsewhere.id}/publish").status_code == 404
    assert client.post(f"{base}/{elsewhere.id}/unpublish").status_code == 404
    assert not fresh(Tag, elsewhere.id).published
    client.post(f"{base}/{world['housing']}/publish")
    merged = client.post(f"{base}/{world['housing']}/merge", data={"into": str(world["rural"])})
    assert "“Housing” is merged into “Rural”: 0 items moved over. “Housing” is no longer a published theme." in text_of(
        client.get(merged.headers["Location"]).get_data(as_text=True)
    )
    response = client.post(f"{base}/{world['housing']}/publish")
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "“Housing” was merged into another tag, so it cannot be published as a theme" in page
    assert f'href="#theme-{world["housing"]}"' in page and f'id="theme-{world["housing"]}"' in page
    assert fresh(Tag, world["housing"]).published_at is None


def test_merging_a_published_theme_unpublishes_it_and_the_target_keeps_its_choice(world, facilitator):
    housing, rural = fresh(Tag, world["housing"]), fresh(Tag, world["rural"])
    services.publish_theme(housing, facilitator)
    services.merge_tag(housing, rural, facilitator)
    db.session.commit()
    assert fresh(Tag, world["housing"]).published_at is None and not fresh(Tag, world["rural"]).published
    [merged] = events("tag.merged")
    assert merged.details["was_published"] is True
    other = services.create_tag(world["vision"], "Other", facilitator)
    services.publish_theme(fresh(Tag, world["rural"]), facilitator)
    services.merge_tag(other, fresh(Tag, world["rural"]), facilitator)
    db.session.commit()
    assert fresh(Tag, world["rural"]).published


def test_a_tag_merged_since_the_page_was_read_is_refused_with_a_message(world, facilitator):
    housing = fresh(Tag, world["housing"])  # the facilitator's page read it active
    # Another facilitator's merge, committed meanwhile (behind this session's back).
    db.session.execute(
        Tag.__table__.update().where(Tag.__table__.c.id == world["housing"]).values(
            state="merged", merged_into_id=world["rural"], name_key=None
        )
    )
    with pytest.raises(ValidationError, match="was merged into another tag"):
        services.publish_theme(housing, facilitator)
    db.session.rollback()
    assert fresh(Tag, world["housing"]).published_at is None
    assert services.publish_theme(fresh(Tag, world["rural"]), facilitator) is True
    assert services.publish_theme(fresh(Tag, world["rural"]), facilitator) is False  # published already
