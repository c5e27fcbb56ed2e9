"""Your account: members only. Account management: administrators only."""

from . import ADMINS, MEMBERS, Rule

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
    Rule("accounts.admin_accounts", "GET", "/admin/accounts", ADMINS),
    Rule("accounts.admin_account", "GET", "/admin/accounts/{user}", ADMINS),
    Rule("accounts.admin_change_role", "POST", "/admin/accounts/{user}/role", ADMINS, data={"role": "facilitator"}),
    Rule("accounts.admin_deactivate", "GET", "/admin/accounts/{user}/deactivate", ADMINS, note="asks to confirm"),
    Rule("accounts.admin_deactivate", "POST", "/admin/accounts/{user}/deactivate", ADMINS),
    Rule("accounts.admin_reactivate", "POST", "/admin/accounts/{user}/reactivate", ADMINS),
]
