"""The participation page's counts, kept by the database in the transaction of every change that
alters one (triggers of migrations 0028 and 0030), so that the page reads a vision's shape, not its
data.

What counts is the rule of counts.py's docstring: proposals that are not hidden; comments and
reflections neither hidden nor retracted, and not on a hidden proposal; votes on proposals that are
not hidden (a cleared vote included). Rows are never deleted; a count may fall to 0.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, ForeignKey, Integer, PrimaryKeyConstraint, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ContributionCount(db.Model):
    """How many contributions of one kind a vision has on one element, made in one week: `what` is a
    proposal's outcome ("open", "accepted", "accepted with changes", "rejected", "withdrawn"),
    "comments" or "reflections"; `week` the Monday (UTC) that starts the week they were made in;
    `element_id` 0 for none (not a foreign key, for that 0)."""

    __tablename__ = "contribution_counts"

    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    element_id: Mapped[int] = mapped_column(Integer)
    week: Mapped[date] = mapped_column(Date)
    what: Mapped[str] = mapped_column(String(24))
    items: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (PrimaryKeyConstraint("vision_id", "element_id", "week", "what"),)


class Participant(db.Model):
    """How many counted contributions of each way one person made to a vision: a participant is a
    person with any above 0."""

    __tablename__ = "participants"

    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    commented: Mapped[int] = mapped_column(Integer, default=0)
    reflected: Mapped[int] = mapped_column(Integer, default=0)
    voted: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (PrimaryKeyConstraint("vision_id", "user_id"),)


class VisionTotals(db.Model):
    """A vision's totals in one row, kept by migration 0030's triggers, so that the pages that show
    them read one row whatever the number of people or proposals: `participants`, the people with
    any count of `Participant` above 0, and `proposed`, `commented`, `reflected`, `voted`, those
    with that count above 0; `open_proposals`, the proposals waiting for the facilitators
    (`models.waiting()`). A vision nobody has contributed to may have no row: read it as zeros."""

    __tablename__ = "vision_totals"

    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"), primary_key=True, autoincrement=False)
    participants: Mapped[int] = mapped_column(Integer, default=0)
    proposed: Mapped[int] = mapped_column(Integer, default=0)
    commented: Mapped[int] = mapped_column(Integer, default=0)
    reflected: Mapped[int] = mapped_column(Integer, default=0)
    voted: Mapped[int] = mapped_column(Integer, default=0)
    open_proposals: Mapped[int] = mapped_column(Integer, default=0)
