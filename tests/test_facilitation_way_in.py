"""The facilitators' way in (issue 13): "Facilitate" in the header with what waits, the list of
visions, a vision's overview; and "next": after a decision made from the queue, the facilitator
goes on to the next proposal of that same filtered queue."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from sqlalchemy import update

from workbench.aligned import services as aligned
from workbench.discussion.services import file_report
from workbench.extensions import db
from workbench.facilitation import overview
from workbench.facilitation.queue import QueueFilters, next_in_queue
from workbench.models import ElementText, Proposal, Role, utcnow

from .factories import entry_of, fresh, open_proposal
from .test_aligned_support import valid_form

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")


@pytest.fixture
def facilitator(make_user):
    return make_user(Role.FACILITATOR, name="Fiona Facilitator")


def text(response) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).replace("\xa0", " ")


def words(response) -> str:
    return " ".join(text(response).split())


def header_link(response) -> str | None:
    """The header's "Facilitate" link as the page shows it ("Facilitate 3 waiting"), or None."""
    nav = re.search(r'<nav class="app-account-nav".*?</nav>', response.get_data(as_text=True), re.S)
    link = re.search(r'<a[^>]*href="/facilitate"[^>]*>(.*?)</a>', nav.group(0), re.S) if nav else None
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", link.group(1))).split()) if link else None


def aged(proposal: Proposal, days: int) -> None:
    """Make the proposal `days` days old (the queue's oldest-first order follows)."""
    db.session.execute(
        update(Proposal).where(Proposal.id == proposal.id).values(created_at=utcnow() - timedelta(days=days))
    )
    db.session.commit()


def set_text(vision, key: str, body: str) -> None:
    """Change the element's working text directly: its open proposals become stale."""
    entry = entry_of(vision, key)
    new = ElementText(element_id=entry.element_id, title=entry.text.title, body=body)
    db.session.add(new)
    db.session.flush()
    entry.text_id = new.id
    db.session.commit()


def landing(response) -> tuple[str, dict[str, list[str]]]:
    location = urlsplit(response.headers["Location"])
    return location.path, parse_qs(location.query)


# --- the header -----------------------------------------------------------------------------------


def test_facilitators_and_admins_see_facilitate_in_the_header_with_what_waits(
    client, vision, author, make_user, login_as, facilitator
) -> None:
    first = open_proposal(vision, author, "objective-1")
    open_proposal(vision, author, "objective-2")
    file_report("proposal", first, make_user(), "Off topic.")
    aligned.submit_aligned_work(vision, author, **valid_form(vision))
    db.session.commit()

    login_as(facilitator)
    assert header_link(client.get("/")) == "Facilitate 4 waiting"
    login_as(make_user(Role.ADMIN))
    assert header_link(client.get(f"/visions/{vision.slug}/")) == "Facilitate 4 waiting"


def test_volunteers_and_visitors_see_no_facilitate_link(client, vision, author, login_as) -> None:
    open_proposal(vision, author)
    assert header_link(client.get("/")) is None
    login_as(author)
    assert header_link(client.get("/")) is None


def test_the_header_says_nothing_waits_in_words(client, vision, login_as, facilitator) -> None:
    login_as(facilitator)
    assert header_link(client.get("/")) == "Facilitate nothing waiting"


def test_the_header_count_is_one_query_however_much_waits(app, vision, author, make_user, count_queries) -> None:
    for key in ("objective-1", "objective-2", "objective-3"):
        proposal = open_proposal(vision, author, key)
        file_report("proposal", proposal, make_user(), "Look.")
    db.session.commit()
    with count_queries() as log:
        waiting = overview.waiting_everywhere()
    assert log.count == 1
    assert (waiting.proposals, waiting.reports, waiting.aligned_work) == (3, 3, 0)


def test_withdrawn_decided_and_hidden_proposals_are_not_counted_as_waiting(vision, author) -> None:
    kept = open_proposal(vision, author, "objective-1")
    for key, status in (("objective-2", "withdrawn"), ("objective-3", "rejected")):
        proposal = open_proposal(vision, author, key)
        db.session.execute(update(Proposal).where(Proposal.id == proposal.id).values(status=status))
    hidden = open_proposal(vision, author, "objective-4")
    db.session.execute(update(Proposal).where(Proposal.id == hidden.id).values(hidden_at=utcnow()))
    db.session.commit()
    assert overview.waiting_everywhere().proposals == 1
    assert kept.status == "open"


# --- the way in: the visions, a vision's overview --------------------------------------------------


def test_with_one_vision_the_way_in_goes_straight_to_its_overview(client, vision, login_as, facilitator) -> None:
    login_as(facilitator)
    response = client.get("/facilitate")
    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visions/{vision.slug}/facilitate/overview")


def test_with_several_visions_the_way_in_lists_them_with_what_waits(client, make_vision, author, login_as, facilitator) -> None:
    busy = make_vision(slug="busy")
    make_vision(slug="quiet")
    open_proposal(busy, author, "objective-1")
    open_proposal(busy, author, "objective-2")
    login_as(facilitator)
    response = client.get("/facilitate")
    assert response.status_code == 200
    page = words(response)
    assert "Vision busy 2 open proposals; no aligned work to screen." in page
    assert "Vision quiet No open proposals; no aligned work to screen." in page
    assert 'href="/visions/quiet/facilitate/overview"' in response.get_data(as_text=True)


def test_the_overview_says_what_waits_and_for_how_long(client, vision, author, make_user, login_as, facilitator) -> None:
    oldest = open_proposal(vision, author, "objective-1")
    aged(oldest, 3)
    stale = open_proposal(vision, author, "objective-2")
    conflicted = open_proposal(vision, author, "objective-3")
    set_text(vision, "objective-2", "Now: Objective 1.2 body.")  # still carries over: stale only
    set_text(vision, "objective-3", "Objective 2.1 words.")  # "body" is gone: conflicted
    file_report("proposal", stale, make_user(), "Rude.")
    aligned.submit_aligned_work(vision, author, **valid_form(vision))
    db.session.commit()

    login_as(facilitator)
    response = client.get(f"/visions/{vision.slug}/facilitate/overview")
    assert response.status_code == 200
    page = words(response)
    assert "What is waiting" in page
    assert "Open proposals 3" in page
    assert "Waiting longest 3 days" in page
    assert "2 stale proposals" in page
    assert "1 conflicted proposal" in page
    assert "1 reported item is waiting" in page
    assert "1 initiative is waiting for screening" in page
    assert "No changes have been made to the working draft since version 1 was published" in page
    assert "Consultation open" in page
    source = response.get_data(as_text=True)
    for link in (
        f"/visions/{vision.slug}/facilitate",
        f"/visions/{vision.slug}/facilitate?flag=stale",
        f"/visions/{vision.slug}/facilitate?flag=conflicted",
        "/moderation",
        f"/visions/{vision.slug}/aligned-work/screening",
        f"/visions/{vision.slug}/draft",
        f"/visions/{vision.slug}/window",
    ):
        assert f'href="{link}"' in source, link
    assert conflicted.status == "open"


def test_the_overview_counts_the_draft_changes_waiting_to_be_published(client, vision, author, login_as, facilitator) -> None:
    proposal = open_proposal(vision, author, "objective-1")
    login_as(facilitator)
    page = client.get(f"/proposals/{proposal.id}/accept").get_data(as_text=True)
    data = {
        name: html.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))
        for name in ("expected_text_id", "revision", "title")
    }
    assert client.post(f"/proposals/{proposal.id}/accept", data={**data, "body": "Objective 1.1 text.", "note": ""}).status_code == 302
    page = words(client.get(f"/visions/{vision.slug}/facilitate/overview"))
    assert "1 change has been made to the working draft since version 1 was published" in page
    assert "1 element differs: 1 changed" in page
    assert "Publish version 2" in page
    assert "No open proposals: nothing is waiting for a decision" in page


def test_the_overview_says_when_the_consultation_is_closed(client, make_vision, login_as, facilitator) -> None:
    vision = make_vision(open_window=False)
    vision.opens_at, vision.closes_at = utcnow() - timedelta(days=30), utcnow() - timedelta(days=1)
    db.session.commit()
    login_as(facilitator)
    page = words(client.get(f"/visions/{vision.slug}/facilitate/overview"))
    assert "Consultation closed" in page
    assert "Its schedule: it opens on" in page
    assert "Compared with version 1: no changes." in page
    assert "Publish version" not in page  # nothing to publish


def test_the_overview_runs_the_same_queries_however_much_waits(client, vision, author, make_user, login_as, facilitator, count_queries) -> None:
    url = f"/visions/{vision.slug}/facilitate/overview"
    open_proposal(vision, author, "objective-1")
    set_text(vision, "objective-1", "Objective 1.1 words.")  # one conflicted proposal already
    login_as(facilitator)
    client.get(url)  # the draft's state is computed once, then kept
    with count_queries() as small:
        assert client.get(url).status_code == 200
    for key in ("objective-2", "objective-3", "objective-4", "condition-1"):
        proposal = open_proposal(vision, make_user(), key)
        file_report("proposal", proposal, make_user(), "Look.")
    set_text(vision, "objective-2", "Objective 1.2 words.")
    set_text(vision, "objective-3", "Now: Objective 2.1 body.")
    client.get(url)
    with count_queries() as large:
        assert client.get(url).status_code == 200
    assert large.count == small.count, (small.statements, large.statements)
    assert large.count <= 12


def test_the_queue_links_to_the_overview(client, vision, login_as, facilitator) -> None:
    login_as(facilitator)
    source = client.get(f"/visions/{vision.slug}/facilitate").get_data(as_text=True)
    assert f'href="/visions/{vision.slug}/facilitate/overview"' in source


# --- next: from the queue to the next proposal ------------------------------------------------------


@pytest.fixture
def queue_of_three(vision, author):
    """Three open proposals, oldest first: on objective 1.1, 1.2, then 1.1 again."""
    first = open_proposal(vision, author, "objective-1")
    second = open_proposal(vision, author, "objective-2")
    third = open_proposal(vision, author, "objective-1", "Objective 1.1 body, and more.")
    for proposal, days in ((first, 3), (second, 2), (third, 1)):
        aged(proposal, days)
    return first, second, third


def reject(client, proposal: Proposal, reason: str = "Out of scope.", **fields: str):
    return client.post(f"/proposals/{proposal.id}/reject", data={"reason": reason, **fields})


def test_the_queue_links_carry_its_filters_to_the_decision_pages(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, *_ = queue_of_three
    login_as(facilitator)
    source = client.get(f"/visions/{vision.slug}/facilitate?element=objective-1&sort=newest").get_data(as_text=True)
    carried = "from=element%3Dobjective-1%26sort%3Dnewest"
    assert f'href="/proposals/{first.id}/accept?{carried}"' in source
    assert f'href="/proposals/{first.id}/reject?{carried}"' in source
    assert f'href="/proposals/{first.id}?{carried}"' in source


def test_the_decision_pages_carry_the_queue_in_a_hidden_field_and_link_back_to_it(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, *_ = queue_of_three
    login_as(facilitator)
    for page in ("accept", "reject"):
        source = client.get(f"/proposals/{first.id}/{page}?from=flag%3Dstale%26sort%3Doldest").get_data(as_text=True)
        assert '<input type="hidden" name="from" value="flag=stale&amp;sort=oldest">' in source
        assert f'href="/visions/{vision.slug}/facilitate?flag=stale">Back to the queue' in source


def test_after_rejecting_from_the_queue_the_facilitator_lands_on_the_next_proposal(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    response = reject(client, first, **{"from": "sort=oldest"})
    assert response.status_code == 302
    assert landing(response) == (f"/proposals/{second.id}", {"from": ["sort=oldest"]})
    assert fresh(Proposal, first.id).status == "rejected"
    page = client.get(response.headers["Location"])
    shown = words(page)
    assert f"You rejected proposal {first.id}. Your reason is shown publicly on the proposal. Next in the queue: proposal {second.id}." in shown
    assert f'<a href="/visions/{vision.slug}/facilitate">Back to the queue</a>' in page.get_data(as_text=True)


def test_the_next_proposal_keeps_to_the_filtered_queue(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    response = reject(client, first, **{"from": "element=objective-1&sort=oldest"})
    assert landing(response) == (f"/proposals/{third.id}", {"from": ["element=objective-1&sort=oldest"]})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert f'<a href="/visions/{vision.slug}/facilitate?element=objective-1">Back to the queue</a>' in page


def test_the_proposal_page_reached_from_the_queue_keeps_it_in_its_decision_buttons(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, _ = queue_of_three
    login_as(facilitator)
    source = client.get(f"/proposals/{second.id}?from=flag%3Dstale%26sort%3Dnewest").get_data(as_text=True)
    assert f'href="/proposals/{second.id}/accept?from=flag%3Dstale%26sort%3Dnewest"' in source
    assert f'action="/proposals/{second.id}/reject?from=flag%3Dstale%26sort%3Dnewest"' in source
    # Without it, the buttons are as before.
    plain = client.get(f"/proposals/{second.id}").get_data(as_text=True)
    assert f'href="/proposals/{second.id}/accept"' in plain


def test_next_goes_on_after_the_decided_one_then_back_to_those_passed_over(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    # Deciding the second first: the third follows it, then the first, passed over, from the top.
    assert landing(reject(client, second, **{"from": "sort=oldest"}))[0] == f"/proposals/{third.id}"
    assert landing(reject(client, third, **{"from": "sort=oldest"}))[0] == f"/proposals/{first.id}"


def test_next_follows_the_queue_order(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    assert landing(reject(client, third, **{"from": "sort=newest"}))[0] == f"/proposals/{second.id}"


def test_next_skips_the_facilitators_own_proposals(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    own = open_proposal(vision, facilitator, "objective-3")
    aged(own, 2)  # between the first and the second in the queue
    login_as(facilitator)
    assert landing(reject(client, first, **{"from": "sort=oldest"}))[0] == f"/proposals/{second.id}"


def test_when_the_queue_is_empty_the_facilitator_lands_on_it_with_a_message(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    response = reject(client, second, **{"from": "element=objective-2&sort=oldest"})
    assert landing(response) == (f"/visions/{vision.slug}/facilitate", {"element": ["objective-2"]})
    page = words(client.get(response.headers["Location"]))
    assert f"You rejected proposal {second.id}. Your reason is shown publicly on the proposal. Nothing else in this queue is waiting for your decision." in page
    assert "No open proposals match these filters" in page


def test_accepting_from_the_queue_lands_on_the_next_proposal(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, second, third = queue_of_three
    login_as(facilitator)
    page = client.get(f"/proposals/{first.id}/accept?from=sort%3Doldest").get_data(as_text=True)
    data = {
        name: html.unescape(re.search(rf'name="{name}"[^>]*value="([^"]*)"', page).group(1))
        for name in ("expected_text_id", "revision", "title", "from")
    }
    response = client.post(f"/proposals/{first.id}/accept", data={**data, "body": "Objective 1.1 text.", "note": ""})
    assert landing(response) == (f"/proposals/{second.id}", {"from": ["sort=oldest"]})
    assert fresh(Proposal, first.id).status == "accepted"
    shown = words(client.get(response.headers["Location"]))
    assert f"You accepted proposal {first.id} into the working draft of Objective 1.1. Next in the queue: proposal {second.id}." in shown


def test_a_rejection_without_a_reason_keeps_the_queue_for_the_next_try(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, *_ = queue_of_three
    login_as(facilitator)
    response = reject(client, first, reason="", **{"from": "flag=stale&sort=oldest"})
    assert response.status_code == 422
    source = response.get_data(as_text=True)
    assert '<input type="hidden" name="from" value="flag=stale&amp;sort=oldest">' in source
    assert fresh(Proposal, first.id).status == "open"


def test_without_from_a_decision_lands_on_the_proposal_as_before(client, vision, queue_of_three, login_as, facilitator) -> None:
    first, *_ = queue_of_three
    login_as(facilitator)
    response = reject(client, first)
    assert landing(response) == (f"/proposals/{first.id}", {})


@pytest.mark.parametrize(
    ("carried", "goes_on"),
    [
        ("flag=bogus&sort=sideways&element=objective-999&page=7&evil=%3Cscript%3E", True),
        ("element=%3Cscript%3Ealert(1)%3C/script%3E", True),
        ("x" * 500, False),
        ("&".join(["sort=newest"] * 15), False),
        ("&&&", False),
    ],
)
def test_a_from_is_read_as_known_filters_only(client, vision, queue_of_three, login_as, facilitator, carried, goes_on) -> None:
    """Unknown filters and values are dropped (the whole queue, in its default order); a `from` that
    cannot be the queue's at all is no `from`: the decision behaves as without one."""
    first, second, _ = queue_of_three
    login_as(facilitator)
    page = client.get(f"/proposals/{first.id}/reject", query_string={"from": carried}).get_data(as_text=True)
    assert "<script" not in page.split("<main", 1)[1]
    response = reject(client, first, **{"from": carried})
    assert response.status_code == 302
    if goes_on:
        assert landing(response) == (f"/proposals/{second.id}", {"from": ["sort=oldest"]})
    else:
        assert landing(response) == (f"/proposals/{first.id}", {})


def test_a_carried_queue_is_parsed_to_its_known_filters() -> None:
    keys = {"objective-1"}
    assert QueueFilters.from_carried("element=objective-1&flag=stale&sort=support", keys) == QueueFilters(
        "objective-1", "stale", "support"
    )
    assert QueueFilters.from_carried("element=objective-9&flag=nope&sort=nope", keys) == QueueFilters()
    assert QueueFilters.from_carried("", keys) is None
    assert QueueFilters.from_carried(None, keys) is None
    assert QueueFilters.from_carried("sort=oldest&" + "a" * 300, keys) is None
    assert QueueFilters("objective-1", "", "oldest").carried == "element=objective-1&sort=oldest"
    assert QueueFilters().link_args() == {}


def test_next_in_queue_with_a_flag_that_needs_word_diffs(vision, author, facilitator) -> None:
    one = open_proposal(vision, author, "objective-1")
    two = open_proposal(vision, author, "objective-2")
    three = open_proposal(vision, author, "objective-3")
    set_text(vision, "objective-2", "Objective 1.2 words.")
    set_text(vision, "objective-3", "Objective 2.1 words.")
    conflicted = QueueFilters(flag="conflicted")
    assert next_in_queue(vision, conflicted, one, facilitator.id).id == two.id
    assert next_in_queue(vision, conflicted, two, facilitator.id).id == three.id
    assert next_in_queue(vision, conflicted, three, facilitator.id).id == two.id
