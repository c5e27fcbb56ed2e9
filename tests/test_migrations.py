"""The schema comes only from migrations; they match the models and keep the immutability guards."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workbench.models import EXPRESSION_INDEXES, db, schema_compared

from .conftest import schema_names

GUARDS = {
    f"{table}_refuse_{action}"
    for table in ("versions", "element_texts", "proposal_revisions")
    for action in ("update", "delete")
}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based index")
def test_migrations_and_models_agree(app) -> None:
    # `app` runs on a database built by `flask db upgrade` (see conftest.migrated_template).
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": schema_compared})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_expression_indexes_exist_after_upgrade(app) -> None:
    # Left out of the comparison above (autogenerate cannot compare them), so checked by name.
    assert EXPRESSION_INDEXES and EXPRESSION_INDEXES <= schema_names("index")


def test_the_guard_triggers_exist_after_upgrade(app) -> None:
    assert GUARDS <= schema_names("trigger")


def test_every_model_table_exists(app) -> None:
    assert set(db.metadata.tables) <= set(inspect(db.engine).get_table_names())
