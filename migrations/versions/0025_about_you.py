"""About you (issue 17, item 3): on `users`, `responding_as` (individual or organisation, NULL until
the person says), `organisation` (its name) and `publish_as` (with their name, without it, or not at
all; "name" for everyone until they choose), with the index `published_by` reads.

Revision ID: 0025_about_you
Revises: 0024_codebook
"""
import sqlalchemy as sa
from alembic import op

revision = "0025_about_you"
down_revision = "0024_codebook"
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == "sqlite":
        # As in 0016: SQLite cannot add a constraint by a separate ALTER (and a batch copy of the
        # table would lose its search triggers), so the checks are inlined in their columns.
        op.execute(
            "ALTER TABLE users ADD COLUMN responding_as VARCHAR(12) CONSTRAINT ck_users_responding_as_known "
            "CHECK (responding_as IN ('individual', 'organisation'))"
        )
        op.add_column("users", sa.Column("organisation", sa.String(length=200), server_default="", nullable=False))
        op.execute(
            "ALTER TABLE users ADD COLUMN publish_as VARCHAR(12) DEFAULT 'name' NOT NULL CONSTRAINT "
            "ck_users_publish_as_known CHECK (publish_as IN ('name', 'anonymous', 'private'))"
        )
    else:
        op.add_column("users", sa.Column("responding_as", sa.String(length=12), nullable=True))
        op.add_column("users", sa.Column("organisation", sa.String(length=200), server_default="", nullable=False))
        op.add_column("users", sa.Column("publish_as", sa.String(length=12), server_default="name", nullable=False))
        op.create_check_constraint(
            op.f("ck_users_responding_as_known"), "users", "responding_as IN ('individual', 'organisation')"
        )
        op.create_check_constraint(
            op.f("ck_users_publish_as_known"), "users", "publish_as IN ('name', 'anonymous', 'private')"
        )
    op.create_index("ix_users_publish_as", "users", ["publish_as", "id"], unique=False)


def downgrade():
    op.drop_index("ix_users_publish_as", table_name="users")
    if op.get_bind().dialect.name != "sqlite":
        op.drop_constraint(op.f("ck_users_publish_as_known"), "users", type_="check")
        op.drop_constraint(op.f("ck_users_responding_as_known"), "users", type_="check")
    for column in ("publish_as", "organisation", "responding_as"):
        op.drop_column("users", column)
