"""Find accounts by the words of their names and email addresses, and list them newest first by
role, at 200,000 accounts (issue 19, item 11).

- `ix_users_role_id` (role, id): the accounts list filtered by role, newest (highest id) first,
  read from the index a page at a time (the list pages by keyset, workbench/keyset.py).
- The words of each account's display name and email address (accounts.services.find_accounts).
  On SQLite an FTS5 table `account_words` over `users` (external content: the words are indexed,
  the name and address stay in `users`; `unicode61` cuts "ann.lee@example.org" into ann, lee,
  example, org), with the role as a third column so that a search within a role intersects two
  lists of the index rather than testing every account found; filled from the existing rows and kept
  in step by triggers on insert, on an update of the name, the address or the role, and on delete.
  Prefix indexes of 1 to 8 characters let a search read the accounts with a word starting with what
  was typed newest first and stop at a page: without them FTS5 first gathers every account with
  such a word (13 ms for "example" at 200,000 accounts, 32 ms within a rare role). They make the
  index ~225 bytes an account (45 MB at 200,000; 8 MB without them).
  On PostgreSQL a generated column `search_words`, the `tsvector` (configuration `simple`: no
  stemming, no stop words, as FTS5 here) of the same two columns with the characters that its parser
  would keep inside a token (`ann.lee@example.org` as one email token, `a-b` as a compound) turned
  into spaces, and a GIN index on it. The column is stored rather than an expression index: a search
  that matches many accounts reads them newest first and tests each row, which costs ~0.4 µs with
  the stored vector against ~16 µs to compute it.

Deleted accounts have no name and no address, so they have no words. Both are owned by this
migration, not by the models (`User.SEARCH_OBJECTS`, left out of the schema comparison).

Revision ID: 0009_search_accounts
Revises: 0008_assign_proposals
"""
from alembic import op

revision = "0009_search_accounts"
down_revision = "0008_assign_proposals"
branch_labels = None
depends_on = None

# PostgreSQL's default parser keeps these inside tokens (emails, hosts, URLs, file paths, numbers with
# a point, hyphenated words, tags, entities); FTS5's unicode61 separates words at every one of them.
SEPARATORS = "@.+-_/:<>&"
DOCUMENT = (
    "to_tsvector('simple'::regconfig, translate(display_name || ' ' || coalesce(email, ''), "
    f"'{SEPARATORS}', '{' ' * len(SEPARATORS)}'))"
)


def upgrade():
    # Plain CREATE INDEX (no batch mode): SQLite does not rebuild the table.
    op.create_index("ix_users_role_id", "users", ["role", "id"], unique=False)
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE users ADD COLUMN search_words tsvector GENERATED ALWAYS AS ({DOCUMENT}) STORED")
        op.execute("CREATE INDEX ix_users_search_words ON users USING gin (search_words)")
        return
    op.execute(
        "CREATE VIRTUAL TABLE account_words USING fts5(display_name, email, role, content='users', content_rowid='id', "
        "tokenize='unicode61 remove_diacritics 0', prefix='1 2 3 4 5 6 7 8')"
    )
    op.execute("INSERT INTO account_words(account_words) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER account_words_insert AFTER INSERT ON users BEGIN "
        "INSERT INTO account_words(rowid, display_name, email, role) VALUES (new.id, new.display_name, new.email, new.role); END"
    )
    op.execute(
        "CREATE TRIGGER account_words_update AFTER UPDATE OF display_name, email, role ON users BEGIN "
        "INSERT INTO account_words(account_words, rowid, display_name, email, role) "
        "VALUES ('delete', old.id, old.display_name, old.email, old.role); "
        "INSERT INTO account_words(rowid, display_name, email, role) VALUES (new.id, new.display_name, new.email, new.role); END"
    )
    op.execute(
        "CREATE TRIGGER account_words_delete AFTER DELETE ON users BEGIN "
        "INSERT INTO account_words(account_words, rowid, display_name, email, role) "
        "VALUES ('delete', old.id, old.display_name, old.email, old.role); END"
    )


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_users_search_words")
        op.execute("ALTER TABLE users DROP COLUMN search_words")
    else:
        for trigger in ("account_words_insert", "account_words_update", "account_words_delete"):
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE account_words")
    op.drop_index("ix_users_role_id", table_name="users")
