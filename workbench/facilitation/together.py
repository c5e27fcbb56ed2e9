"""Accept together: several open proposals on one element, carried one after another onto the
working text by the strict rebase, and accepted in one step (issue 13).

Facilitators "first merge the consensual changes, then decide the rest". Here they pick open
proposals on one element and an order; each proposal's change (its base -> its text) is carried
over with `rebase_onto` (the one strict rebase: text is never guessed) onto the result of the one
before, starting from the element's current working text. Nothing is merged loosely:

- two chosen proposals written against the same text that change overlapping words *compete*
  (`diffing.fields_compete` on their stored changed ranges): the pair is named and nothing is
  planned;
- a proposal that does not carry over is named, with the reason in words: it no longer applies to
  the working text at all, or it collides with one named proposal before it (and whether the other
  order works), or only with several together;
- a proposal that would change nothing once the ones before it are in (the text already says it)
  is named too: accepting it would credit words it did not add.

`accept_together` re-plans under the locks and writes all or nothing: one new element text, the
draft entry moved to it, then for each proposal (in the chosen order) a DraftChange "accept" naming
it (the changelog credits each author from these rows), the proposal accepted as written with that
result text, and an audit event "proposal.accepted" with `mode="together"`.

Pure planning reads (two queries: the draft entry and the texts); nothing here commits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from .. import diffing, permissions
from ..exceptions import AlreadyDecided, Conflict, DraftMoved, NotAllowed, NotFound, ValidationError, WrongState
from ..models import (
    DraftEntry,
    Element,
    ElementText,
    Proposal,
    ProposalStatus,
    User,
    Vision,
    db,
    utcnow,
)
from ..proposals import edit as edit_kind
from ..proposals.rebase import Texts, draft_entry, rebase_onto, texts_by_id
from ..text_diff import TextDiff
from ..validation import clean_text, has_disguising_characters, hidden_characters_message
from .decisions import NOTE_MAX, check_decider, mark_accepted
from .kept_flags import keep_flags_after_text_moved

FEWEST = 2
MOST = 20
# The open proposals the page lists for choosing (oldest first); an element with more is worked
# through the queue first.
LISTED_MOST = 100

REMOVED = "This element has been removed from the working draft, so no proposal can be accepted into it."


def _proposals_words(ids: Sequence[int]) -> str:
    """"proposal 3", "proposals 3 and 5", "proposals 3, 5 and 7"."""
    numbers = [str(i) for i in ids]
    if len(numbers) == 1:
        return f"proposal {numbers[0]}"
    return f"proposals {', '.join(numbers[:-1])} and {numbers[-1]}"


def _described(conflicts: Sequence[diffing.Conflict]) -> str:
    return "; ".join(conflict.description for conflict in conflicts)


# --- choosing -------------------------------------------------------------------------------------


def arrange(ids: Sequence[int], positions: Mapping[int, int | None]) -> list[int]:
    """The chosen ids in the order the facilitator asked for: by the position typed for each
    (`positions`); one without a position counts as standing where it is in `ids`, after one typed
    for the same place; otherwise ties keep their order. Pure."""
    keyed = []
    for index, proposal_id in enumerate(ids):
        typed = positions.get(proposal_id)
        keyed.append((typed if typed is not None else index + 1, typed is None, index, proposal_id))
    return [proposal_id for *_, proposal_id in sorted(keyed)]


def element_in(vision: Vision, key: str) -> Element | None:
    """The vision's element with this key, or None."""
    return db.session.scalar(select(Element).where(Element.vision_id == vision.id, Element.key == key))


def open_on_element(element: Element) -> list[Proposal]:
    """The element's open edit proposals that can be chosen (not hidden by moderation), oldest
    first, with their authors; at most LISTED_MOST. One query."""
    return list(
        db.session.scalars(
            select(Proposal)
            .options(joinedload(Proposal.author))
            .where(
                Proposal.element_id == element.id,
                Proposal.status == ProposalStatus.OPEN.value,
                Proposal.hidden_at.is_(None),
                Proposal.kind == edit_kind.NAME,
            )
            .order_by(Proposal.id)
            .limit(LISTED_MOST)
        )
    )


def _refusal(proposal: Proposal, facilitator: User) -> str | None:
    """Why this facilitator may not accept the proposal now, in words; None when they may."""
    try:
        check_decider(proposal, facilitator, "accept")
    except AlreadyDecided:
        return f"Proposal {proposal.id} has already been {proposal.status}, so it cannot be accepted again."
    except (NotAllowed, Conflict) as error:
        if proposal.author_id == facilitator.id:
            return f"Proposal {proposal.id} is your own: another facilitator decides on it, so that nobody accepts their own words."
        return f"Proposal {proposal.id}: {error.message}"
    return None


def choose(element: Element, ids: Sequence[int], facilitator: User, *, lock: bool = False) -> list[Proposal]:
    """The proposals `ids` (in that order) when each is an open edit proposal on `element` that
    `facilitator` may accept; `lock` takes their row locks (PostgreSQL), in order of id.

    Raises ValidationError({"proposals": [messages]}) naming each problem: fewer than FEWEST or
    more than MOST chosen, an id chosen twice, an id that is not an open proposal on this element
    (unknown, another element's, hidden, not an edit), one decided already or the facilitator's own.
    """
    if len(ids) < FEWEST:
        raise ValidationError(
            {"proposals": "Choose at least two proposals to accept together. To accept one proposal, use its own accept page"}
        )
    if len(ids) > MOST:
        raise ValidationError({"proposals": f"Choose at most {MOST} proposals at once (you chose {len(ids)})"})
    twice = sorted({i for i in ids if ids.count(i) > 1})
    if twice:
        raise ValidationError({"proposals": f"Choose each proposal once: {_proposals_words(twice)} is listed more than once"})
    query = select(Proposal).where(Proposal.id.in_(set(ids))).order_by(Proposal.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    found = {p.id: p for p in db.session.scalars(query)}
    problems: list[str] = []
    strangers = [
        i
        for i in ids
        if i not in found
        or found[i].element_id != element.id
        or found[i].hidden_at is not None
        or found[i].kind != edit_kind.NAME
    ]
    if strangers:
        problems.append(
            f"{_proposals_words(strangers).capitalize()} {'is not an open proposal' if len(strangers) == 1 else 'are not open proposals'} "
            "on this element that can be accepted together"
        )
    problems += [r for i in ids if i in found and i not in strangers and (r := _refusal(found[i], facilitator))]
    if problems:
        raise ValidationError({"proposals": problems})
    return [found[i] for i in ids]


# --- planning -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One proposal carried over: the text once it is in."""

    proposal: Proposal
    text: Texts


@dataclass
class TogetherPlan:
    """The chosen proposals carried one after another onto the current working text.

    `steps` holds those that carried over, in order; `problems` says in words why the rest cannot
    (then nothing can be accepted); `competing` the pairs of ids that compete and `failed` the id
    of the proposal that did not carry over, for pages and tests."""

    element: Element
    current: ElementText | None
    proposals: list[Proposal]
    steps: list[Step] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    competing: list[tuple[int, int]] = field(default_factory=list)
    failed: int | None = None

    @property
    def clean(self) -> bool:
        return self.current is not None and not self.problems and len(self.steps) == len(self.proposals)

    @property
    def expected_text_id(self) -> int | None:
        return self.current.id if self.current is not None else None

    @property
    def result(self) -> Texts | None:
        return self.steps[-1].text if self.clean else None

    @property
    def result_diff(self) -> TextDiff | None:
        """What accepting would change in the current working text."""
        if self.current is None or self.result is None:
            return None
        return TextDiff.between(self.current.title, self.current.body, self.result.title, self.result.body)


def plan_together(element: Element, proposals_in_order: Sequence[Proposal]) -> TogetherPlan:
    """Carry each proposal's change, in order, onto the result of the one before, starting from
    the element's current working text (see the module's docstring for what is refused and how it
    is said). Reads only: the draft entry and the texts (two queries)."""
    return _plan(element, draft_entry(element.id), proposals_in_order)


def _plan(element: Element, entry: DraftEntry | None, proposals: Sequence[Proposal]) -> TogetherPlan:
    texts = texts_by_id({p.base_text_id for p in proposals} | ({entry.text_id} if entry is not None else set()))
    current = texts.get(entry.text_id) if entry is not None and not entry.is_removed else None
    plan = TogetherPlan(element=element, current=current, proposals=list(proposals))
    if current is None:
        plan.problems.append(REMOVED)
        return plan
    plan.competing = _competing(proposals, texts)
    if plan.competing:
        plan.problems.extend(
            f"Proposals {a} and {b} compete: they change the same words of the text, so only one of them can be "
            "accepted as written. Leave one out and decide it on its own page"
            for a, b in plan.competing
        )
        return plan
    now = Texts(current.title, current.body)
    for index, proposal in enumerate(proposals):
        base = texts[proposal.base_text_id]
        carried = rebase_onto(base, proposal, now)
        if carried.text is None:
            plan.failed = proposal.id
            plan.problems.append(_why_not(proposal, base, current, proposals[:index], texts, carried.conflicts))
            return plan
        if carried.text == now:
            plan.failed = proposal.id
            plan.problems.append(
                f"Proposal {proposal.id} would change nothing: the text already says what it proposes"
                + (" once the proposals before it are in" if index else "")
                + ". Leave it out (you can reject it with a reason, for example that the change has been made)"
            )
            return plan
        now = carried.text
        plan.steps.append(Step(proposal, now))
    return plan


def _competing(proposals: Sequence[Proposal], texts: Mapping[int, ElementText]) -> list[tuple[int, int]]:
    """Pairs of chosen proposals written against the same text whose changes overlap; each named
    in the plan's problems. Pairs are in the chosen order."""
    position = {p.id: i for i, p in enumerate(proposals)}
    by_base: dict[int, list[Proposal]] = {}
    for proposal in proposals:
        by_base.setdefault(proposal.base_text_id, []).append(proposal)
    pairs: list[tuple[int, int]] = []
    for group in by_base.values():
        ranges = {p.id: p.changed_ranges or {} for p in group}
        for a, b in diffing.competing_pairs(ranges):
            pairs.append((a, b) if position[a] < position[b] else (b, a))
    return sorted(pairs, key=lambda pair: (position[pair[0]], position[pair[1]]))


def _why_not(
    proposal: Proposal,
    base: ElementText,
    current: ElementText,
    before: Sequence[Proposal],
    texts: Mapping[int, ElementText],
    conflicts: Sequence[diffing.Conflict],
) -> str:
    """Why `proposal` does not carry over after `before`: on its own, with one of them, or only
    with several together. Bounded: at most two rebases per proposal before it (MOST in all)."""
    alone = rebase_onto(base, proposal, current)
    if alone.text is None:
        return (
            f"Proposal {proposal.id} no longer applies to the current working text: the words it changes have "
            f"changed since it was written ({_described(alone.conflicts)}). Leave it out and resolve it on its own accept page"
        )
    for earlier in before:
        earlier_base = texts[earlier.base_text_id]
        with_earlier = rebase_onto(earlier_base, earlier, current).text
        if with_earlier is None:
            continue
        clash = rebase_onto(base, proposal, with_earlier)
        if clash.text is not None:
            continue
        reversed_works = rebase_onto(earlier_base, earlier, alone.text).text is not None
        advice = (
            f"Putting proposal {proposal.id} before proposal {earlier.id} works: change the order"
            if reversed_works
            else "Accept one of them together with the others, then decide the other on its own page"
        )
        return (
            f"Proposals {earlier.id} and {proposal.id} change words too close together to combine exactly: "
            f"after proposal {earlier.id}, proposal {proposal.id} cannot {_described(clash.conflicts)}. {advice}"
        )
    return (
        f"Proposal {proposal.id} cannot be carried over after the proposals before it together "
        f"({_described(conflicts)}). Try another order, or leave it out and decide it on its own page"
    )


# --- accepting ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AcceptedTogether:
    proposals: list[Proposal]
    text: ElementText


def clean_note(note: str | None) -> str:
    """The facilitator's note (optional), cleaned, or ValidationError({"note": ...})."""
    raw = note or ""
    if has_disguising_characters(raw):
        raise ValidationError({"note": hidden_characters_message("note")})
    cleaned = clean_text(raw, multiline=True)
    if len(cleaned) > NOTE_MAX:
        raise ValidationError({"note": f"The note must be {NOTE_MAX:,} characters or fewer (it has {len(cleaned):,})"})
    return cleaned


def accept_together(
    vision: Vision,
    element_key: str,
    proposal_ids_in_order: Sequence[int],
    facilitator: User,
    *,
    expected_text_id: int | None,
    revisions: Mapping[int, int | None] | None = None,
    note: str | None = None,
) -> AcceptedTogether:
    """Accept the proposals together, in this order, into the element's working text.

    `expected_text_id` is the working text the page showed the combined text against, and
    `revisions` each proposal's revision it showed (a proposal revised since is not accepted
    unseen). Locks the proposals (by id) and then the draft entry, checks each proposal
    (`check_decider`), and re-plans under the locks. Writes only when everything holds: one new
    ElementText (credited to the facilitator, who combined several people's words), the draft
    entry moved to it, and for each proposal in order a DraftChange "accept" naming it, the
    proposal accepted as written (result text the new one) and an audit event.

    Raises NotAllowed (not a facilitator), NotFound (no such element), ValidationError ("note";
    "proposals": a bad choice, see `choose`, or a plan that is not clean, each problem in words),
    WrongState (the element was removed from the draft), DraftMoved("moved"/"revised") (the
    working text or a proposal changed since the page was prepared), StaleDataError (the entry
    changed under the write). Any refusal writes nothing (the caller rolls back).
    """
    if not permissions.is_facilitator(facilitator):
        raise NotAllowed("Only facilitators accept proposals.")
    note = clean_note(note)
    element = element_in(vision, element_key)
    if element is None:
        raise NotFound("There is no such element in this vision.")
    proposals = choose(element, proposal_ids_in_order, facilitator, lock=True)
    entry = draft_entry(element.id, lock=True)
    if entry is None or entry.is_removed:
        raise WrongState(REMOVED)
    if expected_text_id != entry.text_id:
        raise DraftMoved("moved")
    if revisions is not None and any(revisions.get(p.id) != p.revision_count for p in proposals):
        raise DraftMoved("revised")
    plan = _plan(element, entry, proposals)
    if not plan.clean or plan.result is None:
        raise ValidationError({"proposals": plan.problems})
    return _write(plan, entry, facilitator, note)


def _write(plan: TogetherPlan, entry: DraftEntry, facilitator: User, note: str) -> AcceptedTogether:
    now = utcnow()
    result = plan.result
    assert result is not None and plan.current is not None  # a clean plan (checked by the caller)
    new = ElementText(
        element_id=plan.element.id, title=result.title, body=result.body, created_at=now, created_by_id=facilitator.id
    )
    db.session.add(new)
    db.session.flush()
    previous_text_id = entry.text_id
    entry.text_id = new.id
    db.session.flush()  # UPDATE ... WHERE lock_version = n: StaleDataError if it moved
    keep_flags_after_text_moved(entry)  # its open proposals' rebase onto the new text
    together = [p.id for p in plan.proposals]
    for position, proposal in enumerate(plan.proposals, start=1):
        mark_accepted(
            proposal,
            facilitator,
            text_id=new.id,
            previous_text_id=previous_text_id,
            with_changes=False,
            note=note,
            now=now,
            mode="together",
            together=together,
            position=position,
        )
    db.session.flush()
    return AcceptedTogether(list(plan.proposals), new)


def accepted_message(accepted: AcceptedTogether, label: str) -> str:
    """The flash after accepting: each proposal named."""
    ids = [p.id for p in accepted.proposals]
    return (
        f"You accepted {_proposals_words(ids)} together into the working draft of {label}, in that order. "
        "Each author is credited in the next version's changelog."
    )


# --- the page -------------------------------------------------------------------------------------


@dataclass
class TogetherPage:
    """What the accept-together page shows: the open proposals to choose from, the chosen ones'
    positions (id -> 1, 2...), the plan when some were chosen, and the problems in words."""

    listed: list[Proposal]
    positions: dict[int, int]
    current_text_id: int | None
    plan: TogetherPlan | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def more(self) -> bool:
        return len(self.listed) >= LISTED_MOST


def together_page(element: Element, ids_in_order: Sequence[int], facilitator: User) -> TogetherPage:
    """The page's content for these chosen ids (none: just the list). A bad choice or a plan that
    is not clean becomes `problems`, never an error. Reads: the list, the draft entry, the chosen
    proposals and the texts (four queries)."""
    entry = draft_entry(element.id)
    page = TogetherPage(
        listed=open_on_element(element),
        positions={proposal_id: n for n, proposal_id in enumerate(ids_in_order, start=1)},
        current_text_id=entry.text_id if entry is not None and not entry.is_removed else None,
    )
    if not ids_in_order:
        return page
    try:
        chosen = choose(element, ids_in_order, facilitator)
    except ValidationError as error:
        page.problems = error.messages
        return page
    page.plan = _plan(element, entry, chosen)
    page.problems = list(page.plan.problems)
    return page
