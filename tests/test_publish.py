"""Publishing the working draft as an immutable version with an automatic changelog and credits."""

from __future__ import annotations

import hashlib
import json
import threading
import time

import pytest

from workbench.caching import clear_caches
from sqlalchemy import func, select, text

from workbench.extensions import db
from workbench.models import AuditEvent, DraftChange, Role, User, Version, Vision, utcnow
from workbench.exceptions import ValidationError
from workbench.visions import services
from workbench.visions.importer import ElementSpec, VisionSpec
from workbench.drafting.publishing import PublishConflict, publish_version
from workbench.visions.importer import import_vision

from .factories import entry_of, fresh, open_proposal
from .test_drafting_support import (  # noqa: F401  (fixtures: per_request_login is autouse; facilitator)
    accept,
    edit_text,
    facilitator,
    hidden_value,
    per_request_login,
    publish,
    reject,
    versions_of,
)


def changelog(vision, number: int) -> list[dict]:
    return json.loads(next(v for v in versions_of(vision) if v.number == number).changelog)


# --- publishing -----------------------------------------------------------------------------------


def test_publishing_makes_version_two_and_leaves_version_one_as_it_was(client, make_vision, facilitator, app) -> None:
    vision = make_vision()
    v1_page = client.get("/visions/test-vision/v/1/").data
    v1_row = versions_of(vision)[0]
    v1 = (v1_row.snapshot, v1_row.content_hash, v1_row.changelog)
    edit_text(client, vision, "objective-1", "Objective 1.1 body, sharper.", reason="Sharper.")

    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    assert "Publish version 2" in page and "1 element differs: 1 changed" in page
    assert "text edited by Fiona Facilitator" in page
    response = client.post(
        "/visions/test-vision/publish",
        data={"notes": "Sharper objectives.", "expected_version": hidden_value(page, "expected_version"),
              "expected_change": hidden_value(page, "expected_change")},
    )
    assert response.status_code == 302
    assert response.headers["Location"].endswith("/visions/test-vision/versions")
    assert "Version 2 is published" in client.get(response.headers["Location"]).get_data(as_text=True)

    v1_row, v2 = versions_of(vision)
    assert (v1_row.snapshot, v1_row.content_hash, v1_row.changelog) == v1
    assert v2.number == 2 and v2.notes == "Sharper objectives." and v2.published_by_id == facilitator.id
    assert hashlib.sha256(v2.snapshot.encode()).hexdigest() == v2.snapshot_hash
    snapshot = json.loads(v2.snapshot)
    assert next(e for e in snapshot["elements"] if e["key"] == "objective-1")["body"] == "Objective 1.1 body, sharper."
    assert fresh(Vision, vision.id).latest_version_number == 2
    assert db.session.scalar(select(func.count(DraftChange.id)).where(DraftChange.version_id.is_(None))) == 0
    [event] = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "version.published", AuditEvent.subject_id == v2.id)).all()
    assert event.actor_id == facilitator.id and event.details["number"] == 2 and event.details["changes"] == 1

    clear_caches()
    assert client.get("/visions/test-vision/v/1/").data == v1_page
    assert b"Objective 1.1 body, sharper." in client.get("/visions/test-vision/v/2/").data


def test_publishing_with_nothing_changed_is_refused_with_a_message(client, make_vision, facilitator) -> None:
    vision = make_vision()
    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    assert "The draft is the same as version 1: there is nothing to publish." in page
    assert "<form" not in page.split('id="main-content"')[1]
    response = publish(client, vision)
    assert response.status_code == 422
    assert "Nothing has changed since the latest version" in response.get_data(as_text=True)
    assert len(versions_of(vision)) == 1


def test_a_change_that_was_undone_counts_as_nothing_changed(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Something else.")
    edit_text(client, vision, "objective-1", "Objective 1.1 body.")
    assert publish(client, vision).status_code == 422
    assert len(versions_of(vision)) == 1
    # The two edits still wait, and go out with the next real change.
    edit_text(client, vision, "objective-2", "A real change.")
    assert publish(client, vision).status_code == 302
    assert [e["change"] for e in changelog(vision, 2)] == ["edit", "edit", "edit"]


def test_the_first_version_of_an_imported_vision_can_be_published(client, make_vision, facilitator) -> None:
    vision = make_vision(publish=False)
    assert "This will be the first published version" in client.get("/visions/test-vision/publish").get_data(as_text=True)
    assert publish(client, vision, "First.").status_code == 302
    [v1] = versions_of(vision)
    assert v1.number == 1 and json.loads(v1.changelog) == []
    assert "The first published version." in client.get("/visions/test-vision/versions").get_data(as_text=True)


def test_notes_are_cleaned_and_limited(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Changed.")
    response = publish(client, vision, "x" * 5_001)
    assert response.status_code == 422 and "The notes must be 5,000 characters or fewer" in response.get_data(as_text=True)
    response = publish(client, vision, "Hidden\u202eoverride")
    assert response.status_code == 422 and "hidden formatting characters" in response.get_data(as_text=True)
    assert publish(client, vision, "  Fine notes\x00.  ").status_code == 302
    assert versions_of(vision)[-1].notes == "Fine notes."


# --- the changelog and its credits ----------------------------------------------------------------


def test_the_changelog_lists_accepts_edits_and_rejections_and_credits_every_contributor(client, make_vision, make_user, facilitator) -> None:
    vision = make_vision()
    ada = make_user(Role.VOLUNTEER, name="Ada Author")
    bea = make_user(Role.VOLUNTEER, name="Bea Writer")
    cal = make_user(Role.VOLUNTEER, name="Cal Critic")
    other = make_user(Role.FACILITATOR, name="Olu Other")
    as_is = open_proposal(vision, ada, "objective-1", "Objective 1.1 body, better.")
    edited = open_proposal(vision, bea, "objective-3", "Objective 2.1 body, better.")
    turned_down = open_proposal(vision, cal, "objective-2", "Something else entirely.")
    accept(as_is, facilitator, note="Clear improvement.")
    accept(edited, other, note="Tidied the wording.", body="Objective 2.1 body, much better.")
    reject(turned_down, facilitator, "Out of scope for this vision.")
    edit_text(client, vision, "condition-1", "Condition 1.1 body, edited.", reason="Consistency.")
    assert publish(client, vision, "Second version.").status_code == 302

    entries = changelog(vision, 2)
    assert entries == [
        {"type": "accepted", "proposal_id": as_is.id, "element": "objective-1", "label": "Objective 1.1", "author_id": ada.id,
         "actor_id": facilitator.id, "with_changes": False, "note": "Clear improvement."},
        {"type": "accepted", "proposal_id": edited.id, "element": "objective-3", "label": "Objective 2.1", "author_id": bea.id,
         "actor_id": other.id, "with_changes": True, "note": "Tidied the wording."},
        {"type": "edit", "change": "edit", "element": "condition-1", "label": "Enabling condition 1.1", "actor_id": facilitator.id,
         "reason": "Consistency."},
        {"type": "rejected", "proposal_id": turned_down.id, "element": "objective-2", "label": "Objective 1.2", "author_id": cal.id,
         "actor_id": facilitator.id, "reason": "Out of scope for this vision."},
    ]
    # Authors of accepted proposals, then the facilitators who edited (directly or by accepting with changes).
    assert services.changelog_credits(entries) == [ada.id, bea.id, other.id, facilitator.id]

    page = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert "2 changes since version 1" not in page  # three: two accepts and an edit
    assert "3 changes since version 1: 2 accepted proposals, 1 direct edit and 1 rejected proposal." in page
    assert f'<a href="/proposals/{as_is.id}">Proposal {as_is.id}</a> on Objective 1.1' in page
    assert "Accepted with changes" in page and "Tidied the wording." in page
    assert "Enabling condition 1.1: text edited by Fiona Facilitator" in page and "Consistency." in page
    assert "Out of scope for this vision." in page
    assert "With thanks to</strong> Ada Author, Bea Writer, Olu Other, Fiona Facilitator." in page
    assert "Cal Critic" in page  # named as the rejected proposal's author, not credited
    assert "With thanks to</strong> Ada Author, Bea Writer, Olu Other, Fiona Facilitator, Cal" not in page


def test_a_deleted_account_is_credited_as_a_former_participant(client, make_vision, make_user, facilitator) -> None:
    vision = make_vision()
    ada = make_user(Role.VOLUNTEER, name="Ada Author")
    accept(open_proposal(vision, ada, "objective-1", "Better."), facilitator)
    publish(client, vision)
    user = fresh(User, ada.id)
    user.is_deleted, user.email, user.display_name = True, None, "Ada Author"
    db.session.commit()
    page = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert "Ada Author" not in page
    assert "With thanks to</strong> a former participant, " not in page  # the accepting facilitator did not edit
    assert "With thanks to</strong> a former participant." in page
    assert "by a former participant" in page
    feed = client.get("/visions/test-vision/feed.atom").get_data(as_text=True)
    assert "Ada Author" not in feed and "a former participant" in feed


def test_a_rejection_is_listed_in_exactly_one_version(client, make_vision, make_user, facilitator) -> None:
    vision = make_vision()
    author = make_user(Role.VOLUNTEER)
    first = open_proposal(vision, author, "objective-1", "One.")
    reject(first, facilitator, "Not now.")
    edit_text(client, vision, "objective-2", "Changed once.")
    publish(client, vision)
    second = open_proposal(vision, author, "objective-1", "Two.")
    reject(second, facilitator, "Not this either.")
    edit_text(client, vision, "objective-2", "Changed twice.")
    publish(client, vision)
    assert [e["proposal_id"] for e in changelog(vision, 2) if e["type"] == "rejected"] == [first.id]
    assert [e["proposal_id"] for e in changelog(vision, 3) if e["type"] == "rejected"] == [second.id]


def test_a_hidden_proposal_is_masked_in_the_changelog(client, make_vision, make_user, facilitator) -> None:
    from workbench.models import Proposal

    vision = make_vision()
    proposal = open_proposal(vision, make_user(Role.VOLUNTEER), "objective-1", "Rude words.")
    reject(proposal, facilitator, "Abusive: the reason names it.")
    edit_text(client, vision, "objective-2", "Changed.")
    publish(client, vision)
    row = fresh(Proposal, proposal.id)
    row.hidden_at, row.hidden_reason = utcnow(), "Abusive"
    db.session.commit()
    page = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert "A proposal on Objective 1.1" in page
    assert f"/proposals/{proposal.id}" not in page and "Abusive: the reason names it." not in page


# --- races and out-of-date pages ------------------------------------------------------------------


def test_a_publish_page_that_is_out_of_date_is_refused_with_a_clear_message(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "First change.")
    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    form = {"notes": "Mine.", "expected_version": hidden_value(page, "expected_version"), "expected_change": hidden_value(page, "expected_change")}
    edit_text(client, vision, "objective-2", "A change made meanwhile.")
    response = client.post("/visions/test-vision/publish", data=form)
    assert response.status_code == 409
    assert "The draft changed while you were preparing to publish it" in response.get_data(as_text=True)
    assert len(versions_of(vision)) == 1

    page = client.get("/visions/test-vision/publish").get_data(as_text=True)
    form = {"notes": "Mine.", "expected_version": hidden_value(page, "expected_version"), "expected_change": hidden_value(page, "expected_change")}
    assert publish(client, vision, "Someone else first.").status_code == 302
    response = client.post("/visions/test-vision/publish", data=form)  # a double submission, or a second facilitator
    assert response.status_code == 409
    assert "Version 2 was published while you were preparing this one" in response.get_data(as_text=True)
    assert [v.number for v in versions_of(vision)] == [1, 2]


def test_two_facilitators_publishing_at_once_make_one_version(app, make_vision, make_user) -> None:
    vision = make_vision()
    actors = [make_user(Role.FACILITATOR), make_user(Role.FACILITATOR)]
    entry = entry_of(vision, "objective-1")
    from workbench.drafting.edits import edit_element_text

    edit_element_text(vision, "objective-1", title=entry.text.title, body="Changed.", reason="Why.", lock_version=entry.lock_version, actor=actors[0])
    db.session.commit()
    db.session.remove()
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt(actor_id: int) -> None:
        # A write request: on SQLite its transaction begins IMMEDIATE, as in production.
        with app.test_request_context("/visions/test-vision/publish", method="POST"):
            try:
                barrier.wait(timeout=10)  # before the first statement: SQLite's write transaction starts there
                actor = db.session.get(User, actor_id)
                target = db.session.scalar(select(Vision).where(Vision.slug == "test-vision"))
                publish_version(target, actor=actor, notes=f"By {actor_id}", expected_version=1)
                db.session.commit()
                outcomes.append("published")
            except (PublishConflict, ValidationError) as error:
                db.session.rollback()
                outcomes.append(type(error).__name__)
            except Exception as error:  # noqa: BLE001 - the test reports it
                db.session.rollback()
                outcomes.append(f"crash: {error!r}")
            finally:
                db.session.remove()

    threads = [threading.Thread(target=attempt, args=(actor.id,)) for actor in actors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(outcomes) == ["PublishConflict", "published"]
    assert [v.number for v in versions_of(vision)] == [1, 2]


def test_a_version_number_taken_meanwhile_is_a_friendly_conflict_not_a_crash(app, make_vision, make_user) -> None:
    vision = make_vision()
    actor = make_user(Role.FACILITATOR)
    entry = entry_of(vision, "objective-1")
    from workbench.drafting.edits import edit_element_text

    edit_element_text(vision, "objective-1", title="T", body="Changed.", reason="Why.", lock_version=entry.lock_version, actor=actor)
    db.session.commit()
    # Another process inserted version 2 without (yet) moving the vision's counter.
    with db.engine.begin() as connection:
        connection.execute(
            text("INSERT INTO versions (vision_id, number, published_at, notes, content_hash, snapshot, changelog) "
                 "VALUES (:v, 2, :at, '', :h, '{}', '[]')"),
            {"v": vision.id, "at": utcnow().replace(tzinfo=None), "h": "0" * 64},
        )
    with pytest.raises(PublishConflict) as caught:
        publish_version(fresh(Vision, vision.id), actor=actor, notes="Mine")
    assert "Someone else published version 2 at the same moment" in caught.value.errors["form"][0]
    db.session.rollback()
    assert db.session.scalar(select(func.count(Version.id)).where(Version.vision_id == vision.id)) == 2


# --- published versions cannot be altered ---------------------------------------------------------


def test_no_route_of_the_draft_or_history_changes_a_published_version(client, make_vision, make_user, facilitator, app) -> None:
    """Every POST route of drafting (and history has none) aimed at every element: old versions keep their bytes."""
    vision = make_vision()
    before = {v.number: (v.snapshot, v.content_hash, v.changelog, v.notes, v.published_at) for v in versions_of(vision)}
    pages = {path: client.get(path).data for path in ("/visions/test-vision/v/1/", "/visions/test-vision/v/1.json", "/visions/test-vision/v/1/objective-1")}
    posts = []
    for key in ("statement-1", "ambition-1", "objective-1", "condition-2"):
        entry = entry_of(vision, key)
        posts += [
            (f"/visions/test-vision/draft/elements/{key}/edit", {"title": "T", "body": f"New {key}", "reason": "R", "lock_version": str(entry.lock_version), "action": "save"}),
            (f"/visions/test-vision/draft/elements/{key}/move", {"direction": "down", "from_place": "1"}),
            (f"/visions/test-vision/draft/elements/{key}/move-to", {"parent": "ambition-2", "position": "1"}),
            (f"/visions/test-vision/draft/elements/{key}/remove", {"reason": "Gone."}),
        ]
    posts += [
        ("/visions/test-vision/draft/add?kind=objective&parent=ambition-2", {"title": "T", "body": "B", "reason": "R", "position": "end"}),
        ("/visions/test-vision/draft/add?kind=ambition", {"title": "T", "body": "B", "reason": "R", "position": "end"}),
        ("/visions/test-vision/window", {"opens_date": "2030-01-01"}),
        ("/visions/test-vision/window/close", {}),
        ("/visions/test-vision/window/reopen", {"days": "3"}),
        ("/visions/test-vision/publish", {"notes": "Version 2."}),
        ("/visions/test-vision/publish", {"notes": "Version 2 again.", "expected_version": "1"}),
    ]
    rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint.split(".")[0] in ("drafting", "history") and "POST" in rule.methods]
    covered = {app.url_map.bind("localhost").match(path.split("?")[0], method="POST")[0] for path, _ in posts}
    assert covered == {rule.endpoint for rule in rules}
    for path, data in posts:
        assert client.post(path, data=data).status_code < 500, path
    after = {v.number: (v.snapshot, v.content_hash, v.changelog, v.notes, v.published_at) for v in versions_of(vision)}
    assert after[1] == before[1]
    assert sorted(after) == [1, 2]
    clear_caches()
    for path, body in pages.items():
        assert client.get(path).data == body, path


def test_the_database_refuses_to_change_a_version_published_through_the_route(client, make_vision, facilitator) -> None:
    vision = make_vision()
    edit_text(client, vision, "objective-1", "Changed.")
    publish(client, vision)
    v2 = versions_of(vision)[-1]
    for statement in ("UPDATE versions SET changelog = '[]' WHERE number = 2", "DELETE FROM versions WHERE number = 2"):
        with pytest.raises(Exception) as caught:
            with db.engine.begin() as connection:
                connection.execute(text(statement))
        assert "immutable" in str(caught.value)
    assert versions_of(vision)[-1].changelog == v2.changelog


# --- performance and queries ----------------------------------------------------------------------


def big_spec(ambitions: int = 5, children: int = 29) -> VisionSpec:
    return VisionSpec(
        slug="big",
        title="A big vision",
        summary="",
        statement=ElementSpec("statement", "", "Statement."),
        ambitions=[
            ElementSpec("ambition", f"Ambition {a}", " ".join(["Ambition words"] * 40),
                        [ElementSpec("objective", f"Objective {a}.{o}", " ".join([f"objective {o} words"] * 30)) for o in range(children)])
            for a in range(ambitions)
        ],
    )


def test_publishing_150_elements_takes_under_a_second_of_cpu(app, make_user) -> None:
    # Who wrote each word and the signature included (issue 18: at most 1 s); counted in this
    # process's CPU time, so that other processes on a busy test machine do not count as ours.
    # bench/publish_provenance.py measures the real figures.
    actor = make_user(Role.FACILITATOR)
    vision = import_vision(big_spec(), actor=actor, publish=True)  # 1 + 5 + 145 = 151 elements
    db.session.commit()
    entry = entry_of(vision, "objective-7")
    from workbench.drafting.edits import edit_element_text

    edit_element_text(vision, "objective-7", title="T", body="Changed.", reason="Why.", lock_version=entry.lock_version, actor=actor)
    db.session.commit()
    started = time.process_time()
    version = publish_version(vision, actor=actor, notes="Timed.")
    db.session.commit()
    elapsed = time.process_time() - started
    assert len(json.loads(version.snapshot)["elements"]) == 151
    assert elapsed < 1.0, f"publishing took {elapsed:.3f} s of CPU"


def versions_page_queries(client, count_queries, slug: str) -> int:
    with count_queries() as log:
        assert client.get(f"/visions/{slug}/versions").status_code == 200
    return log.count


def test_the_versions_page_runs_the_same_queries_however_many_versions_and_contributors(client, make_vision, make_user, facilitator, count_queries) -> None:
    small = make_vision(slug="small", ambitions=1, objectives=1, conditions=1)
    large = make_vision(slug="large", ambitions=3, objectives=3, conditions=2)
    accept(open_proposal(small, make_user(Role.VOLUNTEER), "objective-1", "Small change."), facilitator)
    publish(client, small)
    for n in range(1, 8):
        author = make_user(Role.VOLUNTEER)
        accept(open_proposal(large, author, f"objective-{n}", f"Accepted {n}."), facilitator)
        reject(open_proposal(large, make_user(Role.VOLUNTEER), f"objective-{n}", f"Rejected {n}."), facilitator, "No.")
        edit_text(client, large, "condition-1", f"Edit {n}.")
        publish(client, large, f"Version {n + 1}")
    assert versions_page_queries(client, count_queries, "small") == versions_page_queries(client, count_queries, "large")
    # Four for the page, one to load the signed-in facilitator, one for the header's "Facilitate" count,
    # one for its unread notifications count (issue 15).
    assert versions_page_queries(client, count_queries, "large") <= 7


def test_the_versions_page_is_paginated(client, make_vision, facilitator) -> None:
    from workbench.history.services import VERSIONS_PER_PAGE

    vision = make_vision(ambitions=1, objectives=1, conditions=0)
    for n in range(VERSIONS_PER_PAGE + 1):
        edit_text(client, vision, "objective-1", f"Edit {n}.")
        publish(client, vision)
    first = client.get("/visions/test-vision/versions").get_data(as_text=True)
    assert f"{VERSIONS_PER_PAGE + 2} versions, newest first" in first
    assert 'href="/visions/test-vision/v/22/"' in first and 'href="/visions/test-vision/v/1/"' not in first
    assert 'aria-label="Pages of versions"' in first
    second = client.get("/visions/test-vision/versions?page=2").get_data(as_text=True)
    assert 'href="/visions/test-vision/v/1/"' in second and 'href="/visions/test-vision/v/22/"' not in second
    for bad in ("999", "abc", "-1", "²"):
        assert client.get(f"/visions/test-vision/versions?page={bad}").status_code == 200
