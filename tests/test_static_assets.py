"""Static files with hashed names, precompressed, cached a year; HTML pages gzipped (issue 19, item 8).

The production path is proved on a real build of static/ (made once for this module, in a temporary
folder); the rest of the suite serves the sources unbuilt, as tests do by default.
"""

from __future__ import annotations

import gzip
import logging
import os
import re
import stat
from pathlib import Path
from urllib.parse import urljoin

import brotli
import pytest
from flask import Flask, Response

from workbench import assets, create_app
from workbench.compression import MIN_BYTES, compress_page
from workbench.config import ROOT
from workbench.security import HEADERS
from workbench.visions.permalinks import IMMUTABLE

from .conftest import base_config

STATIC = ROOT / "static"
BROWSER = {"Accept-Encoding": "gzip, deflate, br"}
HASHED = re.compile(r"^/static/(?P<stem>.+)\.[0-9a-f]{12}(?P<ext>\.[a-z]+)$")


@pytest.fixture(scope="module")
def build_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("static-build")
    assets.build_assets(STATIC, folder)
    return folder


@pytest.fixture
def app_config(build_folder: Path) -> dict:
    return {"STATIC_BUILD_FOLDER": str(build_folder)}


def static_urls(page: str) -> list[str]:
    return re.findall(r'(?:href|src)="(/static/[^"#]+)', page)


def fetch(client, url: str, **headers: str):
    with client.get(url, headers=headers) as response:
        response.get_data()
        return response


# --- the production path --------------------------------------------------------------------------


def test_every_page_names_its_stylesheets_and_scripts_by_hashed_names(client, vision) -> None:
    page = client.get(f"/visions/{vision.slug}/").get_data(as_text=True)
    urls = static_urls(page)
    matches = [HASHED.match(url) for url in urls]
    assert all(matches), urls
    assert {match["stem"] + match["ext"] for match in matches} == {
        "vendor/design-system/design-system.min.css",
        "css/app.css",
        "css/diff.css",
        "vendor/htmx/htmx.min.js",
        "vendor/design-system/design-system.js",
        "js/app.js",
    }
    assert len(urls) == 6


@pytest.mark.parametrize(
    ("accept", "encoding", "decode"),
    [
        ("gzip, deflate, br", "br", brotli.decompress),
        ("gzip", "gzip", gzip.decompress),
        ("", None, lambda body: body),
    ],
)
def test_a_hashed_file_comes_compressed_as_the_client_accepts_and_cached_a_year(client, vision, accept, encoding, decode) -> None:
    page = client.get(f"/visions/{vision.slug}/").get_data(as_text=True)
    url = next(u for u in static_urls(page) if "design-system.min." in u)
    response = fetch(client, url, **{"Accept-Encoding": accept})
    assert response.status_code == 200
    assert response.headers.get("Content-Encoding") == encoding
    assert decode(response.data) == (STATIC / "vendor/design-system/design-system.min.css").read_bytes()
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in response.headers["Vary"]
    assert response.mimetype == "text/css"
    for name, value in HEADERS.items():
        assert response.headers[name] == value


def test_compression_makes_the_design_system_several_times_smaller(client) -> None:
    url = client.application.jinja_env.globals["asset"]("vendor/design-system/design-system.min.css")
    plain = fetch(client, url)
    packed = fetch(client, url, **BROWSER)
    assert int(packed.headers["Content-Length"]) * 5 < int(plain.headers["Content-Length"])


def test_a_hashed_file_revalidates_with_a_304(client) -> None:
    url = client.application.jinja_env.globals["asset"]("js/app.js")
    first = fetch(client, url, **BROWSER)
    again = fetch(client, url, **{**BROWSER, "If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["Cache-Control"] == IMMUTABLE
    assert "Accept-Encoding" in again.headers["Vary"]
    assert again.headers["Content-Security-Policy"] == HEADERS["Content-Security-Policy"]


def test_an_unknown_hashed_name_is_not_found(client) -> None:
    assert fetch(client, "/static/css/app.0123456789ab.css", **BROWSER).status_code == 404


def test_a_file_under_its_own_name_is_still_served_with_a_short_cache(client) -> None:
    response = fetch(client, "/static/css/app.css", **BROWSER)
    assert response.status_code == 200
    assert brotli.decompress(response.data) == (STATIC / "css/app.css").read_bytes()
    assert "immutable" not in response.headers["Cache-Control"]


def test_the_icons_in_pagination_and_messages_come_from_the_hashed_sprite(app, client) -> None:
    sprite = app.jinja_env.globals["asset"]("vendor/design-system/images/icons/icons.stack.svg")
    assert HASHED.match(sprite)
    page = app.jinja_env.from_string(
        '{% from "macros/pagination.html" import pagination %}{{ pagination(result, url) }}'
    ).render(result={"page": 2, "pages": 3}, url=lambda n: f"?page={n}")
    assert f'href="{sprite}#chevron_left"' in page
    assert fetch(client, sprite, **BROWSER).headers["Cache-Control"] == IMMUTABLE


# --- the build ------------------------------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


STYLESHEET_FILES = {
    "css/site.css": (
        '@import "parts.css";\n'
        ".a { background: url(../images/dot.svg?v=1#x); }\n"
        ".b { background: url('/static/images/dot.svg'); }\n"
        ".c { background: url(\"data:image/svg+xml,%3Csvg%3E\"); }\n"
        ".d { background: url(https://example.org/x.png); }\n"
        ".e { background: url(missing.png); }\n"
        "/*# sourceMappingURL=site.css.map */\n"
    ),
    "css/parts.css": ".p { background: url( '../images/dot.svg' ); }\n",
    "images/dot.svg": '<svg xmlns="http://www.w3.org/2000/svg"><circle r="1"/></svg>' * 20,
}


def test_a_stylesheets_relative_urls_name_the_hashed_files(tmp_path) -> None:
    source = write(tmp_path / "static", STYLESHEET_FILES)
    build, made = assets.build_assets(source, tmp_path / "build")
    assert made
    dot, parts = build.names["images/dot.svg"], build.names["css/parts.css"]
    site = (build.files / build.names["css/site.css"]).read_text()
    assert f'@import "{Path(parts).name}"' in site
    assert f"url(../images/{Path(dot).name}?v=1#x)" in site
    # Left as they are: absolute, data:, external, missing, and the map that does not exist.
    for kept in ("url('/static/images/dot.svg')", 'url("data:image/svg+xml', "url(https://example.org/x.png)",
                 "url(missing.png)", "sourceMappingURL=site.css.map"):
        assert kept in site
    assert f"url( '../images/{Path(dot).name}' )" in (build.files / parts).read_text()
    # Under its own name, each file is the source exactly.
    assert (build.files / "css/site.css").read_text() == STYLESHEET_FILES["css/site.css"]


def test_a_stylesheets_relative_urls_resolve_when_served(tmp_path) -> None:
    source = write(tmp_path / "static", STYLESHEET_FILES)
    assets.build_assets(source, tmp_path / "build")
    app = Flask(__name__, static_folder=str(source))
    app.config.update(STATIC_BUILD_FOLDER=str(tmp_path / "build"))
    assets.init_app(app)
    client = app.test_client()
    with app.test_request_context():
        site_url = app.jinja_env.globals["asset"]("css/site.css")
    site = fetch(client, site_url).get_data(as_text=True)
    image = urljoin(site_url, re.search(r"url\((\.\./images/[^?)]+)", site).group(1))
    response = fetch(client, image, **BROWSER)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == IMMUTABLE
    assert brotli.decompress(response.data) == (source / "images/dot.svg").read_bytes()


def test_a_build_is_made_again_only_when_a_source_changes(tmp_path) -> None:
    source = write(tmp_path / "static", {"css/a.css": ".a { color: red }\n", "js/a.js": "let a = 1;\n"})
    first, made = assets.build_assets(source, tmp_path / "build")
    assert made
    same, made_again = assets.build_assets(source, tmp_path / "build")
    assert not made_again and same == first
    (source / "css/a.css").write_text(".a { color: darkred }\n")
    second, made = assets.build_assets(source, tmp_path / "build")
    assert made and second.files != first.files
    assert second.names["css/a.css"] != first.names["css/a.css"]
    assert second.names["js/a.js"] == first.names["js/a.js"]  # unchanged content, unchanged name
    assert (first.files / first.names["css/a.css"]).exists()  # a server on the older build still serves


def test_only_the_three_newest_builds_are_kept(tmp_path) -> None:
    source = tmp_path / "static"
    made = []
    for n in range(4):
        write(source, {"css/a.css": f".a {{ z-index: {n} }}\n"})
        build, _ = assets.build_assets(source, tmp_path / "build")
        os.utime(build.files.parent / "manifest.json", (1_000_000 + n, 1_000_000 + n))  # built in this order
        made.append(build.files.parent)
    assert [place.exists() for place in made] == [False, True, True, True]


def test_a_build_is_readable_by_a_server_running_as_another_user(tmp_path) -> None:
    source = write(tmp_path / "static", {"css/a.css": ".a { color: red }\n" * 100})
    build, _ = assets.build_assets(source, tmp_path / "build")
    for path in [build.files.parent, build.files, build.files / "css", *build.files.rglob("*")]:
        assert path.stat().st_mode & stat.S_IROTH, path


def test_the_build_command(runner, tmp_path, app) -> None:
    app.config["STATIC_BUILD_FOLDER"] = str(tmp_path / "build")
    result = runner.invoke(args=["assets", "build"])
    assert result.exit_code == 0, result.output
    assert f"Built {len(assets.source_files(STATIC))} static files" in result.output
    manifest = next((tmp_path / "build").glob("*/manifest.json"))
    assert '"css/app.css": "css/app.' in manifest.read_text()
    again = runner.invoke(args=["assets", "build"])
    assert "built already" in again.output


# --- without a build ------------------------------------------------------------------------------


def test_without_a_build_pages_name_the_sources_and_they_are_served(database_url, tmp_path) -> None:
    app = create_app(base_config(database_url))  # tests use no build unless asked
    client = app.test_client()
    page = client.get("/about").get_data(as_text=True)
    assert "/static/css/app.css" in static_urls(page)
    response = fetch(client, "/static/css/app.css")
    assert response.status_code == 200 and response.data == (STATIC / "css/app.css").read_bytes()
    assert "immutable" not in response.headers["Cache-Control"]


def test_serving_unbuilt_files_outside_tests_says_so(database_url, tmp_path, caplog) -> None:
    app = create_app({**base_config(database_url), "TESTING": False, "DEV": True, "STATIC_BUILD_FOLDER": str(tmp_path / "none")})
    with caplog.at_level(logging.WARNING, logger="workbench.assets"):
        page = app.test_client().get("/about").get_data(as_text=True)
    assert "/static/css/app.css" in static_urls(page)
    assert "flask --app wsgi assets build" in caplog.text


def test_in_development_an_unbuilt_file_edited_while_serving_is_served_as_edited(tmp_path) -> None:
    source = write(tmp_path / "static", {"css/a.css": ".a {}\n"})
    app = Flask(__name__, static_folder=str(source))
    app.config.update(DEV=True, STATIC_BUILD_FOLDER=str(tmp_path / "no-build"))
    assets.init_app(app)
    client = app.test_client()
    before = fetch(client, "/static/css/a.css")
    (source / "css/a.css").write_text(".a { color: darkred }\n")
    after = fetch(client, "/static/css/a.css", **{"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not "304: keep what you have"
    assert after.data == b".a { color: darkred }\n"
    assert int(after.headers["Content-Length"]) == len(after.data)


def test_a_template_naming_a_missing_static_file_fails_loudly(app) -> None:
    with pytest.raises(LookupError, match="no static file 'css/nothing.css'"):
        app.jinja_env.globals["asset"]("css/nothing.css")


# --- HTML pages -----------------------------------------------------------------------------------


def without_csrf_token(page: bytes) -> bytes:
    return re.sub(rb'<meta name="csrf-token" content="[^"]*">', b"", page)


def test_a_page_is_gzipped_for_a_client_that_accepts_it(client, vision) -> None:
    plain = client.get(f"/visions/{vision.slug}/")
    packed = client.get(f"/visions/{vision.slug}/", headers=BROWSER)
    assert plain.headers.get("Content-Encoding") is None
    assert packed.headers["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed.headers["Vary"] and "Accept-Encoding" in plain.headers["Vary"]
    assert without_csrf_token(gzip.decompress(packed.data)) == without_csrf_token(plain.data)
    assert len(packed.data) * 2 < len(plain.data)
    assert int(packed.headers["Content-Length"]) == len(packed.data)


@pytest.mark.parametrize("accept", ["gzip;q=0, br", "deflate", "identity"])
def test_a_page_is_sent_plain_to_a_client_that_refuses_gzip(client, vision, accept) -> None:
    response = client.get(f"/visions/{vision.slug}/", headers={"Accept-Encoding": accept})
    assert response.headers.get("Content-Encoding") is None
    assert vision.title in response.get_data(as_text=True)


def test_an_error_page_is_gzipped_too(client) -> None:
    response = client.get("/visions/nothing-here/", headers=BROWSER)
    assert response.status_code == 404 and response.headers["Content-Encoding"] == "gzip"
    assert "Page not found" in gzip.decompress(response.data).decode()


@pytest.mark.parametrize(
    ("response", "compressed"),
    [
        (lambda: Response("<p>" + "x" * MIN_BYTES + "</p>", mimetype="text/html"), True),
        (lambda: Response("<p>short</p>", mimetype="text/html"), False),
        (lambda: Response("x" * 5000, mimetype="application/json"), False),
        (lambda: Response(iter(["<p>", "x" * 5000]), mimetype="text/html"), False),
        (lambda: Response(b"\x1f\x8b" + b"x" * 5000, mimetype="text/html", headers={"Content-Encoding": "gzip"}), None),
        (lambda: Response("x" * 5000, mimetype="text/html", headers={"ETag": '"abc"'}), False),
        (lambda: Response(status=304), False),
    ],
    ids=["page", "small", "json", "streamed", "already-encoded", "with-etag", "not-modified"],
)
def test_which_responses_are_compressed(app, response, compressed) -> None:
    with app.test_request_context(headers=BROWSER):
        made = response()
        before = made.get_data() if not made.is_streamed else None
        result = compress_page(made)
        if compressed:
            assert result.headers["Content-Encoding"] == "gzip" and gzip.decompress(result.get_data()) == before
        elif compressed is False:
            assert "Content-Encoding" not in result.headers
        else:
            assert result.get_data() == before  # left exactly as it was
