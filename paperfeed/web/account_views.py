"""Sign up, log in, log out, forgotten password. Forms post back to their own page.

With email configured, neither sign-up nor the reset form tells who has an account:
both answer "check your inbox" in the same way (the email differs), and the mail
goes out from the mail thread, so they also take the same time.
"""

from __future__ import annotations

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..errors import BadRequest, LoginFailed, TooManyAttempts
from ..http.session import (
    accounts,
    client_address,
    current_user,
    end_session,
    safe_next,
    start_session,
)
from ..mail import MailQueue, mail_enabled
from ..members.accounts import RESET_MAX_AGE_S
from . import account_mail
from .render import render

MAX_LOGIN = 320  # a name or an address
# `/login?why=...`: what the visitor tried that needs a member, said above the form.
# Known words only, so the page never prints text taken from the URL.
LOGIN_REASONS = {"upvote": "Log in to upvote. You will be back on the page you were reading.",
                 "submit": "Log in to submit a paper.",
                 "save": "Log in to save papers to your library. You will be back on the "
                         "page you were reading.",
                 "rate": "Log in to rate papers for your For you page. You will be back on "
                         "the page you were reading.",
                 "for-you": "Log in to see the new papers ranked by your own ratings.",
                 "comment": "Log in to join the discussion. You will be back on the paper."}


def mail_queue(request: Request) -> MailQueue:
    return request.app.state.mail


def signup_form(request: Request, next: str = "/") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "signup.html", next=safe_next(next), form={})


def signup(request: Request, username: str = Form(""), email: str = Form(""),
           password: str = Form(""), next: str = Form("/")) -> Response:
    """With email: "check your inbox" whether or not the address has an account (its
    owner is told by email instead), and no session until the emailed link is
    clicked or the member logs in. Without email there is no inbox to answer with:
    the new member is logged in at once, and a taken address is said to be taken."""
    if not mail_enabled(request.app.state.settings):
        return _signup_without_mail(request, username, email, password, next)
    try:
        registration = accounts(request).register(username, email, password)
    except BadRequest as exc:
        return render(request, "signup.html", status=400, error=str(exc), next=safe_next(next),
                      form={"username": username, "email": email})
    job = (account_mail.verification if registration.created
           else account_mail.already_registered)(accounts(request), registration.user)
    mail_queue(request).put("sign-up email", job)
    return render(request, "message.html", title="Check your inbox",
                  message="We have sent you an email. Open the link in it to verify your "
                          "address and log in. Nothing there after a few minutes? "
                          "Look in the spam folder, or log in and ask for a new link on your "
                          "account page.", link=("/login", "Log in"))


def _signup_without_mail(request: Request, username: str, email: str, password: str,
                         next: str) -> Response:
    try:
        user = accounts(request).sign_up(username, email, password)
    except BadRequest as exc:
        return render(request, "signup.html", status=400, error=str(exc), next=safe_next(next),
                      form={"username": username, "email": email})
    response = RedirectResponse(safe_next(next), status_code=303)
    start_session(request, response, user)
    return response


def login_form(request: Request, next: str = "/", why: str = "") -> Response:
    if current_user(request):
        return RedirectResponse(safe_next(next), status_code=303)
    return render(request, "login.html", next=safe_next(next), login="",
                  reason=LOGIN_REASONS.get(why), why=why if why in LOGIN_REASONS else "")


def login(request: Request, login: str = Form(""), password: str = Form(""),
          next: str = Form("/"), why: str = Form("")) -> Response:
    try:
        user = accounts(request).log_in(login, password, client_address(request))
    except (LoginFailed, TooManyAttempts) as exc:
        response: Response = render(request, "login.html", status=exc.status, error=str(exc),
                                    next=safe_next(next), login=login,
                                    reason=LOGIN_REASONS.get(why),
                                    why=why if why in LOGIN_REASONS else "")
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
    """Always the same answer, in the same time: looking the account up and mailing it
    happen on the mail thread (account_mail.password_reset)."""
    settings = request.app.state.settings
    if not mail_enabled(settings):
        return render(request, "forgot.html", status=503, login=login,
                      error="This site cannot send email yet, so passwords cannot be reset by "
                            "email. Ask the site's admin (they can run "
                            "`paperfeed user password NAME`).")
    mail_queue(request).put("password reset",
                            account_mail.password_reset(accounts(request),
                                                        login.strip()[:MAX_LOGIN]))
    return render(request, "message.html", title="Check your email",
                  message="If an account matches, we have sent it a link to choose a new "
                          f"password. The link works for {RESET_MAX_AGE_S // 60} minutes.")


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
