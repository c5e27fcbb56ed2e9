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

Both are filled in here for existing rows (`facilitation.kept_flags.keep_every_flag`). As in
0016, SQLite gets the new foreign key inline (a batch copy of the table would lose its expression
indexes).

Revision ID: 0017_keep_competition
Revises: 0016_proposals_that_move
"""
import sqlalchemy as sa
from alembic import op

revision = "0017_keep_competition"
down_revision = "0016_proposals_that_move"
branch_labels = None
depends_on = None


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

    from workbench.facilitation.kept_flags import keep_every_flag

    keep_every_flag(op.get_bind())


def downgrade():
    for name in ("ix_proposals_kept_rebase", "ix_proposals_target_parent", "ix_proposals_rebase_failed"):
        op.drop_index(name, table_name="proposals")
    op.drop_column("proposals", "rebase_clean")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_proposals_rebase_tried_on_id_element_texts"), "proposals", type_="foreignkey")
    op.drop_column("proposals", "rebase_tried_on_id")
    op.drop_index("ix_proposal_rivals_rival", table_name="proposal_rivals")
    op.drop_table("proposal_rivals")
