"""Webinars (issue 17, item 5): `webinars`, their `webinar_registrations` (one per person and
webinar: registered, waiting or cancelled), and small text attachments on outgoing mail (the .ics
file of a registration).

Revision ID: 0015_webinars
Revises: 0014_verifiable_versions
"""
import sqlalchemy as sa
from alembic import op

revision = "0015_webinars"
down_revision = "0014_verifiable_versions"
branch_labels = None
depends_on = None


def upgrade():
    # NULL for the mail written before: it has none.
    op.add_column("outgoing_mail", sa.Column("attachments", sa.JSON(), nullable=True))
    op.create_table(
        "webinars",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column("starts_at", sa.DateTime(), nullable=False),
        sa.Column("ends_at", sa.DateTime(), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
        sa.Column("joining_link", sa.String(length=500), nullable=False),
        sa.Column("recording_link", sa.String(length=500), nullable=False),
        sa.Column("places_given", sa.Integer(), nullable=False),
        sa.Column("created_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("capacity > 0", name=op.f("ck_webinars_capacity_positive")),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_webinars_ends_after_start")),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_webinars_vision_id_visions")),
        sa.ForeignKeyConstraint(["created_by_id"], ["users.id"], name=op.f("fk_webinars_created_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webinars")),
    )
    op.create_index("ix_webinars_vision_starts", "webinars", ["vision_id", "starts_at", "id"], unique=False)
    op.create_table(
        "webinar_registrations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("webinar_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("place", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("joined_at", sa.DateTime(), nullable=False),
        sa.Column("registered_at", sa.DateTime(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(), nullable=True),
        sa.Column("reminded_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint(
            "state IN ('registered', 'waiting', 'cancelled')", name=op.f("ck_webinar_registrations_state_known")
        ),
        sa.ForeignKeyConstraint(
            ["webinar_id"], ["webinars.id"], name=op.f("fk_webinar_registrations_webinar_id_webinars")
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_webinar_registrations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webinar_registrations")),
        sa.UniqueConstraint("webinar_id", "user_id", name=op.f("uq_webinar_registrations_webinar_id_user_id")),
    )
    op.create_index(
        "ix_webinar_registrations_line", "webinar_registrations", ["webinar_id", "state", "place"], unique=False
    )
    op.create_index("ix_webinar_registrations_user", "webinar_registrations", ["user_id"], unique=False)


def downgrade():
    op.drop_index("ix_webinar_registrations_user", table_name="webinar_registrations")
    op.drop_index("ix_webinar_registrations_line", table_name="webinar_registrations")
    op.drop_table("webinar_registrations")
    op.drop_index("ix_webinars_vision_starts", table_name="webinars")
    op.drop_table("webinars")
    with op.batch_alter_table("outgoing_mail") as batch:
        batch.drop_column("attachments")
