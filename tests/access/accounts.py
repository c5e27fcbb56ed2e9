"""Your account: members only. Account management: administrators only. Unsubscribe links: the
signed token decides, not the signed-in person."""

from workbench.notifications.kinds import KINDS

from . import ADMINS, MEMBERS, NOBODY, Rule

RULES = [
    Rule("accounts.account", "GET", "/account", MEMBERS),
    Rule("accounts.your_activity", "GET", "/account/activity", MEMBERS),
    Rule("accounts.change_name", "GET", "/account/name", MEMBERS),
    Rule("accounts.change_name", "POST", "/account/name", MEMBERS, data={"display_name": "A new name"}),
    Rule("accounts.change_email", "GET", "/account/email", MEMBERS),
    Rule("accounts.change_email", "POST", "/account/email", MEMBERS, data={"email": "other@example.org", "current_password": "wrong"}),
    Rule("accounts.confirm_email", "GET", "/account/email/{token}", MEMBERS, note="a made-up link: 400 page for members"),
    Rule("accounts.confirm_email", "POST", "/account/email/{token}", MEMBERS),
    Rule("accounts.change_password", "GET", "/account/password", MEMBERS),
    Rule("accounts.change_password", "POST", "/account/password", MEMBERS, data={"current_password": "wrong", "new_password": "x"}),
    Rule("accounts.delete_account", "GET", "/account/delete", MEMBERS),
    Rule("accounts.delete_account", "POST", "/account/delete", MEMBERS, data={"current_password": "wrong"}),
    Rule("accounts.email_choices", "GET", "/account/emails", MEMBERS),
    Rule("accounts.email_choices", "POST", "/account/emails", MEMBERS, data=dict.fromkeys(KINDS, "daily")),
    Rule(
        "accounts.unsubscribe", "GET", "/account/unsubscribe/{token}", NOBODY,
        note="a made-up link: 404 for everyone; a signed one works for anyone, signed in or not (test_notifications_mail.py)",
    ),
    Rule(
        "accounts.unsubscribe", "POST", "/account/unsubscribe/{token}", NOBODY,
        note="a made-up link: 404 for everyone, nothing changed; a signed one stops its mail without a session or CSRF token",
    ),
    Rule("accounts.admin_accounts", "GET", "/admin/accounts", ADMINS),
    Rule("accounts.admin_account", "GET", "/admin/accounts/{user}", ADMINS),
    Rule("accounts.admin_change_role", "POST", "/admin/accounts/{user}/role", ADMINS, data={"role": "facilitator"}),
    Rule("accounts.admin_deactivate", "GET", "/admin/accounts/{user}/deactivate", ADMINS, note="asks to confirm"),
    Rule("accounts.admin_deactivate", "POST", "/admin/accounts/{user}/deactivate", ADMINS),
    Rule("accounts.admin_reactivate", "POST", "/admin/accounts/{user}/reactivate", ADMINS),
]
RULES += [
    Rule("accounts.about_you", "GET", "/account/about-you", MEMBERS),
    Rule("accounts.about_you", "POST", "/account/about-you", MEMBERS, data={"responding_as": "individual", "publish_as": "anonymous"}),
]
