"""How each person wants mail about each kind of notification (`EmailChoice` rows; the defaults of
kinds.py where they made no choice), and stopping mail from an unsubscribe link."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import select

from ..exceptions import ValidationError
from ..models import EMAIL_HOW, EmailChoice, User, db
from .kinds import DAILY, KINDS, NEVER
from .mails import DIGEST, kind_in_words


def email_choices(user: User) -> dict[str, str]:
    """Kind → how the person wants its mail (immediately, daily or never), defaults filled in."""
    chosen = dict(
        db.session.execute(select(EmailChoice.kind, EmailChoice.how).where(EmailChoice.user_id == user.id)).tuples().all()
    )
    return {name: chosen.get(name, kind.default) for name, kind in KINDS.items()}


def choose_email(user: User, wanted: Mapping[str, str]) -> list[str]:
    """Record the person's choices (kind → how); returns the kinds whose choice changed.
    Raises ValidationError for an unknown kind or choice, writing nothing. Flushes."""
    problems = {
        kind: (
            f"Choose how to be emailed about {kind_in_words(kind)}: straight away, in a daily email, or not at all"
            if kind in KINDS else "There is no such kind of email to choose"
        )
        for kind, how in wanted.items()
        if kind not in KINDS or how not in EMAIL_HOW
    }
    if problems:
        raise ValidationError(problems)
    current = email_choices(user)
    changed = [kind for kind, how in wanted.items() if current[kind] != how]
    rows = {row.kind: row for row in db.session.scalars(select(EmailChoice).where(EmailChoice.user_id == user.id))}
    for kind in changed:
        if kind in rows:
            rows[kind].how = wanted[kind]
        else:
            db.session.add(EmailChoice(user_id=user.id, kind=kind, how=wanted[kind]))
    db.session.flush()
    return changed


def stop_mail(user: User, what: str) -> list[str]:
    """What an unsubscribe link does: no more mail of the kind `what`, or (DIGEST) no more daily
    email. Returns the kinds stopped (none when they were stopped already)."""
    current = email_choices(user)
    kinds = [kind for kind, how in current.items() if how == DAILY] if what == DIGEST else [what]
    return choose_email(user, {kind: NEVER for kind in kinds})
