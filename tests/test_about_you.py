"""About you (issue 17, item 3): the account's page where a person says whether they respond as an
individual or for an organisation, and how their contributions are published."""

from __future__ import annotations

import pytest

from workbench.models import User

from .factories import events, fresh

pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request

PAGE = "/account/about-you"


@pytest.fixture
def jane(make_user, login_as) -> User:
    return login_as(make_user(name="Jane Smith"))


def answers(**changes: str) -> dict[str, str]:
    return {"responding_as": "individual", "organisation": "", "publish_as": "name", **changes}


def test_the_page_asks_the_questions_filled_with_the_current_answers(client, jane) -> None:
    page = client.get(PAGE).get_data(as_text=True)
    assert "<h1 class=\"ds_page-header__title\">About you</h1>" in page
    assert "<legend>Are you responding as an individual or for an organisation?</legend>" in page
    assert "<legend>How should your contributions be published?</legend>" in page
    assert 'value="name" checked' in page  # everyone is published with their name until they choose
    assert 'value="individual" checked' not in page and 'value="organisation" checked' not in page
    assert 'href="/privacy#how-you-are-published"' in page


def test_choosing_without_my_name_says_what_changed_and_that_it_applies_to_the_past(client, jane) -> None:
    response = client.post(PAGE, data=answers(publish_as="anonymous"))
    assert response.status_code == 303 and response.headers["Location"] == "/account"
    page = client.get("/account").get_data(as_text=True)
    assert (
        "Your contributions are now published without your name: they show “a participant”. "
        "This applies to what you have already written too." in page
    )
    assert "Without your name: shown as “a participant”" in page  # the account's summary
    person = fresh(User, jane.id)
    assert (person.responding_as, person.organisation, person.publish_as) == ("individual", "", "anonymous")
    assert person.public_name == "a participant"
    [event] = events("account.publication_changed")
    assert (event.actor_id, event.subject_id, event.details) == (jane.id, jane.id, {"was": "name", "now": "anonymous"})
    assert 'value="anonymous" checked' in client.get(PAGE).get_data(as_text=True)


def test_responding_for_an_organisation_keeps_its_name(client, jane) -> None:
    client.post(PAGE, data=answers(responding_as="organisation", organisation="  Open Data Institute "))
    assert "You are now responding for Open Data Institute." in client.get("/account").get_data(as_text=True)
    assert fresh(User, jane.id).organisation == "Open Data Institute"
    assert events("account.publication_changed") == []  # how they are published did not change
    client.post(PAGE, data=answers(responding_as="individual", organisation="Ignored Ltd"))
    assert fresh(User, jane.id).organisation == ""  # an individual has none


def test_answering_for_the_first_time_says_how_they_are_published(client, jane) -> None:
    client.post(PAGE, data=answers())
    page = client.get("/account").get_data(as_text=True)
    assert "You are now responding as an individual. Your contributions are published with your name." in page
    assert "As an individual" in page


def test_saving_the_same_answers_again_says_they_are_unchanged(client, jane) -> None:
    client.post(PAGE, data=answers(publish_as="private"))
    client.get("/account")
    client.post(PAGE, data=answers(publish_as="private"))
    assert "Your answers are unchanged." in client.get("/account").get_data(as_text=True)
    assert len(events("account.publication_changed")) == 1


@pytest.mark.parametrize(
    ("sent", "field", "message"),
    [
        ({"responding_as": ""}, "responding_as", "Say whether you are responding as an individual or for an organisation"),
        ({"responding_as": "a company"}, "responding_as", "Say whether you are responding as an individual or for an organisation"),
        ({"responding_as": "organisation"}, "organisation", "Enter the name of the organisation you are responding for"),
        ({"responding_as": "organisation", "organisation": "x" * 201}, "organisation", "200 characters or fewer"),
        ({"publish_as": ""}, "publish_as", "Choose how your contributions are published"),
        ({"publish_as": "everyone"}, "publish_as", "Choose how your contributions are published"),
    ],
)
def test_a_bad_answer_gets_a_message_beside_its_field_and_saves_nothing(client, jane, sent, field, message) -> None:
    response = client.post(PAGE, data=answers(**sent))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert page.count(message) == 2  # in the error summary and beside the field
    assert f'id="{field}-error"' in page
    assert "<title>Error: About you" in page
    person = fresh(User, jane.id)
    assert (person.responding_as, person.publish_as) == (None, "name")
    assert events("account.publication_changed") == []


def test_the_account_page_and_navigation_lead_to_about_you(client, jane) -> None:
    page = client.get("/account").get_data(as_text=True)
    assert "Not answered yet" in page
    assert page.count('href="/account/about-you"') >= 3  # two "Change" links and the account navigation


def test_about_you_is_for_signed_in_people(client) -> None:
    response = client.get(PAGE)
    assert response.status_code == 302 and "/auth/login" in response.headers["Location"]
    sent = client.post(PAGE, data=answers(publish_as="anonymous"))
    assert sent.status_code in (302, 303) and "/auth/login" in sent.headers["Location"]


def test_a_post_without_its_csrf_token_changes_nothing(client, jane) -> None:
    response = client.post(PAGE, data=answers(publish_as="anonymous"), csrf=False)
    assert response.status_code == 400
    assert fresh(User, jane.id).publish_as == "name"
