"""Versions anyone can verify, and the database guard closed (issue 18, items 4 and 5).

Versions get `snapshot_hash` (the sha256 of the stored snapshot: what `content_hash` held until now,
moved there unchanged), `previous_hash`, `signature` and `signing_key`; `content_hash` becomes the
public content hash that anyone can recompute from /v/<n>.json (workbench/visions/verification.py).
Existing versions are sealed here, oldest first, each chained to the one before: what they say (the
snapshot, notes, numbers, dates) is not touched. They are signed with the site's key as the app
finds it (WORKBENCH_SIGNING_KEY, instance/signing_key, or in development and tests a key derived
from the secret key): set the key before upgrading a database that has versions.

The guard: on SQLite, `INSERT OR REPLACE` deleted a published row without firing its DELETE trigger;
a BEFORE INSERT trigger now refuses any row whose id or natural key is taken. On PostgreSQL, a BEFORE
TRUNCATE trigger refuses TRUNCATE. (The app's SQLite connections also set `recursive_triggers`, so
that REPLACE fires the DELETE guard: workbench/database.py.) Like those of 0002, SQLite drops these
triggers when a batch migration rebuilds the table: call create_insert_guards() again after one.

The hashing below is a frozen copy of the app's (verification.public_content), so that this
migration gives the same result whatever the app becomes; tests/test_verifiable_versions.py checks
that the two agree.

Revision ID: 0014_verifiable_versions
Revises: 0012_notifications (no 0013: the proposals that move came later, as 0016)
"""
import base64
import hashlib
import json

import sqlalchemy as sa
from alembic import op

revision = "0014_verifiable_versions"
down_revision = "0012_notifications"
branch_labels = None
depends_on = None

# Table: (message of 0002, the columns of each key that identifies a row).
GUARDED = {
    "versions": ("published versions are immutable", (("id",), ("vision_id", "number"))),
    "element_texts": ("element texts are immutable", (("id",),)),
    "proposal_revisions": ("proposal revisions are immutable", (("id",), ("proposal_id", "number"))),
}
COLUMNS = (
    ("snapshot_hash", sa.String(length=64)),
    ("previous_hash", sa.String(length=64)),
    ("signature", sa.String(length=100)),
    ("signing_key", sa.String(length=60)),
)


def create_insert_guards():
    dialect = op.get_bind().dialect.name
    for table, (message, keys) in GUARDED.items():
        if dialect == "postgresql":
            # PostgreSQL has no REPLACE (ON CONFLICT DO UPDATE fires the UPDATE guard); TRUNCATE
            # fires no row trigger, so it gets a statement trigger of its own.
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
            op.execute(
                f"CREATE TRIGGER {table}_refuse_truncate BEFORE TRUNCATE ON {table} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION workbench_refuse_change('{message}')"
            )
        else:
            taken = " OR ".join(
                "(" + " AND ".join(f"{column} = NEW.{column}" for column in key) + ")" for key in keys
            )
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_replace")
            op.execute(
                f"CREATE TRIGGER {table}_refuse_replace BEFORE INSERT ON {table} "
                f"WHEN EXISTS (SELECT 1 FROM {table} WHERE {taken}) "
                f"BEGIN SELECT RAISE(ABORT, '{message}'); END"
            )


def drop_insert_guards():
    dialect = op.get_bind().dialect.name
    for table in GUARDED:
        if dialect == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_truncate ON {table}")
        else:
            op.execute(f"DROP TRIGGER IF EXISTS {table}_refuse_replace")


def _without_the_update_guard(change):
    """Run `change()` with versions' UPDATE guard (0002) lifted, and put it back."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS versions_refuse_update ON versions")
    else:
        op.execute("DROP TRIGGER IF EXISTS versions_refuse_update")
    change()
    message = GUARDED["versions"][0]
    if dialect == "postgresql":
        op.execute(
            "CREATE TRIGGER versions_refuse_update BEFORE UPDATE ON versions "
            f"FOR EACH ROW EXECUTE FUNCTION workbench_refuse_change('{message}')"
        )
    else:
        op.execute(f"CREATE TRIGGER versions_refuse_update BEFORE UPDATE ON versions BEGIN SELECT RAISE(ABORT, '{message}'); END")


# --- the public content hash, as of this migration (frozen copy of verification.py) ---------------


def _nested(elements):
    by_key, roots = {}, []
    for element in elements:
        node = {name: element[name] for name in ("key", "kind", "number", "label", "title", "body")}
        node["children"] = []
        by_key[element["key"]] = node
        (roots if element["parent"] is None else by_key[element["parent"]]["children"]).append(node)
    return roots


def _content_bytes(snapshot, notes, previous_hash):
    content = {
        "schema_version": 1,
        "vision": snapshot["vision"],
        "version": snapshot["number"],
        "published_at": snapshot["published_at"],
        "notes": notes,
        "previous_hash": None if previous_hash is None else f"sha256:{previous_hash}",
        "elements": _nested(snapshot["elements"]),
    }
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _signing_key():
    # The key is configuration, found as the app finds it (the only thing taken from the app).
    from flask import current_app

    from workbench.visions.verification import load_site_keys

    return load_site_keys(current_app.config, current_app.instance_path).signing


def seal_existing_versions():
    bind = op.get_bind()
    rows = bind.execute(
        sa.text("SELECT id, vision_id, number, notes, content_hash, snapshot FROM versions ORDER BY vision_id, number")
    ).all()
    if not rows:
        return
    key = _signing_key()
    public_key = base64.b64encode(bytes(key.verify_key)).decode()
    sealed, previous = [], {}
    for row in rows:
        # A row that cannot be read stays unsealed (and so refused, and reported by `vision verify`).
        try:
            content = _content_bytes(json.loads(row.snapshot), row.notes, previous.get(row.vision_id))
        except (ValueError, KeyError, TypeError, AttributeError):
            previous[row.vision_id] = None
            sealed.append({"id": row.id, "snapshot_hash": row.content_hash, "content_hash": row.content_hash,
                           "previous_hash": None, "signature": None, "signing_key": None})
            continue
        content_hash = hashlib.sha256(content).hexdigest()
        sealed.append(
            {
                "id": row.id,
                "snapshot_hash": row.content_hash,
                "content_hash": content_hash,
                "previous_hash": previous.get(row.vision_id),
                "signature": base64.b64encode(key.sign(content).signature).decode(),
                "signing_key": public_key,
            }
        )
        previous[row.vision_id] = content_hash

    def change():
        bind.execute(
            sa.text(
                "UPDATE versions SET snapshot_hash = :snapshot_hash, content_hash = :content_hash, "
                "previous_hash = :previous_hash, signature = :signature, signing_key = :signing_key WHERE id = :id"
            ),
            sealed,
        )

    _without_the_update_guard(change)


def upgrade():
    for name, type_ in COLUMNS:
        op.add_column("versions", sa.Column(name, type_, nullable=True))
    seal_existing_versions()
    create_insert_guards()


def downgrade():
    drop_insert_guards()
    bind = op.get_bind()
    _without_the_update_guard(
        lambda: bind.execute(sa.text("UPDATE versions SET content_hash = COALESCE(snapshot_hash, content_hash)"))
    )
    for name, _ in reversed(COLUMNS):
        op.drop_column("versions", name)
