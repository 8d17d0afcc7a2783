"""The member's own page, /account: their address and whether it is verified, a new
verification link, a password change, and their personal API tokens.

The verification link opens a page with a button rather than verifying on GET: link
scanners in mail systems follow links, and pressing the button also logs the member
in (the click proves they read the address's mail).
"""

from __future__ import annotations

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import BadRequest
from ..http.params import stored_id
from ..http.session import accounts, require_member, start_session
from ..mail import mail_enabled
from ..models import User
from . import account_mail
from .account_views import mail_queue
from .render import render

NOTICES = {
    "verified": "Your address is verified: its digest subscriptions are yours to manage.",
    "sent": "We have sent you a new verification link.",
    "password": "Your password is changed. Other browsers and devices are logged out.",
    "revoked": "The token is revoked: requests with it are refused from now on.",
}


def _page(request: Request, user: User, status: int = 200, **context: object) -> HTMLResponse:
    notice = NOTICES.get(request.query_params.get("notice", ""))
    response = render(request, "account.html", status=status,
                      tokens=accounts(request).tokens.of(user), active="account",
                      notice=notice, can_mail=mail_enabled(request.app.state.settings),
                      feeds=request.app.state.catalog.store.ratings.feed_tokens(user.id),
                      **context)
    response.headers["Cache-Control"] = "no-store"  # it may show a new token, once
    return response


def account(request: Request) -> HTMLResponse:
    return _page(request, require_member(request))


def send_verification(request: Request) -> Response:
    user = require_member(request, "/account")
    if user.verified:
        return RedirectResponse("/account", status_code=303)
    if not mail_enabled(request.app.state.settings):
        return _page(request, user, status=503, error="This site cannot send email yet, so "
                     "addresses cannot be verified. Ask the site's admin.")
    if not account_mail.verifications_left(accounts(request), user):
        return _page(request, user, status=429, error="We have sent you several links in the "
                     "last hour. Look for them in your inbox (and spam folder), or try again "
                     "later.")
    mail_queue(request).put("verification email",
                            account_mail.verification(accounts(request), user))
    return RedirectResponse("/account?notice=sent", status_code=303)


def verify_form(request: Request, token: str = "") -> HTMLResponse:
    try:
        user = accounts(request).user_for_verification(token)
    except BadRequest as exc:
        return render(request, "message.html", status=400, title="Verification link not valid",
                      message=str(exc), link=("/account", "Your account"))
    return render(request, "verify.html", token=token, username=user.username,
                  email=user.email)


def verify(request: Request, token: str = Form("")) -> Response:
    try:
        user = accounts(request).verify(token)
    except BadRequest as exc:
        return render(request, "message.html", status=400, title="Verification link not valid",
                      message=str(exc), link=("/account", "Your account"))
    response = RedirectResponse("/account?notice=verified", status_code=303)
    start_session(request, response, user)
    return response


def change_password(request: Request, current: str = Form(""),
                    password: str = Form("")) -> Response:
    user = require_member(request, "/account")
    try:
        accounts(request).change_password(user, current, password)
    except BadRequest as exc:
        return _page(request, user, status=400, error=str(exc))
    response = RedirectResponse("/account?notice=password", status_code=303)
    start_session(request, response, user)  # the change ended every session, this one too
    return response


def create_token(request: Request, label: str = Form("")) -> HTMLResponse:
    user = require_member(request, "/account")
    token, listed = accounts(request).tokens.create(user, label)
    return _page(request, user, new_token=token, new_label=listed.label)


def revoke_token(request: Request, token_id: str) -> Response:
    user = require_member(request, "/account")
    accounts(request).tokens.revoke(user, stored_id(token_id, "You have no token with that id."))
    return RedirectResponse("/account?notice=revoked", status_code=303)
