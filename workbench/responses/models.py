"""A person's response to a vision's consultation, from draft to submitted (issue 17, item 2).

The answers wait in the draft (JSON, below) until the person submits; submitting turns each answer
into what already exists (a reflection, an aligned-work record, an offer to help), records the ids
of what it made, and gives the response its reference number. Nothing here is deleted by an
ordinary action: a submitted response keeps its answers as they were sent.

`answers` (every part optional; absent means not answered):

    {"vision": str,                    # a reflection on the vision statement
     "ambitions": {key: str},          # a reflection per ambition (element keys, stable forever)
     "aligned_work": {organisation, title, description, status, link, contact, element_ids: [int]},
     "help": {ambition_keys: [str], skills: str, availability: str}}

`made` (once submitted): {"reflections": [comment ids], "aligned_work": id | null,
"volunteer_interest": id | null}.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from ..models import UTCDateTime, utcnow

_IN_PROGRESS = text("state = 'in_progress'")


class ConsultationResponse(db.Model):
    """One person's response to one vision: in progress (a draft, one at most per person and
    vision) or submitted (with its reference number)."""

    __tablename__ = "consultation_responses"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(12), default="in_progress")  # "in_progress" or "submitted"
    # Whether this journey asks "About you" (the person had not answered it when they began): the
    # steps, and so "Step 2 of 5", stay the same after they answer it.
    asks_about_you: Mapped[bool] = mapped_column(Boolean, default=False)
    answers: Mapped[Any] = mapped_column(JSON, default=dict)
    # The last step saved: coming back continues after it.
    last_step: Mapped[str] = mapped_column(String(20), default="")
    reference: Mapped[str | None] = mapped_column(String(12), unique=True)
    made: Mapped[Any | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("state IN ('in_progress', 'submitted')", name="state_known"),
        CheckConstraint("(state = 'submitted') = (reference IS NOT NULL)", name="reference_when_submitted"),
        # One draft in progress per person and vision (a double click on the first step makes one).
        Index(
            "ix_consultation_responses_one_in_progress", "vision_id", "user_id",
            unique=True, sqlite_where=_IN_PROGRESS, postgresql_where=_IN_PROGRESS,
        ),
        Index("ix_consultation_responses_user", "user_id", "vision_id", "created_at"),
    )
