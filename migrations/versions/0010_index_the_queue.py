"""Index the facilitators' queue at a national consultation's size (issue 13), and the words of
every proposal for the queue's search.

- Proposals by status with `hidden_at` beside it, ending in each order's columns: by vision (the
  "waiting longest" and "newest" orders; replaces `ix_proposals_vision_status_created`), by vision
  and support ("most support"), by element (replaces `ix_proposals_element_status`) and the groups
  the competing check reads (element and base text, then id and revision). The first two end in
  the columns the queue's filters read. A page, or a count, of the open, visible proposals reads
  one of them alone, never the proposals' rows.
- Assigned proposals (`assignee_id IS NOT NULL`, partial): most are assigned to nobody, and SQLite's
  planner shuns an index whose entries are mostly NULL.
- Facilitators and administrators by name (partial): whom a proposal can be assigned to, a few
  among all the accounts, which the planner's statistics cannot tell apart by role.
- Display names with their deleted mark and id: finding authors by part of their name reads this
  narrow index, not every account's row.
- The words of each proposal's title, text and rationale (workbench/word_search.py): on SQLite an
  FTS5 table `proposal_words` over `proposals` (external content: the words are indexed, the text
  stays in `proposals`), filled from the existing rows and kept in step by triggers on insert, on
  an update of those three columns (never on a vote, which changes only the tallies) and on delete;
  on PostgreSQL a generated column `search_words`, the `tsvector` of the same columns (the
  `simple` configuration), and a GIN index on it. Stored rather than an expression index, as
  migration 0009 does for accounts: the planner then has statistics of the words (an expression
  index has none, and it guessed 600 matches where 19,000 were), and a row is tested without
  computing its vector again (~16 µs a row).

Plain CREATE INDEX (no batch mode): SQLite does not rebuild the table, so its triggers stay.

Revision ID: 0010_index_the_queue
Revises: 0009_search_accounts
"""
import sqlalchemy as sa
from alembic import op

revision = "0010_index_the_queue"
down_revision = "0009_search_accounts"
branch_labels = None
depends_on = None

# The columns the queue's filters read, at the end of its two main indexes: counting what a filter
# keeps reads the index alone.
FILTERED = ["element_id", "base_text_id", "author_id", "assignee_id"]
PROPOSAL_INDEXES = (
    ("ix_proposals_vision_status", ["vision_id", "status", "hidden_at", "created_at", "id", *FILTERED]),
    (
        "ix_proposals_vision_status_support",
        ["vision_id", "status", "hidden_at", sa.text("support_count DESC"), "created_at", "id", *FILTERED],
    ),
    ("ix_proposals_rivals", ["element_id", "base_text_id", "status", "hidden_at", "id", "revision_count"]),
)
ASSIGNED = sa.text("assignee_id IS NOT NULL")
STAFF = sa.text("role IN ('facilitator', 'admin')")
DOCUMENT = "to_tsvector('simple'::regconfig, title || ' ' || body || ' ' || rationale)"


def upgrade():
    op.drop_index("ix_proposals_vision_status_created", table_name="proposals")
    op.drop_index("ix_proposals_element_status", table_name="proposals")
    op.create_index(
        "ix_proposals_element_status", "proposals", ["element_id", "status", "hidden_at", "created_at", "id"], unique=False
    )
    for name, columns in PROPOSAL_INDEXES:
        op.create_index(name, "proposals", columns, unique=False)
    op.create_index(
        "ix_proposals_assigned", "proposals", ["assignee_id", "status", "hidden_at", "created_at", "id"], unique=False,
        sqlite_where=ASSIGNED, postgresql_where=ASSIGNED,
    )
    op.create_index("ix_users_staff_by_name", "users", ["display_name", "id"], unique=False, sqlite_where=STAFF, postgresql_where=STAFF)
    op.create_index("ix_users_display_name", "users", ["display_name", "is_deleted", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE proposals ADD COLUMN search_words tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED")
        op.execute("CREATE INDEX ix_proposals_search_words ON proposals USING gin (search_words)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE proposal_words USING fts5(title, body, rationale, content='proposals', "
        "content_rowid='id', tokenize='unicode61 remove_diacritics 0')"
    )
    op.execute("INSERT INTO proposal_words(proposal_words) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER proposal_words_insert AFTER INSERT ON proposals BEGIN "
        "INSERT INTO proposal_words(rowid, title, body, rationale) VALUES (new.id, new.title, new.body, new.rationale); END"
    )
    op.execute(
        "CREATE TRIGGER proposal_words_update AFTER UPDATE OF title, body, rationale ON proposals BEGIN "
        "INSERT INTO proposal_words(proposal_words, rowid, title, body, rationale) "
        "VALUES ('delete', old.id, old.title, old.body, old.rationale); "
        "INSERT INTO proposal_words(rowid, title, body, rationale) VALUES (new.id, new.title, new.body, new.rationale); END"
    )
    op.execute(
        "CREATE TRIGGER proposal_words_delete AFTER DELETE ON proposals BEGIN "
        "INSERT INTO proposal_words(proposal_words, rowid, title, body, rationale) "
        "VALUES ('delete', old.id, old.title, old.body, old.rationale); END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_proposals_search_words")
        op.execute("ALTER TABLE proposals DROP COLUMN search_words")
    else:
        for trigger in ("proposal_words_insert", "proposal_words_update", "proposal_words_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE proposal_words")
    op.drop_index("ix_users_display_name", table_name="users")
    op.drop_index("ix_users_staff_by_name", table_name="users")
    op.drop_index("ix_proposals_assigned", table_name="proposals")
    for name, _ in reversed(PROPOSAL_INDEXES):
        op.drop_index(name, table_name="proposals")
    op.drop_index("ix_proposals_element_status", table_name="proposals")
    op.create_index("ix_proposals_element_status", "proposals", ["element_id", "status"], unique=False)
    op.create_index("ix_proposals_vision_status_created", "proposals", ["vision_id", "status", "created_at"], unique=False)
