"""The one family of errors that services raise, and what each means to the person who asked.

Services raise these; views let them pass, and the application's handlers (`errors.py`) roll the
session back and answer with the designed page (or, to htmx, the same page marked `Vary: HX-Request`):

    SignInRequired       the visitor must sign in first: sent to sign in, and back to `next_url`
    NotAllowed      403  the person may not do this; `message` says why, in the users' words
    NotFound        404  what the request names does not exist (or is not theirs to see)
    Conflict        409  the thing is no longer in a state where this can be done:
      AlreadyDecided      the proposal was accepted, rejected or withdrawn meanwhile
      WrongState          the action does not fit the state now (`message` says why)
      DraftMoved          the form was prepared against a working text or revision that moved on
      DraftConflict       a facilitator's edit was prepared against a draft that changed since
      RebaseConflict      the changes cannot be carried to the current text without a person
    ValidationError 422  messages per field, for the form to show beside each field

A view catches one of these only to turn it into a message beside a field, or to answer a race with
a resolution screen. Pure: no Flask, no database.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class WorkbenchError(Exception):
    """A request the service refused; `status` is the HTTP answer, `message` the words shown."""

    status = 400

    def __init__(self, message: str = ""):
        super().__init__(message)
        self.message = message


class SignInRequired(WorkbenchError):
    """Only members may do this and the visitor is not signed in; `next_url` is where to come
    back to afterwards (None: this page)."""

    status = 401

    def __init__(self, next_url: str | None = None):
        super().__init__("Sign in to continue.")
        self.next_url = next_url


class NotAllowed(WorkbenchError):
    """The acting person may not do this (the views check first; this is the second line)."""

    status = 403


class NotFound(WorkbenchError):
    """What the request names does not exist, or the person may not know that it does."""

    status = 404


class Conflict(WorkbenchError):
    """The thing changed meanwhile, so the action no longer fits it."""

    status = 409


class AlreadyDecided(Conflict):
    """The proposal is no longer open (accepted, rejected or withdrawn)."""

    def __init__(self, proposal: Any):
        self.proposal_status = proposal.status
        super().__init__(f"Proposal {proposal.id} has already been decided.")


class WrongState(Conflict):
    """The action does not fit the state now; `message` says why, in words."""


class DraftMoved(Conflict):
    """The accept was prepared against a working text (or proposal revision) that is not current."""

    def __init__(self, reason: str):
        self.reason = reason  # "moved" (the working text) or "revised" (the proposal)
        super().__init__(reason)


class DraftConflict(Conflict):
    """A form was prepared against a draft that has changed since (or the element is gone)."""

    def __init__(self, message: str, entry: Any = None):
        super().__init__(message)
        self.entry = entry


class RebaseConflict(Conflict):
    """The proposal's changes cannot be carried over to the current text without a person."""

    def __init__(self, conflicts: Sequence[Any], message: str = ""):
        self.conflicts = list(conflicts)
        super().__init__(message or "; ".join(c.description for c in self.conflicts))


class ValidationError(WorkbenchError):
    """Messages per field: `errors` = {field name: [messages]}; views show them beside fields."""

    status = 422

    def __init__(self, errors: dict[str, list[str]] | dict[str, str]):
        self.errors = {k: ([v] if isinstance(v, str) else list(v)) for k, v in errors.items()}
        super().__init__("; ".join(f"{k}: {', '.join(v)}" for k, v in self.errors.items()))

    @property
    def messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]
