"""A facilitator can be assigned an open proposal: `proposals.assignee_id` (nullable, users), indexed
for the queue's "assigned to" filter.

The column and its foreign key are added in place on both databases (SQLite accepts a REFERENCES
clause on a nullable new column, written by hand there): no batch mode, which would rebuild the
table and drop its expression index.

Revision ID: 0008_assign_proposals
Revises: 0007_keep_changed_ranges
"""
import sqlalchemy as sa
from alembic import op

revision = "0008_assign_proposals"
down_revision = "0007_keep_changed_ranges"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # Alembic would add the foreign key as a separate ALTER, which SQLite lacks: inline it.
        op.execute(
            "ALTER TABLE proposals ADD COLUMN assignee_id INTEGER "
            "CONSTRAINT fk_proposals_assignee_id_users REFERENCES users (id)"
        )
    else:
        op.add_column("proposals", sa.Column("assignee_id", sa.Integer(), nullable=True))
        op.create_foreign_key(op.f("fk_proposals_assignee_id_users"), "proposals", "users", ["assignee_id"], ["id"])
    op.create_index(op.f("ix_proposals_assignee_id"), "proposals", ["assignee_id"], unique=False)


def downgrade():
    op.drop_index(op.f("ix_proposals_assignee_id"), table_name="proposals")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_proposals_assignee_id_users"), "proposals", type_="foreignkey")
    op.drop_column("proposals", "assignee_id")
