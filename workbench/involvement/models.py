"""Volunteers for the next stage (issue 17, item 4): a person's interest in helping to refine a
vision, and the facilitators' invitations to a working group.

Nothing here is deleted by an ordinary action: withdrawing an interest is a state, and every
invitation sent stays recorded with the people it went to.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from ..models import User, UTCDateTime, utcnow


class VolunteerInterest(db.Model):
    """One person's offer to help refine one vision: the ambitions they care about (element keys,
    stable forever), their skills in their words, and how much time they can give. One row per
    person and vision: changing it updates the row, withdrawing sets the state."""

    __tablename__ = "volunteer_interests"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    state: Mapped[str] = mapped_column(String(12))  # "interested" or "withdrawn"
    ambition_keys: Mapped[list[str]] = mapped_column(JSON, default=list)
    skills: Mapped[str] = mapped_column(Text, default="")
    availability: Mapped[str] = mapped_column(String(20))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    __table_args__ = (
        UniqueConstraint("vision_id", "user_id"),  # one interest per person and vision
        CheckConstraint("state IN ('interested', 'withdrawn')", name="state_known"),
        Index("ix_volunteer_interests_vision_state", "vision_id", "state", "created_at"),
        Index("ix_volunteer_interests_user", "user_id"),
    )


class VolunteerInvitation(db.Model):
    """An invitation to a working group, as a facilitator wrote it and sent it to some volunteers.

    `send_key` comes from the form the facilitator filled in: a second submission of the same form
    (a double click, a reload) finds the invitation already recorded and sends nothing again.
    """

    __tablename__ = "volunteer_invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    vision_id: Mapped[int] = mapped_column(ForeignKey("visions.id"))
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    send_key: Mapped[str] = mapped_column(String(64), unique=True)
    subject: Mapped[str] = mapped_column(String(200))
    message: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_volunteer_invitations_vision", "vision_id", "created_at"),)


class VolunteerInvitee(db.Model):
    """One person an invitation was sent to (one mail in the outbox each)."""

    __tablename__ = "volunteer_invitees"

    id: Mapped[int] = mapped_column(primary_key=True)
    invitation_id: Mapped[int] = mapped_column(ForeignKey("volunteer_invitations.id"))
    interest_id: Mapped[int] = mapped_column(ForeignKey("volunteer_interests.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        UniqueConstraint("invitation_id", "interest_id"),  # never the same invitation twice to one person
        Index("ix_volunteer_invitees_interest", "interest_id"),
    )
