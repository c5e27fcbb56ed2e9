"""Your own account (name, email, password, deletion) and administrators' account management.

Every change records an audit event. Emails and names are never written into audit details, so that
deleting an account removes them for good. Services flush; the view queues any mail
(outbox.queue), then commits.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import Integer, column, func, select, table, text, update
from sqlalchemy.exc import IntegrityError

from .. import permissions
from ..auth import services as auth
from ..auth.passwords import hash_password, password_problem, verify_password
from ..mail import Mail, compose, external_url
from ..aligned.services import forget_contacts_of
from ..models import AuditEvent, Notification, OutgoingMail, Role, User, db, record_event
from ..exceptions import NotAllowed, ValidationError
from ..publication import ORGANISATION, PUBLICATION_NOW
from ..keyset import KeysetPage, Seek, seek_in_list, seek_page
from ..validation import clean_text
from ..word_search import words_of

EMAIL_LINK_LIFETIME = timedelta(hours=1)
WRONG_PASSWORD = "Enter your current password. The password you entered was not right"
PAGE_SIZE = 25
ROLE_NAMES = {Role.VOLUNTEER.value: "Volunteer", Role.FACILITATOR.value: "Facilitator", Role.ADMIN.value: "Administrator"}


# --- your account ---------------------------------------------------------------------------------


def change_display_name(user: User, display_name: str) -> bool:
    """Set a new display name (flushes); False when it is unchanged. Raises ValidationError."""
    name = auth.clean_display_name(display_name)
    if name == user.display_name:
        return False
    user.display_name = name
    record_event("account.display_name_changed", "user", user.id, actor=user)
    db.session.flush()
    return True


def about_you_saved_words(before: tuple[str | None, str, str], person: User) -> str:
    """What saving "About you" changed, in words, for the confirmation: `before` is the person's
    (responding_as, organisation, publish_as) before `about_you.save_about_you`."""
    was_as, was_organisation, was_publish = before
    sentences = []
    if (was_as, was_organisation) != (person.responding_as, person.organisation):
        sentences.append(
            f"You are now responding for {person.organisation}." if person.responding_as == ORGANISATION
            else "You are now responding as an individual."
        )
    if was_publish != person.publish_as:
        sentences.append(PUBLICATION_NOW[person.publish_as] + " This applies to what you have already written too.")
    elif was_as is None:  # answered for the first time, keeping how they were published
        sentences.append(PUBLICATION_NOW[person.publish_as].replace(" are now ", " are ", 1))
    return " ".join(sentences) or "Your answers are unchanged."


def _email_serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="workbench-email-change")


def request_email_change(user: User, new_email: str, password: str) -> tuple[str, Mail]:
    """Ask to move the account to a new address. Returns (the address, the one mail to send to it).

    The new address gets a link (valid 1 hour, only for this account, used once) to confirm; if the
    address already belongs to another account, its owner is told someone tried to use it instead, and
    the person asking sees the same answer, so this form cannot find out who has an account.
    Raises ValidationError for a bad address, the same address, or a wrong current password.
    """
    address = auth.normalise_email(new_email)
    problems: dict[str, str] = {}
    if address is None:
        problems["email"] = auth.EMAIL_FORMAT_MESSAGE
    elif address == user.email:
        problems["email"] = "This is already your email address. Enter a different one"
    if not verify_password(user.password_hash, password or ""):
        problems["current_password"] = WRONG_PASSWORD
    if problems:
        raise ValidationError(problems)
    assert address is not None
    token = _email_serializer().dumps({"user": user.id, "from": user.email, "to": address})
    if auth.email_in_use(address):
        mail = compose(
            address,
            "Someone tried to use your email address",
            "accounts/mail/email_taken.txt",
            reset_url=external_url("auth.request_reset"),
        )
    else:
        mail = compose(
            address,
            "Confirm your new email address",
            "accounts/mail/confirm_email.txt",
            user=user,
            link=external_url("accounts.confirm_email", token=token),
            minutes=int(EMAIL_LINK_LIFETIME.total_seconds() // 60),
        )
    return address, mail


@dataclass(frozen=True)
class EmailChange:
    user_id: int
    old: str
    new: str


def read_email_change(user: User, token: str) -> EmailChange | None:
    """The change a confirmation link asks for, when it is for this account, unused and not expired."""
    try:
        data = _email_serializer().loads(token, max_age=int(EMAIL_LINK_LIFETIME.total_seconds()))
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict):
        return None
    change = EmailChange(user_id=data.get("user"), old=data.get("from"), new=data.get("to"))
    # Used once: after the change the account's address no longer matches "from".
    if change.user_id != user.id or change.old != user.email or not isinstance(change.new, str):
        return None
    return change


def confirm_email_change(user: User, token: str) -> Mail:
    """Move the account to the new address (flushes). Returns a notice to send to the old address.

    Raises ValidationError when the link is not valid for this account or the address was taken
    meanwhile.
    """
    change = read_email_change(user, token)
    if change is None:
        raise ValidationError({"token": "This link has expired, has been used, or is for another account"})
    if auth.email_in_use(change.new):
        raise ValidationError({"token": "Another account now uses this email address, so yours cannot move to it"})
    old = user.email
    try:
        # Another account taking the address at the same moment: the unique address decides.
        with db.session.begin_nested():
            user.email = change.new
            db.session.flush()
    except IntegrityError:
        raise ValidationError({"token": "Another account now uses this email address, so yours cannot move to it"}) from None
    record_event("account.email_changed", "user", user.id, actor=user)
    db.session.flush()
    return compose(
        old or change.old,
        "Your email address was changed",
        "accounts/mail/email_changed.txt",
        user=user,
        new_email=change.new,
        reset_url=external_url("auth.request_reset"),
    )


def change_password(user: User, current_password: str, new_password: str) -> Mail:
    """Set a new password after checking the current one (flushes). Returns a notice to send.

    Replaces the session token, which signs out every other browser; the view signs this one in
    again. Raises ValidationError for a wrong current password or a new password that breaks a rule.
    """
    problems: dict[str, str] = {}
    if not verify_password(user.password_hash, current_password or ""):
        problems["current_password"] = WRONG_PASSWORD
    problem = password_problem(new_password or "", email=user.email, display_name=user.display_name)
    if problem:
        problems["new_password"] = problem
    if problems:
        raise ValidationError(problems)
    user.password_hash = hash_password(new_password)
    auth.replace_session_token(user)
    auth.cancel_reset_links(user)
    record_event("account.password_changed", "user", user.id, actor=user)
    db.session.flush()
    assert user.email is not None
    return compose(
        user.email,
        "Your password was changed",
        "accounts/mail/password_changed.txt",
        user=user,
        reset_url=external_url("auth.request_reset"),
    )


def delete_account(user: User, password: str, confirmed: bool) -> User:
    """Delete the person's account, keeping what they contributed (flushes); returns the account,
    now deleted.

    Their email, name and password are removed and they are signed out everywhere; their
    contributions stay and show as by "a former participant". Raises ValidationError without the
    right password or the confirmation, and for the last active administrator.
    """
    problems: dict[str, str] = {}
    if not verify_password(user.password_hash, password or ""):
        problems["current_password"] = WRONG_PASSWORD
    if not confirmed:
        problems["confirm"] = "Tick the box to confirm that you want to delete your account"
    if not problems and _is_last_active_admin(user):
        problems["confirm"] = (
            "You are the only active administrator. Make someone else an administrator before you delete your account"
        )
    if problems:
        raise ValidationError(problems)
    auth.cancel_reset_links(user)
    forget_contacts_of(user)
    _forget_mail_of(user)
    user.is_deleted = True
    user.email = None
    user.display_name = ""
    user.password_hash = ""
    auth.replace_session_token(user)
    record_event("account.deleted", "user", user.id, actor=user)
    db.session.flush()
    return user


ACCOUNT_DELETED = "Not sent: the account was deleted"


def _forget_mail_of(user: User) -> None:
    """The account's mail keeps no address or words of theirs: every row addressed to it is blanked
    (rows stay: the outbox never deletes), and what was not sent yet is withheld now, never sent.
    Nothing of theirs waits for a daily email either."""
    mail_of = OutgoingMail.user_id == user.id
    db.session.execute(
        update(OutgoingMail).where(mail_of, OutgoingMail.sent_at.is_(None))
        .values(state="withheld", last_error=ACCOUNT_DELETED)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(OutgoingMail).where(mail_of).values(recipient="", subject="", body="", headers={})
        .execution_options(synchronize_session=False)
    )
    db.session.execute(
        update(Notification).where(Notification.user_id == user.id, Notification.digest_due.is_(True))
        .values(digest_due=False)
        .execution_options(synchronize_session=False)
    )


# --- administrators -------------------------------------------------------------------------------


def _active_admin_ids(lock: bool = False) -> list[int]:
    query = select(User.id).where(
        User.role == Role.ADMIN.value, User.is_deactivated.is_(False), User.is_deleted.is_(False)
    )
    if lock:
        # Two administrators demoting each other at the same moment must not leave none (PostgreSQL
        # locks the rows; SQLite write requests are serialised by BEGIN IMMEDIATE).
        query = query.with_for_update()
    return list(db.session.scalars(query))


def _is_last_active_admin(account: User) -> bool:
    if account.role != Role.ADMIN.value or not account.is_active:
        return False
    return _active_admin_ids(lock=True) == [account.id]


# The accounts list: newest (highest id) first, a page at a time by keyset (workbench/keyset.py).
NEWEST_FIRST = (User.id.desc(),)
# Counting every account costs PostgreSQL ~50 ms at 200,000: the list counts this far, then says
# "more than".
COUNTED_UP_TO = 10_000
# A search lists at most this many of the accounts it finds, the newest: enough to find a person,
# and each one found is read to be put in order.
SEARCH_LIMIT = 250
NO_WORDS = "“{query}” has no words to search for: search finds words (letters and digits), not punctuation on its own"
UNKNOWN_ROLE = "Choose a role from the list. The list shows every role"

# The words of names and addresses (migration 0009): an FTS5 table on SQLite.
_ACCOUNT_WORDS = table("account_words", column("rowid", Integer))


@dataclass(frozen=True)
class AccountFilters:
    """What the accounts list is asked for: a search (cleaned, at most 100 characters) and a role.
    `problems` holds, by field (`q`, `role`), what could not be used: an unknown role is ignored, a
    search with no words finds no one."""

    query: str = ""
    role: str = ""
    problems: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> AccountFilters:
        query = clean_text(args.get("q", ""), multiline=False)[:100]
        role = args.get("role", "")
        problems: dict[str, str] = {}
        if role and role not in ROLE_NAMES:
            problems["role"], role = UNKNOWN_ROLE, ""
        if query and not words_of(query) and auth.normalise_email(query) is None:
            problems["q"] = NO_WORDS.format(query=query)
        return cls(query=query, role=role, problems=problems)


@dataclass(frozen=True)
class AccountList:
    """One page of the accounts list (`page.rows`: the accounts). `page.total` is how many the list
    holds, or, with `more`, a bound it holds more than: COUNTED_UP_TO accounts for a list, whose
    pages still reach the oldest account; SEARCH_LIMIT for a search, which lists only that many."""

    page: KeysetPage
    filters: AccountFilters
    more: bool = False

    @property
    def accounts(self) -> list[User]:
        return self.page.rows


def list_accounts(filters: AccountFilters, seek: Seek) -> AccountList:
    """The page `seek` asks for of the accounts, newest first, with the role and matching the search
    of `filters`. A bounded number of queries, each reading at most a page of rows from an index or
    counting at most COUNTED_UP_TO (see find_accounts for searches), however many accounts there are.
    """
    if filters.query:
        return _search(filters, seek)
    by_role = [User.role == filters.role] if filters.role else []
    counted = db.session.scalar(
        select(func.count()).select_from(select(User.id).where(*by_role).limit(COUNTED_UP_TO + 1).subquery())
    ) or 0
    page = seek_page(
        select(User).where(*by_role), NEWEST_FIRST, seek, PAGE_SIZE,
        total=min(counted, COUNTED_UP_TO), values=lambda row_id: (row_id,), row_id=lambda row: row[0].id,
    )
    page.rows = [row[0] for row in page.rows]
    return AccountList(page=page, filters=filters, more=counted > COUNTED_UP_TO)


def find_accounts(words: list[str], role: str = "", limit: int = SEARCH_LIMIT) -> list[int]:
    """The ids of the newest `limit` accounts (with `role`, if given) whose name or email address
    has, for each of `words`, a word that starts with it, in any case ("ann lee" finds Ann Leeming
    and lee.annabel@example.org), newest first. One query, on the words index of migration 0009:
    SQLite's FTS5 reads its matches (within the role) newest first and stops at `limit`; PostgreSQL
    reads the GIN index for a rare word, or the accounts newest first, testing each one's stored
    words, for a common one.
    """
    if not words:
        return []
    if db.session.get_bind().dialect.name == "postgresql":
        matching = text("users.search_words @@ to_tsquery('simple'::regconfig, :account_words)").bindparams(
            account_words=" & ".join(f"{word}:*" for word in words)
        )
        by_role = [User.role == role] if role else []
        return list(db.session.scalars(select(User.id).where(matching, *by_role).order_by(User.id.desc()).limit(limit)))
    # Words are letters and digits, roles known names: nothing in them is FTS5 syntax.
    query = "{display_name email} : (" + " ".join(f'"{word}"*' for word in words) + ")"
    if role:
        query += f' AND role : "{role}"'
    rowid = _ACCOUNT_WORDS.c.rowid
    matching = text("account_words MATCH :account_words").bindparams(account_words=query)
    return list(db.session.scalars(select(rowid).where(matching).order_by(rowid.desc()).limit(limit)))


def _search(filters: AccountFilters, seek: Seek) -> AccountList:
    """A whole email address finds that account alone; otherwise the accounts whose names and
    addresses hold the words searched for (find_accounts), at most SEARCH_LIMIT of them."""
    by_role = [User.role == filters.role] if filters.role else []
    address = auth.normalise_email(filters.query)
    if address is not None:
        account = db.session.scalar(select(User).where(User.email == address, *by_role))
        if account is not None:
            return AccountList(page=KeysetPage([account], 1, False, False, [account.id]), filters=filters)
    found = find_accounts(words_of(filters.query), filters.role, SEARCH_LIMIT + 1)
    page = seek_in_list(found[:SEARCH_LIMIT], seek, PAGE_SIZE, int)
    accounts = {account.id: account for account in db.session.scalars(select(User).where(User.id.in_(page.ids)))} if page.ids else {}
    page.rows = [accounts[account_id] for account_id in page.ids]
    return AccountList(page=page, filters=filters, more=len(found) > SEARCH_LIMIT)


def account_history(account: User, limit: int = 20) -> list[tuple[AuditEvent, str | None]]:
    """The latest audit events about an account, with the public name of who did each."""
    from sqlalchemy.orm import aliased

    actor = aliased(User)
    rows = db.session.execute(
        select(AuditEvent, actor)
        .outerjoin(actor, actor.id == AuditEvent.actor_id)
        .where(AuditEvent.subject_type == "user", AuditEvent.subject_id == account.id)
        .order_by(AuditEvent.created_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [(event, who.public_name if who is not None else None) for event, who in rows]


def change_role(actor: User, account: User, role: str) -> bool:
    """Give an account another role (flushes); False when it already has it.

    Raises NotAllowed unless the actor may manage accounts; ValidationError for an unknown role,
    a deleted account, or demoting the last active administrator.
    """
    if not permissions.can_change_role(actor, account):
        raise NotAllowed("Only administrators can change roles, and a deleted account keeps the role it had.")
    if role not in ROLE_NAMES:
        raise ValidationError({"role": "Choose volunteer, facilitator or administrator"})
    if role == account.role:
        return False
    if account.role == Role.ADMIN.value and _is_last_active_admin(account):
        raise ValidationError(
            {"role": "This is the only active administrator. Make someone else an administrator first"}
        )
    old = account.role
    account.role = role
    record_event("account.role_changed", "user", account.id, actor=actor, old=old, new=role)
    db.session.flush()
    return True


def deactivate_account(actor: User, account: User) -> bool:
    """Stop an account from signing in, and sign it out everywhere (flushes); False if it already was.

    Raises NotAllowed unless the actor may (administrators, not on their own account);
    ValidationError for the last active administrator.
    """
    if not permissions.can_deactivate_account(actor, account):
        raise NotAllowed("Only administrators can deactivate accounts: not their own, and not a deleted one.")
    if account.is_deactivated:
        return False
    if _is_last_active_admin(account):
        raise ValidationError({"account": "This is the only active administrator, so it cannot be deactivated"})
    account.is_deactivated = True
    auth.replace_session_token(account)
    auth.cancel_reset_links(account)
    record_event("account.deactivated", "user", account.id, actor=actor)
    db.session.flush()
    return True


def reactivate_account(actor: User, account: User) -> bool:
    """Let a deactivated account sign in again (flushes); False if it was active.

    Raises NotAllowed unless the actor may.
    """
    if not permissions.can_deactivate_account(actor, account):
        raise NotAllowed("Only administrators can reactivate accounts: not their own, and not a deleted one.")
    if not account.is_deactivated:
        return False
    account.is_deactivated = False
    record_event("account.reactivated", "user", account.id, actor=actor)
    db.session.flush()
    return True
