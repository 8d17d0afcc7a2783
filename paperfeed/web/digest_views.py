"""Subscribe (double opt-in), confirm, unsubscribe (RFC 8058 one-click), manage, preview."""

from __future__ import annotations

from fastapi import Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from ..digests import DigestSender, Subscriptions, check_request, digest_period
from ..digests.compose import render_digest
from ..digests.content import trending_candidates
from ..errors import BadRequest, ConfigError, MailError, NotFound
from ..http.headers import EMAIL_CSP
from ..http.params import stored_id
from ..http.session import current_user, require_member
from ..models import Subscription, User
from .render import render


def _subscriptions(request: Request) -> Subscriptions:
    return Subscriptions(request.app.state.catalog.store.subscriptions,
                         request.app.state.settings)


def subscribe_form(request: Request, q: str = "") -> HTMLResponse:
    user = current_user(request)
    form = {"email": user.email if user else "", "frequency": "daily", "trending": not q,
            "query": q[:200]}
    return render(request, "subscribe.html", form=form)


def subscribe(request: Request, email: str = Form(""), frequency: str = Form("daily"),
              trending: str = Form(""), query: str = Form("")) -> HTMLResponse:
    form = {"email": email, "frequency": frequency, "trending": bool(trending), "query": query}
    try:
        wanted = check_request(email, frequency, bool(trending), query)
        _subscriptions(request).subscribe(wanted, current_user(request))
    except BadRequest as exc:
        return render(request, "subscribe.html", status=400, form=form, error=str(exc))
    except ConfigError:
        return render(request, "subscribe.html", status=503, form=form,
                      error="This site cannot send email yet (no SMTP server is configured). "
                            "Ask its admin to set PAPERFEED_SMTP_HOST.")
    except MailError:
        return render(request, "subscribe.html", status=503, form=form,
                      error="The confirmation email could not be sent just now. "
                            "Try again in a few minutes.")
    return render(request, "message.html", title="Check your inbox",
                  message=f"We sent a confirmation link to {wanted.email}. Nothing is sent "
                          "until you click it.")


def confirm(request: Request, token: str = "") -> HTMLResponse:
    try:
        subscription = _subscriptions(request).confirm(token)
    except (BadRequest, NotFound) as exc:
        return render(request, "message.html", status=400, title="Confirmation link not valid",
                      message=f"{exc} Subscribe again to get a new link.",
                      link=("/subscribe", "Subscribe"))
    urls = _subscriptions(request).urls(subscription)
    return render(request, "message.html", title="You are subscribed",
                  message=f"{subscription.describe}, to {subscription.email}. "
                          "Every digest has a one-click unsubscribe link.",
                  link=(urls["preview"].removeprefix(request.app.state.settings.public_url),
                        "Preview your next digest"))


def unsubscribe_page(request: Request, token: str = "") -> HTMLResponse:
    """GET shows a button: link scanners in mail systems follow links, and must not
    unsubscribe anyone."""
    try:
        subscription = _subscriptions(request).from_link(token)
    except (BadRequest, NotFound) as exc:
        return render(request, "message.html", status=400, title="Link not valid",
                      message=str(exc))
    return render(request, "unsubscribe.html", subscription=subscription, token=token)


def unsubscribe(request: Request, token: str = "") -> Response:
    """The RFC 8058 one-click endpoint (mail clients POST `List-Unsubscribe=One-Click`),
    also used by the button. The signed token is the authority: no session, no CSRF
    cookie (a mail provider has neither)."""
    subscriptions = _subscriptions(request)
    try:
        subscription = subscriptions.from_link(token)
    except (BadRequest, NotFound) as exc:
        return render(request, "message.html", status=400, title="Link not valid",
                      message=str(exc))
    subscriptions.unsubscribe(subscription)
    return render(request, "message.html", title="Unsubscribed",
                  message=f"{subscription.email} will get no more of: "
                          f"{subscription.describe}.", link=("/subscribe", "Subscribe again"))


def manage(request: Request) -> HTMLResponse:
    user = require_member(request)
    subscriptions = _subscriptions(request)
    mine = subscriptions.of_member(user)
    return render(request, "subscriptions.html", subscriptions=mine, active="subscriptions",
                  form={"email": user.email, "frequency": "weekly", "trending": True,
                        "query": ""})


def _owned(request: Request, user: User, subscription_id: str) -> Subscription:
    return _subscriptions(request).owned(user, stored_id(subscription_id, "No such subscription."))


def change(request: Request, subscription_id: str, status: str = Form("")) -> Response:
    user = require_member(request, "/subscriptions")
    subscriptions = _subscriptions(request)
    subscription = _owned(request, user, subscription_id)
    allowed = {"paused": ("active",), "active": ("paused",),
               "unsubscribed": ("active", "paused", "pending")}
    if subscription.status not in allowed.get(status, ()):
        raise BadRequest(f"A {subscription.status} subscription cannot become {status!r}.")
    subscriptions.stored.set_status(subscription.id, status)
    return RedirectResponse("/subscriptions", status_code=303)


def _preview(request: Request, subscription: Subscription) -> HTMLResponse:
    catalog = request.app.state.catalog
    sender = DigestSender(catalog, request.app.state.settings)
    period = digest_period(subscription.frequency)
    trending = trending_candidates(catalog, period) if subscription.trending else []
    candidates = sender.candidates(subscription, period, trending)
    taken = sender.outbox.already_sent(subscription.email,
                                       [r for rs in candidates.values() for r in rs])
    size = request.app.state.settings.digest_size
    sections, seen = {}, set(taken)
    for name, keys in candidates.items():
        chosen = [r for r in keys if r not in seen][:size]
        seen.update(chosen)
        if chosen:
            sections[name] = catalog.store.papers.get_many(chosen)
    if not sections:
        return render(request, "message.html", title="Nothing new yet",
                      message=f"No new papers for “{subscription.describe}” in this period "
                              f"({period.label}) so far. An empty digest is never sent.")
    _, _, html = render_digest(subscription, sections,
                               catalog.store.community.vote_counts(list(seen - taken)),
                               period.label, sender.subscriptions.urls(subscription))
    # An email's HTML, styled inline as mail must be: inline styles allowed, no script.
    return HTMLResponse(html, headers={"Content-Security-Policy": EMAIL_CSP})


def preview_by_token(request: Request, token: str = "") -> HTMLResponse:
    try:
        subscription = _subscriptions(request).from_link(token)
    except (BadRequest, NotFound) as exc:
        return render(request, "message.html", status=400, title="Link not valid",
                      message=str(exc))
    return _preview(request, subscription)


def preview_mine(request: Request, subscription_id: str) -> HTMLResponse:
    user = require_member(request)
    return _preview(request, _owned(request, user, subscription_id))
