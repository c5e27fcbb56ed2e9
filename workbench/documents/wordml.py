"""A small writer of Word documents (.docx, WordprocessingML), with real tracked changes.

Pure and deterministic: the same paragraphs give the same bytes (no timestamps in the zip or the
properties). Written with the standard library rather than python-docx, which would add ~8 MiB to
a web worker already near its 80 MiB budget and has no API for revisions anyway: insertions and
deletions are `w:ins` / `w:del` elements with `w:id`, `w:author` and `w:date` around runs, which
Word's and LibreOffice's review features accept or reject one by one.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from typing import Literal
from xml.sax.saxutils import escape, quoteattr

Op = Literal["equal", "insert", "delete"]

# Characters XML 1.0 cannot carry (user text is cleaned of most already: this is the last guard).
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")

_W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_R = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_FIXED_ZIP_TIME = (1980, 1, 1, 0, 0, 0)


@dataclass(frozen=True)
class Revision:
    """Who made a tracked change, and when (ISO 8601 UTC, "2026-12-06T10:00:00Z")."""

    author: str
    date: str


@dataclass
class Run:
    text: str
    op: Op = "equal"
    revision: Revision | None = None
    bold: bool = False


@dataclass
class Paragraph:
    """A paragraph of runs in a style ("Normal", "Title", "Heading1"...). `mark` tracks the
    paragraph's own end: inserted or deleted with the text around it (None: unchanged)."""

    runs: list[Run] = field(default_factory=list)
    style: str = "Normal"
    page_break_before: bool = False
    mark: tuple[Op, Revision] | None = None
    indent: bool = False

    @property
    def text(self) -> str:
        """The paragraph's words as they read after every change is accepted."""
        return "".join(run.text for run in self.runs if run.op != "delete")


def clean(text: str) -> str:
    return _NOT_XML.sub("", text)


class _Ids:
    def __init__(self) -> None:
        self.next = 1

    def __call__(self) -> int:
        value, self.next = self.next, self.next + 1
        return value


def _revision_attributes(ids: _Ids, revision: Revision) -> str:
    return f' w:id="{ids()}" w:author={quoteattr(clean(revision.author))} w:date="{revision.date}"'


def _run_xml(run: Run, ids: _Ids) -> str:
    properties = "<w:rPr><w:b/></w:rPr>" if run.bold else ""
    pieces = []
    tag = "w:delText" if run.op == "delete" else "w:t"
    for i, line in enumerate(clean(run.text).split("\n")):
        if i:
            pieces.append("<w:br/>")
        if line:
            pieces.append(f'<{tag} xml:space="preserve">{escape(line)}</{tag}>')
    if not pieces:
        return ""
    xml = f"<w:r>{properties}{''.join(pieces)}</w:r>"
    if run.op == "equal" or run.revision is None:
        return xml
    wrapper = "w:ins" if run.op == "insert" else "w:del"
    return f"<{wrapper}{_revision_attributes(ids, run.revision)}>{xml}</{wrapper}>"


def _paragraph_xml(paragraph: Paragraph, ids: _Ids) -> str:
    properties = [f'<w:pStyle w:val="{paragraph.style}"/>']
    if paragraph.page_break_before:
        properties.append("<w:pageBreakBefore/>")
    if paragraph.indent:
        properties.append('<w:ind w:left="567"/>')
    if paragraph.mark is not None and paragraph.mark[0] != "equal":
        tag = "w:ins" if paragraph.mark[0] == "insert" else "w:del"
        properties.append(f"<w:rPr><{tag}{_revision_attributes(ids, paragraph.mark[1])}/></w:rPr>")
    runs = "".join(_run_xml(run, ids) for run in paragraph.runs)
    return f"<w:p><w:pPr>{''.join(properties)}</w:pPr>{runs}</w:p>"


_STYLES = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:styles xmlns:w="{_W}">
<w:docDefaults><w:rPrDefault><w:rPr><w:rFonts w:ascii="Liberation Sans" w:hAnsi="Liberation Sans" w:cs="Liberation Sans" w:eastAsia="Liberation Sans"/><w:sz w:val="22"/><w:lang w:val="en-GB"/></w:rPr></w:rPrDefault>
<w:pPrDefault><w:pPr><w:spacing w:after="160" w:line="276" w:lineRule="auto"/></w:pPr></w:pPrDefault></w:docDefaults>
<w:style w:type="paragraph" w:default="1" w:styleId="Normal"><w:name w:val="Normal"/><w:qFormat/></w:style>
<w:style w:type="paragraph" w:styleId="Title"><w:name w:val="Title"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:spacing w:before="2400" w:after="240"/></w:pPr><w:rPr><w:b/><w:sz w:val="52"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Subtitle"><w:name w:val="Subtitle"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:rPr><w:sz w:val="32"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading1"><w:name w:val="heading 1"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="360" w:after="120"/><w:outlineLvl w:val="0"/></w:pPr><w:rPr><w:b/><w:sz w:val="32"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading2"><w:name w:val="heading 2"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="240" w:after="120"/><w:outlineLvl w:val="1"/></w:pPr><w:rPr><w:b/><w:sz w:val="26"/></w:rPr></w:style>
<w:style w:type="paragraph" w:styleId="Heading3"><w:name w:val="heading 3"/><w:basedOn w:val="Normal"/><w:next w:val="Normal"/><w:qFormat/><w:pPr><w:keepNext/><w:spacing w:before="200" w:after="80"/><w:outlineLvl w:val="2"/></w:pPr><w:rPr><w:b/><w:sz w:val="24"/></w:rPr></w:style>
</w:styles>"""

_CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
<Override PartName="/word/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.styles+xml"/>
<Override PartName="/word/settings.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.settings+xml"/>
<Override PartName="/docProps/core.xml" ContentType="application/vnd.openxmlformats-package.core-properties+xml"/>
</Types>"""

_PACKAGE_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_REL}">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/package/2006/relationships/metadata/core-properties" Target="docProps/core.xml"/>
</Relationships>"""

_DOCUMENT_RELS = f"""<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="{_REL}">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/>
<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/settings" Target="settings.xml"/>
</Relationships>"""


def _settings(track_revisions: bool) -> str:
    # Tracking on: what a reviewer changes next is tracked too, beside the changes already marked.
    tracking = "<w:trackRevisions/>" if track_revisions else ""
    return (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:settings xmlns:w="{_W}">{tracking}'
        '<w:defaultTabStop w:val="720"/><w:characterSpacingControl w:val="doNotCompress"/></w:settings>'
    )


def _core(title: str, subject: str) -> str:
    return (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<cp:coreProperties xmlns:cp="http://schemas.openxmlformats.org/package/2006/metadata/core-properties" '
        'xmlns:dc="http://purl.org/dc/elements/1.1/">'
        f"<dc:title>{escape(clean(title))}</dc:title><dc:subject>{escape(clean(subject))}</dc:subject>"
        "<dc:creator>Vision Workbench</dc:creator><dc:language>en-GB</dc:language></cp:coreProperties>"
    )


def build_docx(paragraphs: list[Paragraph], *, title: str, subject: str = "", track_revisions: bool = False) -> bytes:
    """The .docx file of `paragraphs` (A4, 2.5 cm margins); the same input gives the same bytes."""
    ids = _Ids()
    body = "".join(_paragraph_xml(paragraph, ids) for paragraph in paragraphs)
    document = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n<w:document xmlns:w="{_W}" xmlns:r="{_R}">'
        f"<w:body>{body}"
        '<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
        '<w:pgMar w:top="1417" w:right="1417" w:bottom="1417" w:left="1417" w:header="708" w:footer="708" w:gutter="0"/>'
        "</w:sectPr></w:body></w:document>"
    )
    parts = [
        ("[Content_Types].xml", _CONTENT_TYPES),
        ("_rels/.rels", _PACKAGE_RELS),
        ("docProps/core.xml", _core(title, subject)),
        ("word/_rels/document.xml.rels", _DOCUMENT_RELS),
        ("word/document.xml", document),
        ("word/styles.xml", _STYLES),
        ("word/settings.xml", _settings(track_revisions)),
    ]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in parts:
            info = zipfile.ZipInfo(name, date_time=_FIXED_ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            archive.writestr(info, text.encode("utf-8"))
    return buffer.getvalue()
