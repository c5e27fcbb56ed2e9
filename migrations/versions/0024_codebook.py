"""Coding responses (issue 14, item 2): a vision's codebook `tags` (unique per vision by the name
folded for case, `name_key`; a merged tag is kept, with `merged_into_id`, its key cleared) and the
links `proposal_tags` and `comment_tags` (one per tag and item).

Revision ID: 0024_codebook
Revises: 0023_volunteers
"""
import sqlalchemy as sa
from alembic import op

revision = "0024_codebook"
down_revision = "0023_volunteers"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "tags",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("name_key", sa.String(length=180), nullable=True),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("merged_into_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("state IN ('active', 'merged')", name=op.f("ck_tags_state_known")),
        sa.CheckConstraint("(state = 'merged') = (merged_into_id IS NOT NULL)", name=op.f("ck_tags_merged_has_target")),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_tags_vision_id_visions")),
        sa.ForeignKeyConstraint(["merged_into_id"], ["tags.id"], name=op.f("fk_tags_merged_into_id_tags")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_tags_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tags")),
        sa.UniqueConstraint("vision_id", "name_key", name=op.f("uq_tags_vision_id_name_key")),
    )
    for table, item, items in (("proposal_tags", "proposal_id", "proposals"), ("comment_tags", "comment_id", "comments")):
        op.create_table(
            table,
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("tag_id", sa.Integer(), nullable=False),
            sa.Column(item, sa.Integer(), nullable=False),
            sa.Column("tagged_by_id", sa.Integer(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f(f"fk_{table}_tag_id_tags")),
            sa.ForeignKeyConstraint([item], [f"{items}.id"], name=op.f(f"fk_{table}_{item}_{items}")),
            sa.ForeignKeyConstraint(["tagged_by_id"], ["users.id"], name=op.f(f"fk_{table}_tagged_by_id_users")),
            sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{table}")),
            sa.UniqueConstraint("tag_id", item, name=op.f(f"uq_{table}_tag_id_{item}")),
        )
        op.create_index(f"ix_{table}_{item.split('_')[0]}", table, [item, "tag_id"], unique=False)


def downgrade():
    op.drop_index("ix_comment_tags_comment", table_name="comment_tags")
    op.drop_table("comment_tags")
    op.drop_index("ix_proposal_tags_proposal", table_name="proposal_tags")
    op.drop_table("proposal_tags")
    op.drop_table("tags")
