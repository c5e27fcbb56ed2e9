"""Published themes (issue 14, item 5): `tags.published_at`, when a facilitator published the tag
as a theme (its name and counts in the public consultation reports); NULL while it is private. Only
an active tag can be published (check `ck_tags_published_only_active`): merging clears it.

Revision ID: 0029_published_themes
Revises: 0028_faster_counts
"""
import sqlalchemy as sa
from alembic import op

revision = "0029_published_themes"
down_revision = "0028_faster_counts"
branch_labels = None
depends_on = None

ONLY_ACTIVE = "published_at IS NULL OR state = 'active'"


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # As in 0025: SQLite cannot add a constraint by a separate ALTER (and a batch copy of the
        # table would drop the triggers that refer to it), so the check is inlined in the column.
        op.execute(f"ALTER TABLE tags ADD COLUMN published_at DATETIME CONSTRAINT ck_tags_published_only_active CHECK ({ONLY_ACTIVE})")
    else:
        op.add_column("tags", sa.Column("published_at", sa.DateTime(), nullable=True))
        op.create_check_constraint(op.f("ck_tags_published_only_active"), "tags", ONLY_ACTIVE)


def downgrade():
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_tags_published_only_active"), "tags", type_="check")
    op.drop_column("tags", "published_at")
