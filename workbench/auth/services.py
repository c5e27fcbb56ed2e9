"""Account rules: normalising emails and names, signing in, registering, resetting a password.

Nothing here tells a visitor whether an address has an account. Registration and password reset always
compose exactly one mail, to the address given, whichever way things stand (the mail itself says what
is true, and only the owner of the address reads it). Signing in always does exactly one argon2
verification, against a dummy hash when there is no such account.

Services flush and return; the view queues the mail they composed (outbox.queue) and commits.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from ..mail import Mail, compose, external_url
from ..models import PasswordResetToken, Role, User, db, new_session_token, record_event, utcnow
from ..exceptions import Conflict, NotFound, ValidationError
from ..validation import clean_text, has_disguising_characters, has_something_visible
from .passwords import hash_password, needs_rehash, password_problem, verify_password

RESET_LINK_LIFETIME = timedelta(hours=1)
REGISTRATION_LINK_LIFETIME = timedelta(hours=24)
DISPLAY_NAME_MAX = 80

# Local part: RFC 5322 "atext" (any letter or digit, in any script) and dots between words; domain:
# labels of letters, digits and hyphens. No spaces, quotes, commas, angle brackets or control
# characters, so an address can never add a recipient or a header to a mail.
_EMAIL = re.compile(
    r"^[\w!#$%&'*+/=?^`{|}~-]+(?:\.[\w!#$%&'*+/=?^`{|}~-]+)*"
    r"@(?:[^\W_](?:[\w-]{0,61}[^\W_])?\.)+(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})$"
)
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")

EMAIL_FORMAT_MESSAGE = "Enter an email address in the correct format, like name@example.org"


def normalise_email(email: str) -> str | None:
    """NFC, trimmed, lower case; None when it is not a usable email address.

    Two addresses that differ only in case or Unicode normalisation are the same address.
    """
    value = unicodedata.normalize("NFC", email or "").strip().lower()
    if (
        not value
        or len(value) > 254
        or len(value.partition("@")[0]) > 64
        or _CONTROL.search(value)
        or has_disguising_characters(value)
        or not _EMAIL.match(value)
    ):
        return None
    return value


def clean_display_name(value: str | None, field: str = "display_name") -> str:
    """The display name as it will be shown: NFC, spaces collapsed, 1 to 80 characters.

    Raises ValidationError when it is empty, shows nothing (only blank-looking characters), is too
    long, or holds control characters or characters that can disguise text (bidi overrides,
    zero-width characters).
    """
    raw = unicodedata.normalize("NFC", value or "")
    if _CONTROL.search(raw) or has_disguising_characters(raw):
        raise ValidationError(
            {field: "Enter a display name without hidden or control characters (such as direction marks or zero-width spaces)"}
        )
    name = clean_text(raw, multiline=False)
    if not name:
        raise ValidationError({field: "Enter a display name"})
    if not has_something_visible(name):
        raise ValidationError({field: "Enter a display name with at least one letter, number or symbol that people can see"})
    if len(name) > DISPLAY_NAME_MAX:
        raise ValidationError({field: f"Enter a display name of {DISPLAY_NAME_MAX} characters or fewer"})
    return name


def check_new_password(password: str, *, email: str | None, display_name: str | None, field: str = "password") -> None:
    """Raise ValidationError when the password breaks a rule (see passwords.password_problem)."""
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        raise ValidationError({field: problem})


def email_in_use(email: str) -> bool:
    return db.session.scalar(select(User.id).where(User.email == email)) is not None


def replace_session_token(user: User) -> None:
    """Sign the person out everywhere: every copied session or remember-me cookie stops working."""
    user.session_token = new_session_token()


# --- signing in -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignInResult:
    user: User | None
    # Why signing in failed, in words for the person; empty on success.
    problem: str = ""


WRONG_CREDENTIALS = "Enter the email address and password of your account. One of them was not right"


def authenticate(email: str, password: str) -> SignInResult:
    """Check an email address and password. Always exactly one argon2 verification.

    On success the hash is upgraded when its parameters are out of date (flushed; the view commits).
    A deactivated account is refused only after the right password, so that its state is not told to
    someone who does not know it.
    """
    address = normalise_email(email)
    user = None
    if address is not None:
        user = db.session.scalar(select(User).where(User.email == address, User.is_deleted.is_(False)))
    # verify_password checks against a dummy hash when there is no account (equal timing).
    if not verify_password(user.password_hash if user else "", password) or user is None:
        return SignInResult(None, WRONG_CREDENTIALS)
    if not user.is_active:
        return SignInResult(None, "This account has been deactivated. Contact the team running this site if you think that is wrong")
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
        db.session.flush()
    return SignInResult(user)


def sign_out_everywhere(user: User) -> None:
    """Replace the session token (flushes): every browser signed in as this person is signed out."""
    replace_session_token(user)
    db.session.flush()


# --- registration: an email first, then a link to finish ----------------------------------------


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt=f"workbench-{purpose}")


def request_registration(email: str) -> tuple[str, Mail]:
    """Start registering an address. Returns (normalised address, the one mail to send to it).

    A new address gets a link to finish creating the account (valid 24 hours); an address that
    already has an account gets a note that someone tried to register with it, with links to sign in
    and reset the password. The person asking sees the same answer either way.
    Raises ValidationError when the address is not an email address.
    """
    address = normalise_email(email)
    if address is None:
        raise ValidationError({"email": EMAIL_FORMAT_MESSAGE})
    # Same work on both paths: one query, one token, one mail.
    token = _serializer("register").dumps({"email": address})
    if email_in_use(address):
        mail = compose(
            address,
            "Someone tried to register with your email address",
            "auth/mail/already_registered.txt",
            sign_in_url=external_url("auth.login"),
            reset_url=external_url("auth.request_reset"),
        )
    else:
        mail = compose(
            address,
            "Finish creating your Vision Workbench account",
            "auth/mail/finish_registration.txt",
            link=external_url("auth.finish_registration", token=token),
            hours=int(REGISTRATION_LINK_LIFETIME.total_seconds() // 3600),
        )
    return address, mail


def registration_email(token: str) -> str | None:
    """The address a registration link was sent to, or None when the link is not valid or too old."""
    try:
        data = _serializer("register").loads(token, max_age=int(REGISTRATION_LINK_LIFETIME.total_seconds()))
    except (BadSignature, SignatureExpired):
        return None
    address = data.get("email") if isinstance(data, dict) else None
    return normalise_email(address) if isinstance(address, str) else None


class AccountExists(Conflict):
    """The address already has an account (a registration link used twice)."""

    def __init__(self, address: str):
        super().__init__("This email address already has an account. Sign in, or reset your password if you have forgotten it.")
        self.address = address


def create_account(email: str, display_name: str, password: str) -> User:
    """Create a volunteer account for an address that proved it receives mail (flushes).

    Raises ValidationError for a bad name or password, AccountExists when the address has an account.
    """
    address = normalise_email(email)
    if address is None:
        raise ValidationError({"email": EMAIL_FORMAT_MESSAGE})
    problems: dict[str, str] = {}
    name = ""
    try:
        name = clean_display_name(display_name)
    except ValidationError as exc:
        problems.update({k: v[0] for k, v in exc.errors.items()})
    problem = password_problem(password, email=address, display_name=name or None)
    if problem:
        problems["password"] = problem
    if problems:
        raise ValidationError(problems)
    if email_in_use(address):
        raise AccountExists(address)
    user = User(email=address, display_name=name, role=Role.VOLUNTEER.value, password_hash=hash_password(password))
    try:
        # Two uses of one link at the same moment: the unique address lets only one through.
        with db.session.begin_nested():
            db.session.add(user)
            db.session.flush()
    except IntegrityError:
        raise AccountExists(address) from None
    record_event("account.registered", "user", user.id, actor=user)
    return user


# --- password reset -------------------------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def request_password_reset(email: str) -> tuple[str, Mail]:
    """Start a password reset. Returns (normalised address, the one mail to send to it).

    An address with an active account gets a single-use link valid for one hour (only a hash of it is
    stored), and its older links stop working; any other address gets a note that there is no account to reset, with a link to
    register. The person asking sees the same answer either way.
    Raises ValidationError when the address is not an email address.
    """
    address = normalise_email(email)
    if address is None:
        raise ValidationError({"email": EMAIL_FORMAT_MESSAGE})
    raw = secrets.token_urlsafe(32)
    digest = _token_hash(raw)
    user = db.session.scalar(select(User).where(User.email == address))
    if user is None or not user.is_active:
        mail = compose(
            address,
            "Resetting your Vision Workbench password",
            "auth/mail/no_account.txt",
            register_url=external_url("auth.register"),
        )
        return address, mail
    # Only the newest link works: an older one, perhaps still in a forgotten inbox, is used up.
    cancel_reset_links(user)
    now = utcnow()
    db.session.add(PasswordResetToken(user_id=user.id, token_hash=digest, created_at=now, expires_at=now + RESET_LINK_LIFETIME))
    db.session.flush()
    mail = compose(
        address,
        "Reset your Vision Workbench password",
        "auth/mail/reset_password.txt",
        user=user,
        link=external_url("auth.reset_password", token=raw),
        minutes=int(RESET_LINK_LIFETIME.total_seconds() // 60),
    )
    return address, mail


def find_reset_token(raw: str, *, lock: bool = False) -> PasswordResetToken | None:
    """The unused, unexpired reset token for this link whose account is active; else None."""
    if not raw or len(raw) > 200:
        return None
    query = select(PasswordResetToken).where(PasswordResetToken.token_hash == _token_hash(raw))
    if lock:
        query = query.with_for_update()
    token = db.session.scalar(query)
    if token is None or token.used_at is not None or token.expires_at <= utcnow():
        return None
    user = db.session.get(User, token.user_id)
    if user is None or not user.is_active:
        return None
    return token


class LinkNotValid(NotFound):
    """A link that is unknown, used, expired or for an account that can no longer be used."""

    def __init__(self) -> None:
        super().__init__("This link does not work: it has expired, has already been used, or was not copied in full.")


def reset_password(raw: str, new_password: str) -> User:
    """Set a new password through a reset link (flushes). Uses up every open reset link of the account.

    Signs the account out everywhere. Raises LinkNotValid, or ValidationError for a bad password.
    """
    token = find_reset_token(raw, lock=True)
    if token is None:
        raise LinkNotValid()
    user = db.session.get(User, token.user_id)
    assert user is not None
    check_new_password(new_password, email=user.email, display_name=user.display_name)
    now = utcnow()
    user.password_hash = hash_password(new_password)
    replace_session_token(user)
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=now)
    )
    record_event("account.password_reset", "user", user.id, actor=user)
    db.session.flush()
    return user


def cancel_reset_links(user: User) -> None:
    """Use up every open reset link of an account (after a password change or deletion)."""
    db.session.execute(
        update(PasswordResetToken)
        .where(PasswordResetToken.user_id == user.id, PasswordResetToken.used_at.is_(None))
        .values(used_at=utcnow())
    )
