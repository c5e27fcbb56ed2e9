"""Your account page (with your email choices), unsubscribe links, and the administrators' account management.

Every route but the unsubscribe link (whose signed token is the proof) is for signed-in people:
`@members_only` sends anyone else to sign in and back. Refusals go to the application's error
handlers; a route catches only the ValidationError whose messages it shows on its form (`attempt`).
"""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user
from flask_wtf import FlaskForm

from .. import outbox, permissions
from ..auth.redirects import members_only
from ..auth.sessions import remember_cookie_present, sign_in
from ..exceptions import NotAllowed
from ..forms import attempt
from ..limits import per_account
from ..extensions import csrf
from ..models import User, db
from ..notifications import choices, mails
from ..notifications.kinds import HOW_WORDS, KINDS
from ..keyset import Seek
from ..pagination import parse_page, seek_links
from . import activity, services
from ..publication import PUBLICATION_SUMMARY, PUBLISH_CHOICES, RESPONDING_AS
from .about_you import save_about_you
from .forms import AboutYouForm, ConfirmForm, DeleteAccountForm, DisplayNameForm, EmailChoicesForm, EmailForm, PasswordForm, RoleForm

bp = Blueprint("accounts", __name__)


def _me() -> User:
    return current_user._get_current_object()  # type: ignore[attr-defined]


def _status(form: FlaskForm) -> int:
    """200 for a form shown; 400 for one sent back with messages."""
    return 400 if form.is_submitted() else 200


# --- stopping mail from a link in it (no need to sign in) ---------------------------------------


@bp.route("/account/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # the signed token is the proof; mail programs post here without a form (RFC 8058)
def unsubscribe(token: str):
    """GET: what the link stops, and a button; POST (the button, or a mail program's one-click
    `List-Unsubscribe=One-Click`): stop it."""
    found = mails.read_unsubscribe_token(token)
    person = db.session.get(User, found[0]) if found else None
    if found is None or person is None or person.is_deleted:
        return render_template("accounts/unsubscribe.html", valid=False), 404
    what = found[1]
    stops = "the daily email" if what == mails.DIGEST else f"emails about {mails.kind_in_words(what)}"
    if request.method == "POST":
        choices.stop_mail(person, what)
        db.session.commit()
        return render_template("accounts/unsubscribe.html", valid=True, done=True, stops=stops)
    return render_template("accounts/unsubscribe.html", valid=True, done=False, stops=stops, token=token)


# --- your account ---------------------------------------------------------------------------------


@bp.get("/account")
@members_only
def account():
    me = _me()
    return render_template(
        "accounts/account.html", user=me, role_names=services.ROLE_NAMES, publication=PUBLICATION_SUMMARY,
        email_choices=choices.email_choices(me), kinds=KINDS, how_words=HOW_WORDS,
    )


@bp.route("/account/emails", methods=["GET", "POST"])
@members_only
def email_choices():
    """How to be emailed about each kind of notification: straight away, in a daily email, or not."""
    me = _me()
    form = EmailChoicesForm() if request.method == "POST" else EmailChoicesForm(data=choices.email_choices(me))
    if form.validate_on_submit():
        changed = attempt(form, lambda: choices.choose_email(me, {name: form[name].data for name in KINDS}))
        if changed is not None:
            db.session.commit()
            flash("Your email choices are saved." if changed else "Your email choices are unchanged.", "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/emails.html", form=form, kinds=KINDS, how_words=HOW_WORDS), _status(form)


ACTIVITY_SECTIONS = ("proposals", "comments", "votes")


@bp.get("/account/activity")
@members_only
def your_activity():
    """Your proposals, comments and reflections, and votes: each section a page at a time, with
    its own `<section>_page` parameter, so that moving through one keeps the others where they are."""
    me = _me()
    pages = {name: parse_page(request.args.get(f"{name}_page")) for name in ACTIVITY_SECTIONS}

    def page_url(section: str):
        def url(number: int) -> str:
            kept = {f"{name}_page": page for name, page in pages.items() if name != section and page > 1}
            here = {f"{section}_page": number} if number > 1 else {}
            return url_for("accounts.your_activity", **kept, **here) + f"#your-{section}"

        return url

    return render_template(
        "accounts/activity.html",
        proposals=activity.your_proposals(me, pages["proposals"]),
        comments=activity.your_comments(me, pages["comments"]),
        votes=activity.your_votes(me, pages["votes"]),
        page_url=page_url,
    )


@bp.route("/account/name", methods=["GET", "POST"])
@members_only
def change_name():
    form = DisplayNameForm()
    if request.method == "GET":
        form.display_name.data = _me().display_name
    if form.validate_on_submit():
        changed = attempt(form, lambda: services.change_display_name(_me(), form.display_name.data))
        if changed is not None:
            db.session.commit()
            flash(f"Your display name is now {_me().display_name}." if changed else "Your display name is unchanged.", "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/change_name.html", form=form), _status(form)


@bp.route("/account/about-you", methods=["GET", "POST"])
@members_only
def about_you():
    """Whether you respond as an individual or for an organisation, and how your contributions are
    published (with your name, without it, or not at all): for what you wrote before too."""
    me = _me()
    form = AboutYouForm() if request.method == "POST" else AboutYouForm.filled_with(me)
    if form.validate_on_submit():
        before = (me.responding_as, me.organisation, me.publish_as)
        changed = attempt(
            form, lambda: save_about_you(me, form.responding_as.data, form.organisation.data, form.publish_as.data)
        )
        if changed is not None:
            db.session.commit()
            flash(services.about_you_saved_words(before, me), "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template(
        "accounts/about_you.html", form=form, responding_as=RESPONDING_AS, publish_choices=PUBLISH_CHOICES,
    ), (422 if form.is_submitted() else 200)


@bp.route("/account/email", methods=["GET", "POST"])
@members_only
@per_account("RATELIMIT_PASSWORD_CHECK")
def change_email():
    form = EmailForm()
    if form.validate_on_submit():
        sent = attempt(form, lambda: services.request_email_change(_me(), form.email.data, form.current_password.data))
        if sent is not None:
            address, message = sent
            outbox.queue(message)
            db.session.commit()
            flash(
                f"We have sent an email to {address}. Open the link in it within 1 hour to confirm your new "
                "email address. Until then your account keeps its current address.",
                "info",
            )
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/change_email.html", form=form), _status(form)


@bp.route("/account/email/<token>", methods=["GET", "POST"])
@members_only
def confirm_email(token: str):
    change = services.read_email_change(_me(), token)
    if change is None:
        return render_template("auth/link_problem.html", purpose="email"), 400
    form = ConfirmForm()
    if form.validate_on_submit():
        notice = attempt(form, lambda: services.confirm_email_change(_me(), token))
        if notice is not None:
            outbox.queue(notice, user=_me())
            db.session.commit()
            flash(f"Your email address is now {_me().email}.", "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/confirm_email.html", form=form, change=change), _status(form)


@bp.route("/account/password", methods=["GET", "POST"])
@members_only
@per_account("RATELIMIT_PASSWORD_CHECK")
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        notice = attempt(form, lambda: services.change_password(_me(), form.current_password.data, form.new_password.data))
        if notice is not None:
            outbox.queue(notice, user=_me())
            db.session.commit()
            # The session token changed: sign this browser in again with the new one (and renew its
            # remember-me cookie if it had one); every other browser is now signed out.
            sign_in(_me(), remember=remember_cookie_present())
            flash("Your password has been changed. Any other browser signed in to your account has been signed out.", "success")
            return redirect(url_for("accounts.account"), 303)
    return render_template("accounts/change_password.html", form=form), _status(form)


@bp.route("/account/delete", methods=["GET", "POST"])
@members_only
@per_account("RATELIMIT_PASSWORD_CHECK")
def delete_account():
    form = DeleteAccountForm()
    if form.validate_on_submit():
        deleted = attempt(form, lambda: services.delete_account(_me(), form.current_password.data, bool(form.confirm.data)))
        if deleted is not None:
            db.session.commit()
            session.clear()
            logout_user()
            flash(
                "Your account has been deleted. What you contributed stays, shown as by a former participant.",
                "success",
            )
            return redirect(url_for("visions.index"), 303)
    return render_template("accounts/delete.html", form=form), _status(form)


# --- administrators -------------------------------------------------------------------------------


def _admin_only() -> None:
    if not permissions.can_manage_accounts(current_user):
        raise NotAllowed()


def _account_or_404(user_id: int) -> User:
    account = db.session.get(User, user_id)
    if account is None:
        abort(404)
    return account


@bp.get("/admin/accounts")
@members_only
def admin_accounts():
    """Every account, newest first, a page at a time; a search by email address or the words of names
    and addresses; a role filter. Filters it cannot use are said beside their field."""
    _admin_only()
    filters = services.AccountFilters.parse(request.args)
    return render_template(
        "accounts/admin_list.html",
        listing=services.list_accounts(filters, Seek.parse(request.args)),
        role_names=services.ROLE_NAMES,
        page_url=seek_links("accounts.admin_accounts", q=filters.query, role=filters.role),
    )


def _render_admin_account(account: User, role_form: RoleForm | None = None, action_form: ConfirmForm | None = None, status: int = 200):
    if role_form is None:
        role_form = RoleForm(formdata=None, role=account.role)
    return (
        render_template(
            "accounts/admin_account.html",
            account=account,
            role_form=role_form,
            action_form=action_form or ConfirmForm(formdata=None),
            history=services.account_history(account),
            role_names=services.ROLE_NAMES,
        ),
        status,
    )


@bp.get("/admin/accounts/<posint:user_id>")
@members_only
def admin_account(user_id: int):
    _admin_only()
    return _render_admin_account(_account_or_404(user_id))


@bp.post("/admin/accounts/<posint:user_id>/role")
@members_only
def admin_change_role(user_id: int):
    _admin_only()
    account = _account_or_404(user_id)
    if not permissions.can_change_role(current_user, account):
        raise NotAllowed()
    form = RoleForm()
    if form.validate_on_submit():
        changed = attempt(form, lambda: services.change_role(_me(), account, form.role.data))
        if changed is not None:
            db.session.commit()
            name = services.ROLE_NAMES[account.role].lower()
            flash(
                f"{account.public_name} is now {'an' if name[0] in 'aeiou' else 'a'} {name}." if changed
                else f"{account.public_name} already had that role; nothing changed.",
                "success",
            )
            return redirect(url_for("accounts.admin_account", user_id=account.id), 303)
    return _render_admin_account(account, role_form=form, status=400)


def _admin_action(user_id: int, action: Callable[[User, User], bool], done: str, unchanged: str):
    """Deactivate or reactivate an account: `action(admin, account)` says whether it changed; `done`
    and `unchanged` are the messages ("{name}" is the account's public name)."""
    _admin_only()
    account = _account_or_404(user_id)
    if not permissions.can_deactivate_account(current_user, account):
        raise NotAllowed()
    form = ConfirmForm()
    # The form has no fields, so the service's messages go to the summary at its top.
    if form.validate_on_submit():
        changed = attempt(form, lambda: action(_me(), account))
        if changed is not None:
            db.session.commit()
            flash((done if changed else unchanged).format(name=account.public_name), "success")
            return redirect(url_for("accounts.admin_account", user_id=account.id), 303)
    return _render_admin_account(account, action_form=form, status=400)


@bp.route("/admin/accounts/<posint:user_id>/deactivate", methods=["GET", "POST"])
@members_only
def admin_deactivate(user_id: int):
    """Deactivate an account: the account page links to this confirmation page (GET), whose button
    posts here."""
    if request.method == "GET":
        return _confirm_deactivation(user_id)
    return _admin_action(
        user_id,
        services.deactivate_account,
        "{name}'s account is deactivated and signed out everywhere. It cannot sign in until reactivated.",
        "{name}'s account was already deactivated.",
    )


def _confirm_deactivation(user_id: int):
    """"Deactivate this account?", saying what it does; back to the account page if already done."""
    _admin_only()
    account = _account_or_404(user_id)
    if not permissions.can_deactivate_account(current_user, account):
        raise NotAllowed()
    if account.is_deactivated:
        flash(f"{account.public_name}'s account was already deactivated.", "info")
        return redirect(url_for("accounts.admin_account", user_id=account.id), 303)
    return render_template("accounts/deactivate.html", account=account, form=ConfirmForm(formdata=None))


@bp.post("/admin/accounts/<posint:user_id>/reactivate")
@members_only
def admin_reactivate(user_id: int):
    return _admin_action(
        user_id,
        services.reactivate_account,
        "{name}'s account is active again and can sign in.",
        "{name}'s account was already active.",
    )
