"""Data for analysts (issue 14, item 1): a vision's proposals, comments, votes and participants as
CSV, JSON and XLSX, each file valid against its Frictionless data package; public files hold only
what is public, facilitators' files mark hidden items; people are stable participant ids."""

from __future__ import annotations

import csv
import io
import json
import tracemalloc
from pathlib import Path

import pytest
from frictionless import validate
from openpyxl import load_workbook
from sqlalchemy import func, insert, select

from workbench.analysis import exports as analysis_exports
from workbench.analysis.exports import Export, Pseudonyms, export_rows
from workbench.analysis.fields import FACILITATORS, FORMATS, PUBLIC, TABLES
from workbench.discussion.services import hide_content, post_reflection, retract_comment
from workbench.discussion.votes import cast_vote
from workbench.exceptions import NotAllowed
from workbench.exports import csv_value
from workbench.facilitation import decisions
from workbench.models import Comment, Proposal, Role, User, db, utcnow
from workbench.proposals.services import withdraw_proposal

from .factories import add_comment, element_of, entry_of, fresh, open_proposal

SLUG = "test-vision"
DATA = f"/visions/{SLUG}/data"
FACILITATORS_DATA = f"{DATA}/facilitators"

AUTHOR_EMAIL = "alice.author@example.org"
VOTER_EMAIL = "victor.voter@example.org"
SECRETS = {
    "hidden proposal": "Zanzibar hidden proposal words",
    "hidden proposal's rationale": "Quagmire rationale of the hidden proposal",
    "hidden comment": "Xylophone hidden comment words",
    "comment on a hidden proposal": "Marmalade said on a hidden proposal",
    "retracted comment": "Yesterday's retracted words",
    "hidden reason": "Breaks the house rules",
}


@pytest.fixture
def world(vision, make_user):
    """A proposal with votes and a thread (a formula-like comment, a reply, a hidden comment, a
    retracted one), a reflection, and a hidden proposal with a comment and a vote."""
    author = make_user(email=AUTHOR_EMAIL, name="Alice Author")
    voter = make_user(email=VOTER_EMAIL, name="Victor Voter")
    other = make_user(name="Olga Other")
    facilitator = make_user(Role.FACILITATOR, name="Fiona Facilitator")
    proposal = open_proposal(vision, author, "objective-1", rationale="Clearer words.")
    hidden = open_proposal(vision, other, "objective-2", f"{SECRETS['hidden proposal']}.", rationale=SECRETS["hidden proposal's rationale"])
    cast_vote(fresh(Proposal, proposal.id), voter, "support")
    cast_vote(fresh(Proposal, proposal.id), other, "oppose")
    cast_vote(fresh(Proposal, hidden.id), voter, "support")
    db.session.commit()
    formula = add_comment(proposal, voter, "=HYPERLINK(\"http://evil.example\", \"Click\")")
    reply = add_comment(proposal, author, "Thank you for the comment.", parent=formula)
    hidden_comment = add_comment(proposal, other, SECRETS["hidden comment"])
    retracted = add_comment(proposal, voter, SECRETS["retracted comment"])
    on_hidden = add_comment(hidden, voter, SECRETS["comment on a hidden proposal"])
    reflection = post_reflection(vision, element_of(vision, "ambition-1"), other, "+A reflection that looks like a sum")
    db.session.commit()
    retract_comment(fresh(Comment, retracted.id), voter)
    hide_content("comment", fresh(Comment, hidden_comment.id), facilitator, SECRETS["hidden reason"])
    hide_content("proposal", fresh(Proposal, hidden.id), facilitator, SECRETS["hidden reason"])
    db.session.commit()
    return {
        "vision": vision,
        "author": author,
        "voter": voter,
        "other": other,
        "facilitator": facilitator,
        "proposal": proposal.id,
        "hidden": hidden.id,
        "comments": {
            "formula": formula.id,
            "reply": reply.id,
            "hidden": hidden_comment.id,
            "retracted": retracted.id,
            "on_hidden": on_hidden.id,
            "reflection": reflection.id,
        },
    }


def download_all(client, base: str, scope: str, folder: Path) -> dict[str, bytes]:
    """The data package and every file it names, saved in `folder` under the package's names."""
    files = {}
    response = client.get(f"{base}/datapackage.json")
    assert response.status_code == 200, response.status_code
    files["datapackage.json"] = response.data
    package = json.loads(response.data)
    assert {r["path"] for r in package["resources"]} == {f"{t}.{f}" for t in TABLES for f in FORMATS[scope]}
    for resource in package["resources"]:
        response = client.get(f"{base}/{resource['path']}")
        assert response.status_code == 200, (resource["path"], response.status_code)
        assert response.headers["Content-Disposition"].endswith(f'filename={resource["path"]}') or response.headers[
            "Content-Disposition"
        ].endswith(f'filename="{resource["path"]}"')
        files[resource["path"]] = response.data
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return files


def csv_rows(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode("utf-8"))))


def json_rows(data: bytes) -> list[dict]:
    return json.loads(data)["rows"]


def xlsx_rows(data: bytes) -> list[dict]:
    sheet = load_workbook(io.BytesIO(data), read_only=True).active
    rows = list(sheet.iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def sign_in_as_facilitator(login_as, world) -> None:
    login_as(world["facilitator"])


# --- the data packages ------------------------------------------------------------------------------


def test_every_public_file_validates_against_the_public_data_package(client, world, tmp_path):
    download_all(client, DATA, PUBLIC, tmp_path)
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    assert len(report.tasks) == len(TABLES) * len(FORMATS[PUBLIC])


def test_every_facilitators_file_validates_against_theirs_excel_included(client, world, login_as, tmp_path):
    sign_in_as_facilitator(login_as, world)
    files = download_all(client, FACILITATORS_DATA, FACILITATORS, tmp_path)
    report = validate(str(tmp_path / "datapackage.json"))
    assert report.valid, report.flatten(["resourceName", "rowNumber", "fieldName", "type", "note"])
    assert len(report.tasks) == len(TABLES) * len(FORMATS[FACILITATORS])
    assert files["comments.xlsx"][:2] == b"PK"  # a zip: an Office Open XML workbook


def test_a_file_that_breaks_its_schema_fails_validation(client, world, tmp_path):
    """The validation above can fail: a proposals file with a word where its number should be does."""
    download_all(client, DATA, PUBLIC, tmp_path)
    path = tmp_path / "proposals.csv"
    lines = path.read_bytes().split(b"\r\n")
    lines[1] = b"not-a-number" + lines[1][lines[1].index(b","):]
    path.write_bytes(b"\r\n".join(lines))
    assert not validate(str(tmp_path / "datapackage.json")).valid


def test_the_data_package_describes_every_field_with_its_type_and_meaning(client, world):
    package = client.get(f"{DATA}/datapackage.json").get_json()
    assert package["profile"] == "tabular-data-package"
    assert package["homepage"].endswith(f"{DATA}/")
    proposals = next(r for r in package["resources"] if r["name"] == "proposals")
    fields = {f["name"]: f for f in proposals["schema"]["fields"]}
    assert fields["support"]["type"] == "integer" and fields["created_at"]["type"] == "datetime"
    assert all(f["description"] for f in fields.values())
    assert "hidden" not in fields  # the public files have no hidden items to mark
    assert proposals["schema"]["primaryKey"] == ["id"]


# --- what the public files hold -------------------------------------------------------------------


def test_no_public_file_holds_hidden_or_retracted_words_names_or_email_addresses(client, world, tmp_path):
    files = download_all(client, DATA, PUBLIC, tmp_path)
    everything = b"".join(files.values())
    for what, words in SECRETS.items():
        assert words.encode() not in everything, what
    for user in ("author", "voter", "other", "facilitator"):
        assert world[user].email.encode() not in everything
        assert world[user].display_name.encode() not in everything
    assert b"@example.org" not in everything


def test_the_public_files_hold_what_anyone_can_read(client, world):
    proposals = json_rows(client.get(f"{DATA}/proposals.json").data)
    assert [p["id"] for p in proposals] == [world["proposal"]]
    assert proposals[0]["support"] == 1 and proposals[0]["oppose"] == 1
    assert proposals[0]["body_before"] == "Objective 1.1 body." and proposals[0]["body_after"] == "Objective 1.1 text."
    assert proposals[0]["element_key"] == "objective-1" and proposals[0]["element_label"].startswith("Objective 1.1")
    assert proposals[0]["status"] == "open" and proposals[0]["stale"] is False
    comments = {c["id"]: c for c in json_rows(client.get(f"{DATA}/comments.json").data)}
    ids = world["comments"]
    assert set(comments) == {ids["formula"], ids["reply"], ids["retracted"], ids["reflection"]}
    assert comments[ids["reply"]]["parent_id"] == ids["formula"]
    assert comments[ids["retracted"]]["retracted"] is True and comments[ids["retracted"]]["body"] == ""
    assert comments[ids["reflection"]]["kind"] == "reflection" and comments[ids["reflection"]]["element_key"] == "ambition-1"
    assert comments[ids["formula"]]["proposal_id"] == world["proposal"]
    votes = csv_rows(client.get(f"{DATA}/votes.csv").data)
    assert [(v["proposal_id"], v["support"], v["oppose"], v["voters"]) for v in votes] == [(str(world["proposal"]), "1", "1", "2")]


def test_a_proposals_file_can_hold_only_one_status(client, world, vision, make_user):
    withdrawn = open_proposal(vision, make_user(), "objective-3")
    withdraw_proposal(fresh(Proposal, withdrawn.id), fresh(User, withdrawn.author_id))
    db.session.commit()
    assert [r["id"] for r in csv_rows(client.get(f"{DATA}/proposals.csv?status=withdrawn").data)] == [str(withdrawn.id)]
    assert [r["id"] for r in csv_rows(client.get(f"{DATA}/proposals.csv?status=open").data)] == [str(world["proposal"])]
    assert json.loads(client.get(f"{DATA}/proposals.json?status=open").data)["filters"] == {"status": "open"}


def test_a_decision_and_staleness_are_in_the_proposals_file(client, world, vision, make_user):
    rival = open_proposal(vision, make_user(), "objective-1", "Objective 1.1 body, and more.")
    entry = entry_of(vision, "objective-1")
    decisions.accept_proposal(
        fresh(Proposal, world["proposal"]), fresh(User, world["facilitator"].id), title=entry.text.title,
        body="Objective 1.1 better text.", note="Reworded a little.", expected_text_id=entry.text_id, revision=1,
    )
    db.session.commit()
    rows = {int(r["id"]): r for r in csv_rows(client.get(f"{DATA}/proposals.csv").data)}
    accepted, stale = rows[world["proposal"]], rows[rival.id]
    assert (accepted["status"], accepted["accepted_with_changes"]) == ("accepted", "true")
    assert accepted["body_after"] == "Objective 1.1 text." and accepted["body_as_accepted"] == "Objective 1.1 better text."
    assert accepted["decision_reason"] == "Reworded a little." and accepted["decided_at"].endswith("Z")
    assert accepted["decided_by"] == Pseudonyms("test-secret-key").of(world["facilitator"].id)
    assert (stale["status"], stale["stale"], stale["body_as_accepted"], stale["decided_at"]) == ("open", "true", "", "")


# --- the facilitators' files ----------------------------------------------------------------------


def test_a_facilitators_file_marks_hidden_items_with_the_reason(client, world, login_as):
    sign_in_as_facilitator(login_as, world)
    proposals = {p["id"]: p for p in json_rows(client.get(f"{FACILITATORS_DATA}/proposals.json").data)}
    assert proposals[world["hidden"]]["hidden"] is True
    assert proposals[world["hidden"]]["hidden_reason"] == SECRETS["hidden reason"]
    assert proposals[world["proposal"]]["hidden"] is False and proposals[world["proposal"]]["hidden_reason"] == ""
    comments = {int(c["id"]): c for c in csv_rows(client.get(f"{FACILITATORS_DATA}/comments.csv").data)}
    ids = world["comments"]
    assert comments[ids["hidden"]]["hidden"] == "true" and comments[ids["hidden"]]["body"] == SECRETS["hidden comment"]
    assert comments[ids["on_hidden"]]["hidden"] == "true"
    assert comments[ids["on_hidden"]]["hidden_reason"] == "The proposal it is on is hidden."
    assert comments[ids["retracted"]]["body"] == SECRETS["retracted comment"]
    assert comments[ids["formula"]]["hidden"] == "false"
    sheet = xlsx_rows(client.get(f"{FACILITATORS_DATA}/votes.xlsx").data)
    assert {(row["proposal_id"], row["hidden"]) for row in sheet} == {(world["proposal"], False), (world["hidden"], True)}


def test_the_facilitators_files_are_never_cached_or_shared(client, world, login_as):
    sign_in_as_facilitator(login_as, world)
    response = client.get(f"{FACILITATORS_DATA}/comments.csv")
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Access-Control-Allow-Origin" not in response.headers
    assert client.get(f"{DATA}/comments.csv").headers["Access-Control-Allow-Origin"] == "*"


def test_the_service_refuses_the_facilitators_scope_to_a_volunteer(app, world):
    export = Export(TABLES["comments"], "csv", FACILITATORS)
    with app.test_request_context():
        with pytest.raises(NotAllowed):
            export_rows(world["vision"], export, world["voter"], secret_key="k", url_of={})


def test_volunteers_and_visitors_cannot_download_the_facilitators_files(client, world, login_as):
    assert "/auth/login" in client.get(f"{FACILITATORS_DATA}/comments.csv").headers["Location"]
    login_as(world["voter"])
    for name in ("comments.csv", "proposals.xlsx", "datapackage.json"):
        assert client.get(f"{FACILITATORS_DATA}/{name}").status_code == 403


# --- formulas -------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_text_that_would_start_a_formula_is_neutralised_in_csv_and_excel(client, world, login_as, start):
    body = f"{start}cmd|' /C calc'!A0"
    db.session.execute(
        insert(Comment),
        [{"vision_id": world["vision"].id, "proposal_id": world["proposal"], "author_id": world["voter"].id, "body": body,
          "created_at": utcnow(), "reply_count": 0}],
    )
    db.session.commit()
    rows = csv_rows(client.get(f"{DATA}/comments.csv").data)
    assert [r["body"] for r in rows if r["body"].endswith("calc'!A0")] == ["'" + body]
    assert body in [r["body"] for r in json_rows(client.get(f"{DATA}/comments.json").data)]  # JSON: as written
    sign_in_as_facilitator(login_as, world)
    sheet = load_workbook(io.BytesIO(client.get(f"{FACILITATORS_DATA}/comments.xlsx").data)).active
    cells = [cell for row in sheet.iter_rows() for cell in row if isinstance(cell.value, str) and cell.value.endswith("calc'!A0")]
    # A text cell, never a formula (Excel's files write a carriage return as _x000D_).
    assert [(cell.data_type, cell.value.endswith(body[1:])) for cell in cells] == [("s", True)]


def test_the_formula_comment_written_through_the_form_is_neutralised(client, world):
    rows = {int(r["id"]): r for r in csv_rows(client.get(f"{DATA}/comments.csv").data)}
    assert rows[world["comments"]["formula"]]["body"].startswith("'=HYPERLINK(")
    assert rows[world["comments"]["reflection"]]["body"].startswith("'+A reflection")


def test_numbers_true_false_and_times_are_not_treated_as_text():
    assert [csv_value(v) for v in (-3, 0, True, False, None)] == ["-3", "0", "true", "false", ""]


# --- participants ---------------------------------------------------------------------------------


def test_participant_ids_are_the_same_in_every_file_and_every_download(client, world, login_as):
    pseudonym = Pseudonyms("test-secret-key").of
    author, voter = pseudonym(world["author"].id), pseudonym(world["voter"].id)
    proposals = csv_rows(client.get(f"{DATA}/proposals.csv").data)
    comments = {int(c["id"]): c for c in json_rows(client.get(f"{DATA}/comments.json").data)}
    participants = {p["participant"]: p for p in csv_rows(client.get(f"{DATA}/participants.csv").data)}
    assert proposals[0]["author"] == author
    assert comments[world["comments"]["reply"]]["author"] == author
    assert comments[world["comments"]["formula"]]["author"] == voter
    assert author in participants and voter in participants
    assert csv_rows(client.get(f"{DATA}/participants.csv").data) == list(participants.values())  # again: the same
    sign_in_as_facilitator(login_as, world)
    assert author in {p["participant"] for p in xlsx_rows(client.get(f"{FACILITATORS_DATA}/participants.xlsx").data)}
    # Nobody can recompute them from an account number without the site's secret key.
    assert Pseudonyms("another-key").of(world["author"].id) != author


def test_participant_counts_match_the_rows_of_the_other_files(client, world):
    pseudonym = Pseudonyms("test-secret-key").of
    participants = {p["participant"]: p for p in json_rows(client.get(f"{DATA}/participants.json").data)}
    voter, author, other = (participants[pseudonym(world[u].id)] for u in ("voter", "author", "other"))
    # The voter: two public comments (the formula one, the retracted one) and one vote on a visible
    # proposal (their comment and vote on the hidden proposal are not public).
    assert (voter["proposals"], voter["comments"], voter["reflections"], voter["votes"]) == (0, 2, 0, 1)
    assert (author["proposals"], author["comments"], author["reflections"], author["votes"]) == (1, 1, 0, 0)
    assert (other["proposals"], other["comments"], other["reflections"], other["votes"]) == (0, 0, 1, 1)
    assert pseudonym(world["facilitator"].id) not in participants


def test_a_deleted_account_is_still_one_participant_with_no_name(client, world):
    user = fresh(User, world["voter"].id)
    user.is_deleted, user.email, user.display_name = True, None, ""
    db.session.commit()
    data = client.get(f"{DATA}/comments.csv").data
    assert Pseudonyms("test-secret-key").of(world["voter"].id).encode() in data
    assert b"former participant" not in data and b"Victor" not in data


# --- bad requests ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status"),
    [
        (f"{DATA}/proposals.exe", 404),
        (f"{DATA}/proposals.xlsx", 404),  # Excel is for facilitators only
        (f"{DATA}/secrets.csv", 404),
        (f"{DATA}/proposals.csv.csv", 404),
        (f"{DATA}/../proposals.csv", 404),
        ("/visions/no-such-vision/data/proposals.csv", 404),
        ("/visions/no-such-vision/data/", 404),
        ("/visions/no-such-vision/data/datapackage.json", 404),
        (f"{DATA}/proposals.csv?status=<script>alert(1)</script>", 400),
        (f"{DATA}/proposals.csv?status=author.email", 400),
        (f"{DATA}/proposals.json?status=", 400),
        (f"{DATA}/comments.csv?status=open", 400),
    ],
)
def test_bad_addresses_and_parameters_are_refused_in_words(client, world, url, status):
    response = client.get(url)
    assert response.status_code == status
    assert b"<script>alert" not in response.data
    if status == 400:
        assert b"status" in response.data


def test_a_facilitator_asking_for_a_bad_file_gets_a_404_or_400(client, world, login_as):
    sign_in_as_facilitator(login_as, world)
    assert client.get(f"{FACILITATORS_DATA}/proposals.exe").status_code == 404
    assert client.get(f"{FACILITATORS_DATA}/proposals.xlsx?status=%3Cscript%3E").status_code == 400


# --- the pages ------------------------------------------------------------------------------------


def test_the_download_page_offers_every_public_file_and_explains_itself(client, world, count_queries):
    with count_queries() as log:
        page = client.get(f"{DATA}/")
    assert page.status_code == 200
    assert log.count <= 3
    assert "<h1" in page.text and "Download the data" in page.text
    for table in TABLES:
        for fmt in FORMATS[PUBLIC]:
            assert f'href="{DATA}/{table}.{fmt}"' in page.text
    assert f'href="{DATA}/datapackage.json"' in page.text and f'href="{DATA}/about"' in page.text
    assert "facilitators/" not in page.text
    assert client.get(DATA).status_code in (301, 308)


def test_facilitators_see_their_files_on_the_download_page(client, world, login_as):
    sign_in_as_facilitator(login_as, world)
    page = client.get(f"{DATA}/").text
    for table in TABLES:
        for fmt in FORMATS[FACILITATORS]:
            assert f'href="{FACILITATORS_DATA}/{table}.{fmt}"' in page
    assert f'href="{FACILITATORS_DATA}/datapackage.json"' in page


def test_the_about_page_explains_every_field_from_the_same_list(client, world, count_queries):
    with count_queries() as log:
        page = client.get(f"{DATA}/about")
    assert page.status_code == 200 and log.count <= 2
    for table in TABLES.values():
        assert f'id="{table.name}"' in page.text
        for field in table.fields:
            assert f"<code>{field.name}</code>" in page.text
            assert field.description.split(":")[0].replace("'", "&#39;").replace('"', "&#34;") in page.text
    assert "Facilitators' files only" in page.text


def test_the_vision_page_and_the_queue_link_to_the_download_page(client, world, login_as):
    assert f'href="{DATA}/"' in client.get(f"/visions/{SLUG}/").text
    sign_in_as_facilitator(login_as, world)
    assert f'href="{DATA}/"' in client.get(f"/visions/{SLUG}/facilitate").text


# --- streaming ------------------------------------------------------------------------------------


def test_the_rows_are_read_a_page_at_a_time_each_once_in_order(client, world, monkeypatch, count_queries):
    db.session.execute(
        insert(Comment),
        [{"vision_id": world["vision"].id, "element_id": element_of(world["vision"], "objective-1").id,
          "author_id": world["author"].id, "body": f"Reflection {n}", "created_at": utcnow(), "reply_count": 0}
         for n in range(10)],
    )
    db.session.commit()
    monkeypatch.setattr(analysis_exports, "PAGE", 3)
    expected = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.hidden_at.is_(None), Comment.id != world["comments"]["on_hidden"])
    )
    with count_queries() as log:
        response = client.get(f"{DATA}/comments.csv")
        streamed = response.is_streamed
        rows = csv_rows(response.data)
    assert streamed
    ids = [int(r["id"]) for r in rows]
    assert ids == sorted(set(ids)) and len(ids) == expected == 14
    assert log.count <= 3 + (expected // 3 + 1)


def test_twenty_thousand_comments_stream_in_less_memory_than_the_file_takes(app, client, world):
    """20,000 comments: the Python memory that serving the file takes stays far below the size
    of the file (bench/exports.py measures 100,000 at the large scale)."""
    vision_id, author_id, proposal_id, now = world["vision"].id, world["author"].id, world["proposal"], utcnow()
    # A commit per thousand: every new comment's triggers update the same counting rows
    # (`participants`, `contribution_counts`), and on PostgreSQL each update within one transaction
    # walks past all that row's earlier versions, so one transaction of 20,000 took twice as long.
    for start in range(0, 20_000, 1_000):
        db.session.execute(
            insert(Comment),
            [{"vision_id": vision_id, "proposal_id": proposal_id, "author_id": author_id,
              "body": f"Comment number {n} with a few words more to make it a realistic length.", "created_at": now,
              "reply_count": 0} for n in range(start, start + 1_000)],
        )
        db.session.commit()
    tracemalloc.start()
    try:
        response = client.get(f"{DATA}/comments.csv")
        size = sum(len(chunk) for chunk in response.response)
        response.close()
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert size > 2_000_000
    assert peak < size  # the file is never held whole


def test_an_excel_file_too_large_to_build_while_one_waits_is_refused_in_words(client, world, login_as, monkeypatch):
    sign_in_as_facilitator(login_as, world)
    columns = len(TABLES["comments"].columns(FACILITATORS))
    monkeypatch.setattr(analysis_exports, "XLSX_CELL_LIMIT", 6 * columns)  # 6 comments fit, 7 do not
    assert client.get(f"{FACILITATORS_DATA}/comments.xlsx").status_code == 200
    add_comment(fresh(Proposal, world["proposal"]), world["author"], "One more.")
    response = client.get(f"{FACILITATORS_DATA}/comments.xlsx")
    assert response.status_code == 400
    assert "7 rows: too many to build as an Excel file" in response.text and "Download the CSV file instead" in response.text
    assert client.get(f"{FACILITATORS_DATA}/comments.csv").status_code == 200


def test_the_command_line_writes_a_facilitators_excel_file_of_any_size(runner, world, tmp_path, monkeypatch):
    monkeypatch.setattr(analysis_exports, "XLSX_CELL_LIMIT", 1)
    target = tmp_path / "comments.xlsx"
    result = runner.invoke(args=["analysis", "export", SLUG, "comments", "--format", "xlsx", "--facilitators", "-o", str(target)])
    assert result.exit_code == 0, result.output
    rows = xlsx_rows(target.read_bytes())
    assert {row["id"] for row in rows} == set(world["comments"].values())
    result = runner.invoke(args=["analysis", "export", SLUG, "proposals", "--status", "<script>"])
    assert result.exit_code != 0 and "Choose a status" in result.output
