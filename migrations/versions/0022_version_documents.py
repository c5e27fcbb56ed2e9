"""Word and PDF files of published versions (issue 17, item 6): `version_documents`, one row per
version and format, written once when first asked for and never changed (the same bytes forever,
like the permalink). The database refuses UPDATE and DELETE, as for the versions themselves.

Revision ID: 0022_version_documents
Revises: 0021_search
"""
import sqlalchemy as sa
from alembic import op

revision = "0022_version_documents"
down_revision = "0021_search"
branch_labels = None
depends_on = None

MESSAGE = "version documents are written once"


def upgrade():
    op.create_table(
        "version_documents",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("format IN ('docx', 'pdf')", name=op.f("ck_version_documents_format_known")),
        sa.ForeignKeyConstraint(
            ["version_id"], ["versions.id"], name=op.f("fk_version_documents_version_id_versions")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_documents")),
        sa.UniqueConstraint("version_id", "format", name=op.f("uq_version_documents_version_id_format")),
    )
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("UPDATE", "DELETE"):
        name = f"version_documents_refuse_{action.lower()}"
        if postgresql:  # workbench_refuse_change() comes from migration 0002
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON version_documents "
                f"FOR EACH ROW EXECUTE FUNCTION workbench_refuse_change('{MESSAGE}')"
            )
        else:
            op.execute(
                f"CREATE TRIGGER {name} BEFORE {action} ON version_documents "
                f"BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END"
            )


def downgrade():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for action in ("update", "delete"):
        name = f"version_documents_refuse_{action}"
        op.execute(f"DROP TRIGGER IF EXISTS {name}" + (" ON version_documents" if postgresql else ""))
    op.drop_table("version_documents")
