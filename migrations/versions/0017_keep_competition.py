"""Keep the queue's "Competing" and "Conflicted" as they change (issue 13's budget at three times
the large scale): filtering on them swept every open proposal's changed ranges, and rebased every
stale one, on each request.

- `proposal_rivals`: every pair of proposals (both directions) written against the same text of
  one element whose changed ranges overlap. Status and visibility are not part of a pair: the
  queue reads them with it.
- `proposals.rebase_tried_on_id` and `proposals.rebase_clean`: the working text an open
  proposal's latest revision was last strictly rebased onto, and whether that was clean; indexed
  so that the few conflicted ones, and any rebase not kept for the working text, are found without
  reading every open proposal.

Both are filled in here for existing rows, as `facilitation.kept_flags.keep_every_flag` did when
this was written: the tables and that logic are written out below, so that this migration keeps
working however the application changes; it uses only the pure `workbench.diffing` (no Flask, no
database), as 0007 does. As in 0016, SQLite gets the new foreign key inline (a batch copy of the
table would lose its expression indexes).

Revision ID: 0017_keep_competition
Revises: 0016_proposals_that_move
"""
from collections import defaultdict

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from workbench import diffing

revision = "0017_keep_competition"
down_revision = "0016_proposals_that_move"
branch_labels = None
depends_on = None

# Pairs and rebase answers are written this many rows to a statement.
BATCH = 1000

# Kinds whose words are not a change of their base text: they never conflict with it.
TEXTLESS_KINDS = ("remove", "add")

proposals = sa.table(
    "proposals",
    sa.column("id", sa.Integer),
    sa.column("element_id", sa.Integer),
    sa.column("base_text_id", sa.Integer),
    sa.column("status", sa.String),
    sa.column("kind", sa.String),
    sa.column("title", sa.String),
    sa.column("body", sa.Text),
    sa.column("changed_ranges", sa.JSON),
    sa.column("rebase_tried_on_id", sa.Integer),
    sa.column("rebase_clean", sa.Boolean),
)
proposal_rivals = sa.table("proposal_rivals", sa.column("proposal_id", sa.Integer), sa.column("rival_id", sa.Integer))
draft_entries = sa.table(
    "draft_entries", sa.column("element_id", sa.Integer), sa.column("text_id", sa.Integer), sa.column("is_removed", sa.Boolean)
)
element_texts = sa.table("element_texts", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("body", sa.Text))


def upgrade():
    op.create_table(
        "proposal_rivals",
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("rival_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["proposal_id"], ["proposals.id"], name=op.f("fk_proposal_rivals_proposal_id_proposals")),
        sa.ForeignKeyConstraint(["rival_id"], ["proposals.id"], name=op.f("fk_proposal_rivals_rival_id_proposals")),
        sa.PrimaryKeyConstraint("proposal_id", "rival_id", name=op.f("pk_proposal_rivals")),
    )
    op.create_index("ix_proposal_rivals_rival", "proposal_rivals", ["rival_id", "proposal_id"])
    if op.get_bind().dialect.name == "sqlite":
        op.execute(
            "ALTER TABLE proposals ADD COLUMN rebase_tried_on_id INTEGER "
            "CONSTRAINT fk_proposals_rebase_tried_on_id_element_texts REFERENCES element_texts (id)"
        )
    else:
        op.add_column("proposals", sa.Column("rebase_tried_on_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_proposals_rebase_tried_on_id_element_texts"), "proposals", "element_texts", ["rebase_tried_on_id"], ["id"]
        )
    op.add_column("proposals", sa.Column("rebase_clean", sa.Boolean(), nullable=True))
    op.create_index("ix_proposals_rebase_failed", "proposals", ["rebase_clean", "vision_id", "status"])
    op.create_index("ix_proposals_target_parent", "proposals", ["target_parent_id", "status"])
    op.create_index("ix_proposals_kept_rebase", "proposals", ["element_id", "status", "rebase_tried_on_id", "rebase_clean", "base_text_id"])
    keep_every_flag(op.get_bind())


def keep_every_flag(connection):
    """Every competing pair (proposals on one element and text whose changed ranges overlap), and
    every open proposal's strict rebase onto its element's working text."""
    groups = defaultdict(dict)
    for row in connection.execute(sa.select(proposals.c.id, proposals.c.element_id, proposals.c.base_text_id, proposals.c.changed_ranges)):
        groups[(row.element_id, row.base_text_id)][row.id] = row.changed_ranges or {}
    pairs = [pair for members in groups.values() if len(members) > 1 for pair in diffing.competing_pairs(members)]
    rows = [{"proposal_id": a, "rival_id": b} for a, b in pairs] + [{"proposal_id": b, "rival_id": a} for a, b in pairs]
    insert = (postgresql_insert if connection.dialect.name == "postgresql" else sqlite_insert)(proposal_rivals)
    for start in range(0, len(rows), BATCH):
        connection.execute(insert.on_conflict_do_nothing(), rows[start : start + BATCH])

    entries = {row.element_id: row for row in connection.execute(sa.select(draft_entries))}
    waiting = connection.execute(
        sa.select(proposals.c.id, proposals.c.element_id, proposals.c.base_text_id, proposals.c.kind, proposals.c.title, proposals.c.body)
        .where(proposals.c.status == "open")
    ).all()
    stale = [
        row for row in waiting
        if row.element_id in entries and row.base_text_id != entries[row.element_id].text_id and row.kind not in TEXTLESS_KINDS
    ]
    ids = {row.base_text_id for row in stale} | {entries[row.element_id].text_id for row in stale}
    texts = {row.id: row for row in connection.execute(sa.select(element_texts).where(element_texts.c.id.in_(ids)))} if ids else {}
    answers = []
    for row in waiting:
        entry = entries.get(row.element_id)
        if entry is None or entry.is_removed:
            answers.append({"pid": row.id, "tried": None, "clean": None})
        elif row.base_text_id == entry.text_id or row.kind in TEXTLESS_KINDS:
            answers.append({"pid": row.id, "tried": entry.text_id, "clean": True})
        else:
            base, current = texts[row.base_text_id], texts[entry.text_id]
            clean = diffing.rebase(base.title, row.title, current.title).ok and diffing.rebase(base.body, row.body, current.body).ok
            answers.append({"pid": row.id, "tried": entry.text_id, "clean": clean})
    update = (
        proposals.update()
        .where(proposals.c.id == sa.bindparam("pid"))
        .values(rebase_tried_on_id=sa.bindparam("tried"), rebase_clean=sa.bindparam("clean"))
    )
    for start in range(0, len(answers), BATCH):
        connection.execute(update, answers[start : start + BATCH])


def downgrade():
    for name in ("ix_proposals_kept_rebase", "ix_proposals_target_parent", "ix_proposals_rebase_failed"):
        op.drop_index(name, table_name="proposals")
    op.drop_column("proposals", "rebase_clean")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_proposals_rebase_tried_on_id_element_texts"), "proposals", type_="foreignkey")
    op.drop_column("proposals", "rebase_tried_on_id")
    op.drop_index("ix_proposal_rivals_rival", table_name="proposal_rivals")
    op.drop_table("proposal_rivals")
