"""Word and PDF documents: versions to read (issue 17 item 6), comparisons with tracked changes (issue 14 item 6).

LibreOffice is the real client: it must read the tracked changes back, and it makes the PDFs. Tests
that need it skip where it is not installed, except in CI (`CI=true`), where they fail instead.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import zipfile
from html.parser import HTMLParser

import docx
import pypdf
import pytest
from sqlalchemy import select, text

from workbench.caching import clear_caches
from workbench.documents import conversion
from workbench.documents.models import VersionDocument
from workbench.extensions import db
from workbench.models import ImmutableError, Role
from workbench.visions.permalinks import IMMUTABLE

from .factories import open_proposal
from .test_drafting_support import (  # noqa: F401  (fixtures: per_request_login is autouse; facilitator)
    accept,
    edit_text,
    facilitator,
    per_request_login,
    publish,
)

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@pytest.fixture
def libreoffice():
    """Skip without LibreOffice on a developer's machine; in CI its absence is a failure."""
    if shutil.which("soffice"):
        return
    reason = "LibreOffice (soffice) is not installed (Debian package 'libreoffice-writer-nogui')"
    if os.environ.get("CI"):
        pytest.fail(f"{reason}. CI must run these: .ci/run installs it.", pytrace=False)
    pytest.skip(reason)


@pytest.fixture
def two_versions(client, make_vision, make_user, facilitator):
    """Version 1 as imported; version 2 with Vera's accepted proposal ("body" -> "text" in Objective
    1.1) and Fiona's direct edit of Condition 1.1 (", clearly" added, a second paragraph added)."""
    vision = make_vision()
    vera = make_user(Role.VOLUNTEER, name="Vera Volunteer")
    accept(open_proposal(vision, vera, "objective-1"), facilitator)
    assert edit_text(client, vision, "condition-1", "Condition 1.1 body, clearly.\n\nA new paragraph.").status_code == 302
    assert publish(client, vision, "Second.").status_code == 302
    clear_caches()
    return vision


# --- reading files back ------------------------------------------------------------------------------


def tracked(document_bytes: bytes, tag: str) -> list[tuple[str, str, str]]:
    """(author, date, text) of each w:ins or w:del in the document, in order."""
    body = docx.Document(io.BytesIO(document_bytes)).element.body
    found = []
    for change in body.iter(f"{W}{tag}"):
        words = "".join(t.text or "" for t in change.iter(f"{W}t", f"{W}delText"))
        found.append((change.get(f"{W}author"), change.get(f"{W}date"), words))
    return found


def paragraph_of(document_bytes: bytes, words: str):
    body = docx.Document(io.BytesIO(document_bytes)).element.body
    for paragraph in body.iter(f"{W}p"):
        if words in "".join(t.text or "" for t in paragraph.iter(f"{W}t", f"{W}delText")):
            return paragraph
    raise AssertionError(f"no paragraph with {words!r}")


class PermalinkText(HTMLParser):
    """The reading text of a permalink page: element headings and paragraphs, the citation, the hash."""

    WANTED = ("app-element-heading", "app-element-body", "app-cite__text", "app-hash")

    def __init__(self) -> None:
        super().__init__()
        self.blocks: list[str] = []
        self._depth = 0
        self._tag = ""
        self._in_body = False
        self._skip = 0
        self._skip_tag = ""

    # The sentence-citing apparatus inside paragraphs (numbers, "Cite this sentence: ..."), not text.
    SKIPPED = ("app-sentence__ref", "app-sentence__cite")

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self._skip:
            self._skip += tag == self._skip_tag
            return
        if any(name in classes for name in self.SKIPPED):
            self._skip, self._skip_tag = 1, tag
            return
        if "app-element-body" in classes:
            self._in_body = True
            return
        if self._depth:
            self._depth += tag == self._tag
            return
        if any(name in classes for name in self.WANTED) or (self._in_body and tag == "p"):
            self._tag, self._depth = tag, 1
            self.blocks.append("")

    def handle_endtag(self, tag):
        if self._skip:
            self._skip -= tag == self._skip_tag
            return
        if self._depth and tag == self._tag:
            self._depth -= 1
            if not self._depth:
                self.blocks[-1] = " ".join(self.blocks[-1].split())
        elif tag == "div" and self._in_body and not self._depth:
            self._in_body = False

    def handle_data(self, data):
        if self._depth and not self._skip:
            self.blocks[-1] += data


def permalink_blocks(client, path: str) -> list[str]:
    parser = PermalinkText()
    parser.feed(client.get(path).get_data(as_text=True))
    return [block for block in parser.blocks if block]


def in_order(blocks: list[str], text_: str) -> None:
    """Each block appears in `text_`, whitespace folded, in the same order."""
    folded = " ".join(text_.split())
    at = 0
    for block in blocks:
        found = folded.find(block, at)
        assert found >= 0, f"{block!r} not found after position {at} in: {folded[at:at + 300]!r}"
        at = found + len(block)


# --- the comparison as Word tracked changes ----------------------------------------------------------


def test_the_comparison_is_a_word_document_whose_changes_are_tracked_and_credited(client, two_versions) -> None:
    response = client.get("/visions/test-vision/compare/1...2.docx")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    assert 'filename="test-vision-changes-1-to-2.docx"' in response.headers["Content-Disposition"]
    content = response.get_data()

    deleted, inserted = tracked(content, "del"), tracked(content, "ins")
    # A word changed by an accepted proposal: that word deleted, the new one inserted, by its author.
    assert ("Vera Volunteer", "body") in [(author, words) for author, _, words in deleted]
    assert ("Vera Volunteer", "text") in [(author, words) for author, _, words in inserted]
    objective = paragraph_of(content, "Objective 1.1 ")
    assert [t.text for t in objective.iter(f"{W}delText")] == ["body"]
    assert [t.text for t in objective.iter(f"{W}t")] == ["Objective 1.1 ", "text", "."]
    # A facilitator's direct edit is credited to the facilitator; the paragraph break it inserted is
    # an inserted paragraph mark, so rejecting the change joins the paragraphs again.
    assert ("Fiona Facilitator", ", clearly.") in [(author, words) for author, _, words in inserted]
    assert ("Fiona Facilitator", "A new paragraph") in [(author, words) for author, _, words in inserted]
    mark = paragraph_of(content, ", clearly.").find(f"{W}pPr/{W}rPr/{W}ins")
    assert mark is not None and mark.get(f"{W}author") == "Fiona Facilitator"
    assert paragraph_of(content, "A new paragraph").find(f"{W}pPr/{W}rPr/{W}ins") is None
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", date) for _, date, _ in deleted + inserted)
    # Unchanged text is plain text, not a change.
    assert all("Ambition 1 body." not in words for _, _, words in deleted + inserted)
    assert "Ambition 1 body." in [p.text for p in docx.Document(io.BytesIO(content)).paragraphs]


def test_the_compare_page_links_to_its_word_document(client, two_versions) -> None:
    page = client.get("/visions/test-vision/compare/1...2").get_data(as_text=True)
    assert 'href="/visions/test-vision/compare/1...2.docx"' in page


def test_the_comparison_document_is_the_same_bytes_and_answers_its_etag(client, two_versions) -> None:
    first = client.get("/visions/test-vision/compare/1...2.docx")
    clear_caches()
    second = client.get("/visions/test-vision/compare/1...2.docx")
    assert first.get_data() == second.get_data()
    assert first.headers["Cache-Control"] == "public, max-age=300"
    again = client.get("/visions/test-vision/compare/1...2.docx", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304


def test_a_renamed_person_is_credited_by_their_new_name(client, two_versions) -> None:
    client.get("/visions/test-vision/compare/1...2.docx")
    db.session.execute(text("UPDATE users SET display_name = 'Vera Renamed' WHERE display_name = 'Vera Volunteer'"))
    db.session.commit()
    content = client.get("/visions/test-vision/compare/1...2.docx").get_data()
    assert "Vera Renamed" in {author for author, _, _ in tracked(content, "ins")}


def test_libreoffice_reads_the_tracked_changes_back(app, client, two_versions, libreoffice) -> None:
    content = client.get("/visions/test-vision/compare/1...2.docx").get_data()
    odt = conversion.convert(content, ".docx", "odt")
    xml = zipfile.ZipFile(io.BytesIO(odt)).read("content.xml").decode("utf-8")
    assert "<text:tracked-changes" in xml
    regions = re.findall(r"<text:changed-region.*?</text:changed-region>", xml, re.S)
    assert any("<text:deletion>" in r and "Vera Volunteer" in r and "body" in r for r in regions)
    assert any("<text:insertion>" in r and "Vera Volunteer" in r for r in regions)
    assert any("<text:insertion>" in r and "Fiona Facilitator" in r for r in regions)


@pytest.mark.parametrize(
    "path",
    [
        "/visions/test-vision/compare/2...1.docx",  # the newer first
        "/visions/test-vision/compare/1...9.docx",  # no version 9
        "/visions/test-vision/compare/0...1.docx",
        "/visions/test-vision/compare/a...2.docx",
        "/visions/test-vision/compare/1...-2.docx",
        "/visions/test-vision/compare/1...99999999999999999999.docx",
        "/visions/test-vision/compare/1...２.docx",
        "/visions/no-such-vision/compare/1...2.docx",
    ],
)
def test_bad_comparisons_are_refused_with_a_4xx(client, vision, path) -> None:
    response = client.get(path)
    assert 400 <= response.status_code < 500
    assert VersionDocument.__tablename__ not in response.get_data(as_text=True)


def test_the_newer_version_first_is_refused_with_words_that_say_which_way_round(client, two_versions) -> None:
    response = client.get("/visions/test-vision/compare/2...1.docx")
    assert response.status_code == 404
    assert "/visions/test-vision/compare/1...2.docx" in response.get_data(as_text=True)


# --- each version as Word and PDF --------------------------------------------------------------------


def test_the_permalink_links_to_its_word_and_pdf_files(client, vision) -> None:
    page = client.get("/visions/test-vision/v/1/").get_data(as_text=True)
    assert 'href="/visions/test-vision/v/1.docx"' in page
    assert 'href="/visions/test-vision/v/1.pdf"' in page


def test_the_word_file_has_the_permalinks_text_title_page_contents_and_hash(client, two_versions) -> None:
    blocks = permalink_blocks(client, "/visions/test-vision/v/2/")
    response = client.get("/visions/test-vision/v/2.docx")
    assert response.status_code == 200
    assert response.mimetype == DOCX
    document = docx.Document(io.BytesIO(response.get_data()))
    paragraphs = [p.text for p in document.paragraphs]
    assert paragraphs[0] == "Vision test-vision"  # the title page
    assert paragraphs[1].startswith("Version 2, published ")
    assert "Contents" in paragraphs
    in_order(blocks, "\n".join(paragraphs[paragraphs.index("Contents") + 1:]))
    assert "Objective 1.1: Objective 1.1" in blocks and "Objective 1.1 text." in blocks  # the parse worked
    assert "Condition 1.1 body, clearly." in blocks and "A new paragraph." in blocks
    assert any(len(block) == 64 and block in paragraphs[-2] for block in blocks)  # the content hash
    headings = {p.text: p.style.name for p in document.paragraphs if p.style.name.startswith("Heading")}
    assert headings["Ambition 1: Ambition 1"] == "Heading 1"
    assert headings["Objective 1.1: Objective 1.1"] == "Heading 2"


def test_the_pdf_has_the_permalinks_text(client, two_versions, libreoffice) -> None:
    blocks = permalink_blocks(client, "/visions/test-vision/v/2/")
    response = client.get("/visions/test-vision/v/2.pdf")
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = pypdf.PdfReader(io.BytesIO(response.get_data()))
    pages = "\n".join(page.extract_text() for page in reader.pages)
    assert pages.lstrip().startswith("Vision test-vision")
    in_order(blocks, pages[pages.index("Contents"):])


def test_a_version_file_is_stored_once_and_served_the_same_forever(client, two_versions, libreoffice, count_queries) -> None:
    first = {fmt: client.get(f"/visions/test-vision/v/2.{fmt}") for fmt in ("docx", "pdf")}
    clear_caches()  # as after a restart, or on another server
    for fmt, response in first.items():
        again = client.get(f"/visions/test-vision/v/2.{fmt}")
        assert again.get_data() == response.get_data()
        assert again.headers["ETag"] == response.headers["ETag"]
        assert again.headers["Cache-Control"] == IMMUTABLE
        with count_queries() as queries:
            revalidated = client.get(f"/visions/test-vision/v/2.{fmt}", headers={"If-None-Match": response.headers["ETag"]})
        assert revalidated.status_code == 304
        assert queries.count == 0
    rows = db.session.execute(select(VersionDocument.format, VersionDocument.size)).all()
    assert sorted(rows) == sorted((fmt, len(r.get_data())) for fmt, r in first.items())


def test_a_stored_file_is_never_changed(client, vision) -> None:
    client.get("/visions/test-vision/v/1.docx")
    stored = db.session.scalar(select(VersionDocument))
    stored.content = b"something else"
    with pytest.raises(ImmutableError):
        db.session.flush()
    db.session.rollback()
    with pytest.raises(Exception, match="written once"):
        db.session.execute(text("UPDATE version_documents SET content = :c"), {"c": b"x"})
    db.session.rollback()
    with pytest.raises(Exception, match="written once"):
        db.session.execute(text("DELETE FROM version_documents"))
    db.session.rollback()


def test_without_libreoffice_the_pdf_says_it_is_not_available_here(app, client, vision) -> None:
    app.config["SOFFICE"] = "/nonexistent/soffice"
    response = client.get("/visions/test-vision/v/1.pdf")
    assert response.status_code == 503
    assert response.headers["Cache-Control"] == "no-store"
    page = response.get_data(as_text=True)
    assert "The PDF is not available on this server" in page
    assert 'href="/visions/test-vision/v/1.docx"' in page
    assert db.session.scalars(select(VersionDocument.format)).all() == []
    assert client.get("/visions/test-vision/v/1.docx").status_code == 200


def test_a_failed_conversion_is_a_503_that_asks_to_try_again(app, client, vision, monkeypatch) -> None:
    def fail(*args, **kwargs):
        raise conversion.ConversionFailed("it crashed")

    monkeypatch.setattr(conversion, "convert", fail)
    monkeypatch.setattr(conversion, "converter_available", lambda: True)
    response = client.get("/visions/test-vision/v/1.pdf")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "The PDF could not be made just now" in response.get_data(as_text=True)
    assert db.session.scalars(select(VersionDocument.format)).all() == ["docx"]


@pytest.mark.parametrize(
    "path",
    [
        "/visions/test-vision/v/2.docx",
        "/visions/test-vision/v/2.pdf",
        "/visions/test-vision/v/0.docx",
        "/visions/test-vision/v/-1.pdf",
        "/visions/test-vision/v/abc.docx",
        "/visions/test-vision/v/99999999999999999999.pdf",
        "/visions/test-vision/v/٣.docx",
        "/visions/nothing-here/v/1.docx",
    ],
)
def test_unknown_versions_are_404(client, vision, path) -> None:
    assert client.get(path).status_code == 404
    assert db.session.scalars(select(VersionDocument)).all() == []


def test_serving_a_stored_file_runs_a_bounded_number_of_queries(client, two_versions, count_queries) -> None:
    client.get("/visions/test-vision/v/2.docx")
    clear_caches()
    with count_queries() as queries:
        assert client.get("/visions/test-vision/v/2.docx").status_code == 200
    assert queries.count <= 3
    with count_queries() as queries:
        assert client.get("/visions/test-vision/compare/1...2.docx").status_code == 200
    assert queries.count <= 4


def test_another_server_answers_a_known_etag_with_304_too(client, vision) -> None:
    etag = client.get("/visions/test-vision/v/1.docx").headers["ETag"]
    clear_caches()  # a process that has not served the file yet
    response = client.get("/visions/test-vision/v/1.docx", headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    assert response.headers["Cache-Control"] == IMMUTABLE


def test_added_removed_and_renumbered_elements_are_tracked_whole(client, make_vision, facilitator) -> None:
    vision = make_vision(ambitions=1, objectives=3, conditions=1)
    client.post("/visions/test-vision/draft/elements/objective-2/remove", data={"reason": "Repeats 1.1."})
    client.post(
        "/visions/test-vision/draft/add?kind=condition&parent=ambition-1",
        data={"title": "Skills", "body": "People have the skills to use data well.", "position": "end", "reason": "Missing."},
    )
    assert publish(client, vision, "Second.").status_code == 302
    content = client.get("/visions/test-vision/compare/1...2.docx").get_data()
    deleted = [words for _, _, words in tracked(content, "del")]
    inserted = [words for _, _, words in tracked(content, "ins")]
    # The removed objective: its heading and body deleted, paragraph ends too.
    assert "Objective 1.2 body." in deleted
    removed = paragraph_of(content, "Objective 1.2 body.")
    assert removed.find(f"{W}pPr/{W}rPr/{W}del") is not None
    # The added condition, heading and body inserted, credited to the facilitator who added it.
    assert "People have the skills to use data well." in inserted
    assert "Fiona Facilitator" in {author for author, _, words in tracked(content, "ins") if "skills" in words}
    # Objective 1.3 became 1.2: the number in its heading is a tracked change.
    assert "Objective 1.3" in deleted and "Objective 1.2" in inserted
