"""Volunteers for the next stage (issue 17, item 4): `volunteer_interests` (one per person and vision:
interested or withdrawn, never deleted), the facilitators' `volunteer_invitations` to a working group
(`send_key` unique: a double submit sends nothing twice) and the `volunteer_invitees` each went to.

Revision ID: 0023_volunteers
Revises: 0022_version_documents
"""
import sqlalchemy as sa
from alembic import op

revision = "0023_volunteers"
down_revision = "0022_version_documents"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "volunteer_interests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=12), nullable=False),
        sa.Column("ambition_keys", sa.JSON(), nullable=False),
        sa.Column("skills", sa.Text(), nullable=False),
        sa.Column("availability", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.CheckConstraint("state IN ('interested', 'withdrawn')", name=op.f("ck_volunteer_interests_state_known")),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_volunteer_interests_vision_id_visions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_volunteer_interests_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_interests")),
        sa.UniqueConstraint("vision_id", "user_id", name=op.f("uq_volunteer_interests_vision_id_user_id")),
    )
    op.create_index(
        "ix_volunteer_interests_vision_state", "volunteer_interests", ["vision_id", "state", "created_at"], unique=False
    )
    op.create_index("ix_volunteer_interests_user", "volunteer_interests", ["user_id"], unique=False)
    op.create_table(
        "volunteer_invitations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("sent_by_id", sa.Integer(), nullable=True),
        sa.Column("send_key", sa.String(length=64), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_volunteer_invitations_vision_id_visions")),
        sa.ForeignKeyConstraint(["sent_by_id"], ["users.id"], name=op.f("fk_volunteer_invitations_sent_by_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_invitations")),
        sa.UniqueConstraint("send_key", name=op.f("uq_volunteer_invitations_send_key")),
    )
    op.create_index("ix_volunteer_invitations_vision", "volunteer_invitations", ["vision_id", "created_at"], unique=False)
    op.create_table(
        "volunteer_invitees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invitation_id", sa.Integer(), nullable=False),
        sa.Column("interest_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["invitation_id"], ["volunteer_invitations.id"],
            name=op.f("fk_volunteer_invitees_invitation_id_volunteer_invitations"),
        ),
        sa.ForeignKeyConstraint(
            ["interest_id"], ["volunteer_interests.id"], name=op.f("fk_volunteer_invitees_interest_id_volunteer_interests")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_volunteer_invitees")),
        sa.UniqueConstraint(
            "invitation_id", "interest_id", name=op.f("uq_volunteer_invitees_invitation_id_interest_id")
        ),
    )
    op.create_index("ix_volunteer_invitees_interest", "volunteer_invitees", ["interest_id"], unique=False)


def downgrade():
    op.drop_index("ix_volunteer_invitees_interest", table_name="volunteer_invitees")
    op.drop_table("volunteer_invitees")
    op.drop_index("ix_volunteer_invitations_vision", table_name="volunteer_invitations")
    op.drop_table("volunteer_invitations")
    op.drop_index("ix_volunteer_interests_user", table_name="volunteer_interests")
    op.drop_index("ix_volunteer_interests_vision_state", table_name="volunteer_interests")
    op.drop_table("volunteer_interests")
