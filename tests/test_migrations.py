"""The schema comes only from migrations; they match the models and keep the immutability guards."""

from __future__ import annotations

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from workbench.models import EXPRESSION_INDEXES, db, schema_compared

from .conftest import schema_names
from .factories import entry_of, open_proposal

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


def test_migration_0007_fills_in_the_changed_ranges_of_existing_proposals(app, make_vision, make_user) -> None:
    # Back to the schema before 0007 and up again: existing proposals get the ranges the app writes.
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select

    from workbench.models import Proposal

    vision = make_vision()
    author = make_user()
    base = entry_of(vision, "objective-1").text
    written = {
        open_proposal(vision, author, "objective-1", body, title=title, rationale="Why.").id: None
        for title, body in [(base.title, base.body + " More."), ("A new title", "Objective 1.1, edited body.")]
    }
    db.session.commit()
    for proposal_id in written:
        written[proposal_id] = db.session.get(Proposal, proposal_id).changed_ranges
    db.session.remove()
    try:
        downgrade(revision="0006_index_votes_by_value")
        assert "changed_ranges" not in {c["name"] for c in inspect(db.engine).get_columns("proposals")}
    finally:
        upgrade()
    filled = dict(db.session.execute(select(Proposal.id, Proposal.changed_ranges)).all())
    assert filled == written
    assert written[min(written)] == {"title": [], "body": [[19, 19]]}
    assert not next(c for c in inspect(db.engine).get_columns("proposals") if c["name"] == "changed_ranges")["nullable"]
