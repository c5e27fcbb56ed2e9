"""What waits for the facilitators: the count in the header, the list of visions, and one vision's
overview (its queue, reports, aligned work to screen, the working draft and the consultation window).

Queries only: nothing here writes. Every function runs a fixed number of queries, however much waits.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from ..aligned.screening import waiting_clause, waiting_count
from ..discussion.moderation import open_report_count
from ..drafting import state as draft
from ..drafting.window import schedule_words
from ..models import AlignedWork, Report, Vision, db
from ..participation.counts import waiting_proposals
from .queue import QueueCounts, conflicted_count, queue_counts


def _reported_subjects() -> Any:
    """The comments, reflections and proposals with open reports, one row each (as moderation counts them)."""
    return (
        select(Report.subject_type, Report.subject_id)
        .where(Report.resolved_at.is_(None))
        .group_by(Report.subject_type, Report.subject_id)
        .subquery()
    )


# --- the header -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """What waits for the facilitators across every vision."""

    proposals: int
    reports: int
    aligned_work: int
    # False when the database could not answer (the header then shows the link without a count).
    answered: bool = True

    @property
    def total(self) -> int:
        return self.proposals + self.reports + self.aligned_work


def waiting_everywhere() -> Waiting:
    """Open proposals, reported items and aligned work waiting for screening on the whole site, in
    one query; `answered` is False when the database cannot answer.

    It is shown in the header of every page a facilitator sees, including the designed error pages:
    a database that failed the request must not also break the page that says so.
    """
    query = select(
        waiting_proposals().scalar_subquery(),
        select(func.count()).select_from(_reported_subjects()).scalar_subquery(),
        select(func.count(AlignedWork.id)).where(waiting_clause()).scalar_subquery(),
    )
    try:
        proposals, reports, aligned = db.session.execute(query).one()
    except SQLAlchemyError:
        db.session.rollback()
        return Waiting(0, 0, 0, answered=False)
    return Waiting(proposals or 0, reports or 0, aligned or 0)


# --- the list of visions --------------------------------------------------------------------------


@dataclass(frozen=True)
class VisionWaiting:
    vision: Vision
    proposals: int
    aligned_work: int


def visions_waiting() -> list[VisionWaiting]:
    """Every vision, by title, with its open proposals and aligned work waiting for screening; one query."""
    proposals = waiting_proposals(Vision.id).scalar_subquery()
    aligned = (
        select(func.count(AlignedWork.id))
        .where(AlignedWork.vision_id == Vision.id, waiting_clause())
        .scalar_subquery()
    )
    rows = db.session.execute(select(Vision, proposals, aligned).order_by(Vision.title, Vision.id)).all()
    return [VisionWaiting(vision, n or 0, m or 0) for vision, n, m in rows]


# --- one vision -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Overview:
    """What waits on one vision, in the facilitators' words."""

    queue: QueueCounts
    conflicted: int
    # Whether every stale proposal was checked for conflicts (at most queue.FLAG_CHECK_LIMIT are).
    conflicted_checked_all: bool
    reports: int  # reported items on the whole site: moderation is one list for every vision
    aligned_work: int
    draft_changes: int  # changes made to the working draft since the latest version
    draft_summary: str  # what those changes do to the document, e.g. "2 elements differ: 2 changed"
    draft_differs: bool  # whether the working draft differs from the latest version (so can be published)
    window_state: str  # "open", "upcoming", "closed" or "unscheduled" (Vision.window_state)
    window_schedule: str  # "it opens on ... and closes on ...", or "no consultation is scheduled."

    @property
    def oldest_open(self) -> datetime | None:
        return self.queue.oldest_created_at


def vision_overview(vision: Vision) -> Overview:
    """What waits on `vision`: its queue's counts (open, stale, conflicted, the oldest), reported
    items, aligned work to screen, the working draft's changes since the latest version and the
    consultation window. A fixed number of queries; conflicts are checked as the queue's
    "Conflicted" filter checks them (word diffs on at most FLAG_CHECK_LIMIT stale proposals)."""
    conflicted, checked_all = conflicted_count(vision)
    working = draft.draft_state(vision)
    return Overview(
        queue=queue_counts(vision),
        conflicted=conflicted,
        conflicted_checked_all=checked_all,
        reports=open_report_count(),
        aligned_work=waiting_count(vision),
        draft_changes=draft.pending_changes_page(vision, 1, per_page=1).total,
        draft_summary=working.diff.summary,
        draft_differs=working.diff.has_changes,
        window_state=vision.window_state(),
        window_schedule=schedule_words(vision),
    )
