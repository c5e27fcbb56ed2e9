"""Time accepting five proposals together on one element (issue 13; budget: <= 100 ms).

    .venv/bin/python bench/accept_together.py                  # SQLite: a fresh file in a temporary directory
    .venv/bin/python bench/accept_together.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_together

1. Data: bench/generate.py's vision of 150 elements; one element gets a ~300-word text in two
   paragraphs, and five volunteers each propose one word changed, spread over the text (they agree).
2. `together.accept_together` of the five (locks, checks, five strict rebases, one new text, five
   draft changes and events, flushed), `--runs` times (default 50) after 5 to warm up, each rolled
   back so the data stays as it was; and the page with the combined text (GET, in-process).
3. Prints p50/p95 wall-clock milliseconds and whether the budget is met.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from bench import generate as gen  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.facilitation import together  # noqa: E402
from workbench.models import DraftEntry, Element, ElementText, Role, User, Vision  # noqa: E402
from workbench.proposals.services import open_proposal  # noqa: E402

BUDGET_MS = 100.0
PROPOSALS = 5
KEY = "objective-1"


def prepare(app) -> tuple[int, list[int], int]:
    """The vision, the five proposals' ids and the facilitator's id."""
    rng = random.Random(13)
    with app.app_context():
        actor = gen.generate_facilitator()
        vision = gen.generate_vision(rng, actor, slug="bench-together")
        element = db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == KEY))
        entry = db.session.scalar(select(DraftEntry).where(DraftEntry.element_id == element.id))
        old = db.session.get(ElementText, entry.text_id)
        body = gen.body_text(rng, (280, 320))
        text = ElementText(element_id=element.id, title=old.title, body=body, created_by_id=actor.id)
        db.session.add(text)
        db.session.flush()
        entry.text_id = text.id
        words = body.split(" ")
        ids = []
        for n in range(PROPOSALS):
            author = User(email=f"author{n}@example.org", display_name=f"Author {n}", role=Role.VOLUNTEER.value, password_hash="")
            db.session.add(author)
            db.session.flush()
            changed = list(words)
            i = (n * len(words)) // PROPOSALS + 3
            changed[i] = "changed" + ("." if words[i].endswith(".") else "")
            ids.append(open_proposal(vision, element, author, old.title, " ".join(changed), "Clearer.").id)
        db.session.commit()
        return vision.id, ids, actor.id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args(argv)
    url, temporary = gen.database_or_temporary(args.database_url, "together")
    app = gen.make_app(url)
    gen.migrate(app)
    vision_id, ids, facilitator_id = prepare(app)

    timings: list[float] = []
    with app.app_context():
        for run in range(5 + args.runs):
            vision = db.session.get(Vision, vision_id)
            facilitator = db.session.get(User, facilitator_id)
            expected = db.session.scalar(
                select(DraftEntry.text_id).join(Element, Element.id == DraftEntry.element_id).where(Element.key == KEY, Element.vision_id == vision_id)
            )
            started = time.perf_counter()
            together.accept_together(vision, KEY, ids, facilitator, expected_text_id=expected, note="Bench.")
            elapsed = (time.perf_counter() - started) * 1000
            db.session.rollback()
            db.session.expire_all()
            if run >= 5:
                timings.append(elapsed)

    client = app.test_client()
    with app.app_context():
        token = db.session.get(User, facilitator_id).session_token
    with client.session_transaction() as session:
        session["_user_id"], session["_fresh"] = token, True
    page = f"/visions/bench-together/elements/{KEY}/accept-together?" + "&".join(f"p={i}" for i in ids)
    pages: list[float] = []
    for run in range(5 + args.runs):
        started = time.perf_counter()
        response = client.get(page)
        elapsed = (time.perf_counter() - started) * 1000
        assert response.status_code == 200 and b"Accept these 5 proposals" in response.data, response.status_code
        if run >= 5:
            pages.append(elapsed)

    dialect = url.split(":", 1)[0].split("+", 1)[0]
    print(f"\nDatabase: {dialect}; {args.runs} timed runs after 5 to warm up.")
    for name, values in (("accept_together, 5 proposals (service)", timings), ("page with the combined text (GET)", pages)):
        p50 = statistics.median(values)
        p95 = statistics.quantiles(values, n=20)[-1]
        verdict = "MET" if p95 <= BUDGET_MS else "MISSED"
        print(f"{name:44} p50 {p50:6.1f} ms  p95 {p95:6.1f} ms  (budget p95 <= {BUDGET_MS:.0f} ms: {verdict})")
    if temporary is not None:
        temporary.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
