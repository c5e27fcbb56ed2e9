"""Password hashing (argon2id) and the password rules.

Passwords are NFKC-normalised before hashing and checking, so that the same password typed on two
keyboards (composed or decomposed accents, full-width digits) is the same password. Nothing is trimmed:
spaces are part of a passphrase.
"""

from __future__ import annotations

import unicodedata
from functools import cache
from importlib import resources

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

MIN_LENGTH = 8
# argon2 hashes any length in the same time; the limit only keeps requests sensible.
MAX_LENGTH = 1024

# argon2id with the library's defaults (RFC 9106 "low memory": t=3, m=64 MiB, p=4), above OWASP's minimum.
hasher = PasswordHasher()


def _prepare(password: str) -> str:
    return unicodedata.normalize("NFKC", password)


def hash_password(password: str) -> str:
    """An argon2id hash of the password (about 0.1 s of work by design)."""
    return hasher.hash(_prepare(password))


def verify_password(password_hash: str, password: str) -> bool:
    """Whether the password matches the hash. An empty or unreadable hash never matches.

    Always does one argon2 verification, even for an empty hash, so that the time taken does not tell
    an account that exists from one that does not.
    """
    if not password_hash:
        password_hash, matches = dummy_hash(), False
    else:
        matches = True
    try:
        return hasher.verify(password_hash, _prepare(password)) and matches
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


@cache
def dummy_hash() -> str:
    """A hash of a random password, to check against when there is no account (equal timing)."""
    import secrets

    return hasher.hash(secrets.token_urlsafe(24))


def needs_rehash(password_hash: str) -> bool:
    """Whether the hash was made with other parameters than today's (then hash again at sign-in)."""
    try:
        return hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return True


@cache
def common_passwords() -> frozenset[str]:
    """The most common passwords (lower case), from common_passwords.txt next to this module."""
    text = resources.files(__package__).joinpath("common_passwords.txt").read_text(encoding="utf-8")
    return frozenset(
        line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#")
    )


def password_problem(password: str, *, email: str | None = None, display_name: str | None = None) -> str | None:
    """Why this password cannot be used, in words for the person choosing it; None when it can.

    Rules: at least 8 characters (counted as characters, so an emoji is one), at most 1,024; not only
    spaces; not one of the most common passwords; not the person's own email address or display name.
    """
    prepared = _prepare(password or "")
    if len(prepared) < MIN_LENGTH:
        return f"Enter a password of at least {MIN_LENGTH} characters"
    if len(prepared) > MAX_LENGTH:
        return f"Enter a password of at most {MAX_LENGTH:,} characters"
    if "\x00" in prepared:
        return "Enter a password without a NUL character"
    if not prepared.strip():
        return "Enter a password that is not only spaces"
    lowered = prepared.lower()
    if lowered in common_passwords() or lowered.strip() in common_passwords():
        return "This password is too common and easy to guess. Choose another, for example three random words"
    for own in (email, display_name):
        if own and lowered.strip() == _prepare(own).strip().lower():
            return "Your password must not be your email address or display name"
    return None
