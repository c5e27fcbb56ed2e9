"""The schema comes only from migrations; they match the models and keep the immutability guards."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from workbench.models import db

GUARDS = {
    f"{table}_refuse_{action}"
    for table in ("versions", "element_texts", "proposal_revisions")
    for action in ("update", "delete")
}


def test_migrations_and_models_agree(app) -> None:
    # `app` runs on a database built by `flask db upgrade` (see conftest.migrated_template).
    with db.engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), db.metadata)
    assert differences == []


def test_the_guard_triggers_exist_after_upgrade(app) -> None:
    with db.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            names = set(connection.execute(text("SELECT name FROM sqlite_master WHERE type = 'trigger'")).scalars())
        else:
            names = set(connection.execute(text("SELECT tgname FROM pg_trigger WHERE NOT tgisinternal")).scalars())
    assert GUARDS <= names


def test_every_model_table_exists(app) -> None:
    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
