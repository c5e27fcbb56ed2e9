"""Following and notifications (issue 15): `follows`, `notifications`, `email_choices`, and
`events_to_tell`, the jobs of the worker that tells people what happened.

Every audit event written from now on gets a row in `events_to_tell` in its own transaction; the
worker takes it, writes the notifications and mails, and removes it in one transaction. Events written
before this migration are not told (nobody followed anything then).

Revision ID: 0012_notifications
Revises: 0011_outgoing_mail
"""
import sqlalchemy as sa
from alembic import op

revision = "0012_notifications"
down_revision = "0011_outgoing_mail"
branch_labels = None
depends_on = None

UNREAD = sa.text("read_at IS NULL")
DIGEST_DUE = sa.text("digest_due")


def upgrade():
    op.create_table(
        "events_to_tell",
        sa.Column("audit_event_id", sa.Integer(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.ForeignKeyConstraint(
            ["audit_event_id"], ["audit_events.id"], name=op.f("fk_events_to_tell_audit_event_id_audit_events")
        ),
        sa.PrimaryKeyConstraint("audit_event_id", name=op.f("pk_events_to_tell")),
    )
    op.create_index("ix_events_to_tell_due", "events_to_tell", ["due_at", "audit_event_id"], unique=False)
    op.create_table(
        "follows",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("thing_type", sa.String(length=10), nullable=False),
        sa.Column("thing_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("thing_type IN ('vision', 'element', 'proposal')", name=op.f("ck_follows_thing_known")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_follows_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_follows")),
        sa.UniqueConstraint("user_id", "thing_type", "thing_id", name=op.f("uq_follows_user_id_thing_type_thing_id")),
    )
    op.create_index("ix_follows_thing", "follows", ["thing_type", "thing_id", "user_id"], unique=False)
    op.create_table(
        "notifications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("about_type", sa.String(length=20), nullable=False),
        sa.Column("about_id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=True),
        sa.Column("first_event_id", sa.Integer(), nullable=False),
        sa.Column("last_event_id", sa.Integer(), nullable=False),
        sa.Column("event_count", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("read_at", sa.DateTime(), nullable=True),
        sa.Column("mail_id", sa.Integer(), nullable=True),
        sa.Column("digest_due", sa.Boolean(), nullable=False),
        sa.CheckConstraint("event_count >= 1", name=op.f("ck_notifications_counts_events")),
        sa.ForeignKeyConstraint(
            ["first_event_id"], ["audit_events.id"], name=op.f("fk_notifications_first_event_id_audit_events")
        ),
        sa.ForeignKeyConstraint(
            ["last_event_id"], ["audit_events.id"], name=op.f("fk_notifications_last_event_id_audit_events")
        ),
        sa.ForeignKeyConstraint(["mail_id"], ["outgoing_mail.id"], name=op.f("fk_notifications_mail_id_outgoing_mail")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_notifications_user_id_users")),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_notifications_vision_id_visions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
    )
    op.create_index("ix_notifications_person", "notifications", ["user_id", "id"], unique=False)
    op.create_index(
        "ix_notifications_unread", "notifications", ["user_id", "kind", "about_type", "about_id"], unique=True,
        sqlite_where=UNREAD, postgresql_where=UNREAD,
    )
    op.create_index(
        "ix_notifications_unread_about", "notifications", ["about_type", "about_id", "kind"], unique=False,
        sqlite_where=UNREAD, postgresql_where=UNREAD,
    )
    op.create_index(
        "ix_notifications_digest_due", "notifications", ["user_id", "id"], unique=False,
        sqlite_where=DIGEST_DUE, postgresql_where=DIGEST_DUE,
    )
    op.create_table(
        "email_choices",
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=30), nullable=False),
        sa.Column("how", sa.String(length=12), nullable=False),
        sa.CheckConstraint("how IN ('immediately', 'daily', 'never')", name=op.f("ck_email_choices_how_known")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_email_choices_user_id_users")),
        sa.PrimaryKeyConstraint("user_id", "kind", name=op.f("pk_email_choices")),
    )


def downgrade():
    op.drop_table("email_choices")
    op.drop_index("ix_notifications_digest_due", table_name="notifications")
    op.drop_index("ix_notifications_unread_about", table_name="notifications")
    op.drop_index("ix_notifications_unread", table_name="notifications")
    op.drop_index("ix_notifications_person", table_name="notifications")
    op.drop_table("notifications")
    op.drop_index("ix_follows_thing", table_name="follows")
    op.drop_table("follows")
    op.drop_index("ix_events_to_tell_due", table_name="events_to_tell")
    op.drop_table("events_to_tell")
