"""Sign up, log in, log out, forgotten password. Forms post back to their own page."""

from __future__ import annotations

import logging
import time

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import BadRequest, LoginFailed, MailError, TooManyAttempts
from ..http.session import (
    accounts,
    client_address,
    current_user,
    end_session,
    safe_next,
    start_session,
)
from ..mail import Mailer, compose, mail_enabled
from ..mail.render import render_email
from ..members.accounts import RESET_MAX_AGE_S
from ..store import Members
from .render import render

log = logging.getLogger(__name__)
RESETS_PER_HOUR = 3


def signup_form(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signup.html", next=safe_next(next), form={})


def signup(request: Request, username: str = Form(""), email: str = Form(""),
           password: str = Form(""), next: str = Form("/")) -> Response:
    try:
        user = accounts(request).sign_up(username, email, password)
    except BadRequest as exc:
        return render(request, "signup.html", status=400, error=str(exc), next=safe_next(next),
                      form={"username": username, "email": email})
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user)
    return response


def login_form(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), login="")


def login(request: Request, login: str = Form(""), password: str = Form(""),
          next: str = Form("/")) -> Response:
    try:
        user = accounts(request).log_in(login, password, client_address(request))
    except (LoginFailed, TooManyAttempts) as exc:
        response = render(request, "login.html", status=exc.status, error=str(exc),
                          next=safe_next(next), login=login)
        if exc.retry_after_s:
            response.headers["Retry-After"] = str(exc.retry_after_s)
        return response
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user)
    return response


def logout(request: Request) -> Response:
    response = RedirectResponse("/", status_code=303)
    end_session(request, response)
    return response


def forgot_form(request: Request) -> HTMLResponse:
    return render(request, "forgot.html")


def forgot(request: Request, login: str = Form("")) -> HTMLResponse:
    """Always the same answer, so the form does not reveal who has an account."""
    settings = request.app.state.settings
    if not mail_enabled(settings):
        return render(request, "forgot.html", status=503, login=login,
                      error="This site cannot send email yet, so passwords cannot be reset by "
                            "email. Ask the site's admin (they can run "
                            "`paperfeed user password NAME`).")
    members = request.app.state.catalog.store.members
    user = members.user_by_login(login.strip()) if login else None
    if user is not None and _resets_left(members, user.id):
        reset_url = (f"{settings.public_url}/reset?token="
                     f"{accounts(request).reset_token(user)}")
        text, html = render_email("password_reset", username=user.username,
                                  reset_url=reset_url, expires_minutes=RESET_MAX_AGE_S // 60,
                                  site_url=settings.public_url)
        message = compose(to=user.email, subject="Reset your paperfeed password", text=text,
                          html=html, sender=settings.mail_from, reply_to=settings.mail_reply_to)
        try:
            Mailer(settings).send(message)
        except MailError as exc:
            log.warning("password reset mail to user %s failed: %s", user.id, exc)
            return render(request, "forgot.html", status=503, login=login,
                          error="The reset email could not be sent just now. Try again in a "
                                "few minutes.")
    return render(request, "message.html", title="Check your email",
                  message="If an account matches, we have sent it a link to choose a new "
                          f"password. The link works for {RESET_MAX_AGE_S // 60} minutes.")


def _resets_left(members: Members, user_id: int) -> bool:
    """At most RESETS_PER_HOUR reset emails per account: the form cannot flood an inbox."""
    key = f"reset:{user_id}"
    sent, _ = members.attempts(key, time.time() - 3600)
    if sent >= RESETS_PER_HOUR:
        return False
    members.count_attempt([key])  # the same counter table, another key
    return True


def reset_form(request: Request, token: str = "") -> HTMLResponse:
    try:
        user = accounts(request).user_for_reset(token)
    except BadRequest as exc:
        return render(request, "message.html", status=400, title="Reset link not valid",
                      message=str(exc), link=("/forgot", "Ask for a new link"))
    return render(request, "reset.html", token=token, username=user.username)


def reset(request: Request, token: str = Form(""), password: str = Form("")) -> Response:
    try:
        user = accounts(request).reset_password(token, password)
    except BadRequest as exc:
        return render(request, "reset.html", status=400, token=token, error=str(exc),
                      username="")
    response = RedirectResponse("/", status_code=303)
    start_session(request, response, user)
    return response
