"""Search across proposals, comments, reflections and aligned work at the large scale (issue 14, item 3).

    .venv/bin/python bench/search.py                        # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/search.py --keep                 # keep the file, to measure it again with --reuse
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_search'
    .venv/bin/python bench/search.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_search

1. Data: the deliberation benchmark's (bench/deliberation.py, as bench/queue_scale.py uses it) at
   `--scale` (1: 20,000 people, 10,000 proposals, 300,000 votes, 100,000 comments and reflections),
   written through the app's tables so that the database's triggers index every row; then
   ALIGNED initiatives of aligned work (a fifth of them not approved), one comment in a hundred
   hidden by a moderator (through an UPDATE, so the triggers follow it), and a rare word written
   into RARE comments and proposals. The generator's vocabulary is ~110 words, so any of its words
   ("data") is in nearly every row: the common word.
2. Server time per request, in-process through the Flask test client (as the other benchmarks):
   the search page for a common word, a rare word, a word found nowhere, a phrase, each filtered by
   kind and by element, anonymous and as a facilitator (who finds hidden content too), and a later
   page. SQL statements are counted (they must not grow with the data). Budget: p95 <= 50 ms
   (DESIGN.md §6); writes JSON to bench/out/.
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

from sqlalchemy import func, insert, select, text, update  # noqa: E402

from bench import deliberation as delib  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench import timing  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import AlignedWork, AlignedWorkElement, Comment, Element, Proposal, User, Vision, utcnow  # noqa: E402

ALIGNED = 2_000
RARE = 12
RARE_WORD = "heliotrope"
HIDDEN_SHARE = 100  # one comment in this many is hidden


def generate(database_url: str, scale: int, seed: int = 2025) -> dict[str, Any]:
    """The deliberation data times `scale`, aligned work, hidden comments and a rare word; commit."""
    started = time.perf_counter()
    base = gen.generate(database_url)
    app = gen.make_app(database_url)
    rng = random.Random(seed)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == base.slug))
        people, proposals = delib.generate_deliberation(rng, vision, scale, reports=False)
        generate_aligned_work(rng, vision, people, ALIGNED * scale)
        facilitator = gen.generate_facilitator()
        db.session.flush()
        comment_ids = list(db.session.scalars(select(Comment.id).where(Comment.vision_id == vision.id)))
        hidden = rng.sample(comment_ids, len(comment_ids) // HIDDEN_SHARE)
        for start in range(0, len(hidden), 5_000):
            db.session.execute(
                update(Comment).where(Comment.id.in_(hidden[start : start + 5_000]))
                .values(hidden_at=utcnow(), hidden_by_id=facilitator.id, hidden_reason="Benchmark: off topic")
            )
        for comment_id in rng.sample(comment_ids, RARE):
            db.session.execute(update(Comment).where(Comment.id == comment_id).values(body=Comment.body + f" A {RARE_WORD} idea."))
        for proposal in rng.sample(proposals, RARE // 2):
            db.session.execute(
                update(Proposal).where(Proposal.id == proposal["id"]).values(rationale=Proposal.rationale + f" Like {RARE_WORD}.")
            )
        db.session.commit()
        gen.gather_statistics()
        counts = {
            name: db.session.scalar(select(func.count(model.id)))
            for name, model in (("users", User), ("proposals", Proposal), ("comments", Comment), ("aligned work", AlignedWork))
        }
        counts["search entries"] = db.session.scalar(text("SELECT count(*) FROM search_entries"))
        counts["hidden comments"] = len(hidden)
        db.session.remove()
    print(f"Data at {scale}x: {counts} in {time.perf_counter() - started:.1f} s")
    return counts


def generate_aligned_work(rng: random.Random, vision: Vision, people: list[int], count: int) -> None:
    """`count` initiatives, four in five approved, each supporting one to three elements."""
    element_ids = list(db.session.scalars(select(Element.id).where(Element.vision_id == vision.id)))
    first = (db.session.scalar(select(func.max(AlignedWork.id))) or 0) + 1
    now = utcnow()
    rows, links = [], []
    for i in range(count):
        approved = rng.random() < 0.8
        rows.append(
            {
                "id": first + i, "vision_id": vision.id, "submitter_id": rng.choice(people), "created_at": now, "updated_at": now,
                "state": "approved" if approved else "pending", "screening_reason": "", "pending": None,
                "organisation": f"{rng.choice(['Council', 'Agency', 'Trust', 'Board'])} {i}" if approved else "",
                "title": gen.sentence(rng, 3, 8) if approved else "", "description": gen.sentence(rng, 20, 60) if approved else "",
                "status": "planned", "link": "", "contact": "", "approved_at": now if approved else None,
            }
        )
        for element_id in rng.sample(element_ids, rng.randint(1, 3)):
            links.append({"aligned_work_id": first + i, "element_id": element_id})
    db.session.execute(insert(AlignedWork.__table__), rows)
    db.session.execute(insert(AlignedWorkElement.__table__), links)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('aligned_work', 'id'), (SELECT max(id) FROM aligned_work))"))


def targets(app: Any) -> dict[str, Any]:
    """The vision, its busiest element (most proposals) and the facilitator's session."""
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        facilitator = gen.generate_facilitator()
        db.session.commit()
        busiest = db.session.scalar(
            select(Element.key).join(Proposal, Proposal.element_id == Element.id).where(Element.vision_id == vision.id)
            .group_by(Element.key).order_by(func.count(Proposal.id).desc()).limit(1)
        )
        quietest = db.session.scalar(
            select(Element.key).join(Proposal, Proposal.element_id == Element.id).where(Element.vision_id == vision.id)
            .group_by(Element.key).order_by(func.count(Proposal.id)).limit(1)
        )
        found = {"slug": vision.slug, "busiest": busiest, "quietest": quietest, "facilitator": facilitator.session_token}
        db.session.remove()
    return found


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = timing.options(__doc__.split("\n\n")[0]).parse_args(argv)
    url, temporary = timing.database(args, f"search{args.scale}")
    counts = None if args.reuse else generate(url, args.scale, args.seed)
    app = timing.app_for(url, args)
    found = targets(app)
    facilitator = delib.signed_in(app, found["facilitator"])
    anonymous = app.test_client()
    search = f"/visions/{found['slug']}/search"
    busiest, quietest = found["busiest"], found["quietest"]
    scenarios: list[tuple[Any, str, str]] = [
        (anonymous, "common word ('data')", f"{search}?q=data"),
        (anonymous, f"rare word ({RARE_WORD!r})", f"{search}?q={RARE_WORD}"),
        (anonymous, "no match ('zyxwvut')", f"{search}?q=zyxwvut"),
        (anonymous, "two common words", f"{search}?q=open+data"),
        (anonymous, "common phrase", f"{search}?q=%22public+sector%22"),
        (anonymous, "common word or rare word", f"{search}?q=data+or+{RARE_WORD}"),
        (anonymous, "common word, leaving out another", f"{search}?q=data+-trust"),
        (anonymous, "common word, page 10", f"{search}?q=data&page=10"),
        (anonymous, "common word, proposals", f"{search}?q=data&kind=proposal"),
        (anonymous, "common word, comments", f"{search}?q=data&kind=comment"),
        (anonymous, "common word, reflections", f"{search}?q=data&kind=reflection"),
        (anonymous, "common word, aligned work", f"{search}?q=data&kind=aligned_work"),
        (anonymous, f"common word, busiest element ({busiest})", f"{search}?q=data&element={busiest}"),
        (anonymous, f"common word, quietest element ({quietest})", f"{search}?q=data&element={quietest}"),
        (anonymous, "common word, proposals on the quietest element", f"{search}?q=data&kind=proposal&element={quietest}"),
        (anonymous, "rare word, comments", f"{search}?q={RARE_WORD}&kind=comment"),
        (anonymous, f"rare word, busiest element ({busiest})", f"{search}?q={RARE_WORD}&element={busiest}"),
        (anonymous, "no match, aligned work", f"{search}?q=zyxwvut&kind=aligned_work"),
        (facilitator, "facilitator: common word", f"{search}?q=data"),
        (facilitator, "facilitator: rare word", f"{search}?q={RARE_WORD}"),
        (facilitator, f"facilitator: common word, quietest element ({quietest})", f"{search}?q=data&element={quietest}"),
    ]
    results = timing.run(app, [timing.Scenario(*s) for s in scenarios], args)
    timing.print_table(results, url, args)
    report = timing.write_report("search", url, args, counts, results)
    timing.close(app, temporary, args)
    return report


if __name__ == "__main__":
    main()
