"""Votes on proposals (issue 5): support or oppose, one per person, changeable and clearable; the
author cannot vote on their own proposal; only open proposals, inside the consultation window;
tallies kept in step, exactly, even when twenty requests arrive at once."""

from __future__ import annotations

import hashlib
import http.client
import os
import threading
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import func, select
from werkzeug.serving import make_server

from workbench.discussion import votes
from workbench.models import Proposal, ProposalStatus, Role, Vote, db, utcnow
from workbench.exceptions import ValidationError

from .factories import fresh, open_proposal

HX = {"HX-Request": "true"}


@pytest.fixture
def proposal(vision, author):
    return open_proposal(vision, author)


def votes_of(proposal: Proposal) -> list[tuple[int, int]]:
    db.session.expire_all()
    return list(db.session.execute(select(Vote.user_id, Vote.value).where(Vote.proposal_id == proposal.id).order_by(Vote.user_id)).tuples())


def vote(client, proposal, value: str, **kwargs):
    return client.post(f"/proposals/{proposal.id}/vote", data={"value": value, **kwargs.pop("data", {})}, **kwargs)


# --- one person, one vote -------------------------------------------------------------------------


def test_a_volunteer_supports_a_proposal_and_the_page_says_so_in_words(client, proposal, make_user, login_as) -> None:
    voter = login_as(make_user())
    response = vote(client, proposal, "support")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposals/{proposal.id}#votes-{proposal.id}"
    assert votes_of(proposal) == [(voter.id, 1)]
    assert (fresh(Proposal, proposal.id).support_count, fresh(Proposal, proposal.id).oppose_count) == (1, 0)

    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Your vote is recorded: you support this proposal." in page
    assert "1 support, 0 oppose" in page
    assert "You support this proposal." in page
    assert f'id="vote-{proposal.id}-support" aria-pressed="true"' in page
    assert f'id="vote-{proposal.id}-oppose" aria-pressed="false"' in page
    # Pressing the pressed button again clears the vote (toggle).
    assert 'name="value" value="clear" id="vote-%d-support"' % proposal.id in page


def test_a_vote_can_be_changed_and_cleared_and_its_row_is_kept(client, proposal, make_user, login_as) -> None:
    voter = login_as(make_user())
    vote(client, proposal, "support")
    vote(client, proposal, "oppose")
    assert votes_of(proposal) == [(voter.id, -1)]
    assert (fresh(Proposal, proposal.id).support_count, fresh(Proposal, proposal.id).oppose_count) == (0, 1)

    response = vote(client, proposal, "clear")
    assert response.status_code == 302
    assert votes_of(proposal) == [(voter.id, 0)]  # cleared, not deleted
    assert (fresh(Proposal, proposal.id).support_count, fresh(Proposal, proposal.id).oppose_count) == (0, 0)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Your vote is cleared" in page
    assert "You have not voted on this proposal." in page
    assert "0 support, 0 oppose" in page


def test_voting_the_same_way_twice_changes_nothing(client, proposal, make_user, login_as) -> None:
    voter = login_as(make_user())
    vote(client, proposal, "oppose")
    vote(client, proposal, "oppose")
    assert votes_of(proposal) == [(voter.id, -1)]
    assert fresh(Proposal, proposal.id).oppose_count == 1
    assert "You already oppose this proposal." in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


def test_clearing_without_a_vote_writes_nothing(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    assert vote(client, proposal, "clear").status_code == 302
    assert votes_of(proposal) == []
    assert "You have no vote on this proposal to clear." in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


def test_a_vote_that_changes_nothing_leaves_its_row_as_it_was(client, proposal, make_user, login_as) -> None:
    voter = login_as(make_user())

    def row() -> tuple:
        db.session.expire_all()
        return tuple(db.session.execute(select(Vote.value, Vote.updated_at).where(Vote.user_id == voter.id)).one())

    for value, words in (("support", "You already support this proposal."), ("clear", "You have no vote on this proposal to clear.")):
        vote(client, proposal, value)
        written = row()
        again = vote(client, proposal, value, headers=HX).get_data(as_text=True)
        assert f'<div id="vote-status-{proposal.id}" data-hx-swap-oob="innerHTML">{words}</div>' in again
        assert row() == written  # not even its time rewritten
    assert written[0] == 0
    assert (fresh(Proposal, proposal.id).support_count, fresh(Proposal, proposal.id).oppose_count) == (0, 0)


def test_a_vote_runs_a_fixed_few_statements(client, proposal, make_user, login_as, count_queries) -> None:
    """The busiest write (800 a second, DESIGN.md §6): the person, the proposal's few columns (its
    texts are not loaded), the vote, the recount; a vote that changes nothing stops after the vote."""
    login_as(make_user())
    with count_queries() as changed:
        assert vote(client, proposal, "support", headers=HX).status_code == 200
    with count_queries() as unchanged:
        assert vote(client, proposal, "support", headers=HX).status_code == 200
    assert changed.count == 4, changed.statements
    assert unchanged.count == 3, unchanged.statements
    assert not any("proposals.body" in statement or "element_texts" in statement for statement in changed.statements)


def test_tallies_count_everyone(client, proposal, make_user, login_as) -> None:
    for value in ("support", "support", "support", "oppose"):
        login_as(make_user())
        vote(client, proposal, value)
    assert (fresh(Proposal, proposal.id).support_count, fresh(Proposal, proposal.id).oppose_count) == (3, 1)
    assert "3 support, 1 oppose" in client.get(f"/proposals/{proposal.id}").get_data(as_text=True)


@pytest.mark.parametrize("value", ["", "yes", "1", "support;--", "SUPPORT"])
def test_another_value_is_a_400_and_writes_nothing(client, proposal, make_user, login_as, value) -> None:
    login_as(make_user())
    response = vote(client, proposal, value)
    assert response.status_code == 400
    assert "Choose Support or Oppose" in response.get_data(as_text=True)
    assert votes_of(proposal) == []


def test_extra_fields_cannot_vote_for_someone_else(client, proposal, make_user, login_as) -> None:
    other = make_user()
    voter = login_as(make_user())
    vote(client, proposal, "support", data={"user_id": str(other.id), "support_count": "999"})
    assert votes_of(proposal) == [(voter.id, 1)]
    assert fresh(Proposal, proposal.id).support_count == 1


def test_a_vote_without_its_csrf_token_is_refused(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    response = client.post(f"/proposals/{proposal.id}/vote", data={"value": "support"}, csrf=False)
    assert response.status_code == 400
    assert votes_of(proposal) == []


def test_voting_by_get_is_not_possible(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    assert client.get(f"/proposals/{proposal.id}/vote?value=support").status_code == 405
    assert votes_of(proposal) == []


# --- who cannot vote, and when --------------------------------------------------------------------


def test_the_author_sees_no_buttons_and_the_server_refuses_their_vote(client, proposal, author, login_as) -> None:
    login_as(author)
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "This is your proposal, so you cannot vote on it." in page
    assert f'id="vote-{proposal.id}-support"' not in page
    response = vote(client, proposal, "support")
    assert response.status_code == 403
    assert "This is your proposal" in response.get_data(as_text=True)
    assert votes_of(proposal) == []


def test_an_anonymous_visitor_is_asked_to_sign_in(client, proposal) -> None:
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert "Sign in to vote" in page
    assert f'id="vote-{proposal.id}-support"' not in page
    response = vote(client, proposal, "support")
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/auth/login?next=")
    htmx = vote(client, proposal, "support", headers=HX)
    assert htmx.status_code == 401
    assert htmx.headers["HX-Redirect"].startswith("/auth/login?next=")
    assert votes_of(proposal) == []


@pytest.mark.parametrize(
    "status, words",
    [(ProposalStatus.WITHDRAWN, "withdrawn"), (ProposalStatus.ACCEPTED, "accepted"), (ProposalStatus.REJECTED, "rejected")],
)
def test_only_open_proposals_take_votes(client, proposal, make_user, login_as, status, words) -> None:
    voter = login_as(make_user())
    vote(client, proposal, "support")
    row = fresh(Proposal, proposal.id)
    row.status = status.value
    db.session.commit()
    response = vote(client, proposal, "oppose")
    assert response.status_code == 403
    assert f"This proposal has been {words}, so voting on it has ended." in response.get_data(as_text=True)
    assert votes_of(proposal) == [(voter.id, 1)]
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'id="vote-{proposal.id}-support"' not in page
    assert "1 support, 0 oppose" in page  # the tally stays readable


@pytest.mark.parametrize("when", ["closed", "upcoming"])
def test_outside_the_window_nobody_votes_and_the_page_says_why(client, vision, proposal, make_user, login_as, when) -> None:
    login_as(make_user())
    if when == "closed":
        vision.opens_at, vision.closes_at = utcnow() - timedelta(days=10), utcnow() - timedelta(days=1)
        expected = "The consultation closed on"
    else:
        vision.opens_at, vision.closes_at = utcnow() + timedelta(days=1), utcnow() + timedelta(days=10)
        expected = "The consultation has not opened yet"
    db.session.commit()
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert expected in page
    assert f'id="vote-{proposal.id}-support"' not in page
    response = vote(client, proposal, "support")
    assert response.status_code == 403
    assert expected in response.get_data(as_text=True)
    assert votes_of(proposal) == []


def test_a_hidden_proposal_is_not_found_and_takes_no_votes(client, proposal, make_user, login_as) -> None:
    row = fresh(Proposal, proposal.id)
    row.hidden_at = utcnow()
    row.hidden_reason = "Spam."
    db.session.commit()
    login_as(make_user())
    assert vote(client, proposal, "support").status_code == 404
    login_as(make_user(Role.FACILITATOR))
    response = vote(client, proposal, "support")
    assert response.status_code == 403
    assert "hidden by the facilitators" in response.get_data(as_text=True)
    assert votes_of(proposal) == []


def test_unknown_proposals_are_a_404(client, make_user, login_as) -> None:
    login_as(make_user())
    for path in ("/proposals/999/vote", "/proposals/0/vote", "/proposals/-1/vote", "/proposals/abc/vote", "/proposals/12345678901234567890/vote"):
        assert client.post(path, data={"value": "support"}).status_code == 404, path


# --- without JavaScript, and with htmx ------------------------------------------------------------


@pytest.mark.parametrize(
    "given, expected",
    [
        ("/visions/test-vision/proposals?sort=newest", "/visions/test-vision/proposals?sort=newest"),
        ("https://evil.example/", None),
        ("//evil.example", None),
        ("/\\evil.example", None),
        ("%2F%2Fevil.example", None),
        ("javascript:alert(1)", None),
    ],
)
def test_the_form_goes_back_to_a_safe_next_page_only(client, proposal, make_user, login_as, given, expected) -> None:
    login_as(make_user())
    response = vote(client, proposal, "support", data={"next": given})
    assert response.status_code == 302
    assert response.headers["Location"] == (expected or f"/proposals/{proposal.id}#votes-{proposal.id}")


def test_with_htmx_the_panel_comes_back_with_the_tally_out_of_band(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    response = vote(client, proposal, "support", headers=HX)
    assert response.status_code == 200
    assert "HX-Request" in response.headers.get("Vary", "")
    html = response.get_data(as_text=True)
    assert html.lstrip().startswith(f'<div class="app-vote-panel" id="vote-panel-{proposal.id}">')
    assert "You support this proposal." in html
    assert f'aria-pressed="true"' in html
    assert f'<p class="app-tally" id="tally-{proposal.id}" data-hx-swap-oob="true"><strong>Votes:</strong> 1 support, 0 oppose</p>' in html
    assert f'<div id="vote-status-{proposal.id}" data-hx-swap-oob="innerHTML">Your vote is recorded: you support this proposal.</div>' in html
    assert "<html" not in html
    # The page carries the same panel and the targets of the out-of-band swaps.
    page = client.get(f"/proposals/{proposal.id}").get_data(as_text=True)
    assert f'id="vote-panel-{proposal.id}"' in page
    assert f'id="tally-{proposal.id}"' in page
    assert f'id="vote-status-{proposal.id}"' in page
    assert f'data-hx-post="/proposals/{proposal.id}/vote"' in page
    assert "hx-post=" not in page.replace("data-hx-post=", "")


def test_without_htmx_the_answer_varies_on_hx_request_too(client, proposal, make_user, login_as) -> None:
    login_as(make_user())
    assert "HX-Request" in vote(client, proposal, "support").headers.get("Vary", "")


# --- the service ----------------------------------------------------------------------------------


def test_cast_vote_checks_its_rules_itself(app, proposal, author, make_user) -> None:
    voter = make_user()
    with pytest.raises(ValidationError):
        votes.cast_vote(proposal, voter, "maybe")
    with pytest.raises(votes.NotAllowed):
        votes.cast_vote(proposal, author, "support")
    db.session.rollback()
    result = votes.cast_vote(proposal, voter, "oppose")
    db.session.commit()
    assert (result.value, result.changed, result.support, result.oppose) == (-1, True, 0, 1)
    assert (proposal.support_count, proposal.oppose_count) == (0, 1)  # the loaded proposal kept in step
    assert votes_of(proposal) == [(voter.id, -1)]


def test_tallies_are_recounted_from_the_votes(app, proposal, make_user) -> None:
    """A tally that drifted (e.g. data written by hand) is put right by the next vote."""
    row = fresh(Proposal, proposal.id)
    row.support_count = 41
    db.session.commit()
    votes.cast_vote(fresh(Proposal, proposal.id), make_user(), "support")
    db.session.commit()
    assert fresh(Proposal, proposal.id).support_count == 1


# --- twenty at once -------------------------------------------------------------------------------


class LiveServer:
    """The app served on 127.0.0.1 from a thread (threaded: one thread per request)."""

    def __init__(self, app):
        self.app = app
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> LiveServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.thread.join(timeout=10)
        self.server.server_close()

    @property
    def port(self) -> int:
        return self.server.server_port

    def signed_in(self, user) -> tuple[str, str]:
        """(Cookie header, CSRF form token) of a session signed in as `user`."""
        raw = hashlib.sha1(os.urandom(64)).hexdigest()
        serializer = self.app.session_interface.get_signing_serializer(self.app)
        cookie = serializer.dumps({"_user_id": user.get_id(), "_fresh": True, "csrf_token": raw})
        token = URLSafeTimedSerializer(self.app.secret_key, salt="wtf-csrf-token").dumps(raw)
        return f"{self.app.config['SESSION_COOKIE_NAME']}={cookie}", token

    def post(self, path: str, cookie: str, fields: dict[str, str]) -> int:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                "POST", path, body=urlencode(fields),
                headers={"Content-Type": "application/x-www-form-urlencoded", "Cookie": cookie},
            )
            response = connection.getresponse()
            response.read()
            return response.status
        finally:
            connection.close()


def in_parallel(count: int, action) -> list:
    """Run `action(i)` in `count` threads released together by a barrier; their results."""
    barrier = threading.Barrier(count)
    results: list = [None] * count

    def run(i: int) -> None:
        barrier.wait()
        try:
            results[i] = action(i)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            results[i] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return results


def test_twenty_parallel_votes_by_one_person_leave_exactly_one_row(app, proposal, make_user) -> None:
    voter = make_user()
    values = ["support", "oppose", "clear", "support"] * 5
    with LiveServer(app) as server:
        cookie, token = server.signed_in(voter)
        statuses = in_parallel(
            20, lambda i: server.post(f"/proposals/{proposal.id}/vote", cookie, {"value": values[i], "csrf_token": token})
        )
    assert statuses == [302] * 20, statuses
    rows = votes_of(proposal)
    assert len(rows) == 1 and rows[0][0] == voter.id
    final = rows[0][1]
    row = fresh(Proposal, proposal.id)
    assert (row.support_count, row.oppose_count) == ((1 if final == 1 else 0), (1 if final == -1 else 0))


def test_twenty_people_voting_at_once_are_all_counted(app, proposal, make_user) -> None:
    voters = [make_user() for _ in range(20)]
    with LiveServer(app) as server:
        sessions = [server.signed_in(voter) for voter in voters]
        statuses = in_parallel(
            20,
            lambda i: server.post(
                f"/proposals/{proposal.id}/vote", sessions[i][0],
                {"value": "support" if i % 4 else "oppose", "csrf_token": sessions[i][1]},
            ),
        )
    assert statuses == [302] * 20, statuses
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.proposal_id == proposal.id)) == 20
    row = fresh(Proposal, proposal.id)
    assert (row.support_count, row.oppose_count) == (15, 5)
