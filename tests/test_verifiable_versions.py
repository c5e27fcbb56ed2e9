"""Versions anyone can verify (issue 18, item 4): the content hash recomputed from HTTP responses
alone, the chain of previous hashes, the site's Ed25519 signature, the README's lines run as
written, and existing versions migrated without changing what they say."""

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from nacl.signing import VerifyKey
from sqlalchemy import inspect, select, text
from werkzeug.serving import WSGIRequestHandler, make_server

from workbench.caching import clear_caches
from workbench.models import Role, Version, Vision, db
from workbench.visions import verification

from .factories import entry_of, fresh

README = Path(__file__).resolve().parent.parent / "README.md"
EXAMPLE_SITE = "https://vision.example.org"
SLUG = "public-sector-data"


def publish_edit(vision, actor, key: str, body: str, notes: str) -> Version:
    from workbench.drafting.edits import edit_element_text
    from workbench.drafting.publishing import publish_version

    entry = entry_of(vision, key)
    edit_element_text(
        fresh(Vision, vision.id), key, title=entry.text.title, body=body, reason="Why.",
        lock_version=entry.lock_version, actor=actor,
    )
    version = publish_version(fresh(Vision, vision.id), actor=actor, notes=notes)
    db.session.commit()
    return version


@pytest.fixture
def three_versions(make_vision, make_user):
    """The vision `public-sector-data` published three times; words that JSON would escape in
    version 2 (quotes, a backslash, accents, a line break, a non-BMP character)."""
    vision = make_vision(slug=SLUG)
    facilitator = make_user(Role.FACILITATOR)
    publish_edit(vision, facilitator, "objective-1", 'Données "ouvertes" \\ for all.\n\nSecond — paragraph 🌍.', "Second.")
    publish_edit(vision, facilitator, "objective-2", "Objective 1.2, sharper.", "Third.")
    clear_caches()
    return fresh(Vision, vision.id)


def recomputed_hash(document: dict) -> str:
    content = {k: v for k, v in document.items() if k not in ("content_hash", "signature", "permalink")}
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return "sha256:" + hashlib.sha256(canonical).hexdigest()


def canonical_content(document: dict) -> bytes:
    content = {k: v for k, v in document.items() if k not in ("content_hash", "signature", "permalink")}
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


# --- from HTTP responses only ---------------------------------------------------------------------


def test_the_content_hash_is_recomputed_from_the_json_alone_and_chains_the_versions(client, three_versions) -> None:
    documents = [json.loads(client.get(f"/visions/{SLUG}/v/{n}.json").data) for n in (1, 2, 3)]
    for document in documents:
        assert document["content_hash"] == recomputed_hash(document)
    assert [d["previous_hash"] for d in documents] == [None, documents[0]["content_hash"], documents[1]["content_hash"]]
    body = next(e for e in documents[1]["elements"][1]["children"] if e["key"] == "objective-1")["body"]
    assert body == 'Données "ouvertes" \\ for all.\n\nSecond — paragraph 🌍.'
    # The permalink page shows the same hash as the JSON.
    page = client.get(f"/visions/{SLUG}/v/2/").get_data(as_text=True)
    assert documents[1]["content_hash"].removeprefix("sha256:") in page


def test_each_version_is_signed_with_the_key_the_site_publishes(client, three_versions) -> None:
    response = client.get("/.well-known/vision-workbench-signing-key")
    assert response.status_code == 200 and response.mimetype == "application/json"
    keys = response.get_json()
    assert keys["algorithm"] == "Ed25519" and keys["retired_keys"] == []
    verify_key = VerifyKey(base64.b64decode(keys["public_key"]))
    for n in (1, 2, 3):
        document = json.loads(client.get(f"/visions/{SLUG}/v/{n}.json").data)
        assert document["signature"]["algorithm"] == "Ed25519"
        assert document["signature"]["public_key"] == keys["public_key"]
        verify_key.verify(canonical_content(document), base64.b64decode(document["signature"]["value"]))


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_the_published_pem_key_verifies_a_signature_with_openssl(client, three_versions, tmp_path) -> None:
    keys = client.get("/.well-known/vision-workbench-signing-key").get_json()
    document = json.loads(client.get(f"/visions/{SLUG}/v/2.json").data)
    (tmp_path / "key.pem").write_text(keys["public_key_pem"])
    (tmp_path / "content").write_bytes(canonical_content(document))
    (tmp_path / "signature").write_bytes(base64.b64decode(document["signature"]["value"]))
    result = subprocess.run(
        ["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", "key.pem", "-rawin", "-in", "content", "-sigfile", "signature"],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Signature Verified Successfully" in result.stdout


def test_a_signature_by_another_key_does_not_verify(client, three_versions) -> None:
    from nacl.exceptions import BadSignatureError
    from nacl.signing import SigningKey

    document = json.loads(client.get(f"/visions/{SLUG}/v/1.json").data)
    forged = SigningKey(b"\x01" * 32).sign(canonical_content(document)).signature
    keys = client.get("/.well-known/vision-workbench-signing-key").get_json()
    with pytest.raises(BadSignatureError):
        VerifyKey(base64.b64decode(keys["public_key"])).verify(canonical_content(document), forged)


# --- the README's lines, run as written -----------------------------------------------------------


def readme_section() -> str:
    readme = README.read_text(encoding="utf-8")
    start = readme.index("### Verifying a version")
    return readme[start : readme.index("\n## ", start)]


def readme_blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", readme_section(), flags=re.S)


class _Quiet(WSGIRequestHandler):
    def log_request(self, *args, **kwargs) -> None:
        pass


@pytest.fixture
def site(app, three_versions):
    """The app served on 127.0.0.1 (a free port) from a thread: the base URL, no trailing slash."""
    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_Quiet)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()


def test_the_readme_python_lines_verify_every_version_as_written(site) -> None:
    [code] = readme_blocks("python")
    assert code.count(EXAMPLE_SITE) == 1
    result = subprocess.run(
        [sys.executable, "-c", code.replace(EXAMPLE_SITE, site)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"Versions 1 to 3 of {SLUG} are as published, in order, signed by the site.\n"


@pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl")
def test_the_readme_one_line_command_prints_the_content_hash_twice(site) -> None:
    python_line = next(block.strip() for block in readme_blocks("sh") if "python3 -c" in block)
    for n in (1, 2):
        line = python_line.replace(EXAMPLE_SITE, site).replace("/v/1.json", f"/v/{n}.json")
        result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60)
        published, recomputed = result.stdout.splitlines()
        assert published == recomputed and published.startswith("sha256:"), result.stderr


@pytest.mark.skipif(shutil.which("curl") is None or shutil.which("jq") is None, reason="needs curl and jq")
def test_the_readme_jq_command_gives_the_content_hash(client, site) -> None:
    jq_line = next(block.strip() for block in readme_blocks("sh") if "jq " in block)
    for n in (1, 2):
        line = jq_line.replace(EXAMPLE_SITE, site).replace("/v/1.json", f"/v/{n}.json")
        result = subprocess.run(["bash", "-c", line], capture_output=True, text=True, timeout=60)
        document = json.loads(client.get(f"/visions/{SLUG}/v/{n}.json").data)
        assert result.stdout.split()[0] == document["content_hash"].removeprefix("sha256:"), result.stderr


def test_the_about_page_gives_the_same_commands_as_the_readme(client, three_versions) -> None:
    response = client.get("/about/verifying")
    assert response.status_code == 200
    page = html.unescape(response.get_data(as_text=True))
    assert "How to check a published version" in page
    site = "http://localhost"
    for block in readme_blocks("sh")[:2] + readme_blocks("python"):
        assert block.strip().replace(EXAMPLE_SITE, site) in page
    keys = client.get("/.well-known/vision-workbench-signing-key").get_json()
    assert keys["public_key"] in page


def test_a_permalink_says_how_to_check_it(client, three_versions) -> None:
    for path in (f"/visions/{SLUG}/v/2/", f"/visions/{SLUG}/v/2/objective-1"):
        page = client.get(path).get_data(as_text=True)
        assert '<a href="/about/verifying">How to check that this is the version as published</a>' in page


# --- configuration of the key ---------------------------------------------------------------------


def test_the_key_comes_from_the_setting_then_the_instance_file(tmp_path) -> None:
    seed = base64.b64encode(b"\x07" * 32).decode()
    from_setting = verification.load_site_keys({"SIGNING_KEY": seed}, tmp_path)
    (tmp_path / "signing_key").write_text(seed + "\n")
    from_file = verification.load_site_keys({}, tmp_path)
    assert from_setting.public_key == from_file.public_key
    assert base64.b64decode(from_setting.public_key) == bytes(from_setting.signing.verify_key)
    retired = verification.load_site_keys({"SIGNING_KEY": seed, "SIGNING_KEYS_RETIRED": "a, b c"}, tmp_path)
    assert retired.retired == ("a", "b", "c") and retired.trusted == {from_setting.public_key, "a", "b", "c"}


def test_without_a_key_outside_development_the_site_says_how_to_make_one(tmp_path) -> None:
    with pytest.raises(verification.SigningKeyMissing, match="WORKBENCH_SIGNING_KEY is not set"):
        verification.load_site_keys({"SECRET_KEY": "s"}, tmp_path)
    with pytest.raises(verification.SigningKeyMissing, match="base64 of 32 random bytes"):
        verification.load_site_keys({"SIGNING_KEY": "too-short"}, tmp_path)
    # Development and tests: a key derived from the secret key, the same in every process.
    one = verification.load_site_keys({"SECRET_KEY": "s", "DEV": True}, tmp_path)
    assert one.public_key == verification.load_site_keys({"SECRET_KEY": "s", "TESTING": True}, tmp_path).public_key
    assert one.public_key != verification.load_site_keys({"SECRET_KEY": "t", "DEV": True}, tmp_path).public_key


# --- migrating the versions published before -------------------------------------------------------


def migration_parent() -> str:
    source = (Path(__file__).resolve().parent.parent / "migrations/versions/0014_verifiable_versions.py").read_text()
    return re.search(r'^down_revision = "([^"]+)"', source, flags=re.M).group(1)


def what_it_says(document: dict) -> dict:
    return {k: v for k, v in document.items() if k not in ("content_hash", "previous_hash", "signature")}


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
def test_existing_versions_are_migrated_without_changing_what_they_say(client, three_versions, runner) -> None:
    from flask_migrate import downgrade, upgrade

    before = {n: json.loads(client.get(f"/visions/{SLUG}/v/{n}.json").data) for n in (1, 2, 3)}
    pages = {n: client.get(f"/visions/{SLUG}/v/{n}/").get_data(as_text=True) for n in (1, 2, 3)}
    rows = {r.number: (r.snapshot, r.snapshot_hash, r.notes, r.published_at, r.changelog) for r in db.session.scalars(select(Version))}
    db.session.remove()
    try:
        downgrade(revision=migration_parent())
        assert "signature" not in {c["name"] for c in inspect(db.engine).get_columns("versions")}
        with db.engine.connect() as connection:
            old = dict(connection.execute(text("SELECT number, content_hash FROM versions")).all())
        # As before this work: the content hash was the sha256 of the stored snapshot.
        assert old == {n: hashlib.sha256(row[0].encode()).hexdigest() for n, row in rows.items()}
    finally:
        upgrade()
    clear_caches()
    after = {n: json.loads(client.get(f"/visions/{SLUG}/v/{n}.json").data) for n in (1, 2, 3)}
    for n in (1, 2, 3):
        assert what_it_says(after[n]) == what_it_says(before[n])
        # The migration's frozen copy of the hashing agrees with the app's: the same hashes and chain.
        assert (after[n]["content_hash"], after[n]["previous_hash"]) == (before[n]["content_hash"], before[n]["previous_hash"])
        assert after[n]["content_hash"] == recomputed_hash(after[n])
        assert client.get(f"/visions/{SLUG}/v/{n}/").get_data(as_text=True) == pages[n]
    assert {r.number: (r.snapshot, r.snapshot_hash, r.notes, r.published_at, r.changelog) for r in db.session.scalars(select(Version))} == rows
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 0, result.output


# --- the command line -----------------------------------------------------------------------------


def test_vision_verify_says_when_every_version_checks_out(runner, three_versions) -> None:
    result = runner.invoke(args=["vision", "verify", SLUG])
    assert result.exit_code == 0
    assert "All 3 versions of 'public-sector-data' check out" in result.output


def test_vision_verify_of_a_vision_never_published_finds_nothing_wrong(runner, make_vision) -> None:
    make_vision(slug="draft-only", publish=False)
    result = runner.invoke(args=["vision", "verify", "draft-only"])
    assert result.exit_code == 0
    assert "'draft-only' has no published version yet" in result.output


def test_vision_verify_names_an_unknown_vision(runner, app) -> None:
    result = runner.invoke(args=["vision", "verify", "no-such-vision"])
    assert result.exit_code == 1
    assert "There is no vision 'no-such-vision'." in result.output


def test_publishing_chains_and_signs_in_one_step(app, make_vision, make_user) -> None:
    vision = make_vision(slug="chained")
    facilitator = make_user(Role.FACILITATOR)
    second = publish_edit(vision, facilitator, "objective-1", "Changed.", "Two.")
    first = db.session.scalar(select(Version).where(Version.vision_id == vision.id, Version.number == 1))
    assert first.previous_hash is None and second.previous_hash == first.content_hash
    assert second.snapshot_hash == hashlib.sha256(second.snapshot.encode()).hexdigest()
    assert second.signing_key == verification.site_keys().public_key


def test_a_site_without_a_signing_key_says_so_and_publishes_nothing(client, make_vision, make_user, login_as, monkeypatch) -> None:
    vision = make_vision()
    facilitator = login_as(make_user(Role.FACILITATOR))
    entry = entry_of(vision, "objective-1")
    from workbench.drafting.edits import edit_element_text

    edit_element_text(vision, "objective-1", title=entry.text.title, body="Changed.", reason="Why.",
                      lock_version=entry.lock_version, actor=facilitator)
    db.session.commit()

    def missing(app=None):
        raise verification.SigningKeyMissing("WORKBENCH_SIGNING_KEY is not set")

    monkeypatch.setattr(verification, "site_keys", missing)
    response = client.post("/visions/test-vision/publish", data={"notes": "Two."})
    assert response.status_code == 422
    assert "This site cannot publish yet: it has no key to sign versions with." in html.unescape(response.get_data(as_text=True))
    assert db.session.scalar(select(Version.number).order_by(Version.number.desc())) == 1
