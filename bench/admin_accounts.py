"""Time the administrators' accounts list with 200,000 accounts (issue 19, item 11).

    .venv/bin/python bench/admin_accounts.py                      # SQLite: a fresh file in a temporary directory
    psql -h 127.0.0.1 -U postgres -c 'create database vw_bench_accounts'
    .venv/bin/python bench/admin_accounts.py --database-url postgresql+psycopg://postgres@127.0.0.1/vw_bench_accounts

1. Data, reproducibly (seeded), in bulk (`insert(User)` with lists of dicts, explicit ids, as
   bench/deliberation.py writes people): `--accounts` accounts (default 200,000, ten times the large
   scale's 20,000 people) who joined over three years, oldest first: names made of ~80 first names
   and ~600 surnames, addresses `first.surname<n>@<domain>` on a dozen domains (half on
   example.org); 1 in 2,000 a facilitator, 1 in 10,000 an administrator, 1 in 500 deactivated and
   1 in 200 deleted (no name, no address), plus the administrator who looks. The schema comes from
   the migrations. On PostgreSQL the table is then VACUUM ANALYZEd, as autovacuum would after a bulk
   load; SQLite gets no statistics (the app never runs ANALYZE). With `--reuse` the accounts already
   in the database are measured as they are.
2. Server time per request, in-process through the Flask test client, signed in as the
   administrator: `--warmup` requests (default 20), then `--requests` (default 200) timed ones per
   scenario; p50, p95 and p99 wall-clock ms, CPU ms of this process (the database server's own CPU
   is not in it on PostgreSQL) and the SQL statements one request runs (bench/facilitation.py's
   `measure`). Scenarios: the first page, the second, one in the middle and the last page; each role
   filter, and the last page of the volunteers; searches by a whole email address, the start of a
   first name, a surname (a later word of the name), a name and a surname, one letter and a
   surname, a domain that three quarters of the accounts share (two words, its second page, and one
   word), a word that matches no one, two letters that match many and two that match no one; a
   search with a role, and one matching most accounts with the rarest role.
3. Prints a table with the budget (DESIGN.md §6: p95 <= 50 ms) and writes JSON to bench/out/.
   The exit status is 0 when every scenario meets the budget, 1 otherwise.
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import re
import secrets
import sys
import time
from dataclasses import asdict
from datetime import timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sqlalchemy import func, insert, select, text  # noqa: E402

from bench import generate as gen  # noqa: E402
from bench.facilitation import Result, measure  # noqa: E402
from workbench.extensions import db  # noqa: E402
from workbench.models import Role, User, utcnow  # noqa: E402

OUT = ROOT / "bench" / "out"
ACCOUNTS = 200_000
BATCH = 5_000
PAGE_SIZE = 25  # accounts.services.PAGE_SIZE, repeated so that an older checkout can be measured
ADMIN_EMAIL = "bench-accounts-admin@example.org"

FIRST_NAMES = (
    "Alex Sam Jo Kim Robin Ali Morgan Priya Aisha Mohammed Chen Olu Siobhan Ewan Fiona Hamish Isla Zara "
    "Nadia Tomasz Agnieszka Kwame Amara Ruairidh Eilidh Callum Mairi Lewis Rhona Graham Catriona Euan "
    "Heather Douglas Morag Iain Kirsty Gordon Shona Calum Sophie Oliver Amelia Jack Emily Harry Ava "
    "Noah Grace Leo Freya Arjun Meera Yusuf Fatima Wei Mei Hiroshi Yuki Lucia Mateo Ingrid Lars Anya "
    "Dmitri Ngozi Chidi Aoife Ciaran Bronwen Dafydd Rory Niamh Saoirse Tariq Layla Omar Hannah Daniel"
).split()
SURNAME_STARTS = (
    "Ash Black Brook Camp Cold Fair Green Hart Kings Mac Mor North Red Stan West Whit Ban Car Dun "
    "Glen Hol Kil Lang Mil Ross Strath Thorn Wal Bur"
).split()
SURNAME_ENDS = "ley bell ford wood ton field more son worth well burn dale hill man ridge shaw stone wick law den".split()
OTHER_SURNAMES = "Reid Shah Campbell Ng Murray Okafor Nowak Kowalski Singh Patel Khan Ahmed Nguyen Li Wong O'Neill".split()
DOMAINS = (
    ("example.org", 50), ("mail.example.com", 20), ("council.example.gov", 8), ("health.example.net", 6),
    ("university.example.ac", 5), ("charity.example.org.uk", 4), ("post.example.de", 2), ("example.fr", 2),
    ("consult.example.io", 1), ("data.example.scot", 1), ("civic.example.cymru", 1),
)


def surnames() -> list[str]:
    return [start + end for start in SURNAME_STARTS for end in SURNAME_ENDS] + OTHER_SURNAMES


def _local_part(text_: str) -> str:
    return re.sub(r"[^a-z0-9.]", "", text_.lower())


def generate_accounts(rng: random.Random, count: int) -> int:
    """`count` accounts, oldest first, written in bulk with explicit ids; returns how many."""
    family = surnames()
    domains = [name for name, _ in DOMAINS]
    weights = [weight for _, weight in DOMAINS]
    first_id = (db.session.scalar(select(func.max(User.id))) or 0) + 1
    now = utcnow()
    start = now - timedelta(days=3 * 365)
    step = (now - start) / max(1, count)
    rows: list[dict[str, Any]] = []
    for i in range(count):
        account_id = first_id + i
        first, last = rng.choice(FIRST_NAMES), rng.choice(family)
        deleted = i % 200 == 7
        role = Role.ADMIN.value if i % 10_000 == 13 else Role.FACILITATOR.value if i % 2_000 == 11 else Role.VOLUNTEER.value
        rows.append({
            "id": account_id,
            "email": None if deleted else f"{_local_part(first)}.{_local_part(last)}{account_id}@{rng.choices(domains, weights)[0]}",
            "display_name": "" if deleted else f"{first} {last}",
            "password_hash": "",
            "role": role,
            "is_deactivated": i % 500 == 3,
            "is_deleted": deleted,
            "session_token": secrets.token_urlsafe(32),
            "created_at": start + step * i,
        })
        if len(rows) == BATCH:
            db.session.execute(insert(User), rows)
            rows = []
    if rows:
        db.session.execute(insert(User), rows)
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("SELECT setval(pg_get_serial_sequence('users', 'id'), (SELECT max(id) FROM users))"))
    return count


def prepare(url: str, reuse: bool, accounts: int, seed: int) -> tuple[Any, str]:
    """The app and the administrator's session token; the accounts generated unless reused."""
    app = gen.make_app(url)
    gen.migrate(app)  # also brings a reused database up to the latest migration
    with app.app_context():
        existing = db.session.scalar(select(func.count(User.id)))
        if not reuse:
            if existing:
                raise SystemExit("The database already holds accounts: give an empty database, or --reuse.")
            started = time.perf_counter()
            generate_accounts(random.Random(seed), accounts)
            db.session.add(User(email=ADMIN_EMAIL, display_name="Bench Administrator", password_hash="", role=Role.ADMIN.value))
            db.session.commit()
            print(f"Generated {accounts:,} accounts in {time.perf_counter() - started:.1f} s")
        admin = db.session.scalar(select(User).where(User.email == ADMIN_EMAIL))
        if admin is None:
            raise SystemExit(f"No account {ADMIN_EMAIL} in that database: run without --reuse on an empty database.")
        token = admin.session_token
        db.session.remove()
        if db.engine.dialect.name == "postgresql":
            # What autovacuum does after a bulk load: statistics, and a visibility map for index-only scans.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                connection.execute(text("VACUUM ANALYZE users"))
    return app, token


def next_page(client: Any, path: str) -> str:
    """The address of the page after `path`'s, as its "Next page" link gives it (keyset pages), with
    `page=2` kept for a checkout with numbered pages."""
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'href="([^"]+)" rel="next"', page)
    link = found.group(1).replace("&amp;", "&") if found else path
    return f"{link}{'&' if '?' in link else '?'}page=2"


def targets(app: Any, client: Any) -> dict[str, str]:
    """The scenarios' addresses, from the data as it is. Deep pages name both ways of paging, so that
    the same scenarios measure a checkout with numbered pages (`page=N`) and one with keyset pages
    (`after=<id>`, `last=1`): each ignores the other's parameter."""
    with app.app_context():
        total = db.session.scalar(select(func.count(User.id))) or 0
        volunteers = db.session.scalar(select(func.count(User.id)).where(User.role == Role.VOLUNTEER.value)) or 0
        ids = select(User.id).order_by(User.id.desc())
        middle_id = db.session.scalar(ids.offset(total // 2 - 1).limit(1))
        middle_email = db.session.scalar(select(User.email).where(User.email.is_not(None), User.id <= middle_id).order_by(User.id.desc()).limit(1))
        db.session.remove()
    last, volunteers_last = -(-total // PAGE_SIZE), -(-volunteers // PAGE_SIZE)
    base = "/admin/accounts"
    return {
        "first page": base,
        "second page": next_page(client, base),
        "a page in the middle": f"{base}?page={total // 2 // PAGE_SIZE + 1}&after={middle_id}",
        "last page": f"{base}?page={last}&last=1",
        "role: volunteer": f"{base}?role=volunteer",
        "role: volunteer, last page": f"{base}?role=volunteer&page={volunteers_last}&last=1",
        "role: facilitator": f"{base}?role=facilitator",
        "role: administrator": f"{base}?role=admin",
        "search: a whole email address": f"{base}?q={middle_email}",
        "search: the start of a first name (Siob)": f"{base}?q=Siob",
        "search: a surname (Brookwell)": f"{base}?q=Brookwell",
        "search: first name and surname (Ewan Thornhill)": f"{base}?q=Ewan+Thornhill",
        "search: one letter and a surname (j reid)": f"{base}?q=j+reid",
        "search: matching many (example.org)": f"{base}?q=example.org",
        "search: matching many, page 2": next_page(client, f"{base}?q=example.org"),
        "search: matching many, one word (example)": f"{base}?q=example",
        "search: matching no one (zzyzx)": f"{base}?q=zzyzx",
        "search: two letters matching many (an)": f"{base}?q=an",
        "search: two letters matching no one (qx)": f"{base}?q=qx",
        "search with a role (Mac, facilitator)": f"{base}?q=Mac&role=facilitator",
        "search matching many, with a rare role (example.org, administrator)": f"{base}?q=example.org&role=admin",
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a fresh SQLite file in a temporary directory")
    parser.add_argument("--accounts", type=int, default=ACCOUNTS)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--reuse", action="store_true", help="measure the accounts already in the database")
    parser.add_argument("--only", help="measure only the scenarios whose name contains this")
    args = parser.parse_args(argv)

    url, temporary = gen.database_or_temporary(args.database_url, "accounts")
    app, token = prepare(url, args.reuse, args.accounts, args.seed)
    client = app.test_client()
    with client.session_transaction() as session:
        session["_user_id"] = token
        session["_fresh"] = True
    common = {"warmup": args.warmup, "requests": args.requests}
    results: list[Result] = [
        measure(app, client, name, path, **common)
        for name, path in targets(app, client).items()
        if not args.only or args.only in name
    ]
    with app.app_context():
        accounts = db.session.scalar(select(func.count(User.id))) or 0
        db.session.remove()
    dialect = url.split(":", 1)[0].split("+", 1)[0]

    print(f"\nDatabase: {dialect}; {accounts:,} accounts; {args.requests} timed requests per scenario after "
          f"{args.warmup} to warm up; server time in-process.")
    print(f"{'scenario':70} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU p50':>8} {'CPU p95':>8} {'queries':>7}  budget")
    for r in results:
        print(
            f"{r.scenario:70} {r.p50_ms:7.2f} {r.p95_ms:7.2f} {r.p99_ms:7.2f} {r.cpu_p50_ms:8.2f} {r.cpu_p95_ms:8.2f} "
            f"{r.queries:7d}  {'p95 <= 50 ms: MET' if r.met else 'p95 <= 50 ms: MISSED'}"
        )
    met = all(r.met for r in results)
    report = {
        "database": dialect,
        "accounts": accounts,
        "python": platform.python_version(),
        "machine": platform.machine(),
        "requests": args.requests,
        "warmup": args.warmup,
        "scenarios": [{**asdict(r), "met": r.met} for r in results],
        "met": met,
    }
    OUT.mkdir(parents=True, exist_ok=True)
    path = OUT / f"admin-accounts-{dialect}-{time.strftime('%Y%m%d-%H%M%S')}.json"
    path.write_text(json.dumps(report, indent=2))
    print(f"\n{'Every scenario' if met else 'Not every scenario'} within the budget. Written to {path.relative_to(ROOT)}")
    with app.app_context():
        db.engine.dispose()
    if temporary is not None:
        temporary.cleanup()
    return report


if __name__ == "__main__":
    sys.exit(0 if main()["met"] else 1)
