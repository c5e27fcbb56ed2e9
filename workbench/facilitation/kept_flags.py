"""The queue's "Competing" and "Conflicted", kept when they change, so that filtering on them is an
indexed query rather than a sweep over every open proposal (issue 13's budget at three times the
large scale).

- Competing pairs (`ProposalRival`): two proposals on the same element, written against the same
  text, whose changed ranges overlap (`diffing.fields_compete`, the rule `diffing.competing_pairs`
  sweeps with). A pair depends on the two latest revisions only, so it is written when a revision
  is (`keep_flags_of`); status and visibility are read with it (`models.waiting`).
- The strict rebase of a stale proposal (`Proposal.rebase_tried_on_id`, `Proposal.rebase_clean`):
  tried when a revision is written and again, for every open proposal on the element, when the
  element's working text moves on (`keep_flags_after_text_moved`). It is an answer for one working
  text: once the text has moved past it the queue asks the rebase itself (`queue_flags`), so that
  nothing written around these functions can make a flag wrong, only slower to find.

Both are called from the write paths, in the transaction that writes; `keep_every_flag` brings a
whole database in step (data written in bulk; migration 0017 keeps its own copy).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .. import diffing
from ..models import DraftEntry, ElementText, Proposal, ProposalStatus, db
from ..proposals.rebase import Texts, rebases_cleanly
from .models import ProposalRival
from .queue_flags import TEXTLESS_KINDS

# Pairs and rebase answers are written this many rows to a statement.
BATCH = 1000


def keep_flags_of(proposal: Proposal) -> None:
    """After a revision of `proposal` is written (opened, revised, brought up to date): its
    competing pairs, and its strict rebase onto the element's working text, in step. Reads the
    proposals on the same element and text (their ranges only) and the working text; flushes."""
    db.session.flush()
    db.session.execute(
        delete(ProposalRival).where(or_(ProposalRival.proposal_id == proposal.id, ProposalRival.rival_id == proposal.id))
    )
    others = db.session.execute(
        select(Proposal.id, Proposal.changed_ranges).where(
            Proposal.element_id == proposal.element_id,
            Proposal.base_text_id == proposal.base_text_id,
            Proposal.id != proposal.id,
        )
    ).all()
    mine = proposal.changed_ranges or {}
    rivals = [other.id for other in others if diffing.fields_compete(mine, other.changed_ranges or {})]
    _insert_pairs([(proposal.id, rival) for rival in rivals])
    entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == proposal.element_id))
    if entry is None or entry.is_removed:
        tried = (None, None)  # conflicted whatever their text (queue_flags.is_conflicted)
    elif entry.text_id == proposal.base_text_id or proposal.kind in TEXTLESS_KINDS:
        tried = (entry.text_id, True)  # (the words of TEXTLESS_KINDS never conflict with the text)
    else:
        texts = _texts({proposal.base_text_id, entry.text_id})
        tried = (entry.text_id, rebases_cleanly(texts[proposal.base_text_id], proposal, texts[entry.text_id]))
    proposal.rebase_tried_on_id, proposal.rebase_clean = tried
    db.session.flush()


def keep_flags_after_text_moved(entry: DraftEntry) -> None:
    """After the element's working text moved on (to `entry.text_id`): the strict rebase of each of
    its open proposals onto the new text. One rebase per open proposal on the element (each kept
    per process by `diffcache`); two queries and the updates; flushes.

    A proposal another transaction holds (a facilitator deciding on it at this moment) is skipped
    rather than waited for: waiting would deadlock with that decision, which holds its proposal and
    waits for this element. Its kept answer stays the one for an older text, which the queue does
    not trust (it rebases such a proposal itself), so skipping makes a flag slower, never wrong."""
    db.session.flush()
    found = db.session.scalars(
        select(Proposal)
        .where(
            Proposal.element_id == entry.element_id,
            Proposal.status == ProposalStatus.OPEN.value,
        )
        .with_for_update(skip_locked=True)
    ).all()
    if not found:
        return
    texts = _texts({p.base_text_id for p in found} | {entry.text_id})
    current = texts[entry.text_id]
    for proposal in found:
        proposal.rebase_tried_on_id = entry.text_id
        proposal.rebase_clean = (
            proposal.base_text_id == entry.text_id
            or proposal.kind in TEXTLESS_KINDS
            or rebases_cleanly(texts[proposal.base_text_id], proposal, current)
        )
    db.session.flush()


def keep_every_flag(connection: Any) -> None:
    """Every competing pair, and every open proposal's rebase onto its element's working text,
    computed afresh for the whole database on `connection` (a migration's, or a session's for data
    written in bulk). Reads each proposal's ranges once; no word diff for the pairs."""
    table = Proposal.__table__
    connection.execute(delete(ProposalRival.__table__))
    groups: dict[tuple[int, int], dict[int, Any]] = defaultdict(dict)
    for row in connection.execute(select(table.c.id, table.c.element_id, table.c.base_text_id, table.c.changed_ranges)):
        groups[(row.element_id, row.base_text_id)][row.id] = row.changed_ranges or {}
    pairs = [pair for members in groups.values() if len(members) > 1 for pair in diffing.competing_pairs(members)]
    _insert_pairs(pairs, connection)

    entries = {
        row.element_id: row
        for row in connection.execute(
            select(DraftEntry.__table__.c.element_id, DraftEntry.__table__.c.text_id, DraftEntry.__table__.c.is_removed)
        )
    }
    waiting = connection.execute(
        select(table.c.id, table.c.element_id, table.c.base_text_id, table.c.kind, table.c.title, table.c.body).where(
            table.c.status == ProposalStatus.OPEN.value
        )
    ).all()
    stale = [
        row for row in waiting
        if row.element_id in entries and row.base_text_id != entries[row.element_id].text_id and row.kind not in TEXTLESS_KINDS
    ]
    texts = _texts({row.base_text_id for row in stale} | {entries[row.element_id].text_id for row in stale}, connection)
    answers = []
    for row in waiting:
        entry = entries.get(row.element_id)
        if entry is None or entry.is_removed:
            answers.append({"pid": row.id, "tried": None, "clean": None})
        elif row.base_text_id == entry.text_id or row.kind in TEXTLESS_KINDS:
            answers.append({"pid": row.id, "tried": entry.text_id, "clean": True})
        else:
            clean = rebases_cleanly(texts[row.base_text_id], row, texts[entry.text_id])
            answers.append({"pid": row.id, "tried": entry.text_id, "clean": clean})
    _write_answers(connection, answers)


def _texts(ids: set[int], connection: Any = None) -> dict[int, Texts]:
    table = ElementText.__table__
    rows = (connection or db.session).execute(select(table.c.id, table.c.title, table.c.body).where(table.c.id.in_(ids))) if ids else []
    return {row.id: Texts(row.title, row.body) for row in rows}


def _insert_pairs(pairs: list[tuple[int, int]], connection: Any = None) -> None:
    """Both directions of each pair. A pair already there is left as it is: two rivals revised at
    the same moment both write their pair (on PostgreSQL neither sees the other's delete), and the
    second must not fail on the first's row."""
    rows = [{"proposal_id": a, "rival_id": b} for a, b in pairs] + [{"proposal_id": b, "rival_id": a} for a, b in pairs]
    target = connection or db.session
    dialect = (target.get_bind() if hasattr(target, "get_bind") else target).dialect.name  # a session or a connection
    statement = (postgresql_insert if dialect == "postgresql" else sqlite_insert)(ProposalRival.__table__).on_conflict_do_nothing()
    for start in range(0, len(rows), BATCH):
        target.execute(statement, rows[start : start + BATCH])


def _write_answers(connection: Any, answers: list[dict[str, Any]]) -> None:
    table = Proposal.__table__
    statement = (
        update(table)
        .where(table.c.id == bindparam("pid"))
        .values(rebase_tried_on_id=bindparam("tried"), rebase_clean=bindparam("clean"))
    )
    for start in range(0, len(answers), BATCH):
        connection.execute(statement, answers[start : start + BATCH])
