"""The queue's "Competing" and "Conflicted" are kept when they change (facilitation/kept_flags.py,
migration 0017): after every kind of write, what is kept, and what the queue's filters find, is what
the pure computation says (diffing's competing pairs over the stored ranges, and the strict rebase
asked afresh).

The main test is property-style: a random sequence of writes through the services (open, revise,
bring up to date, withdraw, accept, accept together, reject, reopen, hide, unhide, a facilitator's
edit, removals and moves of elements, and proposals to remove and to move), checked after each one.
"""

from __future__ import annotations

import random
from collections import defaultdict
from types import SimpleNamespace

import pytest
from sqlalchemy import exists, inspect, select

from workbench import diffing
from workbench.discussion.services import hide_content, unhide_content
from workbench.drafting import edits
from workbench.exceptions import WorkbenchError
from workbench.extensions import db
from workbench.facilitation import decisions, kept_flags, together
from workbench.facilitation.kept_flags import keep_every_flag
from workbench.facilitation.models import ProposalRival
from workbench.facilitation.queue import QueueFilters, conflicted_count, queue_page
from workbench.facilitation.queue_flags import SHOWN_RIVALS, TEXTLESS_KINDS, Rivals, unknown_clause
from workbench.models import DraftEntry, ElementText, Proposal, ProposalStatus, Role, User, waiting
from workbench.proposals import services, structural
from workbench.proposals.rebase import rebase_onto

from .factories import entry_of, fresh

WORDS = "our data serves people and planet with care openness trust skills every public body shares what it holds".split()
ELEMENTS = ("objective-1", "objective-2", "objective-3")


@pytest.fixture
def people(make_user):
    return SimpleNamespace(
        fran=make_user(Role.FACILITATOR, name="Fran Facilitator"),
        sam=make_user(Role.FACILITATOR, name="Sam Second"),
        volunteers=[make_user(Role.VOLUNTEER, name=f"Volunteer {n}") for n in range(3)],
    )


# --- the pure computation ---------------------------------------------------------------------------


def pure_pairs() -> set[tuple[int, int]]:
    """Every competing pair (a < b) of proposals of any status, from their stored ranges."""
    groups: dict[tuple[int, int], dict[int, dict]] = defaultdict(dict)
    for p in db.session.scalars(select(Proposal)):
        groups[(p.element_id, p.base_text_id)][p.id] = p.changed_ranges or {}
    return {pair for members in groups.values() for pair in diffing.competing_pairs(members)}


def pure_flags(vision) -> tuple[set[int], set[int]]:
    """The waiting proposals that compete, and those that are conflicted, asked afresh."""
    waiting_ones = list(db.session.scalars(select(Proposal).where(Proposal.vision_id == vision.id, waiting())))
    ids = {p.id for p in waiting_ones}
    competing = {i for pair in pure_pairs() if set(pair) <= ids for i in pair}
    entries = {e.element_id: e for e in db.session.scalars(select(DraftEntry).where(DraftEntry.vision_id == vision.id))}
    conflicted = set()
    for p in waiting_ones:
        entry = entries[p.element_id]
        target = entries.get(p.target_parent_id)
        if entry.is_removed or (target is not None and target.is_removed):
            conflicted.add(p.id)
        elif p.kind not in TEXTLESS_KINDS and entry.text_id != p.base_text_id:
            base, current = db.session.get(ElementText, p.base_text_id), db.session.get(ElementText, entry.text_id)
            if not rebase_onto(base, p, current).ok:
                conflicted.add(p.id)
    return competing, conflicted


def queue_finds(vision, flag: str, viewer: User) -> set[int]:
    page = queue_page(vision, QueueFilters(flag=flag), per_page=1000, viewer_id=viewer.id)
    assert page.checked_all
    return {row.proposal.id for row in page.rows}


def assert_in_step(vision, viewer: User, *, kept: bool = True) -> None:
    """What is kept, and what the queue finds, agree with the pure computation. `kept`: every
    write went through the services, so no rebase is left for the queue to ask."""
    stored = set(db.session.execute(select(ProposalRival.proposal_id, ProposalRival.rival_id)).tuples())
    expected = pure_pairs()
    assert stored == expected | {(b, a) for a, b in expected}
    competing, conflicted = pure_flags(vision)
    if kept:
        assert not db.session.scalar(select(exists().where(Proposal.status == "open", unknown_clause(vision.id))))
    assert queue_finds(vision, "competing", viewer) == competing
    assert queue_finds(vision, "conflicted", viewer) == conflicted
    assert conflicted_count(vision) == (len(conflicted), True)
    # Each shown row says the same (the default queue computes them for the page).
    page = queue_page(vision, QueueFilters(), per_page=1000, viewer_id=viewer.id)
    assert {row.proposal.id for row in page.rows if row.competing} == competing
    assert {row.proposal.id for row in page.rows if row.conflicted} == conflicted
    pairs = {pair for pair in expected}
    for row in page.rows:
        rivals = {b if a == row.proposal.id else a for a, b in pairs if row.proposal.id in (a, b)}
        waiting = sorted(r for r in rivals if db.session.get(Proposal, r).status == "open" and db.session.get(Proposal, r).hidden_at is None)
        # A row names the first few by id and counts the rest.
        assert row.rivals.count == len(waiting)
        assert list(row.rivals.first) == waiting[:SHOWN_RIVALS]


# --- writes -----------------------------------------------------------------------------------------


def reworded(rng: random.Random, body: str) -> str:
    words = body.split(" ")
    for _ in range(rng.randint(1, 2)):
        words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(14)) + "."


class Writes:
    """Random writes through the services, each committed; a refused write (a rule said no, e.g. a
    conflict) is rolled back and is a write too: nothing may be left half done."""

    def __init__(self, rng: random.Random, vision, people) -> None:
        self.rng, self.vision, self.people = rng, vision, people

    def proposals(self, *statuses: str, kinds: tuple[str, ...] = ("edit", "remove", "move")) -> list[Proposal]:
        return list(
            db.session.scalars(
                select(Proposal).where(Proposal.status.in_(statuses), Proposal.kind.in_(kinds)).order_by(Proposal.id)
            )
        )

    def live_keys(self) -> list[str]:
        return [k for k in ELEMENTS if not entry_of(self.vision, k).is_removed]

    def author(self) -> User:
        return fresh(User, self.rng.choice(self.people.volunteers).id)

    def facilitator(self) -> User:
        return fresh(User, self.people.fran.id)

    def open_edit(self) -> None:
        keys = self.live_keys()
        if keys:
            entry = entry_of(self.vision, self.rng.choice(keys))
            services.open_proposal(self.vision, entry.element, self.author(), entry.text.title, reworded(self.rng, entry.text.body), "Clearer.")

    def open_removal(self) -> None:
        keys = self.live_keys()
        if keys:
            structural.propose_removal(self.vision, entry_of(self.vision, self.rng.choice(keys)).element, self.author(), "Not needed.")

    def open_move(self) -> None:
        keys = self.live_keys()
        if keys:
            element = entry_of(self.vision, self.rng.choice(keys)).element
            structural.propose_move(
                self.vision, element, self.author(), parent_key=self.rng.choice(["ambition-1", "ambition-2"]), position=1, rationale="Fits better."
            )

    def revise(self) -> None:
        found = self.proposals("open", kinds=("edit",))
        if found:
            p = self.rng.choice(found)
            base = db.session.get(ElementText, p.base_text_id)
            services.revise_proposal(p, fresh(User, p.author_id), base.title, reworded(self.rng, base.body), "Clearer still.")

    def bring_up_to_date(self) -> None:
        found = [p for p in self.proposals("open", kinds=("edit",)) if p.base_text_id != entry_of(self.vision, p.element.key).text_id]
        if found:
            p = self.rng.choice(found)
            decisions.rebase_proposal(p, fresh(User, p.author_id))

    def withdraw(self) -> None:
        found = self.proposals("open")
        if found:
            p = self.rng.choice(found)
            services.withdraw_proposal(p, fresh(User, p.author_id))

    def accept(self) -> None:
        found = [p for p in self.proposals("open", kinds=("edit",)) if p.hidden_at is None]
        if found:
            p = self.rng.choice(found)
            entry = entry_of(self.vision, p.element.key)
            rebased = rebase_onto(db.session.get(ElementText, p.base_text_id), p, entry.text)
            if rebased.ok:
                decisions.accept_proposal(
                    p, self.facilitator(), title=rebased.title, body=rebased.body, note="",
                    expected_text_id=entry.text_id, revision=p.revision_count,
                )

    def accept_two_together(self) -> None:
        keys = self.live_keys()
        if keys:
            key = self.rng.choice(keys)
            entry = entry_of(self.vision, key)
            found = [p for p in self.proposals("open", kinds=("edit",)) if p.element_id == entry.element_id and p.hidden_at is None]
            if len(found) >= 2:
                chosen = self.rng.sample(found, 2)
                together.accept_together(self.vision, key, [p.id for p in chosen], self.facilitator(), expected_text_id=entry.text_id)

    def reject(self) -> None:
        found = self.proposals("open")
        if found:
            decisions.reject_proposal(self.rng.choice(found), self.facilitator(), "Not now.")

    def reopen(self) -> None:
        found = self.proposals("rejected")
        if found:
            decisions.reopen_proposal(self.rng.choice(found), self.facilitator())

    def hide(self) -> None:
        found = [p for p in self.proposals("open", "rejected") if p.hidden_at is None]
        if found:
            hide_content("proposal", self.rng.choice(found), self.facilitator(), "Off topic.")

    def unhide(self) -> None:
        found = [p for p in self.proposals("open", "rejected") if p.hidden_at is not None]
        if found:
            unhide_content("proposal", self.rng.choice(found), self.facilitator())

    def edit_directly(self) -> None:
        keys = self.live_keys()
        if keys:
            entry = entry_of(self.vision, self.rng.choice(keys))
            edits.edit_element_text(
                self.vision, entry.element.key, title=entry.text.title, body=reworded(self.rng, entry.text.body),
                reason="Tidied.", lock_version=entry.lock_version, actor=self.facilitator(),
            )

    def remove_an_ambition(self) -> None:
        if not entry_of(self.vision, "ambition-2").is_removed:
            remove_the_second_ambition(self.vision, self.facilitator())

    def do(self, name: str) -> bool:
        """Whether the write was made (not refused)."""
        try:
            getattr(self, name)()
            db.session.commit()
            return True
        except WorkbenchError:
            db.session.rollback()
            return False


# Each write's weight in a random sequence: mostly proposals and decisions, now and then the draft.
WEIGHTS = {
    "open_edit": 8, "open_removal": 1, "open_move": 2, "revise": 3, "bring_up_to_date": 2, "withdraw": 1, "accept": 2,
    "accept_two_together": 1, "reject": 2, "reopen": 2, "hide": 1, "unhide": 1, "edit_directly": 2, "remove_an_ambition": 0.2,
}


def remove_the_second_ambition(vision, facilitator: User) -> None:
    """Remove ambition-2, its objectives and its condition first (one reason each, as the rule asks)."""
    for key in ("objective-3", "objective-4", "condition-2", "ambition-2"):
        if not entry_of(vision, key).is_removed:
            edits.remove_element_from_draft(vision, key, reason="Merged into the first.", actor=fresh(User, facilitator.id))


def start(vision, people) -> None:
    """Longer texts than the default vision's, so that changes compete or not by chance."""
    rng = random.Random(1)
    for key in ELEMENTS:
        entry = entry_of(vision, key)
        edits.edit_element_text(
            vision, key, title=entry.text.title, body=sentence(rng), reason="Longer.", lock_version=entry.lock_version,
            actor=fresh(User, people.fran.id),
        )
    db.session.commit()


@pytest.mark.parametrize("seed", [11, 12, 13])
def test_kept_flags_match_the_pure_computation_after_every_write(vision, people, seed):
    start(vision, people)
    rng = random.Random(seed)
    writes = Writes(rng, vision, people)
    names, weights = list(WEIGHTS), list(WEIGHTS.values())
    done = defaultdict(int)
    for _ in range(45):
        name = rng.choices(names, weights)[0]
        done[name] += writes.do(name)
        try:
            assert_in_step(vision, people.fran)
        except AssertionError as error:
            raise AssertionError(f"after {name} ({dict(done)})") from error
    assert done["open_edit"] >= 5 and done["accept"] + done["accept_two_together"] + done["edit_directly"] >= 2


# --- the rules, one at a time -----------------------------------------------------------------------


def test_a_move_under_an_ambition_that_was_removed_is_conflicted_and_a_removal_never_is(vision, people):
    start(vision, people)
    fran, ana = fresh(User, people.fran.id), people.volunteers[0]
    element = entry_of(vision, "objective-1").element
    move = structural.propose_move(vision, element, ana, parent_key="ambition-2", position=1, rationale="Fits better.")
    removal = structural.propose_removal(vision, element, people.volunteers[1], "Not needed.")
    db.session.commit()
    assert queue_finds(vision, "conflicted", fran) == set()
    # The text moves on: the removal is stale but removes whatever is there; the move is not conflicted.
    entry = entry_of(vision, "objective-1")
    edits.edit_element_text(vision, "objective-1", title=entry.text.title, body="A new text.", reason="R", lock_version=entry.lock_version, actor=fran)
    db.session.commit()
    assert queue_finds(vision, "stale", fran) >= {removal.id}
    assert queue_finds(vision, "conflicted", fran) == set()
    remove_the_second_ambition(vision, fran)
    db.session.commit()
    assert queue_finds(vision, "conflicted", fran) == {move.id}
    assert_in_step(vision, fran)


def test_an_edit_and_a_removal_of_one_element_compete_and_two_moves_do(vision, people):
    start(vision, people)
    fran = people.fran
    entry = entry_of(vision, "objective-1")
    edit = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, entry.text.body.replace(" ", " and ", 1), "More.")
    removal = structural.propose_removal(vision, entry.element, people.volunteers[1], "Not needed.")
    first = structural.propose_move(vision, entry.element, people.volunteers[0], parent_key="ambition-2", position=1, rationale="R.")
    second = structural.propose_move(vision, entry.element, people.volunteers[2], parent_key="ambition-2", position=2, rationale="R.")
    db.session.commit()
    assert queue_finds(vision, "competing", fran) == {edit.id, removal.id, first.id, second.id}
    rows = {row.proposal.id: row for row in queue_page(vision, QueueFilters(), viewer_id=fran.id).rows}
    assert rows[edit.id].rivals == Rivals(1, (removal.id,))
    assert rows[first.id].rivals == Rivals(1, (second.id,))
    # Withdrawing one, and hiding another, change no kept pair: the queue reads their state.
    services.withdraw_proposal(fresh(Proposal, second.id), fresh(User, second.author_id))
    hide_content("proposal", fresh(Proposal, removal.id), fresh(User, fran.id), "Off topic.")
    db.session.commit()
    assert db.session.scalar(select(exists().where(ProposalRival.proposal_id == first.id)))
    assert queue_finds(vision, "competing", fran) == set()
    assert_in_step(vision, fran)


def test_a_text_moved_around_the_services_is_still_flagged_exactly(vision, people):
    """Kept rebases are answers for one working text: when the text moves without the write paths
    (data written in bulk, a repair by hand), the queue asks the rebase itself."""
    start(vision, people)
    fran = people.fran
    entry = entry_of(vision, "objective-1")
    words = entry.text.body.split(" ")
    touching = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, " ".join(["Changed", *words[1:]]), "R.")
    elsewhere = services.open_proposal(vision, entry.element, people.volunteers[1], entry.text.title, " ".join([*words[:-1], "end."]), "R.")
    db.session.commit()
    text = ElementText(element_id=entry.element_id, title=entry.text.title, body=" ".join(["Rewritten", *words[1:]]))
    db.session.add(text)
    db.session.flush()
    entry.text_id = text.id
    db.session.commit()
    assert queue_finds(vision, "conflicted", fran) == {touching.id}
    assert fresh(Proposal, elsewhere.id).rebase_tried_on_id != text.id  # not kept: asked by the queue
    assert_in_step(vision, fran, kept=False)
    # Bringing everything in step (the migration's backfill, data written in bulk) keeps it again.
    keep_every_flag(db.session)
    db.session.commit()
    assert_in_step(vision, fran)


def test_a_revision_forgets_its_old_pairs_and_finds_its_new_ones(vision, people):
    start(vision, people)
    fran = people.fran
    entry = entry_of(vision, "objective-1")
    words = entry.text.body.split(" ")
    first = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, " ".join(["One", *words[1:]]), "R.")
    second = services.open_proposal(vision, entry.element, people.volunteers[1], entry.text.title, " ".join(["Two", *words[1:]]), "R.")
    db.session.commit()
    assert queue_finds(vision, "competing", fran) == {first.id, second.id}
    services.revise_proposal(fresh(Proposal, second.id), fresh(User, second.author_id), entry.text.title, " ".join([*words[:-1], "two."]), "R.")
    db.session.commit()
    assert queue_finds(vision, "competing", fran) == set()
    assert db.session.scalar(select(exists().where(ProposalRival.rival_id == second.id))) is False
    assert_in_step(vision, fran)


def test_a_pair_written_twice_is_kept_once(vision, people):
    # Two rivals revised at the same moment on PostgreSQL each write their pair, neither seeing the
    # other's: the second write must leave the first's row as it is, not fail the revision.
    start(vision, people)
    entry = entry_of(vision, "objective-1")
    words = entry.text.body.split(" ")
    first = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, " ".join(["One", *words[1:]]), "R.")
    second = services.open_proposal(vision, entry.element, people.volunteers[1], entry.text.title, " ".join(["Two", *words[1:]]), "R.")
    db.session.commit()
    kept_flags._insert_pairs([(first.id, second.id)])
    db.session.commit()
    stored = list(db.session.execute(select(ProposalRival.proposal_id, ProposalRival.rival_id)).tuples())
    assert sorted(stored) == sorted([(first.id, second.id), (second.id, first.id)])


def test_the_competing_filter_runs_a_bounded_number_of_statements(client, login_as, vision, people, count_queries):
    start(vision, people)
    entry = entry_of(vision, "objective-1")
    for n, author in enumerate(people.volunteers):
        services.open_proposal(vision, entry.element, author, entry.text.title, f"Version {n}. " + entry.text.body, "R.")
    db.session.commit()
    login_as(people.fran)
    counts = []
    for flag in ("competing", "conflicted"):
        with count_queries() as counted:
            assert client.get(f"/visions/{vision.slug}/facilitate?flag={flag}").status_code == 200
        counts.append(counted.count)
    entry = entry_of(vision, "objective-2")
    for n, author in enumerate(people.volunteers * 3):
        services.open_proposal(vision, entry.element, author, entry.text.title, f"Take {n}. " + entry.text.body, "R.")
    db.session.commit()
    for flag, before in zip(("competing", "conflicted"), counts):
        with count_queries() as counted:
            assert client.get(f"/visions/{vision.slug}/facilitate?flag={flag}").status_code == 200
        assert counted.count == before, flag


def test_an_open_proposal_on_a_removed_element_is_closed_and_stays_in_step(vision, people):
    start(vision, people)
    fran = people.fran
    entry = entry_of(vision, "objective-3")
    proposal = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, entry.text.body + " More.", "R.")
    db.session.commit()
    edits.remove_element_from_draft(vision, "objective-3", reason="Gone.", actor=fresh(User, fran.id))
    db.session.commit()
    assert fresh(Proposal, proposal.id).status == ProposalStatus.REJECTED.value
    assert_in_step(vision, fran)


def test_the_migration_fills_in_the_pairs_and_rebases_of_existing_proposals(vision, people):
    from flask_migrate import downgrade, upgrade

    start(vision, people)
    fran = people.fran
    entry = entry_of(vision, "objective-1")
    words = entry.text.body.split(" ")
    first = services.open_proposal(vision, entry.element, people.volunteers[0], entry.text.title, " ".join(["One", *words[1:]]), "R.")
    services.open_proposal(vision, entry.element, people.volunteers[1], entry.text.title, " ".join(["Two", *words[1:]]), "R.")
    db.session.commit()
    edits.edit_element_text(
        vision, "objective-1", title=entry.text.title, body=" ".join(["Three", *words[1:]]), reason="R.",
        lock_version=entry.lock_version, actor=fresh(User, fran.id),
    )
    db.session.commit()
    kept = {p.id: (p.rebase_tried_on_id, p.rebase_clean) for p in db.session.scalars(select(Proposal))}
    assert kept[first.id] == (entry_of(vision, "objective-1").text_id, False), kept  # both changed the first word
    db.session.remove()
    try:
        downgrade(revision="0016_proposals_that_move")
        assert "proposal_rivals" not in inspect(db.engine).get_table_names()
    finally:
        upgrade()
    assert {p.id: (p.rebase_tried_on_id, p.rebase_clean) for p in db.session.scalars(select(Proposal))} == kept
    assert_in_step(vision, fran)
