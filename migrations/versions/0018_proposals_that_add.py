"""Proposals that add an element (issue 16): the kind of the new element a proposal of the kind
"add" would create (`new_element_kind`: ambition, objective or condition). Its title and body are
the proposal's own (and its revisions'); where it goes is `target_parent_id` / `target_position`
(migration 0016). NULL for every other kind.

A plain nullable column: added by ALTER TABLE on both databases (no batch copy of the table, which
on SQLite would lose its expression indexes).

Revision ID: 0018_proposals_that_add
Revises: 0017_keep_competition
"""
import sqlalchemy as sa
from alembic import op

revision = "0018_proposals_that_add"
down_revision = "0017_keep_competition"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column("proposals", sa.Column("new_element_kind", sa.String(length=20), nullable=True))


def downgrade():
    op.drop_column("proposals", "new_element_kind")
