"""Pages whose work grows with the page, not the table (issues 13 and 14's budgets).

- Authors found by a part of their name (workbench/people_named.py) from an index of the trigrams
  of the names the public sees: people not deleted who publish with their name (publish_as 'name').
  On SQLite the FTS5 table `account_words_trigrams` (tokenizer `trigram`: any fragment of 3
  characters or more, in any case), filled from the existing rows and kept in step by triggers on
  insert, on an update of the name, of `is_deleted` or of `publish_as`, and on delete. On PostgreSQL
  the extension pg_trgm (trusted: a database owner may create it) and the partial GIN index
  `ix_users_search_words_trigrams` on `lower(display_name)`. Both are owned by this migration, not by
  the models: their names start with those of `User.SEARCH_OBJECTS`, left out of the schema
  comparison.
- The codebook's counts (workbench/coding/codebook.py): `tag_counts`, how many items carry each
  tag per element, kind and hidden or not, filled from the existing taggings and kept by triggers
  (SQLite triggers; PostgreSQL trigger functions running the same statements) in the transaction of
  every change: a tagging added or removed, one moved to another tag (merging), a proposal or a
  comment hidden or shown again (a comment on a hidden proposal counts as hidden). The codebook page
  then reads at most tags x elements x 6 rows, not every tagging.
- The participation page's counts (workbench/participation/): `contribution_counts`, a vision's
  counted proposals (by outcome), comments and reflections per element and week, and
  `participants`, each person's counted proposals, comments, reflections and votes per vision; both
  filled from the existing rows and kept by triggers on adding a proposal, a comment or a vote, on a
  proposal's outcome changing, on hiding and showing proposals (their comments and votes follow) and
  comments, and on retracting a comment. What counts is participation/counts.py's rule.

Revision ID: 0028_faster_counts
Revises: 0026_response_drafts
"""
import sqlalchemy as sa
from alembic import op

revision = "0028_faster_counts"
down_revision = "0026_response_drafts"
branch_labels = None
depends_on = None

NAMED = "is_deleted = false AND publish_as = 'name'"
TRIGGERS = ("account_words_trigrams_insert", "account_words_trigrams_update", "account_words_trigrams_delete")

# --- the codebook's counts ---------------------------------------------------------------------------

_ADD = "INSERT INTO tag_counts (tag_id, element_id, kind, hidden, items) "
_ADDED = " ON CONFLICT (tag_id, element_id, kind, hidden) DO UPDATE SET items = tag_counts.items + excluded.items;"


def _proposal_link(row, sign):
    """A tagging of a proposal (`row`: the link, new or old) counted `sign` (+1 or -1)."""
    return (
        _ADD + f"SELECT {row}.tag_id, p.element_id, 'proposals', p.hidden_at IS NOT NULL, {sign} "
        f"FROM proposals p WHERE p.id = {row}.proposal_id" + _ADDED
    )


def _comment_link(row, sign):
    """A tagging of a comment or reflection counted `sign`."""
    return (
        _ADD + f"SELECT {row}.tag_id, coalesce(p.element_id, c.element_id, 0), "
        "CASE WHEN c.proposal_id IS NULL THEN 'reflections' ELSE 'comments' END, "
        f"(c.hidden_at IS NOT NULL OR p.hidden_at IS NOT NULL), {sign} "
        f"FROM comments c LEFT JOIN proposals p ON p.id = c.proposal_id WHERE c.id = {row}.comment_id" + _ADDED
    )


def _proposal_hiding(state, sign):
    """A proposal (`new`) hidden or shown: its taggings and those of its comments that are not hidden
    themselves, counted `sign` in the state of `state` (old or new)."""
    own = (
        _ADD + f"SELECT pt.tag_id, new.element_id, 'proposals', {state}.hidden_at IS NOT NULL, {sign} "
        "FROM proposal_tags pt WHERE pt.proposal_id = new.id" + _ADDED
    )
    # Grouped: PostgreSQL's upsert may not meet one row twice in a statement.
    comments = (
        _ADD + f"SELECT ct.tag_id, new.element_id, 'comments', {state}.hidden_at IS NOT NULL, "
        f"{sign} * count(*) FROM comment_tags ct JOIN comments c ON c.id = ct.comment_id "
        "WHERE c.proposal_id = new.id AND c.hidden_at IS NULL GROUP BY ct.tag_id" + _ADDED
    )
    return own + " " + comments


def _comment_hiding(state, sign):
    """A comment (`new`) hidden or shown: its taggings, unless its proposal is hidden (then they
    count as hidden either way)."""
    return (
        _ADD + "SELECT ct.tag_id, coalesce(p.element_id, new.element_id, 0), "
        "CASE WHEN new.proposal_id IS NULL THEN 'reflections' ELSE 'comments' END, "
        f"{state}.hidden_at IS NOT NULL, {sign} FROM comment_tags ct LEFT JOIN proposals p ON p.id = new.proposal_id "
        "WHERE ct.comment_id = new.id AND p.hidden_at IS NULL" + _ADDED
    )


_FLIPPED = "(old.hidden_at IS NULL) <> (new.hidden_at IS NULL)"
# name: (event, table, WHEN condition or None, statements)
COUNTING = {
    "tag_counts_proposal_tagged": ("INSERT", "proposal_tags", None, _proposal_link("new", 1)),
    "tag_counts_proposal_untagged": ("DELETE", "proposal_tags", None, _proposal_link("old", -1)),
    "tag_counts_proposal_retagged": (
        "UPDATE OF tag_id, proposal_id", "proposal_tags", None, _proposal_link("old", -1) + " " + _proposal_link("new", 1)
    ),
    "tag_counts_comment_tagged": ("INSERT", "comment_tags", None, _comment_link("new", 1)),
    "tag_counts_comment_untagged": ("DELETE", "comment_tags", None, _comment_link("old", -1)),
    "tag_counts_comment_retagged": (
        "UPDATE OF tag_id, comment_id", "comment_tags", None, _comment_link("old", -1) + " " + _comment_link("new", 1)
    ),
    "tag_counts_proposal_hidden": (
        "UPDATE OF hidden_at", "proposals", _FLIPPED, _proposal_hiding("old", -1) + " " + _proposal_hiding("new", 1)
    ),
    "tag_counts_comment_hidden": (
        "UPDATE OF hidden_at", "comments", _FLIPPED, _comment_hiding("old", -1) + " " + _comment_hiding("new", 1)
    ),
}

FILL_TAG_COUNTS = (
    "INSERT INTO tag_counts (tag_id, element_id, kind, hidden, items) "
    "SELECT tag_id, element_id, kind, hidden, count(*) FROM ("
    "SELECT pt.tag_id AS tag_id, p.element_id AS element_id, 'proposals' AS kind, p.hidden_at IS NOT NULL AS hidden "
    "FROM proposal_tags pt JOIN proposals p ON p.id = pt.proposal_id "
    "UNION ALL "
    "SELECT ct.tag_id, coalesce(p.element_id, c.element_id, 0), "
    "CASE WHEN c.proposal_id IS NULL THEN 'reflections' ELSE 'comments' END, "
    "(c.hidden_at IS NOT NULL OR p.hidden_at IS NOT NULL) "
    "FROM comment_tags ct JOIN comments c ON c.id = ct.comment_id LEFT JOIN proposals p ON p.id = c.proposal_id"
    ") AS counted GROUP BY tag_id, element_id, kind, hidden"
)


# --- the participation page's counts ------------------------------------------------------------------

_CADD = "INSERT INTO contribution_counts (vision_id, element_id, week, what, items) "
_CADDED = " ON CONFLICT (vision_id, element_id, week, what) DO UPDATE SET items = contribution_counts.items + excluded.items;"
_PADD = "INSERT INTO participants (vision_id, user_id, proposed, commented, reflected, voted) "
_PADDED = (
    " ON CONFLICT (vision_id, user_id) DO UPDATE SET proposed = participants.proposed + excluded.proposed, "
    "commented = participants.commented + excluded.commented, reflected = participants.reflected + excluded.reflected, "
    "voted = participants.voted + excluded.voted;"
)


def _week(postgresql, column):
    """SQL: the Monday that starts the week of `column` (as participation/counts.py's `_week_start`)."""
    return f"CAST(date_trunc('week', {column}) AS date)" if postgresql else f"date({column}, 'weekday 0', '-6 days')"


def _outcome(row):
    return f"CASE WHEN {row}.status = 'accepted' AND {row}.accepted_with_changes THEN 'accepted with changes' ELSE {row}.status END"


def _comment_kind(row):
    return f"CASE WHEN {row}.proposal_id IS NULL THEN 'reflections' ELSE 'comments' END"


def _comment_ways(row, sign):
    """participants' (proposed, commented, reflected, voted) for a comment or reflection `row`."""
    return (
        f"0, CASE WHEN {row}.proposal_id IS NULL THEN 0 ELSE {sign} END, CASE WHEN {row}.proposal_id IS NULL THEN {sign} ELSE 0 END, 0"
    )


_ON_VISIBLE = "NOT EXISTS (SELECT 1 FROM proposals hp WHERE hp.id = new.proposal_id AND hp.hidden_at IS NOT NULL)"
_PROPOSAL_FLIPPED = "(old.hidden_at IS NULL) <> (new.hidden_at IS NULL)"
_SHOWN = "(CASE WHEN new.hidden_at IS NULL THEN 1 ELSE -1 END)"
_COUNTED = "({row}.hidden_at IS NULL AND {row}.retracted_at IS NULL)"


def _comment_counted(postgresql, sign):
    """A comment or reflection (`new`, on no hidden proposal) counted `sign` (an SQL expression)."""
    element = "coalesce(new.element_id, (SELECT ep.element_id FROM proposals ep WHERE ep.id = new.proposal_id), 0)"
    return (
        _CADD + f"SELECT new.vision_id, {element}, {_week(postgresql, 'new.created_at')}, {_comment_kind('new')}, {sign} "
        f"WHERE {_ON_VISIBLE}" + _CADDED + " "
        + _PADD + f"SELECT new.vision_id, new.author_id, {_comment_ways('new', sign)} WHERE {_ON_VISIBLE}" + _PADDED
    )


def participation_triggers(postgresql):
    """name: (event, table, WHEN condition or None, statements), as COUNTING."""
    week = lambda column: _week(postgresql, column)  # noqa: E731
    proposal_counted = lambda row, sign: (  # noqa: E731
        _CADD + f"SELECT {row}.vision_id, {row}.element_id, {week(f'{row}.created_at')}, {_outcome(row)}, {sign} "
        f"WHERE {row}.hidden_at IS NULL" + _CADDED
    )
    shown = _SHOWN
    return {
        "participation_proposal_added": (
            "INSERT", "proposals", None,
            proposal_counted("new", 1) + " " + _PADD + "SELECT new.vision_id, new.author_id, 1, 0, 0, 0 WHERE new.hidden_at IS NULL" + _PADDED,
        ),
        "participation_proposal_changed": (
            "UPDATE OF status, accepted_with_changes, hidden_at", "proposals",
            f"old.status <> new.status OR old.accepted_with_changes <> new.accepted_with_changes OR {_PROPOSAL_FLIPPED}",
            proposal_counted("old", -1) + " " + proposal_counted("new", 1),
        ),
        # Hiding a proposal takes its author's proposal, its comments and its votes out of the
        # counts; showing it again puts them back. Grouped: an upsert may not meet one row twice.
        "participation_proposal_hidden": (
            "UPDATE OF hidden_at", "proposals", _PROPOSAL_FLIPPED,
            _PADD + f"SELECT new.vision_id, new.author_id, {shown}, 0, 0, 0 WHERE true" + _PADDED + " "
            + _PADD + f"SELECT new.vision_id, v.user_id, 0, 0, 0, {shown} FROM votes v WHERE v.proposal_id = new.id" + _PADDED + " "
            + _CADD + f"SELECT new.vision_id, coalesce(c.element_id, new.element_id, 0), {week('c.created_at')}, 'comments', "
            f"{shown} * count(*) FROM comments c WHERE c.proposal_id = new.id AND {_COUNTED.format(row='c')} "
            f"GROUP BY c.element_id, {week('c.created_at')}" + _CADDED + " "
            + _PADD + f"SELECT new.vision_id, c.author_id, 0, {shown} * count(*), 0, 0 FROM comments c "
            f"WHERE c.proposal_id = new.id AND {_COUNTED.format(row='c')} GROUP BY c.author_id" + _PADDED,
        ),
        "participation_comment_added": (
            "INSERT", "comments", _COUNTED.format(row="new"), _comment_counted(postgresql, "1"),
        ),
        "participation_comment_changed": (
            "UPDATE OF hidden_at, retracted_at", "comments",
            f"{_COUNTED.format(row='old')} <> {_COUNTED.format(row='new')}",
            _comment_counted(postgresql, f"(CASE WHEN {_COUNTED.format(row='new')} THEN 1 ELSE -1 END)"),
        ),
        "participation_vote_added": (
            "INSERT", "votes", None,
            _PADD + "SELECT p.vision_id, new.user_id, 0, 0, 0, 1 FROM proposals p WHERE p.id = new.proposal_id AND p.hidden_at IS NULL" + _PADDED,
        ),
    }


def fill_participation(postgresql):
    week = lambda column: _week(postgresql, column)  # noqa: E731
    counted_comments = (
        "FROM comments c LEFT JOIN proposals p ON p.id = c.proposal_id "
        "WHERE c.hidden_at IS NULL AND c.retracted_at IS NULL AND p.hidden_at IS NULL"
    )
    op.execute(
        _CADD + "SELECT vision_id, element_id, week, what, count(*) FROM ("
        f"SELECT p.vision_id AS vision_id, p.element_id AS element_id, {week('p.created_at')} AS week, {_outcome('p')} AS what "
        "FROM proposals p WHERE p.hidden_at IS NULL "
        f"UNION ALL SELECT c.vision_id, coalesce(c.element_id, p.element_id, 0), {week('c.created_at')}, {_comment_kind('c')} "
        f"{counted_comments}) AS counted GROUP BY vision_id, element_id, week, what"
    )
    op.execute(
        _PADD + "SELECT vision_id, user_id, sum(proposed), sum(commented), sum(reflected), sum(voted) FROM ("
        "SELECT p.vision_id AS vision_id, p.author_id AS user_id, 1 AS proposed, 0 AS commented, 0 AS reflected, 0 AS voted "
        "FROM proposals p WHERE p.hidden_at IS NULL "
        f"UNION ALL SELECT c.vision_id, c.author_id, {_comment_ways('c', 1)} {counted_comments} "
        "UNION ALL SELECT p.vision_id, v.user_id, 0, 0, 0, 1 FROM votes v JOIN proposals p ON p.id = v.proposal_id WHERE p.hidden_at IS NULL"
        ") AS counted GROUP BY vision_id, user_id"
    )


def create_participation_counts(postgresql):
    op.create_table(
        "contribution_counts",
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("week", sa.Date(), nullable=False),
        sa.Column("what", sa.String(length=24), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_contribution_counts_vision_id_visions")),
        sa.PrimaryKeyConstraint("vision_id", "element_id", "week", "what", name=op.f("pk_contribution_counts")),
    )
    op.create_table(
        "participants",
        sa.Column("vision_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("proposed", sa.Integer(), nullable=False),
        sa.Column("commented", sa.Integer(), nullable=False),
        sa.Column("reflected", sa.Integer(), nullable=False),
        sa.Column("voted", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_participants_vision_id_visions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_participants_user_id_users")),
        sa.PrimaryKeyConstraint("vision_id", "user_id", name=op.f("pk_participants")),
    )
    fill_participation(postgresql)
    _create_triggers(postgresql, participation_triggers(postgresql))


def drop_participation_counts(postgresql):
    _drop_triggers(postgresql, participation_triggers(postgresql))
    op.drop_table("participants")
    op.drop_table("contribution_counts")


def _create_triggers(postgresql, triggers):
    for name, (event, table, when, statements) in triggers.items():
        condition = f" WHEN ({when})" if when else ""
        if postgresql:
            op.execute(
                f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {statements} RETURN NULL; END $$"
            )
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} EXECUTE FUNCTION {name}()")
        else:
            op.execute(f"CREATE TRIGGER {name} AFTER {event} ON {table} FOR EACH ROW{condition} BEGIN {statements} END")


def _drop_triggers(postgresql, triggers):
    for name, (_, table, _, _) in triggers.items():
        op.execute(f"DROP TRIGGER {name} ON {table}" if postgresql else f"DROP TRIGGER {name}")
        if postgresql:
            op.execute(f"DROP FUNCTION {name}()")


def create_tag_counts(postgresql):
    op.create_table(
        "tag_counts",
        sa.Column("tag_id", sa.Integer(), nullable=False),
        sa.Column("element_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("hidden", sa.Boolean(), nullable=False),
        sa.Column("items", sa.Integer(), nullable=False),
        sa.CheckConstraint("kind IN ('proposals', 'comments', 'reflections')", name=op.f("ck_tag_counts_kind_known")),
        sa.ForeignKeyConstraint(["tag_id"], ["tags.id"], name=op.f("fk_tag_counts_tag_id_tags")),
        sa.PrimaryKeyConstraint("tag_id", "element_id", "kind", "hidden", name=op.f("pk_tag_counts")),
    )
    op.execute(FILL_TAG_COUNTS)
    _create_triggers(postgresql, COUNTING)


def drop_tag_counts(postgresql):
    _drop_triggers(postgresql, COUNTING)
    op.drop_table("tag_counts")


def upgrade():
    create_tag_counts(op.get_bind().dialect.name == "postgresql")
    create_participation_counts(op.get_bind().dialect.name == "postgresql")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        op.execute(
            f"CREATE INDEX ix_users_search_words_trigrams ON users USING gin (lower(display_name) gin_trgm_ops) WHERE {NAMED}"
        )
    else:
        named = "{row}.is_deleted = 0 AND {row}.publish_as = 'name'"
        op.execute("CREATE VIRTUAL TABLE account_words_trigrams USING fts5(display_name, tokenize='trigram')")
        op.execute(
            "INSERT INTO account_words_trigrams(rowid, display_name) "
            f"SELECT id, display_name FROM users WHERE {named.format(row='users')}"
        )
        op.execute(
            f"CREATE TRIGGER account_words_trigrams_insert AFTER INSERT ON users WHEN {named.format(row='new')} BEGIN "
            "INSERT INTO account_words_trigrams(rowid, display_name) VALUES (new.id, new.display_name); END"
        )
        op.execute(
            "CREATE TRIGGER account_words_trigrams_update AFTER UPDATE OF display_name, is_deleted, publish_as ON users BEGIN "
            "DELETE FROM account_words_trigrams WHERE rowid = old.id; "
            "INSERT INTO account_words_trigrams(rowid, display_name) "
            f"SELECT new.id, new.display_name WHERE {named.format(row='new')}; END"
        )
        op.execute(
            "CREATE TRIGGER account_words_trigrams_delete AFTER DELETE ON users BEGIN "
            "DELETE FROM account_words_trigrams WHERE rowid = old.id; END"
        )


def downgrade():
    drop_participation_counts(op.get_bind().dialect.name == "postgresql")
    drop_tag_counts(op.get_bind().dialect.name == "postgresql")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP INDEX ix_users_search_words_trigrams")
    else:
        for trigger in TRIGGERS:
            op.execute(f"DROP TRIGGER {trigger}")
        op.execute("DROP TABLE account_words_trigrams")
