"""Keep, with each proposal, which characters of its base text it changes (per field).

The facilitators' queue flags proposals that compete (change overlapping words of the same text).
Working that out from the texts took a word diff per open proposal: ~2 s for the first visit after
a restart with 7,000 open proposals. The ranges are now written with the proposal's text
(proposals.services.changed_ranges); this migration fills them in for existing proposals.

SQLite cannot add a NOT NULL column without a default, so there the column gets an empty-object
default that only the existing rows ever see before they are filled in; the application always
writes the ranges itself. No batch mode: rebuilding the table would drop its expression index.

Revision ID: 0007_keep_changed_ranges
Revises: 0006_index_votes_by_value
"""
import sqlalchemy as sa
from alembic import op

from workbench import diffing

revision = "0007_keep_changed_ranges"
down_revision = "0006_index_votes_by_value"
branch_labels = None
depends_on = None

BATCH = 500

proposals = sa.table(
    "proposals",
    sa.column("id", sa.Integer),
    sa.column("base_text_id", sa.Integer),
    sa.column("title", sa.String),
    sa.column("body", sa.Text),
    sa.column("changed_ranges", sa.JSON),
)
element_texts = sa.table("element_texts", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("body", sa.Text))


def _ranges(old: str, new: str) -> list[list[int]]:
    return [[start, end] for start, end in diffing.changed_ranges(old, new)]


def upgrade():
    connection = op.get_bind()
    sqlite = connection.dialect.name == "sqlite"
    op.add_column(
        "proposals",
        sa.Column("changed_ranges", sa.JSON(), nullable=not sqlite, server_default=sa.text("'{}'") if sqlite else None),
    )
    last = 0
    while True:
        rows = connection.execute(
            sa.select(proposals.c.id, proposals.c.title, proposals.c.body, element_texts.c.title.label("base_title"), element_texts.c.body.label("base_body"))
            .join(element_texts, element_texts.c.id == proposals.c.base_text_id)
            .where(proposals.c.id > last)
            .order_by(proposals.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            break
        connection.execute(
            proposals.update().where(proposals.c.id == sa.bindparam("pid")).values(changed_ranges=sa.bindparam("ranges")),
            [
                {"pid": row.id, "ranges": {"title": _ranges(row.base_title, row.title), "body": _ranges(row.base_body, row.body)}}
                for row in rows
            ],
        )
        last = rows[-1].id
    if not sqlite:
        op.alter_column("proposals", "changed_ranges", nullable=False)


def downgrade():
    op.drop_column("proposals", "changed_ranges")
