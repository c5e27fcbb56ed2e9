"""The mail of notifications: plain text, with a signed one-click unsubscribe link that works
without signing in, and the `List-Unsubscribe` and `List-Unsubscribe-Post` headers (RFC 8058).

An unsubscribe link names the account and the kinds of mail it stops ("decision", or "daily" for
the digest), signed with the site's secret key: an altered or forged link is refused.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from flask import current_app
from itsdangerous import BadSignature, URLSafeSerializer

from ..mail import Mail, external_url
from .kinds import KINDS

DIGEST = "daily"  # what a digest's link stops: every kind mailed daily


def kind_in_words(kind: str) -> str:
    """A kind's label inside a sentence: "decisions on my proposals", "moderation of what I wrote"."""
    label = KINDS[kind].label
    return label[:1].lower() + label[1:]


def _signer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.secret_key, salt="unsubscribe")


def unsubscribe_token(user_id: int, what: str) -> str:
    """The signed token of a link that stops `what` (a kind, or DIGEST) for the account."""
    return _signer().dumps([user_id, what])


def read_unsubscribe_token(token: str) -> tuple[int, str] | None:
    """(account id, what) from a token this site signed; None for anything else."""
    try:
        user_id, what = _signer().loads(token)
    except (BadSignature, ValueError, TypeError):
        return None
    if not isinstance(user_id, int) or not (what == DIGEST or what in KINDS):
        return None
    return user_id, what


def unsubscribe_url(user_id: int, what: str) -> str:
    return external_url("accounts.unsubscribe", token=unsubscribe_token(user_id, what))


def with_unsubscribe(to: str, subject: str, body: str, user_id: int, what: str, stops: str) -> Mail:
    """A mail with its unsubscribe footer and headers; `stops` says in words what the link stops."""
    link = unsubscribe_url(user_id, what)
    footer = (
        f"\n\n--\nYou get this mail because of your choices on {external_url('accounts.account')}.\n"
        f"To stop {stops}, open this link (no need to sign in): {link}\n"
    )
    headers = {"List-Unsubscribe": f"<{link}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
    return Mail(to=to, subject=subject, body=body.rstrip() + footer, headers=headers)


def notification_mail(user_id: int, address: str, kind: str, words: Any) -> Mail:
    """The immediate mail of one notification (`words`: wording.Words)."""
    link = external_url(words.endpoint, **words.values)
    body = f"{words.text}\n\nSee it here: {link}\n"
    stops = f"these mails ({kind_in_words(kind)})"
    return with_unsubscribe(address, words.subject, body, user_id, kind, stops)


def digest_mail(user_id: int, address: str, lines: Sequence[tuple[str, str]], more: int = 0) -> Mail:
    """The daily digest: one line and link per notification (`lines`: text, absolute link), and
    `more` notifications left out of the mail, which the notifications page lists."""
    count = len(lines) + more
    items = "\n\n".join(f"- {text}\n  {link}" for text, link in lines)
    rest = f"\n\nAnd {more:,} more on the site." if more else ""
    body = (
        f"{'One thing' if count == 1 else f'{count:,} things'} happened on Vision Workbench since your last daily email:\n\n"
        f"{items}{rest}\n\nAll your notifications: {external_url('notifications.index')}\n"
    )
    subject = "Your daily summary: 1 notification" if count == 1 else f"Your daily summary: {count:,} notifications"
    return with_unsubscribe(address, subject, body, user_id, DIGEST, "the daily email")
