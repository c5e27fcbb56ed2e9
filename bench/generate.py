"""Generate benchmark data: a large vision with a long history, written with the app's own models.

    .venv/bin/python bench/generate.py --database-url sqlite:////tmp/bench.sqlite3

What it builds (DESIGN.md §6, issue 2 item 9), reproducibly (seeded):

- a vision of 150 elements: the statement, 5 ambitions, and 144 objectives and enabling conditions
  spread over the ambitions (about two objectives to one condition), each with a 40-100 word body;
- 20 published versions: version 1 is the imported draft; each later version changes the text of
  about 10 elements (new ElementText rows, the working draft pointed at them, DraftChange rows) and
  is published with `publish_version`, so snapshots, hashes and changelogs are the app's own.

Each kind of data has its own function taking the vision (and a random generator), so that more
kinds (users, proposals, votes, comments) can be added next to them for the large benchmark scale.
Rows are written in bulk (executemany, with RETURNING where ids are needed): the whole run takes a
few seconds.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from flask import Flask  # noqa: E402
from sqlalchemy import bindparam, insert, select, text  # noqa: E402

from workbench import create_app, ready_to_serve  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import DraftChange, DraftEntry, Element, ElementText, Role, User, Vision, utcnow  # noqa: E402
from workbench.drafting.publishing import publish_version  # noqa: E402

SLUG = "bench-vision"
ELEMENTS = 150
AMBITIONS = 5
VERSIONS = 20
CHANGES_PER_VERSION = 10

WORDS = (
    "data public sector services people communities trust open standards share safely records health "
    "education local councils government evidence decisions research privacy consent quality skills "
    "digital infrastructure identity security ethical transparent accountable fair inclusive access "
    "use reuse publish register catalogue partners agencies analysts citizens places outcomes improve "
    "reduce burden collect once link protect explain measure report review annual plain language "
    "national regional every body should will can must by 2030 with and for the of to in on as "
    "across between within through clear common shared trusted reliable timely accurate complete"
).split()


@dataclass
class Generated:
    """What was built, for the caller to print or to aim requests at."""

    slug: str
    vision_id: int
    element_keys: list[str]
    versions: int
    seconds: float
    counts: dict[str, int] = field(default_factory=dict)


# --- the app and its schema -----------------------------------------------------------------------


def database_or_temporary(url: str | None, name: str) -> tuple[str, tempfile.TemporaryDirectory[str] | None]:
    """`url`, or a fresh SQLite file in a temporary directory (returned too: clean it up at the end)."""
    if url:
        return url, None
    temporary = tempfile.TemporaryDirectory(prefix=f"vw-bench-{name}-")
    return f"sqlite:///{temporary.name}/bench.sqlite3", temporary


def make_app(database_url: str) -> Flask:
    """The app on `database_url`, configured for a one-off script (no secret needed to write data),
    and made ready to serve as wsgi.py makes it (the in-process benchmarks time it serving)."""
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench-generator", "RATELIMIT_ENABLED": False, "DEV": True})
    ready_to_serve()
    return app


def migrate(app: Flask) -> None:
    """Bring the schema to the latest migration (the only source of schema)."""
    from flask_migrate import upgrade

    with app.app_context():
        upgrade()


def gather_statistics() -> None:
    """The planner's statistics after a bulk load, as a live database keeps them (in an app
    context). PostgreSQL: VACUUM ANALYZE, autovacuum's work (statistics, and the visibility map an
    index-only scan needs to skip the table), outside any transaction. SQLite: ANALYZE, what
    `PRAGMA optimize` keeps (the README's production notes), committed: the app's SQLite connections
    begin every transaction themselves (database.configure_sqlite), so on an "AUTOCOMMIT"
    connection ANALYZE was held in a transaction that closing it rolled back, and the planner had
    no statistics (the proposals list of one author read every proposal: 62 ms at 3x)."""
    db.session.remove()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
    else:
        with db.engine.begin() as connection:
            connection.execute(text("ANALYZE"))


# --- text -----------------------------------------------------------------------------------------


def sentence(rng: random.Random, low: int = 8, high: int = 18) -> str:
    words = rng.choices(WORDS, k=rng.randint(low, high))
    return " ".join(words).capitalize() + "."


def body_text(rng: random.Random, words: tuple[int, int] = (40, 100)) -> str:
    """One or two paragraphs of made-up but word-like prose, `words` words long."""
    target = rng.randint(*words)
    sentences: list[str] = []
    count = 0
    while count < target:
        s = sentence(rng)
        sentences.append(s)
        count += len(s.split())
    if len(sentences) > 3:
        cut = len(sentences) // 2
        return " ".join(sentences[:cut]) + "\n\n" + " ".join(sentences[cut:])
    return " ".join(sentences)


def edit_text(rng: random.Random, body: str, edits: int = 3) -> str:
    """The body with a few scattered words replaced (the paragraphs kept)."""
    paragraphs = [p.split(" ") for p in body.split("\n\n")]
    for _ in range(edits):
        words = rng.choice(paragraphs)
        i = rng.randrange(len(words))
        ending = "." if words[i].endswith(".") else ""
        replacement = rng.choice(WORDS)
        words[i] = (replacement.capitalize() if words[i][:1].isupper() else replacement) + ending
    return "\n\n".join(" ".join(words) for words in paragraphs)


# --- kinds of data (one function each) ------------------------------------------------------------


def generate_facilitator(email: str = "bench-facilitator@example.org") -> User:
    """The person who publishes the versions (cannot sign in: no password)."""
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None:
        user = User(email=email, display_name="Bench Facilitator", role=Role.FACILITATOR.value, password_hash="")
        db.session.add(user)
        db.session.flush()
    return user


def tree_shape(elements: int, ambitions: int) -> list[tuple[int, int]]:
    """(objectives, conditions) per ambition, adding up to `elements` with the statement and ambitions."""
    children = elements - 1 - ambitions
    if children < 0:
        raise ValueError(f"{elements} elements cannot hold a statement and {ambitions} ambitions")
    shape = []
    for a in range(ambitions):
        n = children // ambitions + (1 if a < children % ambitions else 0)
        conditions = n // 3
        shape.append((n - conditions, conditions))
    return shape


def generate_vision(
    rng: random.Random, actor: User, *, slug: str = SLUG, elements: int = ELEMENTS, ambitions: int = AMBITIONS
) -> Vision:
    """A vision of `elements` elements in its working draft (not yet published); window open."""
    vision = Vision(
        slug=slug,
        title="A Benchmark Vision for Public Sector Data",
        summary=sentence(rng, 20, 30),
        opens_at=utcnow() - timedelta(days=1),
        closes_at=utcnow() + timedelta(days=60),
    )
    db.session.add(vision)
    db.session.flush()

    # (kind, key, parent key, position, title, body) in document order
    nodes: list[tuple[str, str, str | None, int, str, str]] = [("statement", "statement-1", None, 0, "", body_text(rng, (25, 40)))]
    counters = {"objective": 0, "condition": 0}
    for a, (objectives, conditions) in enumerate(tree_shape(elements, ambitions), start=1):
        ambition_key = f"ambition-{a}"
        nodes.append(("ambition", ambition_key, None, a, sentence(rng, 5, 9).rstrip("."), body_text(rng)))
        for kind, n in (("objective", objectives), ("condition", conditions)):
            for position in range(1, n + 1):
                counters[kind] += 1
                nodes.append((kind, f"{kind}-{counters[kind]}", ambition_key, position, sentence(rng, 4, 8).rstrip("."), body_text(rng)))

    ids = dict(
        db.session.execute(
            insert(Element).returning(Element.key, Element.id, sort_by_parameter_order=True),
            [{"vision_id": vision.id, "key": key, "kind": kind} for kind, key, *_ in nodes],
        ).all()
    )
    text_ids = db.session.scalars(
        insert(ElementText).returning(ElementText.id, sort_by_parameter_order=True),
        [{"element_id": ids[key], "title": title, "body": body, "created_by_id": actor.id} for _, key, _, _, title, body in nodes],
    ).all()
    db.session.execute(
        insert(DraftEntry),
        [
            {
                "vision_id": vision.id,
                "element_id": ids[key],
                "parent_element_id": ids[parent] if parent else None,
                "position": position,
                "text_id": text_id,
                "lock_version": 1,
            }
            for (_, key, parent, position, _, _), text_id in zip(nodes, text_ids, strict=True)
        ],
    )
    db.session.execute(
        insert(DraftChange),
        [
            {"vision_id": vision.id, "element_id": ids[key], "kind": "import", "actor_id": actor.id, "reason": "Generated for the benchmark", "text_id": text_id}
            for (_, key, *_), text_id in zip(nodes, text_ids, strict=True)
        ],
    )
    return vision


def generate_edits(rng: random.Random, vision: Vision, actor: User, *, changes: int = CHANGES_PER_VERSION) -> int:
    """Change the text of about `changes` elements in the working draft (new texts, DraftChange rows)."""
    rows = db.session.execute(
        select(DraftEntry.id, DraftEntry.element_id, DraftEntry.lock_version, ElementText.title, ElementText.body)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .where(DraftEntry.vision_id == vision.id, DraftEntry.is_removed.is_(False))
        .order_by(DraftEntry.id)
    ).all()
    chosen = rng.sample(rows, k=min(len(rows), max(1, changes + rng.randint(-2, 2))))
    text_ids = db.session.scalars(
        insert(ElementText).returning(ElementText.id, sort_by_parameter_order=True),
        [
            {"element_id": row.element_id, "title": row.title, "body": edit_text(rng, row.body), "created_by_id": actor.id}
            for row in chosen
        ],
    ).all()
    entries = DraftEntry.__table__
    db.session.execute(
        entries.update()
        .where(entries.c.id == bindparam("entry_id"))
        .values(text_id=bindparam("new_text_id"), lock_version=bindparam("new_lock_version")),
        [
            {"entry_id": row.id, "new_text_id": text_id, "new_lock_version": row.lock_version + 1}
            for row, text_id in zip(chosen, text_ids, strict=True)
        ],
    )
    db.session.execute(
        insert(DraftChange),
        [
            {"vision_id": vision.id, "element_id": row.element_id, "kind": "edit", "actor_id": actor.id, "reason": sentence(rng, 6, 12), "text_id": text_id}
            for row, text_id in zip(chosen, text_ids, strict=True)
        ],
    )
    return len(chosen)


def generate_versions(
    rng: random.Random, vision: Vision, actor: User, *, versions: int = VERSIONS, changes: int = CHANGES_PER_VERSION
) -> int:
    """Publish the draft as version 1, then `versions - 1` more, each after about `changes` edits."""
    publish_version(vision, actor=actor, notes="First published draft.")
    edited = 0
    for number in range(2, versions + 1):
        n = generate_edits(rng, vision, actor, changes=changes)
        edited += n
        publish_version(vision, actor=actor, notes=f"Version {number}: {n} elements reworded.")
    return edited


# --- all of it ------------------------------------------------------------------------------------


def generate(
    database_url: str,
    *,
    slug: str = SLUG,
    elements: int = ELEMENTS,
    versions: int = VERSIONS,
    changes: int = CHANGES_PER_VERSION,
    seed: int = 2024,
    run_migrations: bool = True,
) -> Generated:
    """Migrate `database_url` and build the benchmark vision in it; commit. Raises if `slug` exists."""
    started = time.perf_counter()
    app = make_app(database_url)
    if run_migrations:
        migrate(app)
    rng = random.Random(seed)
    with app.app_context():
        if db.session.scalar(select(Vision.id).where(Vision.slug == slug)) is not None:
            raise SystemExit(f"The database already holds a vision {slug!r}: use a fresh database.")
        actor = generate_facilitator()
        vision = generate_vision(rng, actor, slug=slug, elements=elements)
        edited = generate_versions(rng, vision, actor, versions=versions, changes=changes)
        db.session.commit()
        keys = list(db.session.scalars(select(Element.key).where(Element.vision_id == vision.id).order_by(Element.id)))
        result = Generated(
            slug=slug,
            vision_id=vision.id,
            element_keys=keys,
            versions=vision.latest_version_number,
            seconds=time.perf_counter() - started,
            counts={"elements": len(keys), "versions": vision.latest_version_number, "edits": edited},
        )
        db.session.remove()
        db.engine.dispose()
    return result


def main(argv: list[str] | None = None) -> Any:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True, help="e.g. sqlite:////tmp/bench.sqlite3 or postgresql+psycopg://...")
    parser.add_argument("--slug", default=SLUG)
    parser.add_argument("--elements", type=int, default=ELEMENTS)
    parser.add_argument("--versions", type=int, default=VERSIONS)
    parser.add_argument("--changes", type=int, default=CHANGES_PER_VERSION, help="elements reworded per version")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    result = generate(
        args.database_url, slug=args.slug, elements=args.elements, versions=args.versions, changes=args.changes, seed=args.seed
    )
    print(
        f"Generated {result.slug!r}: {result.counts['elements']} elements, {result.versions} versions, "
        f"{result.counts['edits']} edits, in {result.seconds:.1f} s"
    )
    return result


if __name__ == "__main__":
    main()
