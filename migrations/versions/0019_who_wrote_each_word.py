"""Who wrote each word (issue 18, item 1): `version_provenance` (one row per published version: the
spans of each element's words, credited to the first draft, a proposal, a facilitator's change at
acceptance or a direct edit) and `version_words` (how many words of each element a person wrote in
it, for "your words in version 3"). Both are written when a version is published and are immutable
like it: the database refuses UPDATE and DELETE (as 0002 does for versions), and, as 0014 does,
SQLite's INSERT OR REPLACE of a row that exists (a BEFORE INSERT guard) and PostgreSQL's TRUNCATE.

Versions published before this migration are filled in here, oldest first, from the chain of
element texts (workbench/history/who_wrote.py, the code that runs at publish): what a version says,
its hashes and signature are not touched.

Revision ID: 0019_who_wrote_each_word
Revises: 0018_proposals_that_add
"""
import sqlalchemy as sa
from alembic import op

revision = "0019_who_wrote_each_word"
down_revision = "0018_proposals_that_add"
branch_labels = None
depends_on = None

# Table: (message, the columns of each key that identifies a row).
GUARDED = {
    "version_provenance": ("who wrote each word of a published version is immutable", (("id",), ("version_id",))),
    "version_words": (
        "who wrote each word of a published version is immutable",
        (("version_id", "user_id", "element_key"),),
    ),
}


def create_guards():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (message, keys) in GUARDED.items():
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_refuse_{action.lower()}"
            if postgresql:  # workbench_refuse_change() comes from migration 0002
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION workbench_refuse_change('{message}')"
                )
            else:
                op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION workbench_refuse_change('{message}')"
            )
        else:
            taken = " OR ".join(
                "(" + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys
            )
            op.execute(
                f"CREATE TRIGGER {table}_refuse_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {taken}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_guards():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in GUARDED:
        for action in ("update", "delete", "truncate", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_{action}" + (f" ON {table}" if postgresql else ""))


def fill_in_published_versions():
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM versions ORDER BY vision_id, number")).scalars().all()
    if not ids:
        return
    # The code that records provenance at publish, so that old and new versions agree.
    from workbench.history.who_wrote import record_provenance

    for version_id in ids:
        record_provenance(version_id, bind)


def upgrade():
    op.create_table(
        "version_provenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("spans", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name=op.f("fk_version_provenance_version_id_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_provenance")),
        sa.UniqueConstraint("version_id", name=op.f("uq_version_provenance_version_id")),
    )
    op.create_table(
        "version_words",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("element_key", sa.String(length=40), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name=op.f("fk_version_words_version_id_versions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_version_words_user_id_users")),
        sa.PrimaryKeyConstraint("version_id", "user_id", "element_key", name=op.f("pk_version_words")),
    )
    op.create_index("ix_version_words_person", "version_words", ["user_id", "version_id"], unique=False)
    fill_in_published_versions()
    create_guards()


def downgrade():
    drop_guards()
    op.drop_index("ix_version_words_person", table_name="version_words")
    op.drop_table("version_words")
    op.drop_table("version_provenance")
