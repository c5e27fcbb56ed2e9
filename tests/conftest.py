"""Shared fixtures: the app on a migrated database, a CSRF-aware client, factories, query counting.

The database is SQLite by default: one file is migrated once per test session and copied for each
test. Set WORKBENCH_TEST_DATABASE_URL=postgresql+psycopg://... to run the same suite on PostgreSQL
(that database is migrated once and its tables emptied after each test).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from flask import Flask, g
from flask.testing import FlaskClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import event, text

from workbench import create_app, worker
from workbench.extensions import db, limiter
from workbench.models import Role, User
from workbench.visions.importer import ElementSpec, VisionSpec

POSTGRES_URL = os.environ.get("WORKBENCH_TEST_DATABASE_URL", "")
TEST_PASSWORD = "correct horse battery staple"


def base_config(database_url: str) -> dict[str, Any]:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key",
        "DATABASE_URL": database_url,
        "RATELIMIT_ENABLED": False,
        # Mail queued by a request is delivered (to MAIL_OUTBOX) as the request ends, by one worker pass,
        # so a test reads it at once; tests/test_mail_outbox.py runs the worker itself.
        "MAIL_SEND_AT_ONCE": True,
    }


def migrate_database(database_url: str) -> None:
    from flask_migrate import upgrade

    app = create_app(base_config(database_url))
    with app.app_context():
        upgrade()
        db.engine.dispose()


@pytest.fixture(scope="session")
def migrated_template(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A migrated database: a SQLite file to copy, or the PostgreSQL URL."""
    if POSTGRES_URL:
        migrate_database(POSTGRES_URL)
        return POSTGRES_URL
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    migrate_database(f"sqlite:///{path}")
    return str(path)


@pytest.fixture
def database_url(migrated_template: str, tmp_path: Path) -> str:
    if POSTGRES_URL:
        return POSTGRES_URL
    path = tmp_path / "test.sqlite3"
    shutil.copy(migrated_template, path)
    return f"sqlite:///{path}"


# One round trip: empty the tables that hold rows, and restart the sequences that handed out an id.
# DELETE, not TRUNCATE: TRUNCATE makes new files for a table and its indexes, and CASCADE (which a
# table others refer to needs) pulls in every table that refers to it, so truncating only the tables
# that hold rows cost as much as truncating all of them: 80 to 110 ms a test, a second on a busy
# machine; deleting a test's few rows takes 4 to 6 ms. session_replication_role = replica skips
# every trigger: the guards of published rows (migrations 0002, 0014), the counts kept by triggers,
# and the foreign keys' checks, so the order of the deletions does not matter. SET LOCAL ends with
# this transaction: the next test has its guards and triggers (tests/test_test_isolation.py).
EMPTY_ALL_TABLES = """
DO $$
DECLARE
    tables regclass[] := ARRAY[{tables}]::regclass[];
    item regclass;
    found boolean;
BEGIN
    SET LOCAL session_replication_role = replica;
    FOREACH item IN ARRAY tables LOOP
        EXECUTE format('SELECT EXISTS (SELECT FROM %s)', item) INTO found;
        IF found THEN
            EXECUTE format('DELETE FROM %s', item);
        END IF;
    END LOOP;
    FOR item IN
        SELECT sequence.oid FROM pg_class sequence
        JOIN pg_depend owner ON owner.classid = 'pg_class'::regclass AND owner.objid = sequence.oid
        WHERE sequence.relkind = 'S' AND owner.refclassid = 'pg_class'::regclass
          AND owner.deptype IN ('a', 'i') AND owner.refobjid = ANY (tables)
    LOOP
        EXECUTE format('SELECT is_called FROM %s', item) INTO found;
        IF found THEN
            EXECUTE format('ALTER SEQUENCE %s RESTART', item);
        END IF;
    END LOOP;
END $$
"""


def empty_all_tables() -> None:
    """Leave the PostgreSQL test database as the migrations made it: every table of the models
    empty and every id sequence they own back at its start (what TRUNCATE ... RESTART IDENTITY
    guarantees, at a fraction of its cost: see EMPTY_ALL_TABLES)."""
    tables = ", ".join("'" + table.name.replace("'", "''") + "'" for table in db.metadata.sorted_tables)
    with db.engine.begin() as connection:
        connection.execute(text(EMPTY_ALL_TABLES.format(tables=tables)))


@pytest.fixture
def app_config() -> dict[str, Any]:
    """Override in a test module to change settings."""
    return {}


@pytest.fixture
def app(database_url: str, tmp_path: Path, app_config: dict[str, Any]) -> Iterator[Flask]:
    app = create_app({**base_config(database_url), "MAIL_OUTBOX": str(tmp_path / "outbox"), **app_config})
    with app.app_context():
        yield app
        db.session.remove()
        if POSTGRES_URL:
            empty_all_tables()
        db.engine.dispose()
    limiter.reset() if app.config.get("RATELIMIT_ENABLED") else None


class WorkbenchClient(FlaskClient):
    """A test client whose POSTs carry a valid CSRF token unless `csrf=False`.

    Each request gets a fresh database session, as it would in production (the test's app context
    is shared with requests, so without this they would share one identity map).
    """

    def open(self, *args: Any, **kwargs: Any):  # type: ignore[override]
        self._forget_request_state()
        try:
            return super().open(*args, **kwargs)
        finally:
            self._forget_request_state()

    @staticmethod
    def _forget_request_state() -> None:
        # Flask-Login caches the signed-in user on `g`, which lives as long as the shared app context.
        g.pop("_login_user", None)
        g.pop("csrf_token", None)
        db.session.remove()

    def csrf_token(self) -> str:
        with self.session_transaction() as session:
            raw = session.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def post(self, *args: Any, csrf: bool = True, **kwargs: Any):  # type: ignore[override]
        if csrf:
            data = kwargs.get("data")
            if data is None:
                kwargs["data"] = data = {}
            if isinstance(data, dict) and "csrf_token" not in data:
                data["csrf_token"] = self.csrf_token()
        return super().post(*args, **kwargs)


@pytest.fixture
def client(app: Flask) -> WorkbenchClient:
    app.test_client_class = WorkbenchClient
    return app.test_client()  # type: ignore[return-value]


@pytest.fixture
def runner(app: Flask):
    return app.test_cli_runner()


# --- factories ------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def test_password_hash() -> str:
    from workbench.auth.passwords import hash_password

    return hash_password(TEST_PASSWORD)  # argon2 is slow by design: hash once


@pytest.fixture
def make_user(app: Flask, test_password_hash: str):
    counter = iter(range(1, 10_000))
    password_hash = test_password_hash

    def make(role: Role | str = Role.VOLUNTEER, *, email: str | None = None, name: str | None = None) -> User:
        n = next(counter)
        role_value = role.value if isinstance(role, Role) else role
        user = User(
            email=email or f"{role_value}{n}@example.org",
            display_name=name or f"{role_value.title()} {n}",
            role=role_value,
            password_hash=password_hash,
        )
        db.session.add(user)
        db.session.commit()
        return user

    return make


@pytest.fixture
def login_as(client: WorkbenchClient):
    """Sign a user in on the test client (Flask-Login's session key holds their session token)."""

    def login(user: User) -> User:
        with client.session_transaction() as session:
            session["_user_id"] = user.get_id()
            session["_fresh"] = True
        return user

    return login


def vision_spec(
    *, slug: str = "test-vision", ambitions: int = 2, objectives: int = 2, conditions: int = 1
) -> VisionSpec:
    """A small vision with predictable text: 'Ambition 1 body.', 'Objective 1.2 body.'."""
    return VisionSpec(
        slug=slug,
        title=f"Vision {slug}",
        summary="A vision used in tests.",
        statement=ElementSpec("statement", "", "Our data serves everyone."),
        ambitions=[
            ElementSpec(
                "ambition",
                f"Ambition {a}",
                f"Ambition {a} body.\n\nIts second paragraph.",
                [ElementSpec("objective", f"Objective {a}.{o}", f"Objective {a}.{o} body.") for o in range(1, objectives + 1)]
                + [ElementSpec("condition", f"Condition {a}.{c}", f"Condition {a}.{c} body.") for c in range(1, conditions + 1)],
            )
            for a in range(1, ambitions + 1)
        ],
    )


@pytest.fixture
def make_vision(app: Flask):
    """Import a vision; published as version 1 and open for contributions unless told otherwise."""
    from datetime import timedelta

    from workbench.models import utcnow
    from workbench.visions.importer import import_vision

    def make(*, publish: bool = True, open_window: bool = True, **spec_args: Any):
        vision = import_vision(vision_spec(**spec_args), actor=None, publish=publish)
        if open_window:
            vision.opens_at = utcnow() - timedelta(days=1)
            vision.closes_at = utcnow() + timedelta(days=30)
        db.session.commit()
        return vision

    return make


@pytest.fixture
def vision(make_vision):
    """The default test vision (slug "test-vision"), published and open for contributions."""
    return make_vision()


@pytest.fixture
def author(make_user) -> User:
    """A volunteer, "Alice Author", not signed in."""
    return make_user(name="Alice Author")


@pytest.fixture
def fresh_g_per_request(app: Flask) -> None:
    """Forget the user and CSRF token cached in the shared `g` at the end of each request.

    Requests in tests share the test's app context, and with it `g`, where Flask-Login and
    Flask-WTF cache the signed-in user and the CSRF token: forget them after each request, as a
    real server does, so that one client's sign-in cannot leak into the next request. Opt in with
    `pytestmark = pytest.mark.usefixtures("fresh_g_per_request")`.
    """

    @app.teardown_request
    def forget(exc):  # noqa: ANN001
        g.pop("_login_user", None)
        g.pop("csrf_token", None)


# --- counting queries -----------------------------------------------------------------------------


@dataclass
class QueryLog:
    statements: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app: Flask):
    """`with count_queries() as log: ...` then `log.count` is the number of SQL statements run by
    the requests (not by the worker's pass that MAIL_SEND_AT_ONCE runs after them: in production
    the worker runs in its own process)."""

    @contextlib.contextmanager
    def counting() -> Iterator[QueryLog]:
        log = QueryLog()

        def before(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
            if worker.in_pass_after_request():
                return
            if not statement.lstrip().upper().startswith(("PRAGMA", "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT", "RELEASE")):
                log.statements.append(statement)

        event.listen(db.engine, "before_cursor_execute", before)
        try:
            yield log
        finally:
            event.remove(db.engine, "before_cursor_execute", before)

    return counting


def schema_names(kind: str) -> set[str]:
    """Names of the database's indexes (`kind="index"`) or triggers (`"trigger"`), as created by the
    migrations, on SQLite or PostgreSQL (reflection cannot see expression indexes on SQLite)."""
    queries = {
        ("sqlite", "index"): "SELECT name FROM sqlite_master WHERE type = 'index'",
        ("sqlite", "trigger"): "SELECT name FROM sqlite_master WHERE type = 'trigger'",
        ("postgresql", "index"): "SELECT indexname FROM pg_indexes",
        ("postgresql", "trigger"): "SELECT tgname FROM pg_trigger WHERE NOT tgisinternal",
    }
    with db.engine.connect() as connection:
        return set(connection.execute(text(queries[(connection.dialect.name, kind)])).scalars())


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that read no database run once, in the SQLite run: the PostgreSQL run proves the
    database layer (CI runs both, and its time is budgeted)."""
    if not POSTGRES_URL:
        return
    once = pytest.mark.skip(reason="reads no database: checked in the SQLite run")
    for item in items:
        if item.get_closest_marker("database_free"):
            item.add_marker(once)
