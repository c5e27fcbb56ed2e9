"""Guard immutable rows in the database: published versions, element texts and proposal revisions
refuse UPDATE and DELETE (the ORM refuses too; this catches anything that bypasses it).

SQLite batch migrations rebuild tables and drop their triggers: any later migration that touches one
of these tables must call create_guards() again (tests/test_migrations.py checks they exist).

Revision ID: 0002_guard_immutable_rows
Revises: 0001_domain_model
"""
from alembic import op

revision = "0002_guard_immutable_rows"
down_revision = "0001_domain_model"
branch_labels = None
depends_on = None

GUARDED = {
    "versions": "published versions are immutable",
    "element_texts": "element texts are immutable",
    "proposal_revisions": "proposal revisions are immutable",
}


def create_guards():
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(
            """
            CREATE OR REPLACE FUNCTION workbench_refuse_change() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION '%', TG_ARGV[0] USING ERRCODE = 'integrity_constraint_violation';
            END;
            $$ LANGUAGE plpgsql
            """
        )
    for table, message in GUARDED.items():
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_refuse_{action.lower()}"
            if dialect == "postgresql":
                op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION workbench_refuse_change('{message}')"
                )
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
                )


def drop_guards():
    dialect = op.get_bind().dialect.name
    for table in GUARDED:
        for action in ("update", "delete"):
            name = f"{table}_refuse_{action}"
            op.execute(f"DROP TRIGGER IF EXISTS {name}" + (f" ON {table}" if dialect == "postgresql" else ""))
    if dialect == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS workbench_refuse_change()")


def upgrade():
    create_guards()


def downgrade():
    drop_guards()
