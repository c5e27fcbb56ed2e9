"""Every test starts on an empty database whose ids restart at 1, whatever the test before it wrote.

On SQLite each test gets a fresh copy of the migrated file; on PostgreSQL one database serves the
whole run and conftest.empty_all_tables() empties it after each test. The rows written here are the
hard ones to clear: a published version and its texts, which the database's guards refuse to change
or truncate (migrations 0002 and 0014), and counts that only triggers write (`participants`,
`contribution_counts`, `vision_totals`, migrations 0028 and 0030).
"""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from workbench.extensions import db

from .conftest import empty_all_tables
from .factories import add_comment, open_proposal

WRITTEN_BY_THE_APP = ("users", "visions", "versions", "element_texts", "proposals", "comments")
WRITTEN_BY_TRIGGERS = ("participants", "contribution_counts", "vision_totals")


def rows_per_table() -> dict[str, int]:
    with db.engine.connect() as connection:
        return {
            table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
            for table in db.metadata.sorted_tables
        }


def first_ids() -> dict[str, int]:
    """The smallest id of each table that has an `id` column and holds rows."""
    with db.engine.connect() as connection:
        found = {
            table.name: connection.execute(select(func.min(table.c.id))).scalar()
            for table in db.metadata.sorted_tables
            if "id" in table.c
        }
    return {name: first for name, first in found.items() if first is not None}


def write_a_consultation(make_vision, make_user) -> None:
    """A published vision, a proposal and a comment on it: rows in the guarded tables and in the
    tables the triggers keep."""
    vision = make_vision()
    proposal = open_proposal(vision, make_user(name="Alice Author"))
    add_comment(proposal, make_user(name="Carol Commenter"))
    db.session.remove()


def assert_written(held: dict[str, int]) -> None:
    assert all(held[name] > 0 for name in WRITTEN_BY_THE_APP + WRITTEN_BY_TRIGGERS), held


# The next two run in this order (pytest keeps a module's order): the second sees what the first left.


def test_a_test_writes_published_versions_and_counts_kept_by_triggers(make_vision, make_user) -> None:
    write_a_consultation(make_vision, make_user)
    assert_written(rows_per_table())


def test_the_next_test_starts_with_every_table_empty_and_its_ids_at_1(make_vision, make_user) -> None:
    assert {name: count for name, count in rows_per_table().items() if count} == {}
    write_a_consultation(make_vision, make_user)
    assert set(first_ids().values()) == {1}


def test_emptying_the_postgresql_database_clears_guarded_and_trigger_kept_rows(app, make_vision, make_user) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("SQLite copies a fresh file for each test: nothing to empty")
    write_a_consultation(make_vision, make_user)
    assert_written(rows_per_table())

    empty_all_tables()

    assert {name: count for name, count in rows_per_table().items() if count} == {}
    with db.engine.connect() as connection:
        moved = connection.execute(text("SELECT sequencename FROM pg_sequences WHERE last_value IS NOT NULL")).scalars()
        assert list(moved) == []
    # The guards and the triggers are back for what follows: emptying switched them off for itself only.
    write_a_consultation(make_vision, make_user)
    assert_written(rows_per_table())
    assert set(first_ids().values()) == {1}
    with db.engine.begin() as connection, pytest.raises(DBAPIError, match="published versions are immutable"):
        connection.execute(text("UPDATE versions SET number = number"))
