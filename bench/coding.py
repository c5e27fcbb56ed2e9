"""Tag filters at the large scale (issue 14, item 2): the queue and the responses list filtered by a
tag of the codebook, and the codebook page with its counts.

    .venv/bin/python bench/coding.py                        # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/coding.py --keep                 # keep the file, to measure it again with --reuse
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_coding'
    .venv/bin/python bench/coding.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_coding

1. Data: the deliberation benchmark's (bench/deliberation.py) at `--scale` (1: 20,000 people,
   10,000 proposals, 300,000 votes, 100,000 comments and reflections), then a codebook of TAGS
   tags: a common one on a fifth of the proposals and comments, a rare one on a few, the rest
   spread over a tenth each, so a third of the items carry some tag.
2. Server time per request, in-process through the Flask test client, as a facilitator: the queue
   and the responses list filtered by the common tag, the rare tag and (responses) "untagged", and
   the codebook page (its counts kept between requests until the next audit event, and counted
   afresh, as after a tagging). SQL statements are counted. Budget: p95 <= 50 ms (DESIGN.md §6); writes JSON
   to bench/out/. CPU time per request is reported beside wall time (the machine may be busy).
"""

from __future__ import annotations

import random
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import insert, select  # noqa: E402

from bench import deliberation as delib  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench import timing  # noqa: E402
from workbench.coding.models import CommentTag, ProposalTag, Tag  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Comment, Proposal, Vision, utcnow  # noqa: E402

TAGS = 20
RARE = 10  # items with the rare tag, of each kind


def generate(database_url: str, scale: int, seed: int = 2025) -> dict[str, Any]:
    """The deliberation data times `scale`, and a codebook whose tags are on a third of the items."""
    started = time.perf_counter()
    base = gen.generate(database_url)
    app = gen.make_app(database_url)
    rng = random.Random(seed)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == base.slug))
        people, proposals = delib.generate_deliberation(rng, vision, scale, reports=False)
        facilitator = gen.generate_facilitator()
        db.session.flush()
        now = utcnow()
        names = ["Common theme", "Rare theme", *(f"Theme {n}" for n in range(3, TAGS + 1))]
        db.session.execute(
            insert(Tag.__table__),
            [{"vision_id": vision.id, "name": name, "name_key": name.casefold(), "state": "active", "created_by_id": facilitator.id, "created_at": now} for name in names],
        )
        tag_ids = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.vision_id == vision.id)).all())
        common, rare = tag_ids["Common theme"], tag_ids["Rare theme"]
        others = [tag_ids[name] for name in names[2:]]
        counts: dict[str, int] = {}
        for model, link, column in ((Proposal, ProposalTag, "proposal_id"), (Comment, CommentTag, "comment_id")):
            ids = list(db.session.scalars(select(model.id).where(model.vision_id == vision.id)))
            rows = []
            for item_id in ids:
                if rng.random() < 0.2:
                    rows.append({"tag_id": common, column: item_id, "tagged_by_id": facilitator.id, "created_at": now})
                if rng.random() < 0.15:
                    rows.append({"tag_id": rng.choice(others), column: item_id, "tagged_by_id": facilitator.id, "created_at": now})
            for item_id in rng.sample(ids, RARE):
                rows.append({"tag_id": rare, column: item_id, "tagged_by_id": facilitator.id, "created_at": now})
            for start in range(0, len(rows), 10_000):
                db.session.execute(insert(link.__table__), rows[start : start + 10_000])
            counts[link.__tablename__] = len(rows)
        db.session.commit()
        gen.gather_statistics()
        counts["proposals"] = len(proposals)
        counts["comments"] = db.session.scalar(select(db.func.count(Comment.id)))
        db.session.remove()
    print(f"Data at {scale}x: {counts} in {time.perf_counter() - started:.1f} s")
    return counts


def targets(app: Any) -> dict[str, Any]:
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        facilitator = gen.generate_facilitator()
        db.session.commit()
        tags = dict(db.session.execute(select(Tag.name, Tag.id).where(Tag.vision_id == vision.id)).all())
        found = {"slug": vision.slug, "common": tags["Common theme"], "rare": tags["Rare theme"], "facilitator": facilitator.session_token}
        db.session.remove()
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = timing.options(__doc__.split("\n\n")[0]).parse_args(argv)
    url, temporary = timing.database(args, f"coding{args.scale}")
    counts = None if args.reuse else generate(url, args.scale, args.seed)
    app = timing.app_for(url, args)
    found = targets(app)
    facilitator = delib.signed_in(app, found["facilitator"])
    queue, responses = f"/visions/{found['slug']}/facilitate", f"/visions/{found['slug']}/facilitate/responses"
    codebook = f"/visions/{found['slug']}/facilitate/codebook"
    common, rare = found["common"], found["rare"]
    pages = [
        ("queue, common tag", f"{queue}?tag={common}"),
        ("queue, rare tag", f"{queue}?tag={rare}"),
        ("queue, common tag, most support first", f"{queue}?tag={common}&sort=support"),
        ("queue, common tag and an ambition", f"{queue}?tag={common}&ambition=ambition-2"),
        ("responses, no filter", responses),
        ("responses, common tag", f"{responses}?tag={common}"),
        ("responses, rare tag", f"{responses}?tag={rare}"),
        ("responses, untagged", f"{responses}?untagged=1"),
        ("responses, reflections with the common tag", f"{responses}?kind=reflection&tag={common}"),
        ("codebook with counts", codebook),
    ]
    scenarios = [timing.Scenario(facilitator, name, path) for name, path in pages]
    # As after a tagging: every in-process cache emptied before each request.
    scenarios.append(timing.Scenario(facilitator, "codebook, counted afresh (caches cleared)", codebook, {"cold": True}))
    results = timing.run(app, scenarios, args, width=50)
    timing.print_table(results, url, args, width=52)
    report = timing.write_report("coding", url, args, counts, results)
    timing.close(app, temporary, args)
    return report


if __name__ == "__main__":
    main()
