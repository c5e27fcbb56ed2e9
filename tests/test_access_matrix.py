"""Roles x routes: every route of the URL map gets exactly the access its rule declares."""

from __future__ import annotations

import pytest
from flask import Flask

from workbench.models import Comment, Role, db

from .access import ROLES, Rule, collect_rules
from .factories import element_of, entry_of, open_proposal

RULES = collect_rules()


def test_every_route_has_a_decision(app: Flask) -> None:
    declared = {(rule.endpoint, rule.method) for rule in RULES}
    missing = sorted(
        (url_rule.rule, url_rule.endpoint, method)
        for url_rule in app.url_map.iter_rules()
        for method in url_rule.methods - {"HEAD", "OPTIONS"}
        if (url_rule.endpoint, method) not in declared
    )
    assert not missing, f"routes without an access rule in tests/access/: {missing}"


@pytest.fixture
def world(make_vision, make_user) -> dict[str, str]:
    """A vision open for contributions, with a proposal and a comment by someone else."""
    vision = make_vision()
    author = make_user(Role.VOLUNTEER, email="author@example.org")
    element = element_of(vision, "objective-1")
    proposal = open_proposal(vision, author, "objective-1", entry_of(vision, "objective-1").text.body + " More.", rationale="Because.")
    comment = Comment(vision_id=vision.id, proposal_id=proposal.id, author_id=author.id, body="A comment.")
    reflection = Comment(vision_id=vision.id, element_id=element.id, author_id=author.id, body="A reflection.")
    db.session.add_all([comment, reflection])
    db.session.commit()
    return {
        "slug": vision.slug,
        "key": "objective-1",
        "proposal": str(proposal.id),
        "comment": str(comment.id),
        "reflection": str(reflection.id),
        "user": str(author.id),
        "work": "1",
        "token": "not-a-real-token",
    }


def _signed_in_as(role: str, make_user, login_as) -> None:
    if role != "anonymous":
        login_as(make_user(Role(role)))


def _is_allowed(response, role: str) -> bool:
    location = response.headers.get("Location", "")
    if role == "anonymous" and response.status_code in (302, 303) and "/auth/login" in location:
        return False
    return response.status_code not in (401, 403, 404, 405)


@pytest.mark.parametrize("role", ROLES)
@pytest.mark.parametrize("rule", RULES, ids=lambda r: f"{r.method} {r.endpoint}")
def test_access(rule: Rule, role: str, world, client, make_user, login_as) -> None:
    _signed_in_as(role, make_user, login_as)
    url = rule.url.format(**world)
    if rule.method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=rule.method, data={**rule.data, "csrf_token": client.csrf_token()})
    response.close()
    assert response.status_code != 500
    expected = rule.allowed[role]
    assert _is_allowed(response, role) is expected, (
        f"{role} {rule.method} {url}: expected {'allowed' if expected else 'refused'}, "
        f"got {response.status_code} {response.headers.get('Location', '')}"
    )
