"""The pages that explain the service, and the account links in the header."""

from __future__ import annotations

import pytest

from workbench.models import Role


pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request


def test_the_about_page_explains_the_service_in_plain_words(client):
    response = client.get("/about")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1 class=\"ds_page-header__title\">About Vision Workbench</h1>" in page
    for words in ("Without an account", "propose a change", "permanent link", "How decisions are made", 'href="/privacy"', 'href="/auth/register"'):
        assert words in page


def test_the_privacy_page_says_what_is_stored_and_why(client):
    response = client.get("/privacy")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "<h1 class=\"ds_page-header__title\">Privacy: what we store and why</h1>" in page
    for words in ("Your email address", "Your display name", "argon2", "remember_token", "a former participant", 'href="/account/delete"', "Cookies"):
        assert words in page


def test_the_footer_links_to_both(client):
    page = client.get("/").get_data(as_text=True)
    assert 'href="/privacy"' in page and 'href="/about"' in page


def test_the_health_check_still_answers(client):
    response = client.get("/health")
    assert response.status_code == 200 and response.get_data(as_text=True) == "ok\n"


def test_header_links_for_visitors(client):
    page = client.get("/about").get_data(as_text=True)
    assert 'href="/auth/login">Sign in<' in page and 'href="/auth/register">Register<' in page
    assert "Sign out" not in page and "Your account" not in page


@pytest.mark.parametrize(
    "role, sees_accounts",
    [(Role.VOLUNTEER, False), (Role.FACILITATOR, False), (Role.ADMIN, True)],
)
def test_header_links_for_members(client, make_user, login_as, role, sees_accounts):
    login_as(make_user(role))
    page = client.get("/about").get_data(as_text=True)
    assert 'href="/account">Your account<' in page
    assert '<form class="app-account-nav__form" method="post" action="/auth/logout">' in page
    assert ('href="/admin/accounts">Accounts<' in page) is sees_accounts
    assert "Sign in<" not in page
