"""Signing in and out, registering, resetting a password: open to everyone.

Signed-in people asking for the sign-in or registration pages are sent on (a redirect that is not to
the sign-in page), which the matrix counts as allowed. Links with a made-up token answer a 400 page
that says the link does not work.
"""

from . import EVERYONE, Rule

RULES = [
    Rule("auth.login", "GET", "/auth/login", EVERYONE),
    Rule("auth.login", "POST", "/auth/login", EVERYONE, data={"email": "nobody@example.org", "password": "wrong password"}),
    Rule("auth.logout", "POST", "/auth/logout", EVERYONE, note="signing out when signed out is harmless"),
    Rule("auth.register", "GET", "/auth/register", EVERYONE),
    Rule("auth.register", "POST", "/auth/register", EVERYONE, data={"email": "new-person@example.org"}),
    Rule("auth.check_email", "GET", "/auth/check-email", EVERYONE),
    Rule("auth.finish_registration", "GET", "/auth/register/{token}", EVERYONE),
    Rule("auth.finish_registration", "POST", "/auth/register/{token}", EVERYONE, data={"display_name": "X", "password": "long enough password"}),
    Rule("auth.request_reset", "GET", "/auth/reset", EVERYONE),
    Rule("auth.request_reset", "POST", "/auth/reset", EVERYONE, data={"email": "author@example.org"}),
    Rule("auth.reset_password", "GET", "/auth/reset/{token}", EVERYONE),
    Rule("auth.reset_password", "POST", "/auth/reset/{token}", EVERYONE, data={"password": "long enough password"}),
]
