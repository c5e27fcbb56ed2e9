"""What the facilitators' queue keeps so that its flag filters are indexed queries (migration 0017).

`ProposalRival` holds every pair of proposals that compete: written against the same text of the
same element, with changed ranges that overlap (`diffing.competing_pairs`). A pair depends only on
the two proposals' latest revisions, never on their status or visibility, so that withdrawing,
deciding, reopening, hiding and unhiding change no row here: the queue reads the pairs whose both
ends wait (`models.waiting`). The pairs are kept by `kept_flags.keep_flags_of`, called wherever a
revision is written.
"""

from __future__ import annotations

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class ProposalRival(db.Model):
    """Proposal `proposal_id` competes with `rival_id` (both directions are stored, so that a
    proposal's rivals are one index range)."""

    __tablename__ = "proposal_rivals"

    proposal_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)
    rival_id: Mapped[int] = mapped_column(ForeignKey("proposals.id"), primary_key=True)

    # Forgetting a proposal's pairs deletes those where it is the rival too.
    __table_args__ = (Index("ix_proposal_rivals_rival", "rival_id", "proposal_id"),)
