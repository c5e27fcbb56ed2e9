"""Responding in one guided journey (issue 17, item 2): `consultation_responses`, a person's response
to a vision: a draft in progress (at most one per person and vision: a partial unique index) or
submitted, with its unique reference number and the ids of the reflections, aligned work and offer
to help it made.

Revision ID: 0026_response_drafts
Revises: 0025_about_you
"""
import sqlalchemy as sa
from alembic import op

revision = "0026_response_drafts"
down_revision = "0025_about_you"
branch_labels = None
depends_on = None

IN_PROGRESS = sa.text("state = 'in_progress'")


def upgrade():
    op.create_table(
        "consultation_responses",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("asks_about_you", sa.Boolean(), nullable=False),
        sa.Column("answers", sa.JSON(), nullable=False),
        sa.Column("last_step", sa.String(length=20), nullable=False),
        sa.Column("reference", sa.String(length=12), nullable=True),
        sa.Column("made", sa.JSON(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('in_progress', 'submitted')", name=op.f("ck_consultation_responses_state_known")),
        sa.CheckConstraint(
            "(state = 'submitted') = (reference IS NOT NULL)",
            name=op.f("ck_consultation_responses_reference_when_submitted"),
        ),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_consultation_responses_vision_id_visions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_consultation_responses_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consultation_responses")),
        sa.UniqueConstraint("reference", name=op.f("uq_consultation_responses_reference")),
    )
    op.create_index(
        "ix_consultation_responses_one_in_progress", "consultation_responses", ["vision_id", "user_id"], unique=True,
        sqlite_where=IN_PROGRESS, postgresql_where=IN_PROGRESS,
    )
    op.create_index(
        "ix_consultation_responses_user", "consultation_responses", ["user_id", "vision_id", "created_at"], unique=False
    )


def downgrade():
    op.drop_index("ix_consultation_responses_user", table_name="consultation_responses")
    op.drop_index("ix_consultation_responses_one_in_progress", table_name="consultation_responses")
    op.drop_table("consultation_responses")
