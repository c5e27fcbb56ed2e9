"""The public register of aligned work: listing, filters, pages, open data, counts, and that contact
details never leave the screening pages."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest
from flask import render_template
from sqlalchemy import insert

from workbench.aligned import register, services
from workbench.exports import csv_cell
from workbench.models import AlignedWork, AlignedWorkElement, Element, Role, db, utcnow

from .test_aligned_support import *  # noqa: F403 (fixtures)
from .test_aligned_support import SECRET_EMAIL, SECRET_PHONE, element_id, valid_form


def bulk_approved(vision, submitter, count: int, *, keys=("objective-1",), start: int = 0, **fields) -> None:
    """Many approved initiatives at once (as approval leaves them), for lists and query counts."""
    now = utcnow()
    ids = [element_id(vision, key) for key in keys]
    for n in range(start, start + count):
        work = AlignedWork(
            vision_id=vision.id,
            submitter_id=submitter.id,
            state="approved",
            organisation=fields.get("organisation", f"Organisation {n:04d}"),
            title=fields.get("title", f"Initiative {n:04d}"),
            description=fields.get("description", f"What initiative {n} does."),
            status=fields.get("status", "current"),
            link="",
            contact=SECRET_EMAIL,
            approved_at=now,
            created_at=now,
            updated_at=now,
        )
        db.session.add(work)
        db.session.flush()
        if ids:
            db.session.execute(insert(AlignedWorkElement), [{"aligned_work_id": work.id, "element_id": i} for i in ids])
    db.session.commit()


# --- the listing ----------------------------------------------------------------------------------


def test_the_empty_register_says_so_and_invites_a_submission(client, vision):
    page = client.get(f"/visions/{vision.slug}/aligned-work")
    assert page.status_code == 200
    assert "<h1" in page.text and "Aligned work" in page.text
    assert "No organisation's work has been published for this vision yet" in page.text
    assert f'href="/visions/{vision.slug}/aligned-work/new"' in page.text
    assert f'href="/visions/{vision.slug}/aligned-work.csv"' in page.text
    assert f'href="/visions/{vision.slug}/aligned-work.json"' in page.text
    assert f'href="/visions/{vision.slug}/aligned-work/about-the-data"' in page.text


def test_an_unknown_vision_has_no_register(client):
    for url in ("/visions/nope/aligned-work", "/visions/nope/aligned-work.csv", "/visions/nope/aligned-work.json",
                "/visions/nope/aligned-work/new", "/visions/nope/aligned-work/about-the-data"):
        assert client.get(url).status_code == 404


def test_the_register_shows_approved_initiatives_with_what_they_support(client, vision, make_work):
    make_work(
        vision,
        organisation="Zeta Council",
        title="Zeta programme",
        element_ids=[str(element_id(vision, "objective-3")), str(element_id(vision, "ambition-1"))],
    )
    make_work(vision, organisation="Alpha Agency", title="Alpha project", status="planned")
    make_work(vision, approved=False, organisation="Hidden Org", title="Not yet screened")
    html = client.get(f"/visions/{vision.slug}/aligned-work").text
    assert "Showing 1 to 2 of 2 initiatives" in html
    assert html.index("Alpha project") < html.index("Zeta programme")  # organisation A to Z
    assert "Not yet screened" not in html and "Hidden Org" not in html
    assert "Objective 2.1: Objective 2.1" in html and "Ambition 1: Ambition 1" in html
    assert '>Planned</strong>' in html and '>Current</strong>' in html
    assert f'href="/visions/{vision.slug}/elements/objective-3"' in html


def test_filters_by_element_status_and_organisation(client, vision, submitter):
    bulk_approved(vision, submitter, 1, keys=("objective-1",), organisation="Glasgow City Council", title="On objective 1.1")
    bulk_approved(vision, submitter, 1, keys=("condition-1",), organisation="Fife Council", title="On condition 1.1", status="planned")
    bulk_approved(vision, submitter, 1, keys=("ambition-1",), organisation="NHS Glasgow", title="On ambition 1")
    bulk_approved(vision, submitter, 1, keys=("objective-3",), organisation="100% Data Ltd", title="On objective 2.1")
    url = f"/visions/{vision.slug}/aligned-work"

    def titles(query: str) -> list[str]:
        html = client.get(f"{url}?{query}").text
        return sorted(t for t in ("On objective 1.1", "On condition 1.1", "On ambition 1", "On objective 2.1") if t in html)

    assert titles("element=objective-1") == ["On objective 1.1"]
    # An ambition brings its objectives and enabling conditions.
    assert titles("element=ambition-1") == ["On ambition 1", "On condition 1.1", "On objective 1.1"]
    assert titles("element=ambition-2") == ["On objective 2.1"]
    assert titles("status=planned") == ["On condition 1.1"]
    assert titles("organisation=glasgow") == ["On ambition 1", "On objective 1.1"]
    assert titles("organisation=GLASGOW&element=objective-1") == ["On objective 1.1"]
    # LIKE wildcards are literal.
    assert titles("organisation=%25") == ["On objective 2.1"]
    assert titles("organisation=_") == []
    assert "No published initiatives match these filters" in client.get(f"{url}?organisation=nobody").text


@pytest.mark.parametrize(
    "query, field",
    [
        ("element=objective-99", "element"),
        ("element=statement-1", "element"),
        ("element=author.email", "element"),
        ("status=done", "status"),
        ("status=1;--", "status"),
        ("status=current%27%20OR%201=1", "status"),
    ],
)
def test_unknown_filters_get_a_message_not_an_error(client, vision, make_work, query, field):
    make_work(vision)
    page = client.get(f"/visions/{vision.slug}/aligned-work?{query}")
    assert page.status_code == 400
    assert f'id="filter-{field}-error"' in page.text
    select = re.search(rf'<select[^>]*id="filter-{field}"[^>]*>', page.text).group(0)
    assert 'aria-invalid="true"' in select and f"filter-{field}-error" in select  # announced with its message
    assert "Open bus timetables" in page.text  # the unknown filter is not applied


def test_the_register_is_paginated_by_twenty(client, vision, submitter):
    bulk_approved(vision, submitter, 45)
    url = f"/visions/{vision.slug}/aligned-work"
    first = client.get(url).text
    assert "Showing 1 to 20 of 45 initiatives" in first
    assert "Initiative 0000" in first and "Initiative 0019" in first and "Initiative 0020" not in first
    assert 'class="ds_pagination"' in first and f'href="{url}?page=2"' in first
    third = client.get(f"{url}?page=3").text
    assert "Showing 41 to 45 of 45" in third and "Initiative 0044" in third
    assert 'aria-current="page"' in third
    for bad in ("4", "0", "-1", "abc", "99999999999999999999", "1e3"):
        assert client.get(f"{url}?page={bad}").status_code == 404


def test_filters_are_kept_across_pages(client, vision, submitter):
    bulk_approved(vision, submitter, 25, status="planned")
    html = client.get(f"/visions/{vision.slug}/aligned-work?status=planned").text
    assert f'href="/visions/{vision.slug}/aligned-work?page=2&amp;status=planned"' in html


def test_the_listing_runs_the_same_queries_whatever_the_data(client, vision, submitter, facilitator, sign_in, count_queries):
    url = f"/visions/{vision.slug}/aligned-work"
    bulk_approved(vision, submitter, 3)

    def queries(query: str = "") -> int:
        with count_queries() as log:
            assert client.get(url + query).status_code == 200
        return log.count

    small = [queries(), queries("?element=ambition-1&status=current&organisation=org")]
    bulk_approved(vision, submitter, 60, keys=("objective-1", "objective-2", "condition-1", "ambition-2"), start=3)
    large = [queries(), queries("?element=ambition-1&status=current&organisation=org"), queries("?page=3")]
    assert large[:2] == small and large[2] == small[0]
    assert small[0] <= 6
    sign_in(facilitator)
    assert queries() <= 8


def test_screening_queue_and_your_list_run_the_same_queries_whatever_the_data(
    client, vision, submitter, facilitator, make_work, sign_in, count_queries
):
    for n in range(2):
        make_work(vision, approved=False, title=f"Waiting {n}")
    changed = make_work(vision, title="Published")
    services.change_aligned_work(changed, submitter, **valid_form(vision, title="Published, changed"))
    db.session.commit()

    def queries(url: str) -> int:
        with count_queries() as log:
            assert client.get(url).status_code == 200
        return log.count

    sign_in(facilitator)
    queue_small = queries(f"/visions/{vision.slug}/aligned-work/screening")
    sign_in(submitter)
    yours_small = queries("/aligned-work/yours")
    for n in range(12):
        work = make_work(vision, approved=n % 2 == 0, title=f"More {n}")
        if n % 2 == 0:
            services.change_aligned_work(work, submitter, **valid_form(vision, title=f"More {n} changed"))
            db.session.commit()
    sign_in(facilitator)
    assert queries(f"/visions/{vision.slug}/aligned-work/screening") == queue_small
    sign_in(submitter)
    assert queries("/aligned-work/yours") == yours_small


# --- one initiative -------------------------------------------------------------------------------


def test_an_initiative_page_for_the_public(client, vision, make_work):
    work = make_work(vision, link="https://www.example.org/buses")
    html = client.get(f"/aligned-work/{work.id}").text
    assert "<h1" in html and "Open bus timetables" in html and "Highland Data Trust" in html
    assert '<a href="https://www.example.org/buses" rel="nofollow noopener noreferrer ugc">' in html
    assert "Objective 1.1: Objective 1.1" in html
    assert "Change this initiative" not in html and "Screening" not in html


@pytest.mark.parametrize("path", ["/aligned-work/0", "/aligned-work/-1", "/aligned-work/abc", "/aligned-work/12345678901234567890", "/aligned-work/999"])
def test_bad_initiative_numbers_are_not_found(client, path):
    assert client.get(path).status_code == 404


# --- contact details ------------------------------------------------------------------------------


def test_contact_details_never_reach_public_pages_exports_or_other_people(
    client, vision, submitter, facilitator, make_user, sign_in, make_work
):
    by_email = make_work(vision, contact=SECRET_EMAIL)
    by_phone = make_work(vision, contact=SECRET_PHONE, title="Phone one")
    # A waiting change carries a new contact: still private.
    services.change_aligned_work(by_phone, submitter, **valid_form(vision, contact="new.secret@private-example.org", title="Phone two"))
    db.session.commit()
    secrets = (SECRET_EMAIL.encode(), SECRET_PHONE.encode(), b"new.secret@private-example.org", b"private-example.org")
    element = db.session.get(Element, element_id(vision, "objective-1"))
    public_urls = [
        f"/visions/{vision.slug}/aligned-work",
        f"/visions/{vision.slug}/aligned-work?element=objective-1",
        f"/visions/{vision.slug}/aligned-work.csv",
        f"/visions/{vision.slug}/aligned-work.json",
        f"/visions/{vision.slug}/aligned-work/about-the-data",
        f"/aligned-work/{by_email.id}",
        f"/aligned-work/{by_phone.id}",
        f"/visions/{vision.slug}/",
        f"/visions/{vision.slug}/elements/objective-1",
    ]
    for user in (None, make_user(Role.VOLUNTEER)):
        sign_in(user)
        for url in public_urls:
            body = client.get(url).data
            for secret in secrets:
                assert secret not in body, (user, url, secret)
        with client.application.test_request_context():
            partial = render_template(
                "aligned/_element_initiatives.html",
                aligned=register.element_initiatives(vision, element),
                label="Objective 1.1",
            )
        assert "private-example.org" not in partial
    # The audit trail never holds a contact either.
    from sqlalchemy import select

    from workbench.models import AuditEvent

    for event in db.session.scalars(select(AuditEvent)):
        assert "private-example.org" not in json.dumps(event.details)
    # Its submitter and facilitators do see them.
    for user in (submitter, facilitator):
        sign_in(user)
        page = client.get(f"/aligned-work/{by_phone.id}").text
        assert SECRET_PHONE in page and "new.secret@private-example.org" in page


# --- open data ------------------------------------------------------------------------------------


def test_the_csv_export_is_utf8_with_a_header_and_only_approved_initiatives(client, vision, make_work):
    work = make_work(
        vision,
        organisation="Comhairle nan Eilean Siar – Åland Øresund",
        title="Ceòl agus dàta",
        description="Line one.\n\nLine two, with \"quotes\", commas.",
        element_ids=[str(element_id(vision, "objective-3")), str(element_id(vision, "ambition-1"))],
    )
    make_work(vision, approved=False, title="Waiting, not exported")
    response = client.get(f"/visions/{vision.slug}/aligned-work.csv")
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("text/csv; charset=utf-8")
    assert "attachment" in response.headers["Content-Disposition"]
    assert not response.data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(response.data.decode("utf-8"))))
    assert list(rows[0]) == [
        "id", "organisation", "title", "description", "status", "link",
        "element_keys", "element_labels", "approved_at", "permalink",
    ]
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] == str(work.id)
    assert row["organisation"] == "Comhairle nan Eilean Siar – Åland Øresund"
    assert row["description"] == "Line one.\n\nLine two, with \"quotes\", commas."
    assert row["element_keys"] == "ambition-1; objective-3"
    assert row["element_labels"] == "Ambition 1: Ambition 1; Objective 2.1: Objective 2.1"
    assert row["permalink"] == f"http://localhost/aligned-work/{work.id}"
    assert row["approved_at"].endswith("Z")
    assert "contact" not in response.data.decode().split("\r\n")[0]


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://evil\")", "+SUM(1,2)", "-2+3", "@SUM(A1)", "\tTabbed", "\rReturn"])
def test_csv_cells_that_would_start_a_formula_get_an_apostrophe(value):
    assert csv_cell(value) == "'" + value
    assert csv_cell("Plain " + value) == "Plain " + value


def test_formula_injection_through_the_form_is_neutralised_in_the_csv(client, vision, make_work):
    make_work(vision, organisation="=cmd|' /C calc'!A0", title="+Title", description="-Description", link="")
    make_work(vision, organisation="@Org", title="Normal", description="Fine.")
    text = client.get(f"/visions/{vision.slug}/aligned-work.csv").data.decode()
    rows = list(csv.reader(io.StringIO(text)))[1:]
    cells = [cell for row in rows for cell in row]
    assert "'=cmd|' /C calc'!A0" in cells and "'+Title" in cells and "'-Description" in cells and "'@Org" in cells
    assert not any(cell[:1] in ("=", "+", "-", "@", "\t", "\r") for cell in cells)


def test_the_json_export_follows_its_documented_schema(client, vision, make_work):
    work = make_work(vision, description="Line\u2028separator </script>", link="https://example.org/x")
    make_work(vision, approved=False)
    response = client.get(f"/visions/{vision.slug}/aligned-work.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = json.loads(response.data)
    assert document["schema_version"] == 1
    assert document["vision"]["slug"] == vision.slug
    assert document["count"] == 1 and len(document["initiatives"]) == 1
    assert document["documentation"].endswith(f"/visions/{vision.slug}/aligned-work/about-the-data")
    item = document["initiatives"][0]
    assert set(item) == {"id", "organisation", "title", "description", "status", "link", "elements", "approved_at", "permalink"}
    assert item["id"] == work.id and item["description"] == "Line\u2028separator </script>"
    assert item["elements"] == [{"key": "objective-1", "kind": "objective", "label": "Objective 1.1", "title": "Objective 1.1"}]
    assert item["link"] == "https://example.org/x"


def test_the_data_is_documented(client, vision):
    html = client.get(f"/visions/{vision.slug}/aligned-work/about-the-data").text
    for field in ("id", "organisation", "title", "description", "status", "link", "element_keys", "element_labels", "approved_at", "permalink"):
        assert f"<code>{field}</code>" in html
    assert "never included" in html and "contact" in html


# --- counts and the element page ------------------------------------------------------------------


def test_initiative_counts_roll_objectives_and_conditions_up_into_their_ambition(vision, make_vision, submitter, make_work):
    keys = lambda *ks: [str(element_id(vision, k)) for k in ks]  # noqa: E731
    make_work(vision, element_ids=keys("objective-1", "objective-2"))  # counts once for ambition 1
    make_work(vision, element_ids=keys("ambition-1", "condition-1"))
    make_work(vision, element_ids=keys("objective-3"))
    make_work(vision, approved=False, element_ids=keys("objective-1"))  # not approved: not counted
    other = make_vision(slug="other-vision")
    make_work(other, element_ids=[str(element_id(other, "objective-1"))])
    counts = register.initiative_counts(vision)
    by_key = register.initiative_counts_by_key(vision)
    assert by_key == {
        "ambition-1": 2,
        "objective-1": 1,
        "objective-2": 1,
        "condition-1": 1,
        "ambition-2": 1,
        "objective-3": 1,
    }
    assert counts[element_id(vision, "ambition-1")] == 2
    ambition = db.session.get(Element, element_id(vision, "ambition-1"))
    assert [i.title for i in register.initiatives_for_element(vision, ambition)] == ["Open bus timetables"] * 2
    objective = db.session.get(Element, element_id(vision, "objective-2"))
    assert len(register.initiatives_for_element(vision, objective)) == 1


def test_counts_run_a_fixed_number_of_queries(vision, submitter, count_queries):
    bulk_approved(vision, submitter, 3)
    with count_queries() as small:
        register.initiative_counts(vision)
    bulk_approved(vision, submitter, 30, keys=("objective-1", "condition-2", "ambition-2"), start=3)
    with count_queries() as large:
        register.initiative_counts(vision)
    assert small.count == large.count == 2


def test_the_element_partial_lists_supporting_work_and_links_to_the_register(app, vision, submitter):
    bulk_approved(vision, submitter, 7, keys=("objective-2",))
    ambition = db.session.get(Element, element_id(vision, "ambition-1"))
    with app.test_request_context():
        aligned = register.element_initiatives(vision, ambition)
        html = render_template("aligned/_element_initiatives.html", aligned=aligned, label="Ambition 1")
    assert aligned.count == 7 and len(aligned.initiatives) == 5 and aligned.more
    assert "7 initiatives support Ambition 1 or its objectives and enabling conditions" in html
    assert f'href="/visions/{vision.slug}/aligned-work?element=ambition-1"' in html
    assert f'href="/visions/{vision.slug}/aligned-work/new?element=ambition-1"' in html
    empty = db.session.get(Element, element_id(vision, "objective-4"))
    with app.test_request_context():
        html = render_template(
            "aligned/_element_initiatives.html", aligned=register.element_initiatives(vision, empty), label="Objective 2.2"
        )
    assert "No organisation has recorded published work that supports Objective 2.2 yet" in html


def test_the_ambition_count_partial(app, vision, submitter):
    from workbench.visions.services import load_version

    bulk_approved(vision, submitter, 2, keys=("condition-1",))
    version = load_version(vision.slug, 1)
    counts = register.initiative_counts_by_key(vision)
    with app.test_request_context():
        html = render_template(
            "aligned/_ambition_count.html", element=version.element("ambition-1"), aligned_counts=counts, version=version
        )
        none = render_template(
            "aligned/_ambition_count.html", element=version.element("ambition-2"), aligned_counts=counts, version=version
        )
    assert "2 initiatives" in html and "support this ambition or its objectives and enabling conditions" in html
    assert f'href="/visions/{vision.slug}/aligned-work?element=ambition-1"' in html
    assert "No published initiatives support this ambition yet" in none


# --- the register's index (migration 0003) --------------------------------------------------------


def test_the_register_index_exists_after_upgrade(app):
    from sqlalchemy import inspect

    indexes = {ix["name"]: ix["column_names"] for ix in inspect(db.engine).get_indexes("aligned_work")}
    assert indexes["ix_aligned_work_register"] == ["vision_id", "state", "organisation", "title", "id"]


def test_a_register_page_walks_the_index_instead_of_reading_every_row(app, vision, submitter):
    from sqlalchemy import text

    if db.engine.dialect.name != "sqlite":
        pytest.skip("the query plan is checked on SQLite; PostgreSQL chooses by its statistics")
    bulk_approved(vision, submitter, 30)
    plan = " ".join(
        row[-1]
        for row in db.session.execute(
            text(
                "EXPLAIN QUERY PLAN SELECT id FROM aligned_work WHERE vision_id = :v AND state = 'approved' "
                "ORDER BY organisation, title, id LIMIT 20 OFFSET 20"
            ),
            {"v": vision.id},
        )
    )
    assert "COVERING INDEX ix_aligned_work_register" in plan and "TEMP B-TREE" not in plan
