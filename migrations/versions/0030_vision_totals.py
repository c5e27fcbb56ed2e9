"""A vision's totals in one row (issues 13 and 14's budgets): `vision_totals`.

Two counts still grew with the data after 0028: the participation page's participants (one row of
`participants` per person: 48 ms at 60,000 people on SQLite) and the proposals waiting for the
facilitators (`models.waiting()`: status 'open' and not hidden; counted from the index, twice per
queue page). `vision_totals` holds, per vision: `participants` (people with any count of
`participants` above 0), `proposed`, `commented`, `reflected`, `voted` (people with that count above
0), and `open_proposals` (proposals that `waiting()` holds). Filled from the existing rows here, then
kept by triggers (SQLite triggers; PostgreSQL trigger functions running the same statements) in the
transaction of every change, each an upsert of the vision's row, so a new vision needs nothing else
and a vision nobody has touched may have no row (read as zeros):

- on `participants`, after an insert and after an update (an upsert's DO UPDATE fires the UPDATE
  triggers on both databases; tests/test_participation.py checks it), adding the change of each
  "above 0". The WHEN clauses let through only a row whose "above 0"s changed: the most frequent
  change, a vote by someone who already took part, does not write the vision's row at all (that row
  is every writer's in a busy vision: on PostgreSQL it stays locked until the writer commits).
- on `proposals` directly, after an insert of a waiting proposal and after an update of `status` or
  `hidden_at` that puts one in or out of the queue. Not on 0028's `contribution_counts` ('open'
  rows), which would be as short: these triggers state `waiting()`'s own rule on the row it reads,
  so the queue's count does not hang on what the participation page chooses to count (its 'open'
  rows match `waiting()` only because that page leaves hidden proposals out).

Booleans are summed as CASE WHEN ... THEN 1 ELSE 0 END (PostgreSQL's booleans are not numbers).
The helpers `_create_triggers` / `_drop_triggers` are 0028's (copied: migrations import nothing of
each other).

Revision ID: 0030_vision_totals
Revises: 0029_published_themes
"""
import sqlalchemy as sa
from alembic import op

revision = "0030_vision_totals"
down_revision = "0029_published_themes"
branch_labels = None
depends_on = None

WAYS = ("proposed", "commented", "reflected", "voted")
TOTALS = ("participants", *WAYS, "open_proposals")

_ADD = f"INSERT INTO vision_totals (vision_id, {', '.join(TOTALS)}) "
_ADDED = (
    " ON CONFLICT (vision_id) DO UPDATE SET "
    + ", ".join(f"{name} = vision_totals.{name} + excluded.{name}" for name in TOTALS)
    + ";"
)


def _above_zero(row, way):
    """SQL (a boolean): the `participants` row took part in that way."""
    return f"{row}.{way} > 0"


def _took_part(row):
    """SQL (a boolean): the `participants` row took part in any way."""
    return " OR ".join(_above_zero(row, way) for way in WAYS)


def _one(condition):
    return f"CASE WHEN {condition} THEN 1 ELSE 0 END"


def _people(row):
    """SQL: what the `participants` row adds to the totals `participants`, `proposed`, `commented`,
    `reflected` and `voted` (each 1 or 0)."""
    return [_one(_took_part(row)), *(_one(_above_zero(row, way)) for way in WAYS)]


def _waiting(row):
    """SQL (a boolean): models.waiting(), the proposal `row` waits in the facilitators' queue."""
    return f"{row}.status = 'open' AND {row}.hidden_at IS NULL"


def _add(vision_id, people, open_proposals):
    """The upsert adding `people` (five SQL expressions) and `open_proposals` to a vision's totals."""
    return _ADD + f"VALUES ({vision_id}, {', '.join(people)}, {open_proposals})" + _ADDED


# name: (event, table, WHEN condition or None, statements)
TRIGGERS = {
    "vision_totals_participant_added": (
        "INSERT", "participants", _took_part("new"), _add("new.vision_id", _people("new"), "0"),
    ),
    "vision_totals_participant_changed": (
        "UPDATE", "participants",
        " OR ".join(f"({_above_zero('old', way)}) <> ({_above_zero('new', way)})" for way in WAYS),
        _add("new.vision_id", [f"{now} - {before}" for now, before in zip(_people("new"), _people("old"))], "0"),
    ),
    "vision_totals_proposal_added": ("INSERT", "proposals", _waiting("new"), _add("new.vision_id", ["0"] * 5, "1")),
    "vision_totals_proposal_changed": (
        "UPDATE OF status, hidden_at", "proposals", f"({_waiting('old')}) <> ({_waiting('new')})",
        _add("new.vision_id", ["0"] * 5, f"CASE WHEN {_waiting('new')} THEN 1 ELSE -1 END"),
    ),
}

FILL = (
    _ADD + "SELECT v.id, "
    + ", ".join(f"coalesce(people.{name}, 0)" for name in ("participants", *WAYS))
    + ", coalesce(waiting.proposals, 0) FROM visions v "
    "LEFT JOIN (SELECT vision_id, "
    + ", ".join(f"sum({one}) AS {name}" for one, name in zip(_people("participants"), TOTALS))
    + " FROM participants GROUP BY vision_id) people ON people.vision_id = v.id "
    f"LEFT JOIN (SELECT vision_id, count(*) AS proposals FROM proposals WHERE {_waiting('proposals')} "
    "GROUP BY vision_id) waiting ON waiting.vision_id = v.id"
)


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


def upgrade():
    op.create_table(
        "vision_totals",
        sa.Column("vision_id", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.Integer(), nullable=False) for name in TOTALS),
        sa.ForeignKeyConstraint(["vision_id"], ["visions.id"], name=op.f("fk_vision_totals_vision_id_visions")),
        sa.PrimaryKeyConstraint("vision_id", name=op.f("pk_vision_totals")),
    )
    op.execute(FILL)
    _create_triggers(op.get_bind().dialect.name == "postgresql", TRIGGERS)


def downgrade():
    _drop_triggers(op.get_bind().dialect.name == "postgresql", TRIGGERS)
    op.drop_table("vision_totals")
