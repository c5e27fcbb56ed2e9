"""Mail waiting to be delivered: the table `outgoing_mail` (issue 15, the transactional outbox).

A mail is written in the same transaction as the change it tells of and delivered by the mail worker
after the commit (workbench/outbox.py); rows are never deleted. The partial index holds only the
mail not sent, by state and time: what the worker reads to find due mail, as small as the queue
however many mails were sent.

Revision ID: 0011_outgoing_mail
Revises: 0010_index_the_queue
"""
import sqlalchemy as sa
from alembic import op

revision = "0011_outgoing_mail"
down_revision = "0010_index_the_queue"
branch_labels = None
depends_on = None

UNSENT = sa.text("sent_at IS NULL")


def upgrade():
    op.create_table(
        "outgoing_mail",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("message_id", sa.String(length=255), nullable=False),
        sa.Column("recipient", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("headers", sa.JSON(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("send_after", sa.DateTime(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=300), nullable=True),
        sa.Column("state", sa.String(length=10), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('waiting', 'sent', 'failed', 'withheld')", name=op.f("ck_outgoing_mail_state_known")),
        sa.CheckConstraint("(state = 'sent') = (sent_at IS NOT NULL)", name=op.f("ck_outgoing_mail_sent_at_when_sent")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_outgoing_mail_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outgoing_mail")),
        sa.UniqueConstraint("message_id", name=op.f("uq_outgoing_mail_message_id")),
    )
    op.create_index(
        "ix_outgoing_mail_unsent", "outgoing_mail", ["state", "send_after", "id"], unique=False,
        sqlite_where=UNSENT, postgresql_where=UNSENT,
    )


def downgrade():
    op.drop_index("ix_outgoing_mail_unsent", table_name="outgoing_mail")
    op.drop_table("outgoing_mail")
