"""The command line: vision import, demo load, users create."""

from __future__ import annotations

from sqlalchemy import func, select

from workbench.auth.passwords import verify_password
from workbench.cli import DEMO_ACCOUNTS, DEMO_PASSWORD
from workbench.models import AuditEvent, User, Version, Vision, db

from .test_importer import GOOD


def test_vision_import_creates_the_working_draft(runner, tmp_path) -> None:
    path = tmp_path / "vision.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["vision", "import", str(path)])
    assert result.exit_code == 0, result.output
    assert "Imported 'A Vision for City Data' as /visions/city-data/." in result.output
    vision = db.session.scalar(select(Vision))
    assert vision.latest_version_number == 0
    assert vision.window_state() == "unscheduled"


def test_vision_import_can_publish_and_open_the_window(runner, tmp_path) -> None:
    path = tmp_path / "vision.yaml"
    path.write_text(GOOD, encoding="utf-8")
    result = runner.invoke(args=["vision", "import", str(path), "--publish", "--open-days", "30"])
    assert result.exit_code == 0, result.output
    assert "published as version 1" in result.output
    vision = db.session.scalar(select(Vision))
    assert vision.latest_version_number == 1
    assert vision.is_open()


def test_a_bad_file_is_refused_with_every_problem_and_nothing_written(runner, tmp_path) -> None:
    path = tmp_path / "vision.yaml"
    path.write_text(GOOD.replace("slug: city-data", "slug: City Data").replace("title: Trusted", "title: ''"), encoding="utf-8")
    result = runner.invoke(args=["vision", "import", str(path)])
    assert result.exit_code == 1
    assert "slug: must be lower-case" in result.output
    assert "ambitions[2].title: is required" in result.output
    assert db.session.scalar(select(func.count()).select_from(Vision)) == 0


def test_a_file_that_is_not_utf8_is_refused(runner, tmp_path) -> None:
    path = tmp_path / "vision.yaml"
    path.write_bytes(b"slug: x\ntitle: \xff\xfe\n")
    result = runner.invoke(args=["vision", "import", str(path)])
    assert result.exit_code == 1
    assert "not UTF-8" in result.output


def test_demo_load_is_idempotent(runner) -> None:
    first = runner.invoke(args=["demo", "load"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["demo", "load"])
    assert second.exit_code == 0, second.output
    assert "already loaded" in second.output
    assert db.session.scalar(select(func.count()).select_from(Vision)) == 1
    assert db.session.scalar(select(func.count()).select_from(Version)) == 1
    assert db.session.scalar(select(func.count()).select_from(User)) == len(DEMO_ACCOUNTS)
    vision = db.session.scalar(select(Vision))
    assert vision.is_open()
    admin = db.session.scalar(select(User).where(User.email == "admin@example.org"))
    assert admin.role == "admin" and verify_password(admin.password_hash, DEMO_PASSWORD)


def test_users_create_reads_the_password_from_standard_input(runner) -> None:
    result = runner.invoke(
        args=["users", "create", "Ada@Example.ORG", "--name", "Ada", "--role", "admin"],
        input="a long enough passphrase\n",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User))
    assert (user.email, user.display_name, user.role) == ("ada@example.org", "Ada", "admin")
    assert verify_password(user.password_hash, "a long enough passphrase")
    assert db.session.scalar(select(AuditEvent.action)) == "user.created"


def test_users_create_refuses_bad_input(runner) -> None:
    result = runner.invoke(args=["users", "create", "not-an-email", "--name", " "], input="short\n")
    assert result.exit_code == 1
    assert "email:" in result.output and "display_name:" in result.output and "password:" in result.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_users_create_refuses_a_duplicate_address(runner) -> None:
    runner.invoke(args=["users", "create", "a@example.org", "--name", "A"], input="a long enough passphrase\n")
    result = runner.invoke(args=["users", "create", "A@EXAMPLE.org", "--name", "B"], input="another passphrase\n")
    assert result.exit_code == 1
    assert "already exists" in result.output


def test_users_create_refuses_an_unknown_role(runner) -> None:
    result = runner.invoke(args=["users", "create", "a@example.org", "--name", "A", "--role", "king"], input="x\n")
    assert result.exit_code == 2
    assert "Invalid value for '--role'" in result.output
