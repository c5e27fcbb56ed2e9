"""Search across proposals, comments, reflections and aligned work (issue 14, item 3).

- `search_entries`: one row per proposal (its current title, text and rationale), comment,
  reflection and initiative of aligned work (title, description, organisation), with the vision,
  the element, the proposal it belongs to and who may find it (`visibility`: public, hidden,
  retracted, unpublished; `proposal_hidden` for a comment on a hidden proposal). Written only by
  triggers on `proposals`, `comments` and `aligned_work`, on insert, on an update of the columns
  search reads (a new revision, an edit, hiding, retracting, screening: never a vote or a reply
  count, which touch other columns) and on delete; filled here from the existing rows.
- The words: on SQLite an FTS5 table `search_entry_words` over `search_entries` (external
  content; `porter unicode61`, so "datasets" finds "dataset"), kept in step by triggers on
  `search_entries`; on PostgreSQL a generated column `search_words` (the `english` tsvector of
  title, body and extra, weighted A, B and C) and a GIN index on it. Both are owned by this
  migration (`SEARCH_ENTRY_OBJECTS` in models.py leaves them out of the schema comparison).

Plain CREATE statements (no batch mode): no table is rebuilt, so the triggers of earlier
migrations stay. A later migration that rebuilds `proposals`, `comments` or `aligned_work` in
batch mode must recreate these triggers (tests/test_search.py checks they exist).

Revision ID: 0021_search
Revises: 0020_comments_on_sentences
"""
import sqlalchemy as sa
from alembic import op

revision = "0021_search"
down_revision = "0020_comments_on_sentences"
branch_labels = None
depends_on = None

COLUMNS = "vision_id, kind, subject_id, element_id, proposal_id, title, body, extra, facets, visibility, proposal_hidden, created_at"

# Who may find each thing, as SQL over the row a trigger sees (`new`) or a table's columns.
PROPOSAL_VISIBILITY = "CASE WHEN {t}.hidden_at IS NULL THEN 'public' ELSE 'hidden' END"
COMMENT_VISIBILITY = (
    "CASE WHEN {t}.hidden_at IS NOT NULL THEN 'hidden' WHEN {t}.retracted_at IS NOT NULL THEN 'retracted' ELSE 'public' END"
)
COMMENT_KIND = "CASE WHEN {t}.proposal_id IS NULL THEN 'reflection' ELSE 'comment' END"
COMMENT_ELEMENT = "coalesce({t}.element_id, (SELECT p.element_id FROM proposals p WHERE p.id = {t}.proposal_id))"
ALIGNED_VISIBILITY = "CASE WHEN {t}.state = 'approved' THEN 'public' ELSE 'unpublished' END"
# The filters as words (search.models.facets_words): "k" and the kind without its underscore, then
# "e" and the id of each element it is about (an initiative's approved links, aligned_work_elements).
PROPOSAL_FACETS = "'kproposal e' || {t}.element_id"
COMMENT_FACETS = "'k' || " + COMMENT_KIND + " || coalesce(' e' || " + COMMENT_ELEMENT + ", '')"
ALIGNED_FACETS = {
    "sqlite": "'kalignedwork' || coalesce((SELECT group_concat(' e' || element_id, '') FROM aligned_work_elements WHERE aligned_work_id = {t}.id), '')",
    "postgresql": "'kalignedwork' || coalesce((SELECT string_agg(' e' || element_id, '') FROM aligned_work_elements WHERE aligned_work_id = {t}.id), '')",
}


def _proposal_values(t: str) -> str:
    return (
        f"{t}.vision_id, 'proposal', {t}.id, {t}.element_id, {t}.id, {t}.title, {t}.body, {t}.rationale, "
        f"{PROPOSAL_FACETS.format(t=t)}, {PROPOSAL_VISIBILITY.format(t=t)}, FALSE, {t}.created_at"
    )


def _comment_values(t: str) -> str:
    return (
        f"{t}.vision_id, {COMMENT_KIND.format(t=t)}, {t}.id, {COMMENT_ELEMENT.format(t=t)}, {t}.proposal_id, "
        f"'', {t}.body, '', {COMMENT_FACETS.format(t=t)}, {COMMENT_VISIBILITY.format(t=t)}, "
        f"EXISTS (SELECT 1 FROM proposals p WHERE p.id = {t}.proposal_id AND p.hidden_at IS NOT NULL), {t}.created_at"
    )


def _aligned_values(t: str, dialect: str) -> str:
    return (
        f"{t}.vision_id, 'aligned_work', {t}.id, NULL, NULL, {t}.title, {t}.description, {t}.organisation, "
        f"{ALIGNED_FACETS[dialect].format(t=t)}, {ALIGNED_VISIBILITY.format(t=t)}, FALSE, {t}.created_at"
    )


PROPOSAL_SET = (
    "element_id = new.element_id, title = new.title, body = new.body, extra = new.rationale, "
    f"facets = {PROPOSAL_FACETS.format(t='new')}, visibility = {PROPOSAL_VISIBILITY.format(t='new')}"
)
COMMENT_SET = f"body = new.body, visibility = {COMMENT_VISIBILITY.format(t='new')}"
ALIGNED_SET = (
    "title = new.title, body = new.description, extra = new.organisation, "
    f"visibility = {ALIGNED_VISIBILITY.format(t='new')}"
)
# An initiative's elements change when screening approves new wording (its links are replaced).
ALIGNED_LINKS_SET = "facets = {facets} WHERE kind = 'aligned_work' AND subject_id = {t}.aligned_work_id"

# table, kind (SQL over `old`), the columns whose update changes its entry, the values and the SET.
SOURCES = (
    ("proposals", "'proposal'", "title, body, rationale, hidden_at, element_id", PROPOSAL_SET),
    ("comments", COMMENT_KIND.format(t="old"), "body, hidden_at, retracted_at", COMMENT_SET),
    ("aligned_work", "'aligned_work'", "title, description, organisation, state", ALIGNED_SET),
)


def _values(table: str, t: str, dialect: str) -> str:
    """The entry's values (in COLUMNS' order) for the row `t` ("new", or the table's name) of `table`."""
    if table == "proposals":
        return _proposal_values(t)
    if table == "comments":
        return _comment_values(t)
    return _aligned_values(t, dialect)


def _aligned_links_set(t: str, dialect: str) -> str:
    facets = ALIGNED_FACETS[dialect].replace("{t}.id", "{t}.aligned_work_id").format(t=t)
    return ALIGNED_LINKS_SET.format(facets=facets, t=t)


def upgrade():
    op.create_table(
        "search_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=True),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("extra", sa.Text(), nullable=False),
        sa.Column("facets", sa.Text(), nullable=False),
        sa.Column("visibility", sa.String(length=12), nullable=False),
        sa.Column("proposal_hidden", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('proposal', 'comment', 'reflection', 'aligned_work')", name=op.f("ck_search_entries_kind_known")
        ),
        sa.CheckConstraint(
            "visibility IN ('public', 'hidden', 'retracted', 'unpublished')", name=op.f("ck_search_entries_visibility_known")
        ),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_search_entries_vision_id_visions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_search_entries")),
        sa.UniqueConstraint("kind", "subject_id", name=op.f("uq_search_entries_kind_subject_id")),
    )
    op.create_index("ix_search_entries_proposal_id", "search_entries", ["proposal_id"], unique=False)
    op.create_index("ix_search_entries_vision_kind", "search_entries", ["vision_id", "kind", "id"], unique=False)
    op.create_index("ix_search_entries_element", "search_entries", ["element_id", "id"], unique=False)

    # The existing rows, oldest first (ids follow the order things were written).
    op.execute(f"INSERT INTO search_entries ({COLUMNS}) SELECT {_proposal_values('proposals')} FROM proposals ORDER BY id")
    op.execute(f"INSERT INTO search_entries ({COLUMNS}) SELECT {_comment_values('comments')} FROM comments ORDER BY id")
    op.execute(f"INSERT INTO search_entries ({COLUMNS}) SELECT {_aligned_values('aligned_work', op.get_bind().dialect.name)} FROM aligned_work ORDER BY id")
    if op.get_bind().dialect.name == "postgresql":
        _upgrade_postgresql()
    else:
        _upgrade_sqlite()


def _upgrade_sqlite():
    for table, kind, columns, assignments in SOURCES:
        op.execute(
            f"CREATE TRIGGER search_entries_{table}_insert AFTER INSERT ON {table} BEGIN "
            f"INSERT INTO search_entries ({COLUMNS}) VALUES ({_values(table, 'new', 'sqlite')}); END"
        )
        subject_kind = kind.replace("old.", "new.")
        hidden_with_proposal = (
            "UPDATE search_entries SET proposal_hidden = (new.hidden_at IS NOT NULL) "
            "WHERE proposal_id = new.id AND kind = 'comment' AND proposal_hidden <> (new.hidden_at IS NOT NULL); "
            if table == "proposals"
            else ""
        )
        op.execute(
            f"CREATE TRIGGER search_entries_{table}_update AFTER UPDATE OF {columns} ON {table} BEGIN "
            f"UPDATE search_entries SET {assignments} WHERE kind = {subject_kind} AND subject_id = new.id; "
            f"{hidden_with_proposal}END"
        )
        op.execute(
            f"CREATE TRIGGER search_entries_{table}_delete AFTER DELETE ON {table} BEGIN "
            f"DELETE FROM search_entries WHERE kind = {kind} AND subject_id = old.id; END"
        )
    op.execute(
        "CREATE TRIGGER search_entries_aligned_links_insert AFTER INSERT ON aligned_work_elements BEGIN "
        f"UPDATE search_entries SET {_aligned_links_set('new', 'sqlite')}; END"
    )
    op.execute(
        "CREATE TRIGGER search_entries_aligned_links_delete AFTER DELETE ON aligned_work_elements BEGIN "
        f"UPDATE search_entries SET {_aligned_links_set('old', 'sqlite')}; END"
    )
    # `facets` holds the filters as words: a search within a kind or an element intersects lists of
    # the index instead of testing every match's row (27 ms -> 2 ms for a common word at 112,000).
    op.execute(
        "CREATE VIRTUAL TABLE search_entry_words USING fts5(title, body, extra, facets, content='search_entries', "
        "content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    op.execute("INSERT INTO search_entry_words(search_entry_words) VALUES ('rebuild')")
    op.execute(
        "CREATE TRIGGER search_entry_words_insert AFTER INSERT ON search_entries BEGIN "
        "INSERT INTO search_entry_words(rowid, title, body, extra, facets) VALUES (new.id, new.title, new.body, new.extra, new.facets); END"
    )
    op.execute(
        "CREATE TRIGGER search_entry_words_update AFTER UPDATE OF title, body, extra, facets ON search_entries BEGIN "
        "INSERT INTO search_entry_words(search_entry_words, rowid, title, body, extra, facets) "
        "VALUES ('delete', old.id, old.title, old.body, old.extra, old.facets); "
        "INSERT INTO search_entry_words(rowid, title, body, extra, facets) VALUES (new.id, new.title, new.body, new.extra, new.facets); END"
    )
    op.execute(
        "CREATE TRIGGER search_entry_words_delete AFTER DELETE ON search_entries BEGIN "
        "INSERT INTO search_entry_words(search_entry_words, rowid, title, body, extra, facets) "
        "VALUES ('delete', old.id, old.title, old.body, old.extra, old.facets); END"
    )


def _upgrade_postgresql():
    for table, kind, columns, assignments in SOURCES:
        subject_kind = kind.replace("old.", "NEW.")
        hidden_with_proposal = (
            "IF (OLD.hidden_at IS NULL) <> (NEW.hidden_at IS NULL) THEN "
            "UPDATE search_entries SET proposal_hidden = (NEW.hidden_at IS NOT NULL) WHERE proposal_id = NEW.id AND kind = 'comment'; "
            "END IF; "
            if table == "proposals"
            else ""
        )
        op.execute(
            f"CREATE FUNCTION search_entries_of_{table}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF TG_OP = 'INSERT' THEN "
            f"INSERT INTO search_entries ({COLUMNS}) VALUES ({_values(table, 'NEW', 'postgresql')}); "
            "ELSIF TG_OP = 'UPDATE' THEN "
            f"UPDATE search_entries SET {assignments.replace('new.', 'NEW.')} WHERE kind = {subject_kind} AND subject_id = NEW.id; "
            f"{hidden_with_proposal}"
            "ELSE "
            f"DELETE FROM search_entries WHERE kind = {kind.replace('old.', 'OLD.')} AND subject_id = OLD.id; "
            "END IF; RETURN NULL; END $$"
        )
        op.execute(
            f"CREATE TRIGGER search_entries_{table} AFTER INSERT OR UPDATE OF {columns} OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION search_entries_of_{table}()"
        )
    op.execute(
        "CREATE FUNCTION search_entries_of_aligned_links() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "IF TG_OP = 'INSERT' THEN "
        f"UPDATE search_entries SET {_aligned_links_set('NEW', 'postgresql')}; "
        "ELSE "
        f"UPDATE search_entries SET {_aligned_links_set('OLD', 'postgresql')}; "
        "END IF; RETURN NULL; END $$"
    )
    op.execute(
        "CREATE TRIGGER search_entries_aligned_links AFTER INSERT OR DELETE ON aligned_work_elements "
        "FOR EACH ROW EXECUTE FUNCTION search_entries_of_aligned_links()"
    )
    op.execute(
        "ALTER TABLE search_entries ADD COLUMN search_words tsvector GENERATED ALWAYS AS ("
        "setweight(to_tsvector('english'::regconfig, title), 'A') || "
        "setweight(to_tsvector('english'::regconfig, body), 'B') || "
        "setweight(to_tsvector('english'::regconfig, extra), 'C')) STORED"
    )
    op.execute("CREATE INDEX ix_search_entries_search_words ON search_entries USING gin (search_words)")


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        for table, *_ in SOURCES:
            op.execute(f"DROP TRIGGER search_entries_{table} ON {table}")
            op.execute(f"DROP FUNCTION search_entries_of_{table}()")
        op.execute("DROP TRIGGER search_entries_aligned_links ON aligned_work_elements")
        op.execute("DROP FUNCTION search_entries_of_aligned_links()")
    else:
        for trigger in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER search_entry_words_{trigger}")
            for table, *_ in SOURCES:
                op.execute(f"DROP TRIGGER search_entries_{table}_{trigger}")
        op.execute("DROP TRIGGER search_entries_aligned_links_insert")
        op.execute("DROP TRIGGER search_entries_aligned_links_delete")
        op.execute("DROP TABLE search_entry_words")
    op.drop_table("search_entries")  # its indexes (and PostgreSQL's generated column) go with it
