"""Coding responses: the facilitators' codebook page (create, rename, merge, publish as a theme,
counts per tag and ambition), the tags of one proposal (a form on its page) or one comment or
reflection (its own small page, linked beside it), and tagging the proposals selected in the queue.

Every route is for facilitators (`can_code_responses`); the services check again. A route catches
ValidationError only to show its messages beside the field; other refusals go to the
application's error handlers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from flask_wtf import FlaskForm

from ..auth.redirects import require_member
from ..discussion.lookup import comment_location, subject_title
from ..discussion import threads
from ..exceptions import NotAllowed, ValidationError
from ..facilitation.queue import QueueFilters
from ..keyset import Seek
from ..models import Proposal, Vision, db
from ..permissions import can_code_responses
from ..proposals.services import load_proposal
from ..visions.lookup import get_vision_or_404
from ..visions.services import working_tree
from ..pagination import seek_links
from . import codebook, services
from .models import Tag

Result = TypeVar("Result")
from .responses import COUNT_CAP, KINDS, ResponseFilters, responses_page

bp = Blueprint("coding", __name__)


def _require_coder(vision: Vision, next_url: str | None = None) -> None:
    require_member(next_url)
    if not can_code_responses(current_user, vision):
        raise NotAllowed("Only facilitators can keep the codebook and tag responses.")


def _checked_form() -> None:
    """A POST's CSRF token (the fields are read from the request and checked by the services)."""
    if not FlaskForm().validate_on_submit():
        abort(400)


def _tag_or_404(vision: Vision, tag_id: int) -> Tag:
    tag = db.session.get(Tag, tag_id)
    if tag is None or tag.vision_id != vision.id:
        abort(404)
    return tag


# --- the codebook -----------------------------------------------------------------------------------


def codebook_page(vision: Vision, errors: dict[str, list[str]] | None = None, typed: dict[str, str] | None = None, status: int = 200):
    """The codebook page; `errors` {form field id: messages} and `typed` {field id: what was sent}
    for a form sent back."""
    tree = working_tree(vision)
    counts = codebook.codebook_counts(vision, tree)
    tags = codebook.tags_of_vision(vision)
    return render_template(
        "coding/codebook.html",
        vision=vision,
        counts=counts,
        tags=tags,
        published_ids={tag.id for tag in tags if tag.published},
        merged=codebook.merged_tags(vision),
        errors=errors or {},
        typed=typed or {},
    ), status


def _codebook_change(vision: Vision, field: str, change: Callable[[], Result], typed: str | None = None) -> tuple[Result | None, Any]:
    """(what `change()`, a service call, returned, None); or, when it raised ValidationError, (None,
    the codebook page with its messages beside `field` and what was typed there, 422), nothing it
    began kept. The codebook's forms are plain HTML (a form per tag), so this is forms.attempt for them."""
    try:
        return change(), None
    except ValidationError as error:
        db.session.rollback()
        return None, codebook_page(vision, {field: error.messages}, {field: typed} if typed is not None else None, 422)


def _merge(vision: Vision, tag: Tag, into_id: str | None) -> tuple[Tag, int]:
    into = services.tag_of_vision(vision, into_id, field="into")
    return into, services.merge_tag(tag, into, current_user)


@bp.get("/visions/<slug:slug>/facilitate/codebook")
def show(slug: str):
    vision = get_vision_or_404(slug)
    _require_coder(vision)
    return codebook_page(vision)


@bp.post("/visions/<slug:slug>/facilitate/codebook")
def create(slug: str):
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.show", slug=slug))
    _checked_form()
    tag, refused = _codebook_change(
        vision, "new-name", lambda: services.create_tag(vision, request.form.get("name"), current_user),
        typed=request.form.get("name", ""),
    )
    if refused is not None:
        return refused
    db.session.commit()
    flash(f"The tag “{tag.name}” is in the codebook.", "success")
    return redirect(url_for("coding.show", slug=slug), 303)


@bp.post("/visions/<slug:slug>/facilitate/codebook/<posint:tag_id>/rename")
def rename(slug: str, tag_id: int):
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.show", slug=slug))
    _checked_form()
    tag = _tag_or_404(vision, tag_id)
    old = tag.name
    field = f"name-{tag.id}"
    _, refused = _codebook_change(
        vision, field, lambda: services.rename_tag(tag, request.form.get("name"), current_user),
        typed=request.form.get("name", ""),
    )
    if refused is not None:
        return refused
    db.session.commit()
    flash(f"The tag “{old}” is now called “{tag.name}”." if old != tag.name else f"The tag “{tag.name}” is unchanged.", "success")
    return redirect(url_for("coding.show", slug=slug), 303)


@bp.post("/visions/<slug:slug>/facilitate/codebook/<posint:tag_id>/merge")
def merge(slug: str, tag_id: int):
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.show", slug=slug))
    _checked_form()
    tag = _tag_or_404(vision, tag_id)
    field = f"into-{tag.id}"
    was_published = tag.published
    merged, refused = _codebook_change(vision, field, lambda: _merge(vision, tag, request.form.get("into")))
    if refused is not None:
        return refused
    into, moved = merged
    db.session.commit()
    items = "1 item" if moved == 1 else f"{moved:,} items"
    unpublished = f" “{tag.name}” is no longer a published theme." if was_published else ""
    flash(f"“{tag.name}” is merged into “{into.name}”: {items} moved over.{unpublished}", "success")
    return redirect(url_for("coding.show", slug=slug), 303)


# --- publishing a tag as a theme (its counts in the public reports) ---------------------------------


@bp.post("/visions/<slug:slug>/facilitate/codebook/<posint:tag_id>/publish")
def publish_theme(slug: str, tag_id: int):
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.show", slug=slug))
    _checked_form()
    tag = _tag_or_404(vision, tag_id)
    changed, refused = _codebook_change(vision, f"theme-{tag_id}", lambda: services.publish_theme(tag, current_user))
    if refused is not None:
        return refused
    db.session.commit()
    flash(
        f"“{tag.name}” is now a published theme: its counts appear in the reports."
        if changed else f"“{tag.name}” was already a published theme.",
        "success",
    )
    return redirect(url_for("coding.show", slug=slug) + f"#tag-{tag.id}", 303)


@bp.post("/visions/<slug:slug>/facilitate/codebook/<posint:tag_id>/unpublish")
def stop_publishing_theme(slug: str, tag_id: int):
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.show", slug=slug))
    _checked_form()
    tag = _tag_or_404(vision, tag_id)
    changed = services.stop_publishing_theme(tag, current_user)
    db.session.commit()
    flash(
        f"“{tag.name}” is no longer a published theme: the reports no longer show it."
        if changed else f"“{tag.name}” was not a published theme.",
        "success",
    )
    return redirect(url_for("coding.show", slug=slug) + f"#tag-{tag.id}", 303)


# --- the tags of one item ---------------------------------------------------------------------------


@bp.app_template_global("coding_tags_of_proposal")
def coding_tags_of_proposal(proposal: Proposal) -> dict[str, Any] | None:
    """For the proposal page's Tags form: the codebook and the ids this proposal carries; None
    for anyone who may not see tags (two queries, for facilitators only)."""
    vision = proposal.vision
    if not can_code_responses(current_user, vision):
        return None
    carried = codebook.tags_on("proposal", [proposal.id]).get(proposal.id, [])
    return {"codebook": codebook.tags_of_vision(vision), "carried": {tag.id for tag in carried}, "names": [t.name for t in carried]}


@bp.post("/proposals/<posint:proposal_id>/tags")
def proposal_tags(proposal_id: int):
    proposal = load_proposal(proposal_id, for_update=True)
    if proposal is None:
        abort(404)
    vision = proposal.vision
    _require_coder(vision, url_for("proposals.show", proposal_id=proposal_id))
    _checked_form()
    try:
        added, removed = services.set_tags(vision, "proposal", proposal, request.form.getlist("tags"), current_user)
    except ValidationError as error:
        db.session.rollback()
        flash(" ".join(error.messages) + ". The tags are unchanged.", "error")
        return redirect(url_for("proposals.show", proposal_id=proposal_id) + "#tags", 303)
    db.session.commit()
    flash(changed_words(f"Proposal {proposal.id}", added, removed), "success")
    return redirect(url_for("proposals.show", proposal_id=proposal_id) + "#tags", 303)


def changed_words(what: str, added: list[Tag], removed: list[Tag]) -> str:
    """"Proposal 12 now carries “Housing”; “Data” was taken off." or "... tags are unchanged."."""
    parts = []
    if added:
        parts.append(f"now carries {', '.join(f'“{t.name}”' for t in added)}")
    if removed:
        parts.append(f"no longer carries {', '.join(f'“{t.name}”' for t in removed)}")
    return f"{what} {' and '.join(parts)}." if parts else f"The tags of {what.lower()} are unchanged."


def _comment_or_404(comment_id: int) -> threads.CommentContext:
    context = threads.load_comment(comment_id)
    if context is None:
        abort(404)
    return context


@bp.route("/comments/<posint:comment_id>/tags", methods=["GET", "POST"])
def comment_tags(comment_id: int):
    """The tags of one comment or reflection: the form (GET), and saving it (POST), which goes back
    to where the comment is shown."""
    context = _comment_or_404(comment_id)
    vision = context.vision
    _require_coder(vision, url_for("coding.comment_tags", comment_id=comment_id))
    comment = context.comment
    what = "Reflection" if context.is_reflection else "Comment"
    errors: list[str] = []
    if request.method == "POST":
        _checked_form()
        try:
            added, removed = services.set_tags(vision, "comment", comment, request.form.getlist("tags"), current_user)
        except ValidationError as error:
            db.session.rollback()
            errors = error.messages
        else:
            db.session.commit()
            flash(changed_words(f"{what} {comment.id}", added, removed), "success")
            return redirect(comment_location(context), 303)
    carried = {tag.id for tag in codebook.tags_on("comment", [comment.id]).get(comment.id, [])}
    return render_template(
        "coding/comment_tags.html",
        vision=vision,
        context=context,
        comment=comment,
        what=what,
        on=subject_title(context),
        codebook=codebook.tags_of_vision(vision),
        carried=carried,
        errors=errors,
        back=comment_location(context),
    ), (422 if errors else 200)


# --- several at once: the queue's "Tag the selected" ------------------------------------------------


@bp.post("/visions/<slug:slug>/facilitate/tag")
def tag_selected_proposals(slug: str):
    """The queue's bulk form, its "Tag the selected proposals" button: one tag on every ticked
    proposal, then back to the queue as it was filtered. A refusal writes nothing and says why."""
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("facilitation.queue", slug=slug))
    _checked_form()
    tree = working_tree(vision)
    filters = QueueFilters.from_carried(request.form.get("from"), {row["key"] for row in tree}) or QueueFilters()
    back = url_for("facilitation.queue", slug=slug, **filters.link_args(), **Seek.parse(request.form).link_args())
    try:
        tag, selected, new = services.tag_selected(vision, "proposal", request.form.getlist("selected"), request.form.get("tag"), current_user)
    except ValidationError as error:
        db.session.rollback()
        flash("Nothing was tagged: " + "; ".join(error.messages) + ".", "error")
        return redirect(back, 303)
    db.session.commit()
    already = selected - new
    flash(
        f"{new} of the {selected} selected proposals now carry “{tag.name}”"
        + (f" ({already} carried it already)." if already else "."),
        "success",
    )
    return redirect(back, 303)


@bp.app_template_global("coding_codebook")
def coding_codebook(vision: Vision) -> list[Tag]:
    """The vision's active tags for a facilitator's form (the queue's filter and "Tag the
    selected"); empty for anyone who may not see tags (then no query)."""
    if not can_code_responses(current_user, vision):
        return []
    # Read once a request (the queue shows it in its filters and in its bulk form).
    known = request.environ.setdefault("workbench.coding.codebooks", {})
    if vision.id not in known:
        known[vision.id] = codebook.tags_of_vision(vision)
    return known[vision.id]


# --- the responses list: comments and reflections to code --------------------------------------------


@bp.get("/visions/<slug:slug>/facilitate/responses")
def responses(slug: str):
    vision = get_vision_or_404(slug)
    _require_coder(vision)
    tree = working_tree(vision)
    filters = ResponseFilters.parse(request.args, {row["key"] for row in tree})
    seek = Seek.parse(request.args)
    result, keys = responses_page(vision, filters, seek)
    labels = {row["key"]: row["label"] for row in tree}
    return render_template(
        "coding/responses.html",
        vision=vision,
        tree=tree,
        kinds=KINDS,
        filters=filters,
        result=result,
        count_cap=COUNT_CAP,
        label_of=lambda element_id: labels.get(keys.get(element_id, ""), keys.get(element_id, "")),
        codebook=codebook.tags_of_vision(vision),
        page_url=seek_links("coding.responses", slug=slug, **filters.link_args()),
        seek=seek,
    )


@bp.post("/visions/<slug:slug>/facilitate/responses/tag")
def tag_selected_responses(slug: str):
    """The responses list's "Tag the selected": one tag on every ticked comment or reflection,
    then back to the list as it was (filters and page). A refusal writes nothing and says why."""
    vision = get_vision_or_404(slug)
    _require_coder(vision, url_for("coding.responses", slug=slug))
    _checked_form()
    keys = {row["key"] for row in working_tree(vision)}
    filters = ResponseFilters.parse(dict(parse_qsl(request.form.get("from", "")[:500])), keys)
    back = url_for("coding.responses", slug=slug, **filters.link_args(), **Seek.parse(request.form).link_args())
    try:
        tag, selected, new = services.tag_selected(vision, "comment", request.form.getlist("selected"), request.form.get("tag"), current_user)
    except ValidationError as error:
        db.session.rollback()
        flash("Nothing was tagged: " + "; ".join(error.messages) + ".", "error")
        return redirect(back, 303)
    db.session.commit()
    already = selected - new
    flash(f"{new} of the {selected} selected responses now carry “{tag.name}”" + (f" ({already} carried it already)." if already else "."), "success")
    return redirect(back, 303)
