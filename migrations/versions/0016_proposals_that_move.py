"""Proposals that move an element (issue 16, step 3): the ambition a proposal of the kind "move"
would put its element under (`target_parent_id`, NULL for an ambition, which sits at the top
level) and its position there (`target_position`). NULL for every other kind.

Revision ID: 0016_proposals_that_move
Revises: 0015_webinars
"""
import sqlalchemy as sa
from alembic import op

revision = "0016_proposals_that_move"
down_revision = "0015_webinars"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # As in 0008: SQLite cannot add a foreign key by a separate ALTER (and a batch copy of the
        # table would lose its expression indexes), so the constraint is inlined.
        op.execute(
            "ALTER TABLE proposals ADD COLUMN target_parent_id INTEGER "
            "CONSTRAINT fk_proposals_target_parent_id_elements REFERENCES elements (id)"
        )
    else:
        op.add_column("proposals", sa.Column("target_parent_id", sa.Integer(), nullable=True))
        op.create_foreign_key(
            op.f("fk_proposals_target_parent_id_elements"), "proposals", "elements", ["target_parent_id"], ["id"]
        )
    op.add_column("proposals", sa.Column("target_position", sa.Integer(), nullable=True))


def downgrade():
    op.drop_column("proposals", "target_position")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("fk_proposals_target_parent_id_elements"), "proposals", type_="foreignkey")
    op.drop_column("proposals", "target_parent_id")
