"""Several app servers behind a proxy (issue 19, item 10).

Two gunicorn servers (two workers each) share one fresh PostgreSQL database, one secret key and one
Redis for their rate limits, behind nginx run from deploy/nginx.conf.example itself (its addresses,
ports and certificate swapped for the test's; TLS included). Requests go through nginx as a
browser's would, or straight to one server as nginx forwards them, and the two servers answer as one
site: a session made by one is good on the other, a vote through one is seen through the other, a
limit counts the requests of both, permalinks are the same bytes from each, and a version published
through one is the latest through the other at once.

Needs nginx (Debian's nginx-light), openssl, PostgreSQL on 127.0.0.1:5432 and Redis on 6379: the
tests are skipped without them, except in CI (CI=true), where a missing one fails them.
"""

from __future__ import annotations

import gzip
import http.client
import json
import base64
import os
import re
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import timedelta
from html.parser import HTMLParser
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlencode

import pytest
from sqlalchemy import select
from sqlalchemy.engine import URL, make_url

from tests.conftest import base_config, migrate_database, vision_spec

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "deploy" / "nginx.conf.example"
HOST = "vision.example.org"  # the example's public address, kept: the test's client sends it
PUBLIC_URL = f"https://{HOST}"
SLUG = "served-twice"
PASSWORD = "two servers, one site"
VOTE_LIMIT = 4  # per account, a minute
MAIL_REQUEST_LIMIT = 3  # per client address, a minute
IMMUTABLE = "public, max-age=31536000, immutable"
DONE = (302, 303)  # a form done: redirected to the page that shows it
SIGNING_KEY = base64.b64encode(secrets.token_bytes(32)).decode()
REDIS_URL = os.environ.get("WORKBENCH_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


# --- what the test needs on the machine -------------------------------------------------------------


def _nginx() -> str | None:
    found = shutil.which("nginx")
    return found or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


def _postgres_admin_url() -> URL:
    """The server of WORKBENCH_TEST_DATABASE_URL when it is PostgreSQL, else 127.0.0.1:5432, as postgres."""
    configured = os.environ.get("WORKBENCH_TEST_DATABASE_URL", "")
    url = make_url(configured if configured.startswith("postgresql") else "postgresql://postgres@127.0.0.1:5432/postgres")
    return url.set(drivername="postgresql", database="postgres")


def _postgres(sql: str) -> None:
    import psycopg

    conninfo = _postgres_admin_url().render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True, connect_timeout=3) as connection:
        connection.execute(sql)


def _redis():
    import redis

    return redis.Redis.from_url(REDIS_URL, socket_timeout=3)


def _missing() -> str | None:
    """Why this machine cannot run the test, or None."""
    if _nginx() is None:
        return "nginx is not installed (apt-get install nginx-light)"
    if shutil.which("openssl") is None:
        return "openssl is not installed (it makes the test's certificate)"
    try:
        _postgres("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any failure to connect means the same here
        return f"no PostgreSQL at {_postgres_admin_url().render_as_string()}: {exc}"
    try:
        _redis().ping()
    except Exception as exc:  # noqa: BLE001
        return f"no Redis at {REDIS_URL}: {exc}"
    return None


# --- HTTP, as a browser through nginx or as nginx to one server ------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass(frozen=True)
class Door:
    """Where a request goes in: nginx (TLS, as people reach the site) or one app server directly,
    with the headers nginx would add (so the server takes it for a request nginx forwarded)."""

    name: str
    port: int

    certificate: Path | None = None  # nginx's: TLS, verified for the public host name

    def connect(self, source: str | None = None) -> http.client.HTTPConnection:
        connection = http.client.HTTPConnection(HOST, self.port, timeout=20)
        # To 127.0.0.1 (from `source`, another loopback address, when given) whatever the host name.
        sock = socket.create_connection(("127.0.0.1", self.port), timeout=20, source_address=(source, 0) if source else None)
        if self.certificate is not None:
            context = ssl.create_default_context(cafile=str(self.certificate))
            sock = context.wrap_socket(sock, server_hostname=HOST)
        connection.sock = sock
        return connection

    def forwarded_headers(self) -> dict[str, str]:
        if self.certificate is not None:
            return {}
        return {"X-Forwarded-Host": HOST, "X-Forwarded-Proto": "https", "X-Forwarded-For": "127.0.0.1"}


@dataclass
class Answer:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8")

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


def fetch(door: Door, method: str, path: str, *, headers: dict[str, str] | None = None, body: bytes | None = None, source: str | None = None) -> Answer:
    connection = door.connect(source)
    try:
        connection.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
        sent = {"Host": HOST, "Connection": "close", **door.forwarded_headers(), **(headers or {})}
        if body is not None:
            sent["Content-Length"] = str(len(body))
        for name, value in sent.items():
            connection.putheader(name, value)
        connection.endheaders(body)
        response = connection.getresponse()
        return Answer(response.status, response.msg, response.read())
    finally:
        connection.close()


class HiddenInputs(HTMLParser):
    """The first value of each named hidden input of a page (its CSRF token, a form's expectations)."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "input" and found.get("type") == "hidden" and found.get("name"):
            self.values.setdefault(found["name"] or "", found.get("value") or "")


def hidden_inputs(page: str) -> dict[str, str]:
    parser = HiddenInputs()
    parser.feed(page)
    return parser.values


@dataclass
class Browser:
    """A person's cookies, sent through whichever door; a form's POST carries a Referer on the site
    (Flask-WTF checks it on HTTPS)."""

    cookies: dict[str, str] = field(default_factory=dict)
    source: str | None = None
    tag: str = "-"  # in nginx's log of the test, beside the server that answered

    def request(self, door: Door, method: str, path: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
        sent = {"X-Test-Tag": self.tag, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form).encode()
            sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
            sent.setdefault("Referer", f"{PUBLIC_URL}{path}")
        answer = fetch(door, method, path, headers=sent, body=body, source=self.source)
        for line in answer.headers.get_all("Set-Cookie") or []:
            for name, morsel in SimpleCookie(line).items():
                if morsel.value and morsel["max-age"] != "0":
                    self.cookies[name] = morsel.value
                else:
                    self.cookies.pop(name, None)
        return answer

    def get(self, door: Door, path: str, **kwargs: Any) -> Answer:
        return self.request(door, "GET", path, **kwargs)

    def post(self, door: Door, path: str, form: dict[str, str], **kwargs: Any) -> Answer:
        return self.request(door, "POST", path, form=form, **kwargs)

    def submit(self, door: Door, path: str, fields: dict[str, str], *, page: str | None = None) -> Answer:
        """Read the page at `page` (default `path`) and post its form's hidden fields with `fields`
        to `path`, both through `door`."""
        shown = self.get(door, page or path)
        assert shown.status == 200, shown.text[:500]
        return self.post(door, path, {**hidden_inputs(shown.text), **fields})


def sign_in(door: Door, email: str, tag: str = "-") -> Browser:
    person = Browser(tag=tag)
    answer = person.submit(door, "/auth/login", {"email": email, "password": PASSWORD})
    assert answer.status in DONE, answer.text[:500]
    assert "session" in person.cookies
    return person


# --- the site: data, two servers, nginx -------------------------------------------------------------


@dataclass
class Site:
    proxy: Door
    plain: Door  # nginx's port 80, which only redirects
    servers: tuple[Door, Door]
    database_url: str
    ids: dict[str, int]
    nginx_log: Path
    server_ports: tuple[int, int]

    def upstreams(self, tag: str, count: int) -> list[int]:
        """The app server (its port) that answered each of the `count` requests tagged `tag` that
        nginx forwarded, from nginx's log (written as each request ends: waited for)."""
        deadline = time.time() + 5
        while True:
            lines = [line.split() for line in self.nginx_log.read_text().splitlines()]
            found = [int(words[-1].rsplit(":", 1)[1]) for words in lines if words[0] == tag]
            if len(found) >= count or time.time() > deadline:
                return found
            time.sleep(0.05)


def _make_data(database_url: str) -> dict[str, int]:
    """The vision (version 1 published, its window open), three volunteers and a facilitator, one
    open proposal, and a draft change waiting to be published as version 2."""
    from workbench import create_app
    from workbench.auth.passwords import hash_password
    from workbench.drafting.edits import edit_element_text
    from workbench.extensions import db
    from workbench.models import DraftEntry, Element, Role, User, utcnow
    from workbench.proposals.services import open_proposal
    from workbench.visions.importer import import_vision

    migrate_database(database_url)
    app = create_app({**base_config(database_url), "SIGNING_KEY": SIGNING_KEY})  # the servers' key
    with app.app_context():
        password_hash = hash_password(PASSWORD)
        people = {}
        for name, role in (("author", Role.VOLUNTEER), ("voter", Role.VOLUNTEER), ("counted", Role.VOLUNTEER), ("facilitator", Role.FACILITATOR)):
            people[name] = User(email=f"{name}@example.org", display_name=name.title(), role=role.value, password_hash=password_hash)
            db.session.add(people[name])
        db.session.flush()
        vision = import_vision(vision_spec(slug=SLUG), actor=None, publish=True, notes="The first version.")
        vision.opens_at, vision.closes_at = utcnow() - timedelta(days=1), utcnow() + timedelta(days=30)

        def entry(key: str) -> DraftEntry:
            return db.session.scalar(
                select(DraftEntry).join(Element, Element.id == DraftEntry.element_id).where(Element.vision_id == vision.id, Element.key == key)
            )

        first = entry("objective-1")
        proposal = open_proposal(vision, first.element, people["author"], first.text.title, "Objective 1.1 proposed text.", "Clearer.")
        second = entry("objective-2")
        edit_element_text(
            vision, "objective-2", title=second.text.title, body="Objective 1.2 as version 2 words it.",
            reason="Version 2", lock_version=second.lock_version, actor=people["facilitator"],
        )  # fmt: skip
        db.session.commit()
        ids = {"vision": vision.id, "proposal": proposal.id, **{name: user.id for name, user in people.items()}}
        db.session.remove()
        db.engine.dispose()
    return ids


def _nginx_conf(workdir: Path, https_port: int, http_port: int, server_ports: tuple[int, int]) -> Path:
    """deploy/nginx.conf.example with the test's addresses, ports and certificate, inside a main
    configuration of the test's own (everything in `workdir`; one worker, so that round-robin is
    one turn after the other; each forwarded request's upstream logged)."""
    site = EXAMPLE.read_text()
    changes = [
        ("listen 80;", f"listen 127.0.0.1:{http_port};"),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https_port} ssl http2;"),
        ("server 10.0.0.11:8000;", f"server 127.0.0.1:{server_ports[0]};"),
        ("server 10.0.0.12:8000;", f"server 127.0.0.1:{server_ports[1]};"),
        ("/etc/letsencrypt/live/vision.example.org/fullchain.pem", str(workdir / "certificate.pem")),
        ("/etc/letsencrypt/live/vision.example.org/privkey.pem", str(workdir / "key.pem")),
    ]
    for old, new in changes:
        assert old in site, f"deploy/nginx.conf.example no longer has {old!r}: update this test with it"
        site = site.replace(old, new)
    (workdir / "workbench.conf").write_text(site)
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
         "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST}", "-keyout", str(workdir / "key.pem"), "-out", str(workdir / "certificate.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    conf = workdir / "nginx.conf"
    conf.write_text(
        f"""
worker_processes 1;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 256; }}
http {{
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    log_format upstream '$http_x_test_tag $upstream_addr';
    access_log {workdir}/upstreams.log upstream;
    include {workdir}/workbench.conf;
}}
"""
    )
    return conf


def _gunicorn(port: int, database_url: str, secret_key: str, key_prefix: str, log: Path) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "WORKBENCH_DATABASE_URL": database_url,
        "WORKBENCH_SECRET_KEY": secret_key,
        "WORKBENCH_SIGNING_KEY": SIGNING_KEY,  # the same on both servers, as the secret key
        "WORKBENCH_PUBLIC_URL": PUBLIC_URL,
        "WORKBENCH_PROXY_FIX": "1",
        "WORKBENCH_SESSION_COOKIE_SECURE": "true",
        "WORKBENCH_RATELIMIT_STORAGE_URI": REDIS_URL,
        "WORKBENCH_RATELIMIT_KEY_PREFIX": key_prefix,
        "WORKBENCH_RATELIMIT_VOTE": f"{VOTE_LIMIT}/minute",
        "WORKBENCH_RATELIMIT_MAIL_REQUEST": f"{MAIL_REQUEST_LIMIT}/minute",
        "WORKBENCH_MAIL_OUTBOX": str(log.parent / f"outbox-{port}"),
    }
    command = [
        sys.executable, "-m", "gunicorn", "--config", str(ROOT / "gunicorn.conf.py"),
        "--workers", "2", "--bind", f"127.0.0.1:{port}", "--chdir", str(ROOT), "wsgi:app",
    ]  # fmt: skip
    with open(log, "wb") as output:
        return subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT, start_new_session=True)


def _wait_until_answering(door: Door, process: subprocess.Popen[bytes], log: Path, deadline: float) -> None:
    while True:
        try:
            if fetch(door, "GET", "/health").status == 200:
                return
        except OSError:
            pass
        assert process.poll() is None and time.time() < deadline, f"{door.name} did not start:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


def _stop(processes: list[subprocess.Popen[bytes]]) -> None:
    """Stop them all at once (each with its children), then wait for each."""
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=5)


@pytest.fixture(scope="module")
def site() -> Iterator[Site]:
    reason = _missing()
    if reason:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI runs the several-servers test: {reason}")
        pytest.skip(reason)
    run = f"vw_servers_{os.getpid()}_{secrets.token_hex(4)}"
    database_url = _postgres_admin_url().set(drivername="postgresql+psycopg", database=run).render_as_string(hide_password=False)
    # nginx's workers drop root's rights: their directory must be one they can enter.
    workdir = Path(tempfile.mkdtemp(prefix="vw-servers-"))
    workdir.chmod(0o755)
    processes: list[tuple[subprocess.Popen[bytes], Path]] = []
    _postgres(f"CREATE DATABASE {run}")
    try:
        # The servers start (the app loads, touching no database) while the data is made.
        secret_key = secrets.token_hex(32)
        server_ports = (_free_port(), _free_port())
        servers = (Door("server A", server_ports[0]), Door("server B", server_ports[1]))
        for door in servers:
            log = workdir / f"gunicorn-{door.port}.log"
            processes.append((_gunicorn(door.port, database_url, secret_key, run, log), log))
        https_port, http_port = _free_port(), _free_port()
        conf = _nginx_conf(workdir, https_port, http_port, server_ports)
        nginx_log = workdir / "nginx.out"
        with open(nginx_log, "wb") as output:
            nginx = subprocess.Popen(
                [_nginx(), "-p", str(workdir), "-c", str(conf), "-g", "daemon off;"],
                stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        processes.append((nginx, nginx_log))
        proxy = Door("nginx", https_port, certificate=workdir / "certificate.pem")
        ids = _make_data(database_url)
        deadline = time.time() + 30
        for door, (process, log) in zip((*servers, proxy), processes):
            _wait_until_answering(door, process, log, deadline)
        yield Site(proxy, Door("nginx port 80", http_port), servers, database_url, ids, workdir / "upstreams.log", server_ports)
        for process, log in processes[:2]:
            assert "Traceback" not in log.read_text(), log.read_text()[-3000:]
    finally:
        _stop([process for process, _ in processes])
        try:
            client = _redis()
            for key in client.scan_iter(f"*{run}*"):
                client.delete(key)
            client.close()
        finally:
            _postgres(f"DROP DATABASE IF EXISTS {run} WITH (FORCE)")
            shutil.rmtree(workdir, ignore_errors=True)


def _rows(site: Site, statement: Any) -> list[tuple[Any, ...]]:
    """What the site's database holds."""
    from sqlalchemy import create_engine

    engine = create_engine(site.database_url)
    try:
        with engine.connect() as connection:
            return [tuple(row) for row in connection.execute(statement)]
    finally:
        engine.dispose()


# --- the tests ---------------------------------------------------------------------------------------


def test_a_vote_through_the_proxy_is_seen_through_either_server(site: Site) -> None:
    from workbench.models import Vote

    proposal = f"/proposals/{site.ids['proposal']}"
    voter = sign_in(site.proxy, "voter@example.org", tag="voter-signs-in")
    # Round-robin: the sign-in page came from one server, the sign-in itself from the other, whose
    # session cookie (same secret key) the first accepts.
    assert sorted(site.upstreams("voter-signs-in", 2)) == sorted(site.server_ports)

    answer = voter.submit(site.proxy, f"{proposal}/vote", {"value": "support"}, page=proposal)
    assert answer.status in DONE, answer.text[:500]

    for server in site.servers:
        page = Browser().get(server, proposal).text  # anyone's view, from the database
        assert "1 support, 0 oppose" in page, server.name
        mine = voter.get(server, proposal).text  # the voter's own view, signed in on each server
        assert re.search(r'value="clear" id="vote-\d+-support" aria-pressed="true"', mine), server.name
    votes = _rows(site, select(Vote.user_id, Vote.value).where(Vote.proposal_id == site.ids["proposal"]))
    assert votes == [(site.ids["voter"], 1)]


def test_a_rate_limit_counts_the_requests_of_both_servers(site: Site) -> None:
    from workbench.models import Vote

    counted = sign_in(site.proxy, "counted@example.org")
    proposal = f"/proposals/{site.ids['proposal']}"
    token = hidden_inputs(counted.get(site.servers[0], proposal).text)["csrf_token"]
    values = ["support", "oppose", "support", "oppose", "support", "oppose"]
    # One account's votes, each to the other server in turn: the limit is 4 a minute for the site,
    # not 4 for each server.
    statuses = [
        counted.post(site.servers[turn % 2], f"{proposal}/vote", {"value": value, "csrf_token": token}).status
        for turn, value in enumerate(values)
    ]  # fmt: skip
    assert ["done" if status in DONE else status for status in statuses] == ["done"] * VOTE_LIMIT + [429, 429]
    vote = _rows(site, select(Vote.value).where(Vote.proposal_id == site.ids["proposal"], Vote.user_id == site.ids["counted"]))
    assert vote == [(-1,)]  # the fourth vote's; the refused ones wrote nothing


def test_a_limit_per_address_counts_the_client_nginx_names_not_one_the_client_claims(site: Site) -> None:
    """Reset requests (limited per client address) through nginx from 127.0.0.2, each claiming
    another address in X-Forwarded-For, taken by each server in turn: nginx appends the address it
    sees and the app trusts that last one only (WORKBENCH_PROXY_FIX=1), so the fourth is refused
    whichever server takes it; from 127.0.0.3, another visitor, the same request is answered."""

    def reset_requests(source: str, numbers: range) -> list[int | str]:
        person = Browser(source=source, tag="reset-form")
        token = hidden_inputs(person.get(site.proxy, "/auth/reset").text)["csrf_token"]
        statuses = []
        for number in numbers:
            claimed = {"X-Forwarded-For": f"198.51.100.{number}", "X-Test-Tag": "reset"}
            form = {"csrf_token": token, "email": f"nobody{number}@example.org"}
            status = person.post(site.proxy, "/auth/reset", form, headers=claimed).status
            statuses.append("done" if status in DONE else status)
        return statuses

    assert reset_requests("127.0.0.2", range(MAIL_REQUEST_LIMIT + 1)) == ["done"] * MAIL_REQUEST_LIMIT + [429]
    assert set(site.upstreams("reset", MAIL_REQUEST_LIMIT + 1)) == set(site.server_ports)
    assert reset_requests("127.0.0.3", range(99, 100)) == ["done"]


def test_a_permalink_is_the_same_bytes_through_either_server_naming_the_public_address(site: Site) -> None:
    doors = (site.proxy, *site.servers)
    for path in (f"/visions/{SLUG}/v/1/", f"/visions/{SLUG}/v/1/objective-1", f"/visions/{SLUG}/v/1.json"):
        for encoding in ("identity", "gzip"):
            answers = [fetch(door, "GET", path, headers={"Accept-Encoding": encoding}) for door in doors]
            assert {answer.status for answer in answers} == {200}, path
            assert len({answer.body for answer in answers}) == 1, f"{path} ({encoding}) differs between servers"
            assert len({answer.header("ETag") for answer in answers}) == 1, path
            assert {answer.header("Cache-Control") for answer in answers} == {IMMUTABLE}, path
            # Revalidating with the tag one server gave: the other answers 304.
            for first, second in ((site.servers[0], site.servers[1]), (site.servers[1], site.servers[0])):
                tag = fetch(first, "GET", path, headers={"Accept-Encoding": encoding}).header("ETag")
                again = fetch(second, "GET", path, headers={"Accept-Encoding": encoding, "If-None-Match": tag or ""})
                assert (again.status, again.body) == (304, b""), path
        body = answers[0].body
        text = (gzip.decompress(body) if answers[0].header("Content-Encoding") == "gzip" else body).decode()
        assert f"{PUBLIC_URL}/visions/{SLUG}/v/1/" in text, path
        assert not re.search(r"https?://(?!vision\.example\.org/)[\w.:-]+/visions/", text), path

    document = json.loads(fetch(site.servers[1], "GET", f"/visions/{SLUG}/v/1.json").body)
    assert document["permalink"] == f"{PUBLIC_URL}/visions/{SLUG}/v/1/"
    feeds = [fetch(door, "GET", f"/visions/{SLUG}/feed.atom") for door in doors]
    assert len({feed.body for feed in feeds}) == 1 and len({feed.header("ETag") for feed in feeds}) == 1
    links = re.findall(r'href="([^"]+)"', feeds[0].text)
    assert links and all(link.startswith(f"{PUBLIC_URL}/") for link in links), links


def test_what_a_client_says_of_the_address_never_reaches_a_permalink(site: Site) -> None:
    """nginx sets Host (without a port), X-Forwarded-Host and -Proto itself: a client's own say is
    dropped, and a host other than the site's is refused."""
    forged = fetch(
        site.proxy, "GET", f"/visions/{SLUG}/v/1.json",
        headers={"Host": f"{HOST}:8443", "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "http"},
    )  # fmt: skip
    assert forged.status == 200
    assert json.loads(forged.body)["permalink"] == f"{PUBLIC_URL}/visions/{SLUG}/v/1/"
    assert fetch(site.proxy, "GET", "/about", headers={"Host": "evil.example"}).status == 400
    redirect = fetch(site.plain, "GET", f"/visions/{SLUG}/")
    assert (redirect.status, redirect.header("Location")) == (301, f"{PUBLIC_URL}/visions/{SLUG}/")


def test_a_version_published_through_one_server_is_the_latest_through_the_other(site: Site) -> None:
    a, b = site.servers
    latest, versions, feed = f"/visions/{SLUG}/", f"/visions/{SLUG}/versions", f"/visions/{SLUG}/feed.atom"
    before = {}
    for server in site.servers:  # each server renders, and keeps what it keeps, of version 1
        assert "Objective 1.2 body." in Browser().get(server, latest).text
        assert fetch(server, "GET", f"/visions/{SLUG}/v/2/").status == 404
        before[server.name] = fetch(server, "GET", f"/visions/{SLUG}/v/1/").body
        Browser().get(server, versions)
        fetch(server, "GET", feed)

    facilitator = sign_in(site.proxy, "facilitator@example.org")
    answer = facilitator.submit(a, f"/visions/{SLUG}/publish", {"notes": "Published through server A."})
    assert answer.status in DONE, answer.text[:500]

    for server in (b, a):
        page = Browser().get(server, latest).text
        assert "Objective 1.2 as version 2 words it." in page and "Objective 1.2 body." not in page, server.name
        assert "Published through server A." in Browser().get(server, versions).text, server.name
        assert f"{PUBLIC_URL}/visions/{SLUG}/v/2/" in fetch(server, "GET", feed).text, server.name
        assert fetch(server, "GET", f"/visions/{SLUG}/v/2/").status == 200, server.name
        assert fetch(server, "GET", f"/visions/{SLUG}/v/1/").body == before[server.name]  # version 1 unchanged


def test_answers_the_app_never_made_get_the_security_headers_from_nginx(site: Site) -> None:
    """gunicorn refuses a request with over 100 header fields itself (431), so the app adds no
    headers: nginx adds its own; to the app's answers it adds none (each header once)."""
    refused = fetch(site.proxy, "GET", "/health", headers={f"X-Filler-{n}": "x" for n in range(120)})
    assert refused.status == 431
    served = fetch(site.proxy, "GET", "/health")
    assert served.status == 200
    for answer, policy in ((refused, "default-src 'none'"), (served, "default-src 'self'")):
        assert [v for v in answer.headers.get_all("Content-Security-Policy") or []][0].startswith(policy)
        for name in ("Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options", "Strict-Transport-Security", "Referrer-Policy"):
            assert len(answer.headers.get_all(name) or []) == 1, (answer.status, name)


# --- one server alone: what it keeps must not depend on who asked first ------------------------------


@pytest.fixture
def app_config() -> dict[str, Any]:
    return {"PUBLIC_URL": PUBLIC_URL, "PROXY_FIX": 1}


def test_a_server_names_the_public_address_whatever_its_first_request_said(client, vision) -> None:
    """A server keeps each permalink as first rendered: a first request over plain http, or naming
    a port, must not put its address into the links every later reader gets (nor make two servers
    give different bytes for one permalink)."""
    permalink = f"{PUBLIC_URL}/visions/{vision.slug}/v/1/"
    path = f"/visions/{vision.slug}/v/1.json"
    first = client.get(path, base_url=f"http://{HOST}:8443", headers={"X-Forwarded-Proto": "http"})
    later = client.get(path, base_url=PUBLIC_URL)
    assert json.loads(first.data)["permalink"] == permalink
    assert (first.data, first.headers["ETag"]) == (later.data, later.headers["ETag"])
    page = client.get(f"/visions/{vision.slug}/v/1/", base_url=f"http://{HOST}")
    assert permalink in page.text and f"http://{HOST}" not in page.text
    feed = client.get(f"/visions/{vision.slug}/feed.atom", base_url=f"http://{HOST}:8443").text
    links = re.findall(r'href="([^"]+)"', feed)
    assert links and all(link.startswith(f"{PUBLIC_URL}/") for link in links), links
