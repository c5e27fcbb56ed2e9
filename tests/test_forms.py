"""show_errors: a service's ValidationError messages go beside the visible fields they name; the
rest go to the top of the form."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from flask_wtf import FlaskForm
from flask_wtf.csrf import generate_csrf
from werkzeug.datastructures import MultiDict
from wtforms import HiddenField, StringField

from workbench.forms import show_errors
from workbench.exceptions import ValidationError


class ExampleForm(FlaskForm):
    title = StringField("Title")
    body = StringField("Text")
    lock_version = HiddenField()


@pytest.fixture
def form() -> Iterator[ExampleForm]:
    """A submitted form that passed its own checks (CSRF included), as views have it when they
    call a service."""
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret-key")
    with app.test_request_context(method="POST"):
        form = ExampleForm(formdata=MultiDict({"title": "A title", "csrf_token": generate_csrf()}))
        assert form.validate() and "csrf_token" in form._fields
        yield form


def test_a_message_goes_beside_the_field_it_names(form: ExampleForm) -> None:
    show_errors(form, ValidationError({"title": ["Enter a shorter title"]}))

    assert form.title.errors == ["Enter a shorter title"]
    assert form.body.errors == []
    assert form.form_errors == []


def test_a_single_message_is_one_message_not_its_letters(form: ExampleForm) -> None:
    show_errors(form, ValidationError({"body": "Enter the text"}))

    assert form.body.errors == ["Enter the text"]


def test_messages_follow_the_ones_a_field_already_has(form: ExampleForm) -> None:
    form.title.errors = ["Enter a title"]

    show_errors(form, ValidationError({"title": ["Remove the hidden characters", "Enter a shorter title"]}))

    assert form.title.errors == ["Enter a title", "Remove the hidden characters", "Enter a shorter title"]


def test_a_field_without_errors_before_validation_takes_the_messages() -> None:
    app = Flask(__name__)
    app.config.update(SECRET_KEY="test-secret-key")
    with app.test_request_context():
        form = ExampleForm()  # not validated: its fields' errors are an empty tuple

        show_errors(form, ValidationError({"title": "Enter a title"}))

        assert form.title.errors == ["Enter a title"]


@pytest.mark.parametrize("name", ["form", "no_such_field", "lock_version", "csrf_token"])
def test_messages_for_what_the_form_does_not_show_go_on_top(form: ExampleForm, name: str) -> None:
    show_errors(form, ValidationError({name: ["The page was out of date", "Reload it"]}))

    assert form.form_errors == ["The page was out of date", "Reload it"]
    assert [field.name for field in form if field.errors] == []


def test_every_name_is_placed_in_one_call(form: ExampleForm) -> None:
    show_errors(form, ValidationError({"title": "Enter a title", "form": "You have not changed anything", "body": "Enter the text"}))

    assert form.title.errors == ["Enter a title"]
    assert form.body.errors == ["Enter the text"]
    assert form.form_errors == ["You have not changed anything"]
