"""Who wrote each word (issue 18, item 1): `version_provenance` (one row per published version: the
spans of each element's words, credited to the first draft, a proposal, a facilitator's change at
acceptance or a direct edit) and `version_words` (how many words of each element a person wrote in
it, for "your words in version 3"). Both are written when a version is published and are immutable
like it: the database refuses UPDATE and DELETE (as 0002 does for versions), and, as 0014 does,
SQLite's INSERT OR REPLACE of a row that exists (a BEFORE INSERT guard) and PostgreSQL's TRUNCATE.

Versions published before this migration are filled in here, oldest first, from the chain of
element texts, as `history.who_wrote.record_provenance` (the code that runs at publish) did when this
was written: the tables and that logic are written out below, so that this migration keeps working
however the application changes; it uses only the pure `workbench.provenance` and `workbench.diffing`
(no Flask, no database), the rule that publishing follows too. What a version says, its hashes and
signature are not touched.

Revision ID: 0019_who_wrote_each_word
Revises: 0018_proposals_that_add
"""
import json
from collections import defaultdict
from datetime import datetime, timezone

import sqlalchemy as sa
from alembic import op

from workbench import diffing, provenance
from workbench.provenance import AcceptedProposal, Provenance, Step, Words

revision = "0019_who_wrote_each_word"
down_revision = "0018_proposals_that_add"
branch_labels = None
depends_on = None

versions = sa.table(
    "versions", sa.column("id", sa.Integer), sa.column("vision_id", sa.Integer), sa.column("number", sa.Integer),
    sa.column("snapshot", sa.Text),
)
draft_changes = sa.table(
    "draft_changes", sa.column("id", sa.Integer), sa.column("kind", sa.String), sa.column("actor_id", sa.Integer),
    sa.column("text_id", sa.Integer), sa.column("proposal_id", sa.Integer), sa.column("element_id", sa.Integer),
    sa.column("version_id", sa.Integer),
)
elements = sa.table("elements", sa.column("id", sa.Integer), sa.column("key", sa.String))
proposals = sa.table(
    "proposals", sa.column("id", sa.Integer), sa.column("author_id", sa.Integer), sa.column("base_text_id", sa.Integer),
    sa.column("title", sa.String), sa.column("body", sa.Text), sa.column("accepted_with_changes", sa.Boolean),
)
element_texts = sa.table("element_texts", sa.column("id", sa.Integer), sa.column("title", sa.String), sa.column("body", sa.Text))
version_provenance = sa.table(
    "version_provenance", sa.column("version_id", sa.Integer), sa.column("spans", sa.Text), sa.column("created_at", sa.DateTime)
)
version_words = sa.table(
    "version_words", sa.column("version_id", sa.Integer), sa.column("user_id", sa.Integer), sa.column("element_key", sa.String),
    sa.column("words", sa.Integer),
)

# A conflicted proposal's changes are tried one by one up to this many (facilitation/edit.py).
MOST_CHANGES_TRIED = 30

# Table: (message, the columns of each key that identifies a row).
GUARDED = {
    "version_provenance": ("who wrote each word of a published version is immutable", (("id",), ("version_id",))),
    "version_words": (
        "who wrote each word of a published version is immutable",
        (("version_id", "user_id", "element_key"),),
    ),
}


def create_guards():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table, (message, keys) in GUARDED.items():
        for action in ("UPDATE", "DELETE"):
            name = f"{table}_refuse_{action.lower()}"
            if postgresql:  # workbench_refuse_change() comes from migration 0002
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {action} ON {table} "
                    f"FOR EACH ROW EXECUTE FUNCTION workbench_refuse_change('{message}')"
                )
            else:
                op.execute(f"CREATE TRIGGER {name} BEFORE {action} ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END")
        if postgresql:
            op.execute(
                f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION workbench_refuse_change('{message}')"
            )
        else:
            taken = " OR ".join(
                "(" + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys
            )
            op.execute(
                f"CREATE TRIGGER {table}_refuse_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {taken}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_guards():
    postgresql = op.get_bind().dialect.name == "postgresql"
    for table in GUARDED:
        for action in ("update", "delete", "truncate", "replace"):
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_{action}" + (f" ON {table}" if postgresql else ""))


def fill_in_published_versions():
    bind = op.get_bind()
    ids = bind.execute(sa.text("SELECT id FROM versions ORDER BY vision_id, number")).scalars().all()
    for version_id in ids:
        record_provenance(bind, version_id)


# --- who wrote each word, as publishing recorded it when this was written (history/who_wrote.py) ---


def carry_over_what_applies(base, proposed, current):
    """`current` with those of the changes `base` -> `proposed` that carry over strictly on their
    own (`diffing.rebase`), the others left out (facilitation/edit.py)."""
    whole = diffing.rebase(base, proposed, current)
    if whole.ok:
        return whole.text or ""
    changes = diffing.diff_words(base, proposed)
    hunk_of = []  # for each change, the number of the run of changes it belongs to
    hunks = 0
    for i, change in enumerate(changes):
        if change.op == "equal":
            hunk_of.append(None)
        else:
            if i == 0 or changes[i - 1].op == "equal":
                hunks += 1
            hunk_of.append(hunks - 1)
    if hunks > MOST_CHANGES_TRIED:
        return current

    def with_only(chosen):
        return "".join(c.text for c, hunk in zip(changes, hunk_of) if hunk is None or (c.op == "delete") != (hunk in chosen))

    applying = {h for h in range(hunks) if diffing.rebase(base, with_only({h}), current).ok}
    if not applying:
        return current
    together = diffing.rebase(base, with_only(applying), current)
    return (together.text or "") if together.ok else current


def steps_of(changes, texts, start):
    """The steps of one element's changes: accepts of the same new text (accepted together) make
    one group."""
    steps = []
    current = start
    i = 0
    while i < len(changes):
        change = changes[i]
        result = texts[change.text_id]
        if change.kind == "accept" and change.proposal_id is not None:
            group = [change]
            while (
                i + 1 < len(changes)
                and changes[i + 1].kind == "accept"
                and changes[i + 1].text_id == change.text_id
                and changes[i + 1].proposal_id is not None
            ):
                i += 1
                group.append(changes[i])
            accepted = [
                AcceptedProposal(
                    id=c.proposal_id, author=c.author_id, base=texts.get(c.base_text_id, Words()),
                    proposed=Words(c.proposed_title or "", c.proposed_body or ""),
                )
                for c in group
            ]
            steps += provenance.accept_steps(
                current, accepted, result, facilitator=change.actor_id,
                with_changes=len(group) == 1 and bool(change.accepted_with_changes), carry_over=carry_over_what_applies,
            )
        elif change.kind == "import":
            steps.append(Step(result, provenance.FIRST_DRAFT))
        else:  # a direct edit, or an element added by a facilitator
            steps.append(Step(result, provenance.edit_source(change.actor_id)))
        current = result
        i += 1
    return steps


def compute_provenance(conn, version_id):
    """The spans of every element of the version, by key, from the previous version's stored spans
    and this version's changes (or every change up to it), and each element's words, by key."""
    row = conn.execute(sa.select(versions.c.vision_id, versions.c.number, versions.c.snapshot).where(versions.c.id == version_id)).one()
    snapshot = json.loads(row.snapshot)
    previous_row = conn.execute(
        sa.select(versions.c.id, versions.c.snapshot).where(versions.c.vision_id == row.vision_id, versions.c.number == row.number - 1)
    ).first()
    previous_spans = None
    if previous_row is not None:
        stored = conn.execute(sa.select(version_provenance.c.spans).where(version_provenance.c.version_id == previous_row.id)).scalar()
        previous_spans = None if stored is None else json.loads(stored)
    previous_elements = {}
    if previous_spans is not None:
        version_ids = [version_id]
        previous_elements = {e["key"]: e for e in json.loads(previous_row.snapshot)["elements"]}
    else:
        previous_spans = {}
        version_ids = list(
            conn.execute(sa.select(versions.c.id).where(versions.c.vision_id == row.vision_id, versions.c.number <= row.number)).scalars()
        )
    changes = conn.execute(
        sa.select(
            draft_changes.c.id, draft_changes.c.kind, draft_changes.c.actor_id, draft_changes.c.text_id, draft_changes.c.proposal_id,
            elements.c.key, proposals.c.author_id, proposals.c.base_text_id, proposals.c.title.label("proposed_title"),
            proposals.c.body.label("proposed_body"), proposals.c.accepted_with_changes,
        )
        .select_from(draft_changes)
        .join(elements, elements.c.id == draft_changes.c.element_id)
        .outerjoin(proposals, proposals.c.id == draft_changes.c.proposal_id)
        .where(draft_changes.c.version_id.in_(version_ids), draft_changes.c.text_id.is_not(None))
        .order_by(draft_changes.c.id)
    ).all()
    wanted = {i for c in changes for i in (c.text_id, c.base_text_id) if i is not None}
    texts = {
        t.id: Words(t.title or "", t.body or "")
        for t in (conn.execute(sa.select(element_texts).where(element_texts.c.id.in_(wanted))) if wanted else [])
    }
    by_key = defaultdict(list)
    for change in changes:
        by_key[change.key].append(change)

    result = {}
    words_by_key = {}
    for element in snapshot["elements"]:
        key = element["key"]
        words = words_by_key[key] = Words(element["title"] or "", element["body"] or "")
        before = previous_elements.get(key)
        stored = previous_spans.get(key)
        if before is not None and stored is not None and before["text_id"] == element["text_id"]:
            result[key] = {**stored, "text_id": element["text_id"]}
            continue
        start = None
        if before is not None and stored is not None:
            start = Provenance.from_json(Words(before["title"] or "", before["body"] or ""), stored)
        steps = steps_of(by_key.get(key, []), texts, start.words if start else Words())
        if not steps or steps[-1].words != words:
            # Never expected (the changes lead to the published text): credit what remains.
            steps.append(Step(words, provenance.FIRST_DRAFT if row.number == 1 else provenance.edit_source(None)))
        result[key] = {**provenance.attribute(steps, start).to_json(), "text_id": element["text_id"]}
    return result, words_by_key


def record_provenance(conn, version_id):
    """Store who wrote each word of the version, and each person's word count per element."""
    spans, snapshot_words = compute_provenance(conn, version_id)
    conn.execute(
        version_provenance.insert(),
        [{"version_id": version_id, "spans": json.dumps(spans, sort_keys=True, separators=(",", ":")),
          "created_at": datetime.now(timezone.utc).replace(tzinfo=None)}],  # naive UTC, as the app stores it
    )
    words = []
    for key, stored in spans.items():
        counted = provenance.words_by_person(Provenance.from_json(snapshot_words[key], stored))
        words += [
            {"version_id": version_id, "user_id": person, "element_key": key, "words": count}
            for person, count in counted.items()
            if count
        ]
    if words:
        conn.execute(version_words.insert(), words)


def upgrade():
    op.create_table(
        "version_provenance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("spans", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name=op.f("fk_version_provenance_version_id_versions")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_version_provenance")),
        sa.UniqueConstraint("version_id", name=op.f("uq_version_provenance_version_id")),
    )
    op.create_table(
        "version_words",
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("element_key", sa.String(length=40), nullable=False),
        sa.Column("words", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["version_id"], ["versions.id"], name=op.f("fk_version_words_version_id_versions")),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_version_words_user_id_users")),
        sa.PrimaryKeyConstraint("version_id", "user_id", "element_key", name=op.f("pk_version_words")),
    )
    op.create_index("ix_version_words_person", "version_words", ["user_id", "version_id"], unique=False)
    fill_in_published_versions()
    create_guards()


def downgrade():
    drop_guards()
    op.drop_index("ix_version_words_person", table_name="version_words")
    op.drop_table("version_words")
    op.drop_table("version_provenance")
