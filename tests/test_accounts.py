"""Your account (name, email, password, deletion) and administrators managing accounts."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from workbench.accounts import services
from workbench.mail import read_outbox
from workbench.models import AuditEvent, Comment, Element, Role, User, db
from workbench.exceptions import NotAllowed, ValidationError

from .conftest import TEST_PASSWORD

NEW_PASSWORD = "a brand new passphrase"


pytestmark = pytest.mark.usefixtures("fresh_g_per_request")  # conftest: forget `g` after each request


def outbox(app) -> list:
    return read_outbox(app.config["MAIL_OUTBOX"])


def link_in(message, path: str) -> str:
    match = re.search(r"https?://[^/\s]+(" + re.escape(path) + r"[^\s]*)", message.get_content())
    assert match, message.get_content()
    return match.group(1)


def fresh_client(app, **cookies):
    from .conftest import WorkbenchClient

    app.test_client_class = WorkbenchClient
    other = app.test_client()
    for name, value in cookies.items():
        other.set_cookie(name, value)
    return other


def is_signed_in(client) -> bool:
    return client.get("/account").status_code == 200


def sign_in(client, email: str, password: str = TEST_PASSWORD, **extra):
    return client.post("/auth/login", data={"email": email, "password": password, **extra})


def events(user_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "user", AuditEvent.subject_id == user_id).order_by(AuditEvent.id)
        )
    )


# --- your account ---------------------------------------------------------------------------------


def test_the_account_page_shows_your_details(client, make_user, login_as):
    login_as(make_user(Role.FACILITATOR, email="fay@example.org", name="Fay <b>Bold</b>"))
    page = client.get("/account").get_data(as_text=True)
    assert "<h1" in page and "Your account" in page
    assert "fay@example.org" in page and "Facilitator" in page
    assert "Fay &lt;b&gt;Bold&lt;/b&gt;" in page and "<b>Bold</b>" not in page
    assert 'href="/account/name"' in page and 'href="/account/delete"' in page


def test_anonymous_visitors_are_asked_to_sign_in(client):
    response = client.get("/account")
    assert response.status_code == 302 and response.headers["Location"] == "/auth/login?next=/account"


def test_change_display_name(client, make_user, login_as):
    user = login_as(make_user(name="Old Name"))
    response = client.post("/account/name", data={"display_name": "  New\u00a0 Name "})
    assert response.status_code == 303
    assert db.session.get(User, user.id).display_name == "New Name"
    assert "Your display name is now New Name." in client.get("/account").get_data(as_text=True)
    assert events(user.id) == ["account.display_name_changed"]


@pytest.mark.parametrize(
    "name, message",
    [
        ("", "Enter a display name"),
        ("   ", "Enter a display name"),
        ("x" * 81, "80 characters or fewer"),
        ("Admin\u202e", "hidden or control characters"),
        ("Zero\u200bWidth", "hidden or control characters"),
        ("Nul\x00Byte", "hidden or control characters"),
        ("Bell\x07", "hidden or control characters"),
    ],
)
def test_bad_display_names_get_a_message_beside_the_field(client, make_user, login_as, name, message):
    user = login_as(make_user(name="Kept Name"))
    response = client.post("/account/name", data={"display_name": name})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert 'id="display_name-error"' in page and message in page
    assert db.session.get(User, user.id).display_name == "Kept Name"


def test_display_names_are_nfc(client, make_user, login_as):
    user = login_as(make_user())
    client.post("/account/name", data={"display_name": "Zoe\u0301"})
    assert db.session.get(User, user.id).display_name == "Zo\u00e9"


def test_change_email_needs_the_password_and_a_link_from_the_new_address(app, client, make_user, login_as):
    user = login_as(make_user(email="old@example.org", name="Em"))
    wrong = client.post("/account/email", data={"email": "new@example.org", "current_password": "nope nope"})
    assert wrong.status_code == 400 and "not right" in wrong.get_data(as_text=True)
    assert outbox(app) == []

    response = client.post("/account/email", data={"email": " NEW@example.org ", "current_password": TEST_PASSWORD})
    assert response.status_code == 303
    assert db.session.get(User, user.id).email == "old@example.org"  # not until confirmed
    [message] = outbox(app)
    assert message["To"] == "new@example.org"
    link = link_in(message, "/account/email/")
    assert "new@example.org" in client.get(link).get_data(as_text=True)
    assert client.post(link).status_code == 303
    assert db.session.get(User, user.id).email == "new@example.org"
    notice = outbox(app)[-1]
    assert notice["To"] == "old@example.org" and "new@example.org" in notice.get_content()
    assert events(user.id) == ["account.email_changed"]
    # The link works once.
    assert client.get(link).status_code == 400


def test_change_email_to_a_taken_address_answers_the_same_and_tells_its_owner(app, client, make_user, login_as):
    make_user(email="taken@example.org")
    login_as(make_user(email="mine@example.org"))
    taken = client.post("/account/email", data={"email": "taken@example.org", "current_password": TEST_PASSWORD})
    free = client.post("/account/email", data={"email": "free@example.org", "current_password": TEST_PASSWORD})
    assert taken.status_code == free.status_code == 303
    assert taken.headers["Location"] == free.headers["Location"]
    first, second = outbox(app)
    assert first["To"] == "taken@example.org" and "/account/email/" not in first.get_content()
    assert second["To"] == "free@example.org" and "/account/email/" in second.get_content()


def test_an_email_link_for_another_account_does_not_work(app, client, make_user, login_as):
    login_as(make_user(email="one@example.org"))
    client.post("/account/email", data={"email": "fresh@example.org", "current_password": TEST_PASSWORD})
    link = link_in(outbox(app)[-1], "/account/email/")
    other = make_user(email="two@example.org")
    login_as(other)
    assert client.post(link).status_code == 400
    assert db.session.get(User, other.id).email == "two@example.org"


def test_change_password_keeps_this_browser_and_signs_out_the_others(app, client, make_user):
    user = make_user(email="pw@example.org")
    elsewhere = fresh_client(app)
    sign_in(elsewhere, "pw@example.org", remember="y")
    copied_session = elsewhere.get_cookie("session").value
    copied_remember = elsewhere.get_cookie("remember_token").value
    sign_in(client, "pw@example.org", remember="y")
    old_remember = client.get_cookie("remember_token").value

    response = client.post("/account/password", data={"current_password": TEST_PASSWORD, "new_password": NEW_PASSWORD})
    assert response.status_code == 303
    assert is_signed_in(client)
    assert client.get_cookie("remember_token").value != old_remember  # renewed with the new token
    assert is_signed_in(fresh_client(app, remember_token=client.get_cookie("remember_token").value))
    assert not is_signed_in(elsewhere)
    assert not is_signed_in(fresh_client(app, session=copied_session))
    assert not is_signed_in(fresh_client(app, remember_token=copied_remember))
    assert sign_in(fresh_client(app), "pw@example.org", NEW_PASSWORD).status_code == 303
    assert outbox(app)[-1]["Subject"] == "Your password was changed"
    assert events(user.id) == ["account.password_changed"]


@pytest.mark.parametrize(
    "current, new, field, message",
    [
        ("wrong password", NEW_PASSWORD, "current_password", "not right"),
        (TEST_PASSWORD, "short", "new_password", "at least 8"),
        (TEST_PASSWORD, "password123", "new_password", "too common"),
        (TEST_PASSWORD, "pw2@example.org", "new_password", "must not be your email"),
    ],
)
def test_change_password_refusals(client, make_user, login_as, current, new, field, message):
    user = login_as(make_user(email="pw2@example.org"))
    before = user.password_hash
    response = client.post("/account/password", data={"current_password": current, "new_password": new})
    assert response.status_code == 400
    page = response.get_data(as_text=True)
    assert f'id="{field}-error"' in page and message in page
    assert db.session.get(User, user.id).password_hash == before


def test_delete_my_account_keeps_contributions_as_a_former_participant(app, client, make_user, make_vision):
    vision = make_vision()
    user = make_user(email="leaving@example.org", name="Lee Leaving")
    element_id = db.session.scalar(select(func.min(Element.id)).where(Element.vision_id == vision.id))
    comment = Comment(vision_id=vision.id, element_id=element_id, author_id=user.id, body="My view.")
    db.session.add(comment)
    db.session.commit()
    sign_in(client, "leaving@example.org", remember="y")
    copied = client.get_cookie("remember_token").value

    refused = client.post("/account/delete", data={"current_password": TEST_PASSWORD})
    assert refused.status_code == 400 and "Tick the box" in refused.get_data(as_text=True)
    assert not db.session.get(User, user.id).is_deleted

    response = client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"})
    assert response.status_code == 303
    gone = db.session.get(User, user.id)
    assert gone.is_deleted and gone.email is None and gone.display_name == "" and gone.password_hash == ""
    assert gone.public_name == "a former participant"
    assert db.session.get(Comment, comment.id).author_id == user.id  # the contribution stays
    assert not is_signed_in(client)
    assert not is_signed_in(fresh_client(app, remember_token=copied))
    assert sign_in(client, "leaving@example.org").status_code == 400
    assert events(user.id) == ["account.deleted"]
    # The address is free for a new account.
    client.post("/auth/register", data={"email": "leaving@example.org"})
    assert "/auth/register/" in outbox(app)[-1].get_content()


def test_delete_needs_the_right_password(client, make_user, login_as):
    user = login_as(make_user())
    response = client.post("/account/delete", data={"current_password": "not mine", "confirm": "y"})
    assert response.status_code == 400 and "not right" in response.get_data(as_text=True)
    assert not db.session.get(User, user.id).is_deleted


def test_the_last_admin_cannot_delete_their_account(client, make_user, login_as):
    admin = login_as(make_user(Role.ADMIN))
    response = client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"})
    assert response.status_code == 400 and "only active administrator" in response.get_data(as_text=True)
    assert not db.session.get(User, admin.id).is_deleted


# --- administrators -------------------------------------------------------------------------------


def test_admins_see_the_accounts_link_and_others_do_not(client, make_user, login_as):
    login_as(make_user(Role.FACILITATOR))
    assert 'href="/admin/accounts"' not in client.get("/").get_data(as_text=True)
    login_as(make_user(Role.ADMIN))
    page = client.get("/").get_data(as_text=True)
    assert 'href="/admin/accounts"' in page and ">Accounts<" in page


def test_the_account_list_searches_and_filters(client, make_user, login_as):
    login_as(make_user(Role.ADMIN, email="boss@example.org", name="The Boss"))
    make_user(email="ann@example.org", name="Ann Able")
    make_user(Role.FACILITATOR, email="bob@sample.org", name="Bob 100%_Sure")
    page = client.get("/admin/accounts?q=ANN").get_data(as_text=True)
    assert "Ann Able" in page and "Bob" not in page and "1 account matching" in page
    page = client.get("/admin/accounts?q=sample.org").get_data(as_text=True)
    assert "Bob" in page and "Ann Able" not in page
    page = client.get("/admin/accounts?q=%25_").get_data(as_text=True)  # no wildcards, and no words
    assert "Bob" not in page and "Ann Able" not in page and "has no words to search for" in page
    page = client.get("/admin/accounts?role=facilitator").get_data(as_text=True)
    assert "Bob" in page and "Ann Able" not in page
    page = client.get("/admin/accounts?q=nobody-at-all").get_data(as_text=True)
    assert "No account matches" in page


@pytest.mark.parametrize(
    "query",
    ["sort=email", "role=superuser", "role=admin%27--", "q=%00", "q=%ff%fe", "page=-1", "page=abc", "page=99999999999999999999", "q=" + "x" * 5000],
)
def test_the_account_list_shrugs_off_odd_parameters(client, make_user, login_as, query):
    login_as(make_user(Role.ADMIN))
    response = client.get(f"/admin/accounts?{query}")
    assert response.status_code == 200
    assert "Accounts" in response.get_data(as_text=True)


def test_the_account_list_is_paginated_with_a_fixed_number_of_queries(client, make_user, login_as, count_queries):
    login_as(make_user(Role.ADMIN))
    with count_queries() as small:
        client.get("/admin/accounts")
    for n in range(60):
        db.session.add(User(email=f"bulk{n}@example.org", display_name=f"Bulk {n}", password_hash="x"))
    db.session.commit()
    with count_queries() as large:
        page = client.get("/admin/accounts?last=1").get_data(as_text=True)
    assert large.count == small.count
    assert "61 accounts, newest first: this page shows 25, to the oldest" in page
    assert 'class="ds_pagination"' in page and 'rel="first"' in page
    assert page.count("<tr>") == 26  # header and 25 rows


def test_changing_a_role_is_recorded(client, make_user, login_as):
    admin = login_as(make_user(Role.ADMIN))
    volunteer = make_user(name="Vic Volunteer")
    response = client.post(f"/admin/accounts/{volunteer.id}/role", data={"role": "facilitator"})
    assert response.status_code == 303
    assert db.session.get(User, volunteer.id).role == "facilitator"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "account.role_changed"))
    assert event.actor_id == admin.id and event.details == {"old": "volunteer", "new": "facilitator"}
    page = client.get(f"/admin/accounts/{volunteer.id}").get_data(as_text=True)
    assert "Vic Volunteer is now a facilitator." in page
    assert "role changed from volunteer to facilitator" in page


def test_an_unknown_role_is_refused(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    volunteer = make_user()
    response = client.post(f"/admin/accounts/{volunteer.id}/role", data={"role": "superuser"})
    assert response.status_code == 400
    assert "Choose volunteer, facilitator or administrator" in response.get_data(as_text=True)
    assert db.session.get(User, volunteer.id).role == "volunteer"


def test_nobody_can_demote_or_deactivate_the_last_active_admin(client, make_user, login_as):
    admin = login_as(make_user(Role.ADMIN))
    response = client.post(f"/admin/accounts/{admin.id}/role", data={"role": "volunteer"})
    assert response.status_code == 400 and "only active administrator" in response.get_data(as_text=True)
    assert db.session.get(User, admin.id).role == "admin"
    # With a second admin, the first may step down; then the second is the last one.
    second = make_user(Role.ADMIN)
    assert client.post(f"/admin/accounts/{admin.id}/role", data={"role": "volunteer"}).status_code == 303
    assert db.session.get(User, admin.id).role == "volunteer"
    login_as(second)
    assert client.post(f"/admin/accounts/{second.id}/role", data={"role": "facilitator"}).status_code == 400


def test_a_deactivated_admin_does_not_count_as_active(app, make_user):
    first, second = make_user(Role.ADMIN), make_user(Role.ADMIN)
    services.deactivate_account(first, second)
    with pytest.raises(ValidationError):
        services.change_role(first, first, "volunteer")
    services.reactivate_account(first, second)
    assert services.change_role(first, first, "volunteer")


def test_deactivate_and_reactivate(app, client, make_user, login_as):
    admin = make_user(Role.ADMIN)
    person = make_user(email="person@example.org")
    sign_in(client, "person@example.org")
    person_session = client.get_cookie("session").value

    login_as(admin)
    assert client.post(f"/admin/accounts/{person.id}/deactivate").status_code == 303
    assert db.session.get(User, person.id).is_deactivated
    assert not is_signed_in(fresh_client(app, session=person_session))
    assert client.post(f"/admin/accounts/{person.id}/reactivate").status_code == 303
    assert not db.session.get(User, person.id).is_deactivated
    # Reactivating does not revive the old session: its token was replaced.
    assert not is_signed_in(fresh_client(app, session=person_session))
    assert events(person.id) == ["account.deactivated", "account.reactivated"]


def test_deactivating_an_account_asks_first_on_its_own_page(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    person = make_user(email="person@example.org", name="Pat Person")
    account_page = client.get(f"/admin/accounts/{person.id}").get_data(as_text=True)
    assert f'href="/admin/accounts/{person.id}/deactivate"' in account_page
    assert f'action="/admin/accounts/{person.id}/deactivate"' not in account_page  # no one-click deactivation

    response = client.get(f"/admin/accounts/{person.id}/deactivate")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Deactivate Pat Person's account?" in page and "signed out everywhere" in page
    assert f'action="/admin/accounts/{person.id}/deactivate"' in page and "No, go back" in page
    assert not db.session.get(User, person.id).is_deactivated  # asking changes nothing

    assert client.post(f"/admin/accounts/{person.id}/deactivate").status_code == 303
    assert db.session.get(User, person.id).is_deactivated
    # Already done: the confirmation page sends back to the account, saying so.
    again = client.get(f"/admin/accounts/{person.id}/deactivate")
    assert again.status_code == 303
    assert "already deactivated" in client.get(again.headers["Location"]).get_data(as_text=True)


def test_only_admins_see_the_deactivation_page_and_not_for_themselves(client, make_user, login_as):
    admin = make_user(Role.ADMIN)
    person = make_user()
    login_as(make_user(Role.FACILITATOR))
    assert client.get(f"/admin/accounts/{person.id}/deactivate").status_code == 403
    login_as(admin)
    assert client.get(f"/admin/accounts/{admin.id}/deactivate").status_code == 403
    assert client.get("/admin/accounts/424242/deactivate").status_code == 404


def test_admins_cannot_deactivate_themselves(client, make_user, login_as):
    admin = login_as(make_user(Role.ADMIN))
    make_user(Role.ADMIN)
    assert client.post(f"/admin/accounts/{admin.id}/deactivate").status_code == 403
    assert not db.session.get(User, admin.id).is_deactivated


def test_a_deleted_account_cannot_be_changed(client, make_user, login_as):
    login_as(make_user(Role.ADMIN))
    gone = make_user()
    gone.is_deleted, gone.email, gone.display_name = True, None, ""
    db.session.commit()
    page = client.get(f"/admin/accounts/{gone.id}").get_data(as_text=True)
    assert "a former participant" in page
    assert client.post(f"/admin/accounts/{gone.id}/role", data={"role": "admin"}).status_code == 403
    assert client.post(f"/admin/accounts/{gone.id}/deactivate").status_code == 403


@pytest.mark.parametrize("path", ["/admin/accounts/0", "/admin/accounts/-1", "/admin/accounts/abc", "/admin/accounts/99999999999999999999", "/admin/accounts/424242"])
def test_bad_account_ids_are_404(client, make_user, login_as, path):
    login_as(make_user(Role.ADMIN))
    assert client.get(path).status_code == 404


def test_services_refuse_people_who_are_not_admins(make_user):
    facilitator, volunteer = make_user(Role.FACILITATOR), make_user()
    with pytest.raises(NotAllowed):
        services.change_role(facilitator, volunteer, "admin")
    with pytest.raises(NotAllowed):
        services.deactivate_account(facilitator, volunteer)


def test_extra_form_fields_change_nothing(client, make_user, login_as):
    user = login_as(make_user())
    client.post("/account/name", data={"display_name": "Still Me", "role": "admin", "is_deactivated": "1", "email": "x@evil.example"})
    fresh = db.session.get(User, user.id)
    assert (fresh.display_name, fresh.role, fresh.email) == ("Still Me", "volunteer", user.email)


def test_two_accounts_moving_to_one_address_at_once(app, make_user, monkeypatch):
    """The check-then-update race: the unique address refuses the second move with a message."""
    from workbench.auth import services as auth_services

    first, second = make_user(email="first@example.org"), make_user(email="second@example.org")
    with app.test_request_context("/"):
        token = services._email_serializer().dumps({"user": second.id, "from": "second@example.org", "to": "wanted@example.org"})
        first.email = "wanted@example.org"
        db.session.commit()
        monkeypatch.setattr(auth_services, "email_in_use", lambda address: False)
        with pytest.raises(ValidationError) as refused:
            services.confirm_email_change(second, token)
    assert "Another account now uses this email address" in str(refused.value)
    db.session.rollback()
    assert db.session.get(User, second.id).email == "second@example.org"


def test_deleting_an_account_removes_its_contact_details_from_aligned_work(client, make_user, make_vision):
    from workbench.aligned.services import submit_aligned_work
    from workbench.models import AlignedWork, Element

    vision = make_vision()
    user = make_user(email="org@example.org", name="Org Person")
    element_id = db.session.scalar(select(Element.id).where(Element.vision_id == vision.id, Element.key == "objective-1"))
    work = submit_aligned_work(
        vision, user, organisation="Data Trust", title="Open registers", description="We publish registers.",
        status="current", link="", contact="person@datatrust.example", element_ids=[element_id],
    )
    db.session.commit()
    sign_in(client, "org@example.org")
    assert client.post("/account/delete", data={"current_password": TEST_PASSWORD, "confirm": "y"}).status_code == 303
    kept = db.session.get(AlignedWork, work.id)
    assert kept.title == "Open registers" or kept.pending["title"] == "Open registers"
    assert kept.contact == "" and (kept.pending or {}).get("contact", "") == ""
