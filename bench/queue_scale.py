"""The facilitators' queue and the proposals list at the large scale and at three times it (issue 13).

    .venv/bin/python bench/queue_scale.py --scale 1                   # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/queue_scale.py --scale 3 --keep            # keep the file, to measure it again with --reuse
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_queue3'
    .venv/bin/python bench/queue_scale.py --scale 3 --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_queue3

1. Data: the deliberation benchmark's (bench/deliberation.py) times `--scale`: at 1, 20,000 people,
   10,000 proposals (70 % open), 300,000 votes and 100,000 comments and reflections; at 3, 60,000
   people, 30,000 proposals, 900,000 votes and 300,000 comments (a Decide Madrid-sized
   consultation). Then the working text of 15 elements moves on (a facilitator's direct edits), so
   the proposals on them are stale and some of those conflicted, and a facilitator is assigned one
   open proposal in twenty.
2. Server time per request, in-process through the Flask test client (as bench/deliberation.py):
   the queue signed in as that facilitator, with each sort, each flag, each filter and the search
   (words found in many proposals, in few, in none), and its last page; the proposals list with each
   sort and filter, and its last page. The last page is the one the first page's "Last page" link
   names, so however the list pages, the benchmark measures what a person reaching the end waits.
3. The SQL statements of each request are counted: they must not grow with the data (compare a run
   at `--scale 1` with one at `--scale 3`). Budget: p95 <= 50 ms (DESIGN.md §6); writes JSON to
   bench/out/.
"""

from __future__ import annotations

import random
import re
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, select, update  # noqa: E402

from bench import deliberation as delib  # noqa: E402
from bench import generate as gen  # noqa: E402
from bench import timing  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import (  # noqa: E402
    Comment,
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    Report,
    User,
    Vision,
    Vote,
)

MOVED_ELEMENTS = 15
ASSIGNED_SHARE = 20  # one open proposal in this many is assigned to the facilitator


def generate(database_url: str, scale: int, seed: int = 2025) -> dict[str, Any]:
    """The deliberation data times `scale`, then stale proposals and assignments; commit."""
    started = time.perf_counter()
    base = gen.generate(database_url)
    app = gen.make_app(database_url)
    rng = random.Random(seed)
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == base.slug))
        people, proposals = delib.generate_deliberation(rng, vision, scale)
        db.session.commit()
        facilitator = gen.generate_facilitator()
        db.session.commit()
        move_texts_on(rng, vision, facilitator)
        open_ids = [p["id"] for p in proposals if p["status"] == "open"]
        assigned = rng.sample(open_ids, len(open_ids) // ASSIGNED_SHARE)
        for start in range(0, len(assigned), 5_000):
            db.session.execute(update(Proposal).where(Proposal.id.in_(assigned[start : start + 5_000])).values(assignee_id=facilitator.id))
        db.session.commit()
        # The planner's statistics, as SQLite keeps them where `PRAGMA optimize` runs (README), and on
        # PostgreSQL what autovacuum does after a bulk load: statistics, and the visibility map without
        # which an index-only scan reads the table anyway (every queue page took ~70 ms more).
        gen.gather_statistics()
        counts = {
            name: db.session.scalar(select(func.count(model.id)))
            for name, model in (("users", User), ("proposals", Proposal), ("votes", Vote), ("comments", Comment), ("reports", Report))
        }
        counts["open proposals"] = len(open_ids)
        db.session.remove()
    print(f"Data at {scale}x: {counts} in {time.perf_counter() - started:.1f} s")
    return counts


def move_texts_on(rng: random.Random, vision: Vision, facilitator: User) -> None:
    """A facilitator rewords MOVED_ELEMENTS elements directly: their open proposals become stale
    (those whose change touches the reworded sentence, conflicted)."""
    from workbench.drafting.edits import edit_element_text

    rows = db.session.execute(
        select(Element.key, DraftEntry.lock_version, ElementText.title, ElementText.body)
        .join(DraftEntry, DraftEntry.element_id == Element.id)
        .join(ElementText, ElementText.id == DraftEntry.text_id)
        .where(Element.vision_id == vision.id, DraftEntry.is_removed.is_(False), Element.kind != "statement")
        .order_by(Element.id)
    ).all()
    for key, lock, title, body in rng.sample(rows, MOVED_ELEMENTS):
        edit_element_text(
            vision, key, title=title, body=gen.edit_text(rng, body, edits=2), reason="Benchmark: the text moves on",
            lock_version=lock, actor=facilitator,
        )
    db.session.commit()


def targets(app: Any) -> dict[str, Any]:
    """What the scenarios name: an element, an ambition, words found in many, few and no proposals,
    part of an author's name and an author's id; the facilitator's session."""
    with app.app_context():
        vision = db.session.scalar(select(Vision).where(Vision.slug == gen.SLUG))
        if vision is None:
            raise SystemExit(f"No vision {gen.SLUG!r} in that database: run without --reuse on an empty database.")
        facilitator = gen.generate_facilitator()
        db.session.commit()
        element = db.session.scalar(
            select(Element.key)
            .join(Proposal, Proposal.element_id == Element.id)
            .where(Element.vision_id == vision.id, Proposal.status == "open")
            .group_by(Element.key)
            .order_by(func.count(Proposal.id).desc())
            .limit(1)
        )
        # A rationale's rarest-looking word: two words from one open proposal's rationale.
        rationale = db.session.scalar(
            select(Proposal.rationale).where(Proposal.vision_id == vision.id, Proposal.status == "open").order_by(Proposal.id.desc()).limit(1)
        )
        few = " ".join(rationale.split()[2:4]).strip(".,;:")
        author = db.session.execute(
            select(User.id, User.display_name)
            .join(Proposal, Proposal.author_id == User.id)
            .where(Proposal.vision_id == vision.id)
            .order_by(Proposal.id)
            .limit(1)
        ).one()
        found = {
            "slug": vision.slug,
            "element": element,
            "ambition": "ambition-2",
            "many": "data",
            "few": few,
            "author_id": author.id,
            "author_part": author.display_name.split()[-1],  # "... 1234": a few people
            "common_name": author.display_name.split()[0],  # "Alex": a seventh of everyone
            "facilitator": facilitator.session_token,
        }
        db.session.remove()
    return found


def last_page_path(client: Any, path: str) -> str:
    """The last page's path, as the first page's pagination links to it: the link marked
    `rel="last"`, else the highest numbered page."""
    html = client.get(path).get_data(as_text=True)
    marked = re.search(r'<a[^>]*rel="last"[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*rel="last"', html)
    if marked:
        return (marked.group(1) or marked.group(2)).replace("&amp;", "&")
    numbered = re.findall(r'href="([^"]*[?&;]page=(\d+)[^"]*)"', html)
    if not numbered:
        return path
    href, _ = max(numbered, key=lambda item: int(item[1]))
    return href.replace("&amp;", "&")


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = timing.options(__doc__.split("\n\n")[0])
    parser.set_defaults(scale=1)
    args = parser.parse_args(argv)
    url, temporary = timing.database(args, f"queue{args.scale}")
    counts = None if args.reuse else generate(url, args.scale, args.seed)
    app = timing.app_for(url, args)
    found = targets(app)
    facilitator = delib.signed_in(app, found["facilitator"])
    anonymous = app.test_client()
    slug = found["slug"]
    queue = f"/visions/{slug}/facilitate"
    listing = f"/visions/{slug}/proposals"
    scenarios: list[tuple[Any, str, str]] = [
        (facilitator, "queue, default (waiting longest first)", queue),
        (facilitator, "queue, newest first", f"{queue}?sort=newest"),
        (facilitator, "queue, most support first", f"{queue}?sort=support"),
        (facilitator, "queue, stale only", f"{queue}?flag=stale"),
        (facilitator, "queue, up to date only", f"{queue}?flag=current"),
        (facilitator, "queue, conflicted only", f"{queue}?flag=conflicted"),
        (facilitator, "queue, competing only", f"{queue}?flag=competing"),
        (facilitator, f"queue, one element ({found['element']})", f"{queue}?element={found['element']}"),
        (facilitator, "queue, one ambition (ambition-2)", f"{queue}?ambition={found['ambition']}"),
        (facilitator, f"queue, search found in many ({found['many']!r})", f"{queue}?q={found['many']}"),
        (facilitator, f"queue, search found in few ({found['few']!r})", f"{queue}?q={found['few'].replace(' ', '+')}"),
        (facilitator, "queue, search found in none", f"{queue}?q=zyxwvut"),
        (facilitator, f"queue, by author ({found['author_part']!r})", f"{queue}?by={found['author_part']}"),
        (facilitator, f"queue, by author ({found['common_name']!r}, many)", f"{queue}?by={found['common_name']}"),
        (facilitator, "queue, assigned to me", f"{queue}?assignee=me"),
        (facilitator, "queue, not assigned", f"{queue}?assignee=none"),
        (facilitator, "queue, search + ambition + most support", f"{queue}?q={found['many']}&ambition={found['ambition']}&sort=support"),
        (anonymous, "proposals list, newest first", listing),
        (anonymous, "proposals list, oldest first", f"{listing}?sort=oldest"),
        (anonymous, "proposals list, most supported", f"{listing}?sort=supported"),
        (anonymous, "proposals list, most contested", f"{listing}?sort=contested"),
        (anonymous, "proposals list, most discussed", f"{listing}?sort=discussed"),
        (anonymous, "proposals list, open, most supported", f"{listing}?status=open&sort=supported"),
        (anonymous, f"proposals list, one element ({found['element']})", f"{listing}?element={found['element']}"),
        (anonymous, f"proposals list, by author ({found['author_part']!r})", f"{listing}?by={found['author_part']}"),
        (anonymous, f"proposals list, by author ({found['common_name']!r}, many)", f"{listing}?by={found['common_name']}"),
        (anonymous, "proposals list, one author's (by id)", f"{listing}?author={found['author_id']}"),
    ]
    # The last page of the busiest lists, as their first page links to it.
    for client, name, path in [scenarios[0], scenarios[2], scenarios[17], scenarios[19], scenarios[23]]:
        if args.only and args.only not in f"{name}: last page":
            continue
        with app.app_context():
            last = last_page_path(client, path)
        scenarios.append((client, f"{name}: last page", last))
    results = timing.run(app, [timing.Scenario(*s) for s in scenarios], args)
    timing.print_table(results, url, args)
    report = timing.write_report("queue", url, args, counts, results)
    timing.close(app, temporary, args)
    return report


if __name__ == "__main__":
    main()
