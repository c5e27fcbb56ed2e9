"""Versions anyone can verify: the public content hash, the chain of versions, the site's signature.

A version's **content hash** is the SHA-256 of the canonical JSON (keys sorted, no whitespace, UTF-8,
other characters as they are) of what `/visions/<slug>/v/<n>.json` publishes, less the fields that are
about the document rather than in it: `content_hash`, `signature` and `permalink` (`UNHASHED`). So
anyone can recompute it from the JSON alone (README, "Verifying a version"; `/about/verifying`).
What is hashed holds `previous_hash`, version n-1's content hash: rewriting an old version changes
every later one. The site signs the same bytes with its Ed25519 key (PyNaCl): the public key is at
`/.well-known/vision-workbench-signing-key`.

The app checks a version when it first reads it from the database in a process (`check_version`,
called by `visions.services` as it fills its cache of parsed snapshots): the stored snapshot against
its own hash, the content hash recomputed, the signature with one of the site's keys. A version that
fails is refused (`VersionAltered`, a 503 page) with a critical log line. `verify_chain` (the
`flask vision verify SLUG` command) also checks that each version names its predecessor's hash.

Anything added to the version JSON must be added in `public_content` (and only for versions that
have it), so that it is hashed and signed, and earlier versions keep their hashes.

The signing key: `WORKBENCH_SIGNING_KEY` (base64 of a 32-byte Ed25519 seed), else the file
`instance/signing_key` holding the same; in development and tests without either, a key derived from
the secret key. Public keys of earlier keys, whose signatures stay valid, go in
`WORKBENCH_SIGNING_KEYS_RETIRED` (base64, separated by spaces or commas). Publishing needs the key;
a server without one still checks what it serves, each signature with the key the version names.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Iterable

from flask import Flask, current_app
from nacl.exceptions import BadSignatureError
from nacl.signing import SigningKey, VerifyKey
from sqlalchemy import select

from ..models import Version, Vision, db
from . import snapshots

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
UNHASHED = ("content_hash", "signature", "permalink")
ALGORITHM = "Ed25519"
KEY_FILE = "signing_key"
# SubjectPublicKeyInfo of an Ed25519 key, before its 32 bytes (RFC 8410): for the PEM form.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


# --- the canonical form ----------------------------------------------------------------------------


def prefixed(digest: str | None) -> str | None:
    """"sha256:<hex>" as the JSON shows a hash (None stays None)."""
    return None if digest is None else f"sha256:{digest}"


def public_content(snapshot: dict[str, Any], notes: str, previous_hash: str | None) -> dict[str, Any]:
    """What /v/<n>.json publishes and the content hash covers: everything but `UNHASHED`."""
    return {
        "schema_version": SCHEMA_VERSION,
        "vision": snapshot["vision"],
        "version": snapshot["number"],
        "published_at": snapshot["published_at"],
        "notes": notes,
        "previous_hash": prefixed(previous_hash),
        "elements": snapshots.nested_elements(snapshot["elements"]),
    }


def canonical_bytes(content: dict[str, Any]) -> bytes:
    """The bytes that are hashed and signed: JSON, keys sorted, no whitespace, UTF-8."""
    return json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def public_document(
    snapshot: dict[str, Any],
    *,
    notes: str,
    content_hash: str,
    previous_hash: str | None,
    signature: str | None,
    signing_key: str | None,
    permalink: str,
) -> dict[str, Any]:
    """The version JSON: `public_content` with its hash, signature and permalink (before `elements`)."""
    content = public_content(snapshot, notes, previous_hash)
    document = {name: value for name, value in content.items() if name != "elements"}
    document["content_hash"] = prefixed(content_hash)
    document["signature"] = (
        {"algorithm": ALGORITHM, "public_key": signing_key, "value": signature} if signature else None
    )
    document["permalink"] = permalink
    document["elements"] = content["elements"]
    return document


# --- the site's key --------------------------------------------------------------------------------


class SigningKeyMissing(RuntimeError):
    """No signing key is configured (outside development and tests)."""


@dataclass(frozen=True)
class SiteKeys:
    signing: SigningKey
    public_key: str  # base64 of the 32 bytes
    retired: tuple[str, ...]

    @property
    def trusted(self) -> frozenset[str]:
        return frozenset((self.public_key, *self.retired))

    @property
    def public_key_pem(self) -> str:
        der = base64.b64encode(_SPKI_PREFIX + base64.b64decode(self.public_key)).decode()
        return f"-----BEGIN PUBLIC KEY-----\n{der}\n-----END PUBLIC KEY-----\n"


def _seed(raw: str, where: str) -> bytes:
    try:
        seed = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        seed = b""
    if len(seed) != 32:
        raise SigningKeyMissing(f"{where} must be the base64 of 32 random bytes (an Ed25519 seed), 44 characters")
    return seed


def load_site_keys(config: dict[str, Any], instance_path: str | Path) -> SiteKeys:
    """The site's keys from `config` (see the module's docstring); raises SigningKeyMissing."""
    key_file = Path(instance_path) / KEY_FILE
    if config.get("SIGNING_KEY"):
        seed = _seed(str(config["SIGNING_KEY"]), "WORKBENCH_SIGNING_KEY")
    elif key_file.is_file():
        seed = _seed(key_file.read_text(), str(key_file))
    elif config.get("DEV") or config.get("TESTING"):
        # Development only: stable across processes, never used where a real key is required.
        seed = hashlib.sha256(b"vision-workbench signing key\0" + str(config["SECRET_KEY"]).encode()).digest()
    else:
        raise SigningKeyMissing(
            "WORKBENCH_SIGNING_KEY is not set: published versions are signed with it. Make one with "
            "python3 -c 'import base64, os; print(base64.b64encode(os.urandom(32)).decode())' "
            f"and set it, or put it in {key_file}."
        )
    retired = config.get("SIGNING_KEYS_RETIRED") or ()
    if isinstance(retired, str):
        retired = retired.replace(",", " ").split()
    signing = SigningKey(seed)
    return SiteKeys(
        signing=signing,
        public_key=base64.b64encode(bytes(signing.verify_key)).decode(),
        retired=tuple(str(key).strip() for key in retired),
    )


def site_keys(app: Flask | None = None) -> SiteKeys:
    """The app's keys, loaded once per process; raises SigningKeyMissing."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    keys = app.extensions.get("workbench.signing_keys")
    if keys is None:
        keys = app.extensions["workbench.signing_keys"] = load_site_keys(app.config, app.instance_path)
    return keys


def configured_site_keys() -> SiteKeys | None:
    """The app's keys, or None when it has none (outside development and tests; logged once)."""
    try:
        return site_keys()
    except SigningKeyMissing:
        extensions = current_app.extensions
        if not extensions.get("workbench.signing_keys_warned"):
            extensions["workbench.signing_keys_warned"] = True
            log.warning("No signing key is configured (WORKBENCH_SIGNING_KEY): signatures are checked "
                        "with the keys the versions name, not against this site's key.")
        return None


def trusted_keys() -> frozenset[str] | None:
    """The public keys whose signatures this site accepts (its key and the retired ones), or None
    when it has no key configured: a server that only reads (it cannot publish) then checks each
    signature with the key the version names, without knowing that key is the site's."""
    keys = configured_site_keys()
    return None if keys is None else keys.trusted


# --- sealing a new version -------------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    """What a version row holds to prove its content (the columns of `Version` of the same names),
    with the slug of its vision."""

    slug: str
    number: int
    notes: str
    snapshot_hash: str | None
    content_hash: str | None
    previous_hash: str | None
    signature: str | None
    signing_key: str | None

    @classmethod
    def of(cls, row: Any, slug: str | None = None) -> "Seal":
        """From a Version (give `slug`) or a row with these names (`seal_columns()`)."""
        values = {f.name: getattr(row, f.name) for f in fields(cls) if f.name != "slug"}
        return cls(slug=slug if slug is not None else row.slug, **values)


def seal_columns() -> tuple[Any, ...]:
    """The columns a query selects to check a version (join `Vision` for the slug)."""
    return (
        Vision.slug,
        Version.number,
        Version.notes,
        Version.snapshot_hash,
        Version.content_hash,
        Version.previous_hash,
        Version.signature,
        Version.signing_key,
    )


@dataclass(frozen=True)
class Sealed:
    snapshot_hash: str
    content_hash: str
    previous_hash: str | None
    signature: str
    signing_key: str


def seal_new_version(canonical_snapshot: str, snapshot: dict[str, Any], notes: str, previous_hash: str | None) -> Sealed:
    """The hashes and signature of a version about to be published."""
    keys = site_keys()
    content = canonical_bytes(public_content(snapshot, notes, previous_hash))
    return Sealed(
        snapshot_hash=snapshots.content_hash(canonical_snapshot),
        content_hash=hashlib.sha256(content).hexdigest(),
        previous_hash=previous_hash,
        signature=base64.b64encode(keys.signing.sign(content).signature).decode(),
        signing_key=keys.public_key,
    )


# --- checking a stored version ---------------------------------------------------------------------


class VersionAltered(Exception):
    """A stored version no longer matches its hashes or signature: it must not be served."""

    def __init__(self, slug: str, number: int, problems: list[str]):
        super().__init__(f"version {number} of {slug}: " + "; ".join(problems))
        self.slug = slug
        self.number = number
        self.problems = problems


def problems_with(text: str, seal: Seal, trusted: Iterable[str] | None) -> tuple[dict[str, Any] | None, list[str]]:
    """Check a stored snapshot (`text`) against its seal: its own hash, the content hash recomputed,
    its number and vision, its signature by one of the `trusted` public keys (by the key it names
    when `trusted` is None). Returns the parsed snapshot (None when it cannot be read) and the
    problems in words (empty when all is well)."""
    problems: list[str] = []
    if seal.snapshot_hash is None or seal.content_hash is None:
        problems.append("it has no content hash or snapshot hash: it was stored without the app")
    elif hashlib.sha256(text.encode("utf-8")).hexdigest() != seal.snapshot_hash:
        problems.append("its stored snapshot was changed after it was published (it no longer matches its snapshot hash)")
    try:
        snapshot = json.loads(text)
        content = canonical_bytes(public_content(snapshot, seal.notes, seal.previous_hash))
    except (ValueError, KeyError, TypeError, AttributeError):
        return None, problems + ["its stored snapshot cannot be read as a version"]
    if snapshot["number"] != seal.number:
        problems.append(f"its snapshot says it is version {snapshot['number']}")
    if snapshot["vision"].get("slug") != seal.slug:
        problems.append(f"its snapshot belongs to the vision {snapshot['vision'].get('slug')!r}")
    recomputed = hashlib.sha256(content).hexdigest()
    if seal.content_hash is not None and recomputed != seal.content_hash:
        problems.append(
            f"its content does not match its content hash (recorded sha256:{seal.content_hash}, "
            f"recomputed from what it says sha256:{recomputed})"
        )
    if not seal.signature or not seal.signing_key:
        problems.append("it is not signed")
    else:
        if trusted is not None and seal.signing_key not in set(trusted):
            problems.append(f"it is signed with a key that is not one of this site's keys ({seal.signing_key})")
        try:
            VerifyKey(base64.b64decode(seal.signing_key)).verify(content, base64.b64decode(seal.signature))
        except (BadSignatureError, binascii.Error, ValueError, TypeError):
            problems.append("its signature does not match what it says")
    return snapshot, problems


def check_version(text: str, seal: Seal) -> dict[str, Any]:
    """The parsed snapshot of a stored version, once checked; raises VersionAltered (and logs a
    critical alarm) when it does not match its hashes or signature."""
    snapshot, problems = problems_with(text, seal, trusted_keys())
    if problems:
        log.critical(
            "Refusing to serve version %s of %r, which was altered in the database: %s. "
            "Restore it from a backup; `flask vision verify %s` checks the whole history.",
            seal.number, seal.slug, "; ".join(problems), seal.slug,
        )
        raise VersionAltered(seal.slug, seal.number, problems)
    assert snapshot is not None
    return snapshot


# --- the whole history (flask vision verify) -------------------------------------------------------


@dataclass(frozen=True)
class ChainReport:
    slug: str
    checked: int
    problems: list[str]
    # False when the site has no key configured: signatures were checked with the keys named.
    keys_known: bool = True


def verify_chain(slug: str) -> ChainReport | None:
    """Check every version of the vision `slug`, oldest first: each as `problems_with` does, each
    `previous_hash` against the version before, and that versions 1..latest are all there.
    None when there is no such vision. Reads the versions a few at a time."""
    vision = db.session.scalar(select(Vision).where(Vision.slug == slug))
    if vision is None:
        return None
    trusted = trusted_keys()
    problems: list[str] = []
    previous: Seal | None = None
    rows = db.session.execute(
        select(Version.snapshot, *seal_columns())
        .join(Vision, Vision.id == Version.vision_id)
        .where(Version.vision_id == vision.id)
        .order_by(Version.number)
        .execution_options(yield_per=20)
    )
    checked = 0
    for row in rows:
        seal = Seal.of(row)
        checked += 1
        expected = previous.number + 1 if previous else 1
        if seal.number != expected:
            missing = str(expected) if seal.number == expected + 1 else f"{expected} to {seal.number - 1}"
            problems.append(f"Version {missing} is missing: the versions jump from {expected - 1} to {seal.number}.")
        _, found = problems_with(row.snapshot, seal, trusted)
        problems.extend(f"Version {seal.number}: {problem}." for problem in found)
        if seal.number == 1 and seal.previous_hash is not None:
            problems.append("Version 1: it names a previous version, but it is the first.")
        elif previous is not None and seal.number == previous.number + 1 and seal.previous_hash != previous.content_hash:
            problems.append(
                f"Version {seal.number}: its previous hash is not version {previous.number}'s content hash "
                f"(it names {prefixed(seal.previous_hash)}, version {previous.number} has "
                f"{prefixed(previous.content_hash)}): version {previous.number} was replaced or history rewritten."
            )
        previous = seal
    latest = previous.number if previous else 0
    if vision.latest_version_number != latest:
        problems.append(
            f"The vision says its latest version is {vision.latest_version_number}, "
            f"but the newest stored is {latest}."
        )
    return ChainReport(slug=slug, checked=checked, problems=problems, keys_known=trusted is not None)
