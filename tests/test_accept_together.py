"""Accept together (issue 13): a facilitator accepts several agreeing proposals on one element in one
step, each carried over exactly onto the one before; competing or colliding ones are named and
nothing is written."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest
from sqlalchemy import func, select

from workbench.drafting.publishing import publish_version
from workbench.extensions import db
from workbench.facilitation import together
from workbench.models import AuditEvent, DraftChange, ElementText, Proposal, Role, Vision
from workbench.visions.services import changelog_credits

from .factories import element_of, entry_of, fresh
from .test_facilitation import current_text, field_value, propose, set_text, words
from .test_facilitation_concurrency import browser_for, post_together, server  # noqa: F401 (fixture)

TEXT = (
    "By 2030 we will have trained 10,000 people in data skills across the public sector, "
    "and every public body will publish its data openly."
)


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        facilitator=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        second=make_user(Role.FACILITATOR, name="Sam Second"),
        ana=make_user(Role.VOLUNTEER, name="Ana Author"),
        ben=make_user(Role.VOLUNTEER, name="Ben Builder"),
        cal=make_user(Role.VOLUNTEER, name="Cal Critic"),
    )


@pytest.fixture
def agreeing(vision, people):
    """Three proposals on objective-1 that change different words, and one that competes with the first."""
    set_text(vision, TEXT)
    return SimpleNamespace(
        twenty=propose(vision, people.ana, TEXT.replace("10,000", "20,000")),
        on_time=propose(vision, people.ben, TEXT.replace("openly.", "openly and on time.")),
        sooner=propose(vision, people.cal, TEXT.replace("By 2030", "By 2028")),
        fifteen=propose(vision, people.ben, TEXT.replace("10,000", "15,000")),
    )


def url(vision, *ids: int, **extra: str) -> str:
    query = "&".join([f"p={i}" for i in ids] + [f"{k}={v}" for k, v in extra.items()])
    return f"/visions/{vision.slug}/elements/objective-1/accept-together" + (f"?{query}" if query else "")


def accept_form(client, vision, *ids: int, note: str = "") -> dict:
    """The accept form as the page showed it for these proposals, as the browser would send it."""
    page = client.get(url(vision, *ids)).get_data(as_text=True)
    expected = field_value(page, "expected_text_id")
    assert expected, page
    return {
        "p": [str(i) for i in ids],
        "expected_text_id": expected,
        "note": note,
        **{f"rev-{i}": field_value(page, f"rev-{i}") for i in ids},
    }


def statuses(*proposals: Proposal) -> list[str]:
    return [fresh(Proposal, p.id).status for p in proposals]


def texts_of(vision) -> int:
    return db.session.scalar(select(func.count()).select_from(ElementText).where(ElementText.element_id == element_of(vision).id))


def written(vision) -> tuple[int, int, int]:
    """What an accept writes: element texts, accept changes, accept events."""
    db.session.rollback()
    return (
        texts_of(vision),
        db.session.scalar(select(func.count()).select_from(DraftChange).where(DraftChange.kind == "accept")),
        db.session.scalar(select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "proposal.accepted")),
    )


# --- the page -------------------------------------------------------------------------------------


def test_the_page_lists_the_open_proposals_and_shows_the_combined_text(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    page = client.get(url(vision)).get_data(as_text=True)
    for proposal in vars(agreeing).values():
        assert f'name="p" value="{proposal.id}"' in page
    assert "Accept these" not in page  # nothing chosen yet: no combined text, no accept button

    response = client.get(url(vision, agreeing.twenty.id, agreeing.on_time.id, agreeing.sooner.id))
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    text = words(page)
    assert "The combined text" in text and "Accept these 3 proposals" in text
    assert "added: 20,000" in text and "removed: 10,000" in text and "added: and on time" in text and "added: 2028" in text
    assert field_value(page, "expected_text_id") == str(entry_of(vision).text_id)
    assert f'id="choose-{agreeing.fifteen.id}" name="p" value="{agreeing.fifteen.id}">' in page  # listed, not ticked


def test_the_page_is_for_facilitators_only(client, login_as, vision, people, agreeing):
    login_as(people.ana)
    assert client.get(url(vision)).status_code == 403
    login_as(people.facilitator)
    assert client.get(f"/visions/{vision.slug}/elements/objective-99/accept-together").status_code == 404


def test_the_page_runs_a_bounded_number_of_queries(client, login_as, vision, people, agreeing, count_queries, make_user):
    login_as(people.facilitator)
    chosen = url(vision, agreeing.twenty.id, agreeing.on_time.id, agreeing.sooner.id)
    client.get(chosen)
    with count_queries() as few:
        assert client.get(chosen).status_code == 200
    for n in range(8):
        propose(vision, make_user(Role.VOLUNTEER), TEXT.replace("data skills", f"data skills {n}"))
    with count_queries() as many:
        assert client.get(chosen).status_code == 200
    assert many.count == few.count <= 14


# --- accepting ------------------------------------------------------------------------------------


def test_a_clean_set_is_accepted_in_one_text_and_each_author_is_credited(client, login_as, vision, people, agreeing):
    chosen = (agreeing.twenty, agreeing.on_time, agreeing.sooner)
    before_text = entry_of(vision).text_id
    texts_before = texts_of(vision)
    login_as(people.facilitator)

    response = client.post(url(vision), data=accept_form(client, vision, *(p.id for p in chosen), note="They agree."))

    assert response.status_code == 302
    assert response.headers["Location"].endswith(f"/visions/{vision.slug}/facilitate?element=objective-1")
    combined = current_text(vision)
    assert combined.body == (
        "By 2028 we will have trained 20,000 people in data skills across the public sector, "
        "and every public body will publish its data openly and on time."
    )
    assert texts_of(vision) == texts_before + 1 and combined.id != before_text
    assert combined.created_by_id == people.facilitator.id
    for proposal in chosen:
        proposal = fresh(Proposal, proposal.id)
        assert (proposal.status, proposal.accepted_with_changes, proposal.result_text_id) == ("accepted", False, combined.id)
        assert (proposal.decided_by_id, proposal.decision_reason) == (people.facilitator.id, "They agree.")
    changes = db.session.scalars(select(DraftChange).where(DraftChange.kind == "accept").order_by(DraftChange.id)).all()
    assert [(c.proposal_id, c.text_id, c.actor_id) for c in changes] == [(p.id, combined.id, people.facilitator.id) for p in chosen]
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "proposal.accepted").order_by(AuditEvent.id)).all()
    assert [e.subject_id for e in events] == [p.id for p in chosen]
    assert all(e.details["mode"] == "together" and e.details["previous_text_id"] == before_text for e in events)
    assert events[0].details["together"] == [p.id for p in chosen]
    assert statuses(agreeing.fifteen) == ["open"]
    with client.session_transaction() as session:
        flashes = [message for _, message in session.get("_flashes", [])]
    assert any(
        f"You accepted proposals {chosen[0].id}, {chosen[1].id} and {chosen[2].id} together" in m for m in flashes
    ), flashes

    # The next version's changelog credits each author.
    version = publish_version(fresh(Vision, vision.id), actor=people.facilitator, notes="Version 2.")
    db.session.commit()
    entries = json.loads(version.changelog)
    accepted = [(e["proposal_id"], e["author_id"], e["with_changes"]) for e in entries if e["type"] == "accepted"]
    assert accepted == [(agreeing.twenty.id, people.ana.id, False), (agreeing.on_time.id, people.ben.id, False), (agreeing.sooner.id, people.cal.id, False)]
    assert changelog_credits(entries)[:3] == [people.ana.id, people.ben.id, people.cal.id]
    history = client.get(f"/visions/{vision.slug}/versions").get_data(as_text=True)
    assert "Ana Author, Ben Builder, Cal Critic" in history
    # Each proposal's page says which proposals it was accepted together with.
    first, second, third = (p.id for p in chosen)
    page = client.get(f"/proposals/{second}").get_data(as_text=True)
    assert f"Accepted together with proposal {first} and proposal {third}" in page


def test_a_competing_pair_is_named_and_nothing_is_written(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    ids = (agreeing.twenty.id, agreeing.on_time.id, agreeing.fifteen.id)
    page = client.get(url(vision, *ids)).get_data(as_text=True)
    assert f"Proposals {agreeing.twenty.id} and {agreeing.fifteen.id} compete" in words(page)
    assert "Accept these" not in page and field_value(page, "expected_text_id") is None
    before = written(vision)

    # A form put together by hand is refused in the same words.
    form = {"p": [str(i) for i in ids], "expected_text_id": str(entry_of(vision).text_id), **{f"rev-{i}": "1" for i in ids}}
    response = client.post(url(vision), data=form)

    assert response.status_code == 422
    assert f"Proposals {agreeing.twenty.id} and {agreeing.fifteen.id} compete" in words(response.get_data(as_text=True))
    assert written(vision) == before
    assert statuses(agreeing.twenty, agreeing.on_time, agreeing.fifteen) == ["open", "open", "open"]
    assert current_text(vision).body == TEXT
    assert "25,000" not in current_text(vision).body


def test_the_order_decides_whether_close_changes_combine(client, login_as, vision, people):
    set_text(vision, TEXT)
    shall = propose(vision, people.ana, TEXT.replace("will have", "shall have"))
    equipped = propose(vision, people.ben, TEXT.replace("trained", "equipped"))
    login_as(people.facilitator)

    # "equipped" first: "shall" no longer finds its words exactly. Said, with the way out.
    page = words(client.get(url(vision, equipped.id, shall.id)).get_data(as_text=True))
    assert f"Proposals {equipped.id} and {shall.id} change words too close together" in page
    assert f"Putting proposal {shall.id} before proposal {equipped.id} works" in page
    assert "Accept these" not in page

    # The positions typed in put "shall" first: now they combine exactly.
    response = client.get(url(vision, equipped.id, shall.id, **{f"order-{equipped.id}": "2", f"order-{shall.id}": "1"}))
    page = response.get_data(as_text=True)
    assert "Accept these 2 proposals" in words(page)
    assert page.index(f'name="p" value="{shall.id}"', page.index("Your decision")) < page.index(
        f'name="p" value="{equipped.id}"', page.index("Your decision")
    )
    response = client.post(url(vision), data=accept_form(client, vision, shall.id, equipped.id))
    assert response.status_code == 302
    assert current_text(vision).body == TEXT.replace("will have trained", "shall have equipped")


def test_arrange_orders_by_the_positions_typed_and_keeps_the_rest_in_place():
    assert together.arrange([5, 6, 7], {}) == [5, 6, 7]
    assert together.arrange([5, 6, 7], {7: 1}) == [7, 5, 6]
    assert together.arrange([5, 6, 7], {5: 3, 6: 2, 7: 1}) == [7, 6, 5]
    assert together.arrange([5, 6], {5: None, 6: 1}) == [6, 5]  # the typed place wins a tie
    assert together.arrange([5, 6, 7], {5: 2, 6: 2}) == [5, 6, 7]  # otherwise ties keep the list's order


def test_a_proposal_that_no_longer_applies_is_named(client, login_as, vision, people, agreeing):
    set_text(vision, TEXT.replace("10,000", "12,000"))
    login_as(people.facilitator)
    page = words(client.get(url(vision, agreeing.on_time.id, agreeing.twenty.id)).get_data(as_text=True))
    assert f"Proposal {agreeing.twenty.id} no longer applies to the current working text" in page
    assert "replace “10,000” with “20,000”" in page


@pytest.mark.parametrize(
    "choice, message",
    [
        ("one", "Choose at least two proposals"),
        ("twice", "is listed more than once"),
        ("unknown", "is not an open proposal on this element"),
        ("elsewhere", "is not an open proposal on this element"),
        ("decided", "was rejected, so it cannot be accepted"),
        ("own", "is your own"),
        ("too_many", "Choose at most 20 proposals at once (you chose 21)"),
    ],
)
def test_a_bad_choice_gets_a_clear_message_and_writes_nothing(client, login_as, vision, people, agreeing, choice, message):
    other_element = propose(vision, people.ana, "Objective 1.2 body, changed.", key="objective-2")
    own = propose(vision, people.facilitator, TEXT.replace("data skills", "data and digital skills"))
    decided = propose(vision, people.cal, TEXT.replace("every public body", "each public body"))
    decided.status = "rejected"
    db.session.commit()
    first, second = agreeing.twenty.id, agreeing.on_time.id
    ids = {
        "one": [first],
        "twice": [first, second, first],
        "unknown": [first, 99_999],
        "elsewhere": [first, other_element.id],
        "decided": [first, decided.id],
        "own": [first, own.id],
        "too_many": list(range(1, 22)),
    }[choice]
    login_as(people.facilitator)
    page = client.get(url(vision, *ids))
    assert page.status_code == 200 and message in words(page.get_data(as_text=True))
    before = written(vision)

    response = client.post(url(vision), data={"p": [str(i) for i in ids], "expected_text_id": str(entry_of(vision).text_id)})

    assert response.status_code == 422
    assert message in words(response.get_data(as_text=True))
    assert written(vision) == before and statuses(agreeing.twenty) == ["open"]


def test_numbers_that_are_not_ids_are_ignored_not_a_500(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    response = client.get(url(vision, agreeing.twenty.id, agreeing.on_time.id) + "&p=abc&p=-3&order-1=x")
    assert response.status_code == 200 and "Accept these 2 proposals" in words(response.get_data(as_text=True))


def test_a_note_too_long_is_said_beside_the_field(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    form = accept_form(client, vision, agreeing.twenty.id, agreeing.on_time.id, note="x" * 5_001)
    before = written(vision)
    response = client.post(url(vision), data=form)
    assert response.status_code == 422
    assert "The note must be 5,000 characters or fewer" in response.get_data(as_text=True)
    assert written(vision) == before


def test_a_page_prepared_before_the_text_moved_is_not_accepted_unseen(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    form = accept_form(client, vision, agreeing.twenty.id, agreeing.on_time.id)
    set_text(vision, TEXT.replace("data skills", "data and AI skills"))
    before = written(vision)

    response = client.post(url(vision), data=form)

    assert response.status_code == 409
    page = response.get_data(as_text=True)
    assert "Nothing has been saved yet" in words(page) and "Accept these 2 proposals" in words(page)
    assert field_value(page, "expected_text_id") == str(entry_of(vision).text_id)  # worked out again
    assert written(vision) == before and statuses(agreeing.twenty, agreeing.on_time) == ["open", "open"]


def test_a_proposal_revised_since_the_page_was_prepared_is_not_accepted_unseen(client, login_as, vision, people, agreeing):
    from workbench.proposals.services import revise_proposal

    login_as(people.facilitator)
    form = accept_form(client, vision, agreeing.twenty.id, agreeing.on_time.id)
    proposal = fresh(Proposal, agreeing.twenty.id)
    revise_proposal(proposal, fresh(type(people.ana), people.ana.id), proposal.title, TEXT.replace("10,000", "25,000"), proposal.rationale)
    db.session.commit()
    before = written(vision)

    response = client.post(url(vision), data=form)

    assert response.status_code == 409 and "An author revised one of these proposals" in words(response.get_data(as_text=True))
    assert written(vision) == before


def test_the_service_refuses_anyone_but_a_facilitator(vision, people, agreeing):
    from workbench.exceptions import NotAllowed

    with pytest.raises(NotAllowed):
        together.accept_together(
            vision, "objective-1", [agreeing.twenty.id, agreeing.on_time.id], people.ana, expected_text_id=entry_of(vision).text_id
        )


# --- two facilitators at the same moment ----------------------------------------------------------


def test_two_facilitators_accepting_overlapping_sets_at_once(app, server, vision, people, agreeing):  # noqa: F811
    first = browser_for(app, people.facilitator, *server)
    second = browser_for(app, people.second, *server)

    def prepared(browser, *ids: int) -> dict[str, str]:
        status, _, page = browser.request("GET", url(vision, *ids))
        assert status == 200, page
        query = [("csrf_token", field_value(page, "csrf_token")), ("expected_text_id", field_value(page, "expected_text_id"))]
        query += [pair for i in ids for pair in (("p", str(i)), (f"rev-{i}", field_value(page, f"rev-{i}")))]
        return query

    forms = [prepared(first, agreeing.twenty.id, agreeing.on_time.id), prepared(second, agreeing.on_time.id, agreeing.sooner.id)]
    before = written(vision)

    results = post_together([(first, url(vision), forms[0]), (second, url(vision), forms[1])])

    codes = [status for status, _, _ in results]
    assert sorted(codes) in ([302, 409], [302, 422]), codes
    winner = codes.index(302)
    loser_page = words(results[1 - winner][2])
    assert f"Proposal {agreeing.on_time.id} has already been accepted" in loser_page or "Nothing has been saved yet" in loser_page
    after = written(vision)
    assert after == (before[0] + 1, before[1] + 2, before[2] + 2)  # one text, the winner's two accepts
    won = [agreeing.twenty, agreeing.on_time] if winner == 0 else [agreeing.on_time, agreeing.sooner]
    lost_alone = agreeing.sooner if winner == 0 else agreeing.twenty
    assert statuses(*won) == ["accepted", "accepted"] and statuses(lost_alone) == ["open"]  # nothing of theirs is lost



def test_the_queue_filtered_to_one_element_links_to_accepting_several_together(client, login_as, vision, people, agreeing):
    login_as(people.facilitator)
    page = client.get(f"/visions/{vision.slug}/facilitate?element=objective-1").get_data(as_text=True)
    assert f'href="/visions/{vision.slug}/elements/objective-1/accept-together"' in page
    assert "accept-together" not in client.get(f"/visions/{vision.slug}/facilitate").get_data(as_text=True)
